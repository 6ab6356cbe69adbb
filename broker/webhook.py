"""Post session details to a group's URL when a session ends (CRM integration).

A group's settings name the URL (``webhook_url``) and whether chat text goes with the
details (``webhook_chat``; never when the group keeps no chat). The body is JSON; the
header ``X-Lifeline-Signature: sha256=<hex>`` is HMAC-SHA256 of the exact body under the
group's webhook secret (``lifeline-broker admin set-webhook`` prints it once; it is stored
sealed like the audit log's text). ``X-Lifeline-Delivery`` numbers the delivery, so a
receiver can drop a retry it has already seen.

Deliveries wait in the ``webhook_outbox`` table (sealed), so a broker restart loses none.
A failure (a refused connection, a timeout, any status but 2xx) is retried after 5 s,
30 s, 2 min, 10 min, 1 h, then every 6 h until a day has passed; it never blocks a
session. ``lifeline-broker admin webhooks`` lists what failed and why.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from broker.audit import AuditLog, GroupSettings
from broker.records import Storage, WebhookDelivery
from broker.storage import WEBHOOK_SECRET_CONTEXT

log = logging.getLogger("lifeline.broker.webhook")

GIVE_UP_AFTER = 24 * 3600.0
TIMEOUT = 10.0
SIGNATURE_HEADER = "X-Lifeline-Signature"
DELIVERY_HEADER = "X-Lifeline-Delivery"


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def new_secret() -> bytes:
    return base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=")


class Webhooks:
    def __init__(self, storage: Storage, audit: AuditLog, backoff: Sequence[float]) -> None:
        self.storage = storage
        self.audit = audit
        self.backoff = tuple(backoff)
        self._wake = asyncio.Event()

    # ---- settings ------------------------------------------------------------------

    def configure(self, group: str, url: str | None, *, chat: bool = False) -> bytes | None:
        """Sets (or with ``url`` None removes) a group's webhook; returns the new signing
        secret, which is shown once and stored sealed."""
        row = self.storage.get_group(group)
        if row is None:
            raise ValueError(f"there is no group named {group!r}")
        settings = {k: v for k, v in row.settings.items() if not k.startswith("webhook_")}
        secret = None
        if url is not None:
            if not url.startswith(("https://", "http://")):
                raise ValueError("the webhook URL must start with https:// (or http://)")
            secret = new_secret()
            sealed = self.audit.keys.seal(secret, WEBHOOK_SECRET_CONTEXT + group.encode())
            settings.update(
                webhook_url=url,
                webhook_chat=chat,
                webhook_secret=base64.b64encode(sealed).decode(),
            )
        row.settings = settings
        self.storage.put_group(row)
        return secret

    def _secret(self, group: str) -> bytes:
        row = self.storage.get_group(group)
        sealed = (row.settings if row else {}).get("webhook_secret")
        if not isinstance(sealed, str):
            raise ValueError(f"the group {group!r} has no webhook secret")
        return self.audit.keys.open(
            base64.b64decode(sealed), WEBHOOK_SECRET_CONTEXT + group.encode()
        )

    # ---- queueing ------------------------------------------------------------------

    def session_ended(self, session_id: str, group: str) -> bool:
        """Queues the session's details for its group's URL, if it has one."""
        row = self.storage.get_group(group)
        settings = row.settings if row is not None else {}
        url = settings.get("webhook_url")
        if not isinstance(url, str):
            return False
        chat = settings.get("webhook_chat") is True and not GroupSettings.of(settings).omit_chat
        body = json.dumps(self._details(session_id, group, chat=chat)).encode()
        now = time.time()
        self.storage.add_webhook(
            WebhookDelivery(session_id, group, url, self.audit.seal_webhook(body),
                            self.audit.keys.current, now, now)
        )  # fmt: skip
        self._wake.set()
        return True

    def _details(self, session_id: str, group: str, *, chat: bool) -> dict[str, Any]:
        events = self.audit.query(session_id=session_id)
        start = next((e for e in events if e["kind"] == "session_start"), None)
        end = next((e for e in reversed(events) if e["kind"] == "session_end"), None)
        listed = []
        for event in events:
            detail = dict(event["detail"])
            if event["kind"] == "chat" and not chat:
                detail.pop("text", None)
            listed.append({"at": event["at"], "kind": event["kind"], "detail": detail})
        return {
            "event": "session_end",
            "session_id": session_id,
            "group": group,
            "technician": start["technician"] if start else "",
            "customer": start["detail"] if start else {},
            "started_at": start["at"] if start else None,
            "ended_at": end["at"] if end else time.time(),
            "end_reason": end["detail"].get("reason", "") if end else "",
            "chat_included": chat,
            "events": listed,
        }

    # ---- delivering ----------------------------------------------------------------

    async def run(self) -> None:
        """Delivers what is due, for ever (a task of the broker)."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as http:
            while True:
                for delivery in await asyncio.to_thread(self.storage.due_webhooks, time.time()):
                    await self.deliver(http, delivery)
                self._wake.clear()
                due = [d.next_at for d in self.storage.list_webhooks(undelivered=True)]
                wait = max(0.05, min(due) - time.time()) if due else 60.0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), min(wait, 60.0))

    async def deliver(self, http: aiohttp.ClientSession, delivery: WebhookDelivery) -> bool:
        now = time.time()
        try:
            body = self.audit.open_webhook(delivery.sealed)
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self._secret(delivery.group_name), body),
                DELIVERY_HEADER: str(delivery.id),
                "User-Agent": "Lifeline-broker",
            }
            async with http.post(delivery.url, data=body, headers=headers) as response:
                if 200 <= response.status < 300:
                    self.storage.update_webhook(
                        delivery.id, delivered_at=now, attempts=delivery.attempts + 1,
                        last_error="",
                    )  # fmt: skip
                    log.info("webhook %d delivered to %s", delivery.id, delivery.url)
                    return True
                error = f"HTTP {response.status} {response.reason or ''}".strip()
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        attempts = delivery.attempts + 1
        if now - delivery.created_at >= GIVE_UP_AFTER:
            next_at, error = float("inf"), f"gave up after {attempts} attempts; last: {error}"
        else:
            next_at = now + self.backoff[min(attempts - 1, len(self.backoff) - 1)]
        self.storage.update_webhook(
            delivery.id, attempts=attempts, next_at=next_at, last_error=error
        )
        log.warning("webhook %d to %s failed (%s); attempt %d", delivery.id, delivery.url,
                    error, attempts)  # fmt: skip
        return False
