from __future__ import annotations

from broker.ratelimit import RateLimiter


def test_bucket_refills_over_time_per_key() -> None:
    now = [0.0]
    limiter = RateLimiter(6, clock=lambda: now[0])  # 6 a minute: one every 10 s
    assert all(limiter.allow("a") for _ in range(6))
    assert not limiter.allow("a")
    assert limiter.allow("b")  # another address has its own bucket
    now[0] += 10.0
    assert limiter.allow("a")
    assert not limiter.allow("a")


def test_key_table_is_bounded() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0], max_keys=100)
    for i in range(100):
        limiter.allow(f"10.0.0.{i}")
    now[0] += 120.0  # every bucket is full again: forgettable
    limiter.allow("new")
    assert len(limiter._buckets) <= 2
