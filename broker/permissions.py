"""Technician group permissions, and the signed session policy built from them.

The names follow the product papers' grantable permissions. The policy is signed with
the broker's Ed25519 key; the applet verifies it and refuses what it does not grant.
"""

from __future__ import annotations

import time
from typing import Any

from common.crypto import SigningKey
from common.protocol import messages

PERMISSIONS = (
    "remote_control",
    "desktop_view",
    "send_files",
    "receive_files",
    "file_manager",
    "system_info",
    "clipboard_sync",
    "reboot",
    "record_sessions",
    "forced_recording",
    "single_prompt",
    "send_urls",
    "deploy_scripts",
    "private_sessions",
    "transfer_sessions",
    "screen_sharing",
)

#: A new group gets everything but the options an administrator turns on on purpose.
DEFAULT_PERMISSIONS = tuple(
    p for p in PERMISSIONS if p not in ("forced_recording", "single_prompt", "deploy_scripts")
)


def check_permissions(names: list[str]) -> list[str]:
    unknown = sorted(set(names) - set(PERMISSIONS))
    if unknown:
        raise ValueError(
            f"unknown permission(s): {', '.join(unknown)}; known: {', '.join(PERMISSIONS)}"
        )
    return sorted(set(names))


#: The longest inactivity timeout a group may set: a day, in seconds.
MAX_INACTIVITY_TIMEOUT = 86_400


def inactivity_timeout(settings: dict[str, Any]) -> int | None:
    """The group's ``inactivity_timeout`` setting in seconds (``lifeline-broker admin
    group-settings --inactivity-minutes``), or None: the applet's own (15 minutes)."""
    value = settings.get("inactivity_timeout")
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value <= MAX_INACTIVITY_TIMEOUT else None


def sign_policy(
    signer: SigningKey,
    *,
    session_id: str,
    technician_email: str,
    technician_name: str,
    group: str,
    permissions: list[str],
    broker: str,
    inactivity_timeout: int | None = None,
) -> bytes:
    """The session's policy, signed; with ``inactivity_timeout`` (seconds) the applet
    ends the session after that long without activity instead of its default."""
    policy: dict[str, Any] = {
        "t": "policy",
        "session_id": session_id,
        "technician": {"email": technician_email, "name": technician_name},
        "group": group,
        "permissions": sorted(permissions),
        "issued_at": time.time(),
        "broker": broker,
    }
    if inactivity_timeout is not None:
        policy["inactivity_timeout"] = inactivity_timeout
    return signer.sign_policy(messages.encode(policy))
