"""The broker's web application: one TLS port, WebSocket plus a few HTTP routes.

GET  /healthz          200 + JSON status
GET  /v1/gateways      the gateway list clients pick from
GET  /v1/ca.pem        the broker's CA (clients check it against a pinned fingerprint)
POST /v1/login         email, password, totp → session token
POST /v1/password      change password (also when a change is forced)
GET  /v1/ws            the broker protocol (docs/protocol.md)
GET  /download/applet/<platform>   a session's signed applet (broker/downloads.py)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from broker.accounts import AccountLocked, Accounts, LoginResult
from broker.audit import AuditLog
from broker.config import BrokerConfig
from broker.data_keys import DataKeys
from broker.downloads import AppletDownloads
from broker.hub import SessionHub
from broker.live_sessions import Link
from broker.permissions import PERMISSIONS
from broker.ratelimit import RateLimiter
from broker.records import Storage
from broker.storage import SqliteStorage
from broker.tls import BrokerCertificates, ensure_certificates, server_context
from common.crypto import SigningKey
from common.errors import (
    AuthenticationError,
    BrokerError,
    LifelineError,
    ProtocolError,
    RateLimited,
)
from common.protocol.broker_messages import (
    MAX_FRAME,
    Frame,
    decode_client,
    parse_frame,
)

log = logging.getLogger("lifeline.broker")
VERSION = "0.1.0"
_MAX_JSON_BODY = 16 * 1024

HUB = web.AppKey("hub", SessionHub)
ACCOUNTS = web.AppKey("accounts", Accounts)
CONFIG = web.AppKey("config", BrokerConfig)
CERTS = web.AppKey("certs", BrokerCertificates)
LOGIN_LIMITER = web.AppKey("login_limiter", RateLimiter)


def load_signing_key(data_dir: Path) -> SigningKey:
    path = data_dir / "policy-key.pem"
    if path.exists():
        return SigningKey.from_pem(path.read_bytes())
    key = SigningKey.generate()
    path.touch(mode=0o600)
    path.write_bytes(key.to_pem())
    return key


def open_storage(data_dir: Path, key_file: Path | None = None) -> SqliteStorage:
    """The broker's database, with its data keys (made on first use)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    keys = DataKeys.load(data_dir, key_file)
    return SqliteStorage(data_dir / "broker.sqlite3", keys)


def _error(status: int, exc: LifelineError, **extra: Any) -> web.Response:
    return web.json_response({"code": exc.code, "message": str(exc), **extra}, status=status)


def _bad_request(message: str) -> web.HTTPBadRequest:
    body = json.dumps({"code": "bad_request", "message": message})
    return web.HTTPBadRequest(text=body, content_type="application/json")


async def _json_body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > _MAX_JSON_BODY:
        raise _bad_request("The request is too large.")
    try:
        body = json.loads(await request.content.read(_MAX_JSON_BODY))
    except (ValueError, UnicodeDecodeError):
        raise _bad_request("Expected a JSON object.") from None
    if not isinstance(body, dict):
        raise _bad_request("Expected a JSON object.")
    return body


