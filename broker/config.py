"""Broker settings, with the defaults a small help desk wants."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class BrokerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8443
    #: URLs clients should use (the gateway list); default derived from host and port.
    public_urls: list[str] = field(default_factory=list)
    #: Extra names for the self-made server certificate.
    hostnames: list[str] = field(default_factory=list)
    nameplate_ttl: float = 600.0
    grace_period: float = 60.0
    hello_timeout: float = 10.0
    resume_timeout: float = 10.0
    max_connections: int = 10_000
    slow_client_timeout: float = 30.0
    token_lifetime: float = 12 * 3600.0
    inactivity_logoff: float = 30 * 60.0
    lockout_failures: int = 5
    lockout_seconds: float = 300.0
    #: Per source address: attempts per minute (burst equal to the rate).
    claims_per_minute: int = 20
    logins_per_minute: int = 20
    node_name: str = "node-1"
    #: A certificate chain and key from a public CA. Without them the broker makes and
    #: uses its own CA (clients then pin it by file or fingerprint).
    cert_file: Path | None = None
    key_file: Path | None = None
    #: The key file that seals chat text and customer details in the database
    #: (broker/data_keys.py); default: data-key.json in the data folder, unless
    #: LIFELINE_DATA_KEY is set.
    data_key_file: Path | None = None
    #: Seconds between attempts to post a session's details to a group's webhook.
    webhook_backoff: tuple[float, ...] = (5.0, 30.0, 120.0, 600.0, 3600.0, 6 * 3600.0)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    def gateway_urls(self) -> list[str]:
        return self.public_urls or [self.url]
