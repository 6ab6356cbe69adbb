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
RECORDING_KEY_SIZE = 32


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir("lifeline", appauthor=False)) / "console.json"


@dataclass
class ConsoleSettings:
    broker_url: str = ""
    email: str = ""
    #: SHA-256 fingerprint of the broker's CA, for a self-hosted broker.
    ca_fingerprint: str = ""
    #: Where session recordings go ("": the user's Videos/Lifeline).
    recording_folder: str = ""
    #: "rcrec" (compact; convert later) or "avi" (converted when the recording stops).
    recording_format: str = "rcrec"
    #: A file holding the 32-byte key that encrypts recordings at rest ("": none).
    recording_key_file: str = ""

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
            for key in (
                "broker_url",
                "email",
                "ca_fingerprint",
                "recording_folder",
                "recording_format",
                "recording_key_file",
            )
            if isinstance(data.get(key), str)
        }
        if values.get("recording_format") not in (None, "rcrec", "avi"):
            del values["recording_format"]
        return cls(**values)

    def recording_folder_path(self) -> Path | None:
        return Path(self.recording_folder) if self.recording_folder else None

    def read_recording_key(self) -> bytes | None:
        """The recording key, or None when recordings are not encrypted; raises
        ValueError with a message for the technician when the file is unusable."""
        if not self.recording_key_file:
            return None
        try:
            with open(self.recording_key_file, "rb") as f:
                key = f.read(RECORDING_KEY_SIZE + 1)
        except OSError as exc:
            raise ValueError(f"The recording key file cannot be read: {exc.strerror}.") from None
        if len(key) != RECORDING_KEY_SIZE:
            raise ValueError("The recording key file must hold exactly 32 bytes.")
        return key

    def save(self, path: Path | None = None) -> None:
        path = path or settings_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
