"""The broker's data keys: what seals chat text and customer details in the database.

The keys live outside the database, so a copy of ``broker.sqlite3`` alone reveals no chat
text. Either:

* the environment variable ``LIFELINE_DATA_KEY`` (base64 of 32 random bytes; older keys,
  still needed to read rows sealed before a rotation, in ``LIFELINE_DATA_KEYS_OLD``,
  comma-separated), or
* a key file, ``data-key.json`` in the broker's data folder unless configured otherwise,
  created on first start with permissions 0600 and refused if anyone but its owner may
  read it: ``{"current": "<id>", "keys": {"<id>": "<base64>", …}}``.

A rotation (``lifeline-broker admin rotate-data-key``) adds a new key, seals every stored
value again with it, then forgets the old ones.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from common.crypto import SealError, data_key_id, seal, unseal

ENV_KEY = "LIFELINE_DATA_KEY"
ENV_OLD_KEYS = "LIFELINE_DATA_KEYS_OLD"
KEY_FILE = "data-key.json"


class DataKeyError(ValueError):
    """The data key cannot be used; the message says what to do."""


@dataclass
class DataKeys:
    current: str
    keys: dict[str, bytes] = field(default_factory=dict)
    #: Where they came from: the key file (which a rotation rewrites), or None for the
    #: environment.
    path: Path | None = None

    @property
    def key(self) -> bytes:
        return self.keys[self.current]

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """``plaintext`` sealed with the current key, bound to ``context`` (where it is
        stored); the result names its key, so it opens after later rotations too."""
        return self.current.encode() + b":" + seal(self.key, plaintext, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        """The plaintext of :meth:`seal`; raises :class:`~common.crypto.SealError` (or
        :class:`DataKeyError` for a key that is not configured)."""
        key_id, colon, body = bytes(sealed).partition(b":")
        if not colon:
            raise SealError("A stored value is damaged.")
        return unseal(self.get(key_id.decode("ascii", "replace")), body, context)

    @staticmethod
    def key_of(sealed: bytes) -> str:
        return bytes(sealed).partition(b":")[0].decode("ascii", "replace")

    def get(self, key_id: str) -> bytes:
        try:
            return self.keys[key_id]
        except KeyError:
            raise DataKeyError(
                f"A stored value was sealed with the data key {key_id}, which is not "
                "configured. Restore that key (or the old key file) to read it."
            ) from None

    @classmethod
    def load(
        cls, data_dir: Path, key_file: Path | None = None, env: Mapping[str, str] = os.environ
    ) -> DataKeys:
        """The environment's key if set, else the key file (made if missing)."""
        if env.get(ENV_KEY):
            keys = [_decode(env[ENV_KEY], ENV_KEY)]
            keys += [_decode(k, ENV_OLD_KEYS) for k in env.get(ENV_OLD_KEYS, "").split(",") if k]
            by_id = {data_key_id(k): k for k in keys}
            return cls(data_key_id(keys[0]), by_id)
        path = key_file or data_dir / KEY_FILE
        if not path.exists():
            return cls.create(path)
        return cls.read(path)

    @classmethod
    def create(cls, path: Path) -> DataKeys:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = os.urandom(32)
        keys = cls(data_key_id(key), {data_key_id(key): key}, path)
        keys.save()
        return keys

    @classmethod
    def read(cls, path: Path) -> DataKeys:
        mode = path.stat().st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise DataKeyError(
                f"{path} may be read by other users (mode {stat.S_IMODE(mode):o}); "
                f"make it private with: chmod 600 {path}"
            )
        try:
            data = json.loads(path.read_text())
            keys = {str(k): _decode(v, str(path)) for k, v in data["keys"].items()}
            current = str(data["current"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DataKeyError(f"{path} is not a Lifeline data key file: {exc}") from None
        if current not in keys:
            raise DataKeyError(f"{path} names a current key it does not hold.")
        for key_id, key in keys.items():
            if data_key_id(key) != key_id:
                raise DataKeyError(f"{path}: the key named {key_id} is not that key.")
        return cls(current, keys, path)

    def save(self) -> None:
        """Writes the key file atomically, private to its owner."""
        if self.path is None:
            raise DataKeyError(
                f"The data key comes from {ENV_KEY}: set the new key there, the old one in "
                f"{ENV_OLD_KEYS}, then run the rotation again."
            )
        body = {
            "current": self.current,
            "keys": {k: base64.b64encode(v).decode() for k, v in self.keys.items()},
        }
        temp = self.path.with_name(f".{self.path.name}.new")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(body, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, self.path)

    def add_new(self) -> str:
        """A fresh key becomes the current one (the others stay, to read old rows)."""
        key = os.urandom(32)
        self.current = data_key_id(key)
        self.keys[self.current] = key
        return self.current

    def forget_old(self) -> list[str]:
        old = [k for k in self.keys if k != self.current]
        for key_id in old:
            del self.keys[key_id]
        return old


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise DataKeyError(f"{where} is not base64.") from None
    if len(key) != 32:
        raise DataKeyError(f"{where} must hold 32 bytes (base64 of 32 random bytes).")
    return key
