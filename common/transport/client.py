"""Talking to the broker: sign-in over HTTPS, and WebSocket control links."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from common.crypto.certificates import normalise_fingerprint
from common.errors import (
    AuthenticationError,
    BrokerError,
    CertificateMismatch,
    CodeNotFound,
    ConnectionFailed,
    LifelineError,
    ProtocolError,
    RateLimited,
    SessionEnded,
)
from common.protocol.broker_messages import (
    MAX_FRAME,
    Frame,
    control_frame,
    decode_broker,
    parse_frame,
)
from common.transport import tls

CONNECT_TIMEOUT = 10.0
_ERRORS: dict[str, type[BrokerError]] = {
    "bad_code": CodeNotFound,
    "rate_limited": RateLimited,
}


@dataclass(frozen=True)
class BrokerAddress:
    """Where the broker is, and how to trust it."""

    url: str
    ca_file: Path | None = None
    ca_fingerprint: str | None = None

    def __post_init__(self) -> None:
        if self.ca_fingerprint is not None:
            normalise_fingerprint(self.ca_fingerprint)  # fail early on a typo

    @property
    def ws_url(self) -> str:
        return self.url.rstrip("/").replace("https://", "wss://", 1) + "/v1/ws"


@dataclass(frozen=True)
class Login:
    token: str
    expires_at: float
    email: str
    name: str
    group: str


def broker_error(code: str, message: str) -> BrokerError:
    if code in (
        "auth_failed",
        "locked",
        "totp_required",
        "totp_wrong",
        "token_invalid",
        "password_change_required",
        "network_not_allowed",
    ):
        return AuthenticationError(message, code=code)
    cls = _ERRORS.get(code, BrokerError)
    return cls(message, code=code)


def _login(data: dict[str, Any]) -> Login:
    try:
        tech = data["technician"]
        return Login(
            str(data["token"]),
            float(data["expires_at"]),
            str(tech["email"]),
            str(tech["name"]),
            str(tech["group"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError("The server's sign-in answer is incomplete.") from exc


def _connection_failed(exc: BaseException) -> LifelineError:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | ssl.SSLCertVerificationError):
        return CertificateMismatch()
    if isinstance(exc, aiohttp.ClientSSLError):
        return CertificateMismatch()
    return ConnectionFailed()


class BrokerClient:
    """One broker, one HTTP connection pool. Use as an async context manager."""

    def __init__(self, address: BrokerAddress, *, local_address: str | None = None) -> None:
        """``local_address``: the address to connect from (one of this computer's),
        when the system's choice is not the one the broker should see."""
        self.address = address
        self._local_addr = (local_address, 0) if local_address else None
        self._ssl: ssl.SSLContext | None = None
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> BrokerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            addr = self.address
            if addr.ca_fingerprint is not None:
                boot_connector = aiohttp.TCPConnector(local_addr=self._local_addr)
                async with aiohttp.ClientSession(connector=boot_connector) as boot:
                    try:
                        async with boot.get(
                            addr.url.rstrip("/") + "/v1/ca.pem",
                            ssl=tls.bootstrap_context(),
                            timeout=aiohttp.ClientTimeout(total=CONNECT_TIMEOUT),
                        ) as resp:
                            ca_pem = await resp.content.read(64 * 1024)
                    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                        raise ConnectionFailed() from exc
                self._ssl = tls.context_from_ca(
                    ca_pem=tls.check_pinned_ca(ca_pem, addr.ca_fingerprint)
                )
            else:
                self._ssl = tls.context_from_ca(ca_file=addr.ca_file)
        return self._ssl

    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            connector = aiohttp.TCPConnector(ssl=await self._context(), local_addr=self._local_addr)
            self._http = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=30, connect=CONNECT_TIMEOUT),
            )
        return self._http

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        http = await self._session()
        try:
            async with http.post(self.address.url.rstrip("/") + path, json=body) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            raise _connection_failed(exc) from exc
        if not isinstance(data, dict):
            raise ProtocolError("The server sent an unexpected answer.")
        if resp.status != 200:
            raise broker_error(str(data.get("code", "error")), str(data.get("message", "")))
        return data

    async def get_json(self, path: str) -> dict[str, Any]:
        http = await self._session()
        try:
            async with http.get(self.address.url.rstrip("/") + path) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            raise _connection_failed(exc) from exc
        if not isinstance(data, dict):
            raise ProtocolError("The server sent an unexpected answer.")
        return data

    async def login(self, email: str, password: str, totp: str | None = None) -> Login:
        data = await self._post("/v1/login", {"email": email, "password": password, "totp": totp})
        return _login(data)

    async def change_password(
        self, email: str, password: str, new_password: str, totp: str | None = None
    ) -> Login:
        """Changes the password (forced or not) and signs in with the new one."""
        data = await self._post(
            "/v1/password",
            {"email": email, "password": password, "new_password": new_password, "totp": totp},
        )
        return _login(data)

    async def connect(self, role: str, token: str | None = None) -> ControlLink:
        """Opens a WebSocket link and says hello."""
        http = await self._session()
        try:
            ws = await asyncio.wait_for(
                http.ws_connect(
                    self.address.ws_url,
                    max_msg_size=MAX_FRAME,
                    compress=0,
                    heartbeat=20.0,
                    autoping=True,
                ),
                CONNECT_TIMEOUT,
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise _connection_failed(exc) from exc
        link = ControlLink(ws)
        hello: dict[str, Any] = {"t": "hello", "role": role}
        if token:
            hello["token"] = token
        await link.send(hello)
        welcome = await link.expect("welcome")
        link.policy_key = welcome["policy_key"]
        return link


class ControlLink:
    """One WebSocket to the broker: control messages plus relay frames."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.policy_key = b""

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, message: dict[str, Any]) -> None:
        try:
            await self.ws.send_bytes(control_frame(message))
        except (ConnectionError, RuntimeError, aiohttp.ClientError) as exc:
            raise ConnectionFailed() from exc

    async def send_relay(self, frame: bytes) -> None:
        """``frame`` must already start with the RELAY byte."""
        await self.ws.send_bytes(frame)

    async def receive(self, timeout: float | None = None) -> tuple[Frame, bytes] | None:
        """The next frame, or None when the link is closed."""
        while True:
            try:
                msg = await self.ws.receive(timeout=timeout)
            except TimeoutError:
                raise ConnectionFailed("The server did not answer in time.") from None
            if msg.type == aiohttp.WSMsgType.BINARY:
                return parse_frame(msg.data)
            if msg.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                return None

    async def expect(self, *types: str, timeout: float = CONNECT_TIMEOUT) -> dict[str, Any]:
        """Waits for a control message of one of ``types``; broker errors raise."""
        while True:
            frame = await self.receive(timeout)
            if frame is None:
                raise ConnectionFailed("The server closed the connection.")
            kind, payload = frame
            if kind != Frame.CONTROL:
                continue
            msg = decode_broker(payload)
            if msg["t"] in types:
                return msg
            if msg["t"] == "error":
                raise broker_error(msg["code"], msg["message"])
            if msg["t"] == "closed":
                raise SessionEnded(msg["message"], reason=msg["reason"])

    async def close(self) -> None:
        await self.ws.close()