def _str(body: dict[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = body.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > 1024:
        raise _bad_request(f"{name} must be a text of at most 1024 characters.")
    return value


def _peer_ip(request: web.Request) -> str:
    return request.remote or "unknown"


async def healthz(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    return web.json_response(
        {
            "status": "ok",
            "version": VERSION,
            "node": request.app[CONFIG].node_name,
            "sessions": hub.stats(),
            "connections": len(hub.links),
        }
    )


async def gateways(request: web.Request) -> web.Response:
    config = request.app[CONFIG]
    return web.json_response({"gateways": [{"url": u} for u in config.gateway_urls()]})


async def ca_pem(request: web.Request) -> web.Response:
    ca_file = request.app[CERTS].ca_file
    if ca_file is None:
        raise web.HTTPNotFound(text="this broker uses a certificate from a public authority")
    return web.Response(body=ca_file.read_bytes(), content_type="application/x-pem-file")


async def login(request: web.Request) -> web.Response:
    if not request.app[LOGIN_LIMITER].allow(_peer_ip(request)):
        return _error(429, RateLimited())
    body = await _json_body(request)
    email, password = _str(body, "email"), _str(body, "password")
    totp = _str(body, "totp", optional=True)
    assert email is not None and password is not None
    accounts = request.app[ACCOUNTS]
    try:
        result = await asyncio.to_thread(accounts.login, email, password, totp, peer=request.remote)
    except AccountLocked as exc:
        log.info("login refused: %s is locked", email)
        _audit_login(request, email, "login_failed", exc.code)
        return _error(423, exc, retry_after=round(exc.retry_after))
    except AuthenticationError as exc:
        log.info("login failed for %s from %s: %s", email, _peer_ip(request), exc.code)
        _audit_login(request, email, "login_failed", exc.code)
        forbidden = exc.code in ("password_change_required", "network_not_allowed")
        return _error(403 if forbidden else 401, exc)
    log.info("login ok for %s", result.technician.email)
    _audit_login(request, email, "login_ok")
    return _signed_in(result)


def _audit_login(request: web.Request, email: str, kind: str, reason: str = "") -> None:
    """A sign-in attempt in the audit log; a failure that locked the account adds a
    ``lockout``."""
    hub = request.app[HUB]
    tech = hub.storage.get_technician(email)
    group = tech.group_name if tech is not None else ""
    detail = {"reason": reason} if reason else {}
    hub.audit.record(kind, technician=email[:320], group=group, ip=_peer_ip(request),
                     detail=detail)  # fmt: skip
    if reason and reason != "locked" and tech is not None and tech.locked_until > time.time():
        until = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(tech.locked_until))
        hub.audit.record("lockout", technician=email, group=group, ip=_peer_ip(request),
                         detail={"until": until})  # fmt: skip


def _signed_in(result: LoginResult) -> web.Response:
    return web.json_response(
        {
            "token": result.token,
            "expires_at": result.expires_at,
            "technician": {
                "email": result.technician.email,
                "name": result.technician.name,
                "group": result.technician.group_name,
            },
        }
    )


async def change_password(request: web.Request) -> web.Response:
    if not request.app[LOGIN_LIMITER].allow(_peer_ip(request)):
        return _error(429, RateLimited())
    body = await _json_body(request)
    email, password = _str(body, "email"), _str(body, "password")
    new_password = _str(body, "new_password")
    totp = _str(body, "totp", optional=True)
    assert email is not None and password is not None and new_password is not None
    accounts = request.app[ACCOUNTS]
    try:
        result = await asyncio.to_thread(
            accounts.change_password, email, password, new_password, totp, peer=request.remote
        )
    except AccountLocked as exc:
        return _error(423, exc, retry_after=round(exc.retry_after))
    except AuthenticationError as exc:
        return _error(403 if exc.code == "network_not_allowed" else 401, exc)
    except ValueError as exc:
        return _error(400, BrokerError(str(exc), code="weak_password"))
    return _signed_in(result)


async def permissions(request: web.Request) -> web.Response:
    return web.json_response({"permissions": list(PERMISSIONS)})


async def websocket(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    config = request.app[CONFIG]
    if len(hub.links) >= config.max_connections:
        return web.Response(status=503, text="too many connections")
    # No compression: everything after pairing is ciphertext.
    # A short close handshake: a hostile client that never answers it is dropped soon.
    ws = web.WebSocketResponse(max_msg_size=MAX_FRAME, compress=False, heartbeat=20.0, timeout=2.0)
    await ws.prepare(request)
    link = Link(ws, _peer_ip(request), request.transport)
    hub.links.add(link)
    try:
        await _serve_link(hub, link, config)
    finally:
        await hub.disconnected(link)
        if not ws.closed:
            await ws.close()
    return ws


async def _serve_link(hub: SessionHub, link: Link, config: BrokerConfig) -> None:
    ws = link.ws
    deadline = time.monotonic() + config.hello_timeout
    while True:
        # Until a link belongs to a session it must keep the conversation moving.
        settled = (link.session is not None or link.in_lobby) and link.pending_challenge is None
        timeout = None if settled else deadline - time.monotonic()
        if timeout is not None and timeout <= 0:
            return
        try:
            msg = await ws.receive(timeout=timeout)
        except TimeoutError:
            log.info("closing an idle link from %s", link.ip)
            return
        except ConnectionError:  # reset while aiohttp answered a ping
            return
        if msg.type != WSMsgType.BINARY:
            if msg.type == WSMsgType.ERROR:
                log.info("link from %s closed on a protocol error: %s", link.ip, ws.exception())
            if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return
            continue  # text frames are ignored
        data: bytes = msg.data
        # Fast path: relay frames go out as they came in.
        if data[:1] == b"\x01" and link.session is not None and link.session.paired:
            await hub.forward(link, data)
            continue
        challenged = link.pending_challenge
        try:
            kind, payload = parse_frame(data)
            if kind != Frame.CONTROL:
                raise ProtocolError("Relay data before the session was paired.")
            await hub.on_control(link, decode_client(payload))
        except (BrokerError, AuthenticationError) as exc:
            await link.send({"t": "error", "code": exc.code, "message": str(exc)})
            if isinstance(exc, AuthenticationError):
                return
        except LifelineError as exc:
            log.info("closing a link from %s: %s", link.ip, exc)
            await link.send({"t": "error", "code": exc.code, "message": str(exc)})
            return
        if link.pending_challenge is not None and link.pending_challenge is not challenged:
            deadline = time.monotonic() + config.resume_timeout


@dataclass
class Broker:
    """A running broker: the pieces tests and the CLI need to reach."""

    config: BrokerConfig
    storage: Storage
    accounts: Accounts
    certs: BrokerCertificates
    signer: SigningKey
    runner: web.AppRunner
    hub: SessionHub
    port: int
    _sweeper: asyncio.Task[None]

    @property
    def audit(self) -> AuditLog:
        return self.hub.audit

    @property
    def url(self) -> str:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.config.host, self.config.host)  # noqa: S104
        return f"https://[{host}]:{self.port}" if ":" in host else f"https://{host}:{self.port}"

    async def stop(self) -> None:
        self._sweeper.cancel()
        if self.hub.webhook_task is not None:
            self.hub.webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.hub.webhook_task
        await self.hub.shutdown()
        await self.runner.cleanup()
        self.storage.close()


async def _sweep(hub: SessionHub) -> None:
    ticks = 0
    while True:
        await asyncio.sleep(1.0)
        hub.sweep_slow_links()
        ticks += 1
        if ticks % 60 == 0:
            hub.refresh_console_tokens()
        if ticks % 3600 == 1:  # at start, then hourly: each group's retention
            try:
                purged = await asyncio.to_thread(hub.audit.purge)
            except Exception:
                log.exception("the audit log purge failed")
            else:
                if any(purged.values()):
                    log.info("audit log purge: %s", purged)


async def start_broker(
    config: BrokerConfig,
    *,
    hub_class: type[SessionHub] = SessionHub,
    applet_downloads: Path | None = None,
) -> Broker:
    """Starts serving; returns once the port is bound (port 0 picks a free one).
    ``applet_downloads``: a folder of signed applet builds to serve per session."""
    storage = open_storage(config.data_dir, config.data_key_file)
    if config.cert_file is not None and config.key_file is not None:
        certs = BrokerCertificates(config.cert_file, config.key_file)
    else:
        certs = ensure_certificates(config.data_dir, [config.host, *config.hostnames])
    signer = load_signing_key(config.data_dir)
    accounts = Accounts(storage, config)
    hub = hub_class(storage, accounts, signer, config)
    hub.recover()
    app = web.Application(client_max_size=_MAX_JSON_BODY)
    app[HUB], app[ACCOUNTS], app[CONFIG], app[CERTS] = hub, accounts, config, certs
    app[LOGIN_LIMITER] = RateLimiter(config.logins_per_minute)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/v1/gateways", gateways)
    app.router.add_get("/v1/ca.pem", ca_pem)
    app.router.add_get("/v1/permissions", permissions)
    app.router.add_post("/v1/login", login)
    app.router.add_post("/v1/password", change_password)
    app.router.add_get("/v1/ws", websocket)
    if applet_downloads is not None:
        AppletDownloads(applet_downloads, hub).add_routes(app.router)
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(
        runner, config.host, config.port, ssl_context=server_context(certs), backlog=1024
    )
    await site.start()
    port = int(runner.addresses[0][1]) if runner.addresses else config.port
    sweeper = asyncio.get_running_loop().create_task(_sweep(hub))
    hub.webhook_task = asyncio.get_running_loop().create_task(hub.webhooks.run())
    return Broker(config, storage, accounts, certs, signer, runner, hub, port, sweeper)
