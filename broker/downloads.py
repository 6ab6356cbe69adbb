"""Per-session applet downloads: ``GET /download/applet/<platform>``.

The technician sends the customer a link such as
``https://support.example.com/download/applet/windows?nameplate=482``; the broker answers
with the organisation's **signed** applet for that platform, taken as it is from a
folder of signed builds (``lifeline-broker serve --applet-downloads DIR``), under a file
name that carries the session:

* ``Lifeline-482.exe`` — the nameplate only (the default): the applet's entry window
  starts with those digits and the person types the six secret ones;
* ``Lifeline-482193076.exe`` — with ``&secret=193076``, when the technician chose "no
  code to type": the applet connects without asking (applet/launch.py reads both).

Nothing is rebuilt or re-signed per download: Authenticode, a detached minisign
signature and a notarized Mac binary all sign the bytes, never the file name, so the
one signed build serves every session. docs/threat-model.md (§6) weighs what the name
gives away, and docs/packaging.md lists the folder's files.

A link works while its session waits for its customer, like the code itself; the
broker never stores a secret, it only echoes one from the link into the name. Downloads
are rate-limited per address (each is megabytes) and recorded in the audit log, without
the secret.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from broker.hub import SessionHub
from broker.live_sessions import LiveSession
from broker.ratelimit import RateLimiter
from common.crypto.code import SECRET_DIGITS, is_nameplate

log = logging.getLogger("lifeline.broker")

#: Downloads per minute per source address (each is tens of megabytes).
DOWNLOADS_PER_MINUTE = 10


@dataclass(frozen=True)
class AppletBuild:
    #: The signed build's name in the folder (as installers/ writes it in dist/).
    file: str
    #: What the per-session name ends with.
    suffix: str
    content_type: str


BUILDS: dict[str, AppletBuild] = {
    "windows": AppletBuild(
        "lifeline-applet-windows.exe", ".exe", "application/vnd.microsoft.portable-executable"
    ),
    "linux": AppletBuild("lifeline-applet-linux", "", "application/octet-stream"),
    "macos": AppletBuild("lifeline-applet-macos", "", "application/octet-stream"),
}
#: The applet reads a run of 9 to 15 digits in its name as a whole code, so a
#: nameplate alone must be shorter (nameplates reach 9 digits only with tens of
#: millions of live sessions; such a download gets a name without digits).
_LONGEST_NAMEPLATE_IN_NAME = 8
_NOT_FOUND = "That code is wrong or has expired. Ask your technician for a new one."


def download_name(platform: str, nameplate: str, secret: str | None = None) -> str:
    """The per-session file name: ``Lifeline-482.exe`` or ``Lifeline-482193076.exe``."""
    suffix = BUILDS[platform].suffix
    if secret is not None:
        return f"Lifeline-{nameplate}{secret}{suffix}"
    if len(nameplate) > _LONGEST_NAMEPLATE_IN_NAME:
        return f"Lifeline{suffix}"
    return f"Lifeline-{nameplate}{suffix}"


def _refused(status: type[web.HTTPException], message: str) -> web.HTTPException:
    return status(text=message + "\n", content_type="text/plain")


class AppletDownloads:
    """Serves the builds in ``folder`` for the sessions ``hub`` knows."""

    def __init__(self, folder: Path, hub: SessionHub) -> None:
        self.folder = folder
        self.hub = hub
        self.limiter = RateLimiter(DOWNLOADS_PER_MINUTE)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/download/applet/{platform}", self.download)

    def available(self) -> list[str]:
        """Platforms whose signed build is in the folder now (read per request, so a
        new build can be dropped in without restarting the broker)."""
        return [p for p, b in BUILDS.items() if (self.folder / b.file).is_file()]

    async def download(self, request: web.Request) -> web.StreamResponse:
        ip = request.remote or "unknown"
        build = BUILDS.get(request.match_info["platform"])
        if build is None:
            raise _refused(web.HTTPNotFound, "There is no Lifeline applet for that system.")
        if not self.limiter.allow(ip):
            raise _refused(web.HTTPTooManyRequests, "Too many downloads. Try again in a minute.")
        nameplate = request.query.get("nameplate", "")
        secret = request.query.get("secret")
        if not is_nameplate(nameplate) or (
            secret is not None
            and not (len(secret) == SECRET_DIGITS and secret.isascii() and secret.isdigit())
        ):
            raise _refused(web.HTTPNotFound, _NOT_FOUND)
        live = self._waiting_session(nameplate)
        if live is None:
            log.info("download for an unknown code from %s", ip)
            raise _refused(web.HTTPNotFound, _NOT_FOUND)
        path = self.folder / build.file
        if not path.is_file():
            raise _refused(
                web.HTTPNotFound,
                "This server has no Lifeline applet for that system yet. "
                "Ask your technician for another way to start the session.",
            )
        platform = request.match_info["platform"]
        name = download_name(platform, nameplate, secret)
        self.hub.audit.record(
            "applet_download",
            session_id=live.session_id,
            technician=live.row.technician or "",
            group=live.row.group_name or "",
            ip=ip,
            detail={"platform": platform, "code_in_name": "whole" if secret else "nameplate"},
        )
        return web.FileResponse(
            path,
            headers={
                "Content-Type": build.content_type,
                "Content-Disposition": f'attachment; filename="{name}"',
                # Per session: no cache may hand it to someone else, and the link
                # (which may carry the secret) is not passed on to other sites.
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def _waiting_session(self, nameplate: str) -> LiveSession | None:
        """The session the nameplate names, while it waits for its customer."""
        row = self.hub.storage.find_by_nameplate(nameplate)
        live = self.hub.sessions.get(row.session_id) if row else None
        if live is None or live.row.state != "waiting" or live.row.expires_at < time.time():
            return None
        return live
