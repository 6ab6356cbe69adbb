"""Technician group permissions, and the signed session policy built from them.

The names follow the product papers' grantable permissions. The policy is signed with
the broker's Ed25519 key; the applet verifies it and refuses what it does not grant.
"""

from __future__ import annotations

import time

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


def sign_policy(
    signer: SigningKey,
    *,
    session_id: str,
    technician_email: str,
    technician_name: str,
    group: str,
    permissions: list[str],
    broker: str,
) -> bytes:
    payload = messages.encode(
        {
            "t": "policy",
            "session_id": session_id,
            "technician": {"email": technician_email, "name": technician_name},
            "group": group,
            "permissions": sorted(permissions),
            "issued_at": time.time(),
            "broker": broker,
        }
    )
    return signer.sign_policy(payload)
