"""What the console remembers between runs: the broker's address and how to trust it,
and the last e-mail used. Never a password or a token.

Stored as JSON in the per-user config folder (platformdirs), read with a size bound; a
damaged or foreign file is ignored rather than trusted.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import platformdirs

log = logging.getLogger("lifeline.console")

MAX_SETTINGS_FILE = 16 * 1024


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir("lifeline", appauthor=False)) / "console.json"


@dataclass
class ConsoleSettings:
    broker_url: str = ""
    email: str = ""
    #: SHA-256 fingerprint of the broker's CA, for a self-hosted broker.
    ca_fingerprint: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> ConsoleSettings:
        path = path or settings_path()
        try:
            with path.open("rb") as f:
                raw = f.read(MAX_SETTINGS_FILE + 1)
        except OSError:
            return cls()
        try:
            if len(raw) > MAX_SETTINGS_FILE:
                raise ValueError("too large")
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            log.warning("ignoring the console settings in %s: %s", path, exc)
            return cls()
        values = {
            key: data[key][:1024]
            for key in ("broker_url", "email", "ca_fingerprint")
            if isinstance(data.get(key), str)
        }
        return cls(**values)

    def save(self, path: Path | None = None) -> None:
        path = path or settings_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
