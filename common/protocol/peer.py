"""The end-to-end connection between applet and console, without I/O.

Feed what the relay delivered to :meth:`PeerConnection.receive_data`; send each item
of :meth:`PeerConnection.data_to_send` as one relay message; read
:meth:`PeerConnection.events_received`. After the link drops and comes back (or the
broker says the peer came back), call :meth:`PeerConnection.resume`: every record the
peer has not acknowledged is sent again, and the receiver drops what it already has,
so nothing is lost and nothing is delivered twice.

States: HANDSHAKE → CONFIRMING → OPEN → CLOSED. Application data flows only in OPEN,
after both sides proved they hold the same key.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from common.crypto import CommittedExchange, PakeExchange, SessionCode, SessionKeys, SharedSecret
from common.crypto.aead import TAG_SIZE
from common.crypto.keys import Role
from common.errors import (
    InvalidState,
    LifelineError,
    MessageTooLarge,
    ProtocolError,
    WrongCode,
)
from common.protocol import messages
from common.protocol.channels import FLAG_FINAL, Channel, Reassembler, parse_channel
from common.protocol.framing import DATA_HEADER, Kind, RecordReader, encode_record, parse_kind
from common.protocol.version import (
    DEFAULT_WINDOW,
    FRAGMENT_SIZE,
    MAX_BUFFERED,
    MAX_RECORD,
    PROTOCOL_VERSION,
)

_MAX_HANDSHAKE_RECORD = 1024
#: Acknowledge without waiting once this much is owed (the rest waits for a timer).
ACK_EVERY_BYTES = 256 * 1024
ACK_EVERY_RECORDS = 32
#: The field that carries each handshake message's value.
_HANDSHAKE_FIELD = {"pake": "m", "commit": "c", "pub": "k", "reveal": "k"}


class State(enum.Enum):
    HANDSHAKE = "handshake"
    CONFIRMING = "confirming"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class HandshakeDone:
    """Keys agreed and confirmed; ``sas`` is the string both people can compare."""

    sas: str


@dataclass(frozen=True)
class MessageReceived:
    channel: Channel
    message: messages.Message


@dataclass(frozen=True)
class Writable:
    """The window has room again: bulk producers may send."""


PeerEvent = HandshakeDone | MessageReceived | Writable


@dataclass
class _Outgoing:
    key: str | None
    fragments: deque[tuple[int, bytes]]
    started: bool = False
    size: int = 0


@dataclass
class _Sent:
    seq: int
    record: bytes
    flow_controlled: bool


@dataclass
class Counters:
    records_sent: int = 0
    records_received: int = 0
    retransmitted: int = 0
    duplicates_dropped: int = 0
    gaps_dropped: int = 0
    frames_replaced: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class PeerConnection:
    """One side of an end-to-end session.

    ``code`` given: SPAKE2 on its secret. ``code`` None: the queue flow (committed
    X25519), where only comparing the short authentication string stops a broker in
    the middle.
    """

    def __init__(
        self,
        role: Role,
        session_id: str,
        code: SessionCode | None,
        *,
        window: int = DEFAULT_WINDOW,
        max_record: int = MAX_RECORD,
    ) -> None:
        self.role: Role = role
        self.session_id = session_id
        self.state = State.HANDSHAKE
        self.window = window
        self.keys: SessionKeys | None = None
        self.counters = Counters()
        self._reader = RecordReader(max_record)
        self._events: list[PeerEvent] = []
        self._handshake_out: deque[bytes] = deque()
        self._pake = PakeExchange(role, session_id, code) if code is not None else None
        self._dh = CommittedExchange(role, session_id) if code is None else None
        self._peer_commitment: bytes | None = None
        self._shared: SharedSecret | None = None
        self._peer_confirmed = False
        # Sending.
        self._queues: dict[Channel, deque[_Outgoing]] = {c: deque() for c in Channel}
        # Running totals (kept, not summed per call: send() is on the hot path).
        self._queued_bytes = 0
        self._queued_bulk = 0
        self._unacked_bytes = 0
        self._next_seq = 1
        self._unacked: deque[_Sent] = deque()
        self._inflight = 0
        self._retransmit: deque[bytes] = deque()
        self._ack_counter = 0
        self._peer_ack_counter = 0
        self._blocked = False
        # Receiving.
        self._received_seq = 0
        self._owed_records = 0
        self._owed_bytes = 0
        self._reassembler = Reassembler()

    # ---- handshake ---------------------------------------------------------------

    def start(self) -> None:
        """Queues this side's first handshake message (call once, when paired)."""
        if self._pake is not None:
            self._send_handshake({"t": "pake", "m": self._pake.outbound})
        elif self._dh is not None and self.role == "applet":
            self._send_handshake({"t": "commit", "c": self._dh.commitment})

    def _send_handshake(self, message: dict[str, Any]) -> None:
        body = bytes([PROTOCOL_VERSION, Kind.HANDSHAKE]) + messages.encode(message)
        self._handshake_out.append(encode_record(body))

    def _on_handshake(self, body: bytes) -> None:
        if self.state not in (State.HANDSHAKE, State.CONFIRMING):
            raise InvalidState("A handshake message arrived after the handshake.")
        if len(body) > _MAX_HANDSHAKE_RECORD:
            raise MessageTooLarge("A handshake message is too long.")
        msg = messages.decode(body[2:], max_size=_MAX_HANDSHAKE_RECORD)
        kind = msg["t"]
        value = msg.get(_HANDSHAKE_FIELD.get(kind, ""))
        if kind == "confirm":
            self._on_confirm(msg.get("mac"))
            return
        if self.state != State.HANDSHAKE or not isinstance(value, bytes):
            raise InvalidState(f"Unexpected handshake message {kind[:20]!r}.")
        if kind == "pake" and self._pake is not None:
            self._agreed(self._pake.finish(value))
        elif kind == "commit" and self._dh is not None and self.role == "console":
            if self._peer_commitment is not None:
                raise InvalidState("The applet committed twice.")
            self._peer_commitment = value
            self._send_handshake({"t": "pub", "k": self._dh.public_key})
        elif kind == "pub" and self._dh is not None and self.role == "applet":
            shared = self._dh.finish(value)
            self._send_handshake({"t": "reveal", "k": self._dh.public_key})
            self._agreed(shared)
        elif kind == "reveal" and self._dh is not None and self.role == "console":
            if self._peer_commitment is None:
                raise InvalidState("The applet revealed its key before committing to it.")
            self._agreed(self._dh.finish(value, self._peer_commitment))
        else:
            raise InvalidState(f"Unexpected handshake message {kind[:20]!r}.")

    def _agreed(self, shared: SharedSecret) -> None:
        self._shared = shared
        self.keys = SessionKeys.derive(shared.key, shared.transcript, self.role)
        self.state = State.CONFIRMING
        self._send_handshake({"t": "confirm", "mac": self.keys.confirmation})

    def _on_confirm(self, mac: object) -> None:
        if self.state != State.CONFIRMING or self.keys is None:
            raise InvalidState("Key confirmation arrived before the key exchange.")
        if not isinstance(mac, bytes) or not self.keys.check_confirmation(mac):
            # Wrong secret, or a broker in the middle: either way this code is burnt.
            raise WrongCode()
        self.state = State.OPEN
        self._events.append(HandshakeDone(self.keys.sas))

    # ---- receiving ---------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Parses relay bytes. Raises a :class:`~common.errors.LifelineError` on
        anything fatal, after which the connection is CLOSED; events parsed before the
        error stay available from :meth:`events_received`."""
        if self.state == State.CLOSED:
            raise InvalidState("The connection is closed.")
        try:
            for body in self._reader.feed(data):
                self._on_record(body)
        except LifelineError:
            self.state = State.CLOSED
            raise

    def _on_record(self, body: bytes) -> None:
        kind = parse_kind(body)
        if kind == Kind.HANDSHAKE:
            self._on_handshake(body)
            return
        if self.state != State.OPEN or self.keys is None:
            raise InvalidState("Encrypted data arrived before the keys were confirmed.")
        if len(body) < DATA_HEADER.size + TAG_SIZE:
            raise ProtocolError("A record is too short.")
        _, _, counter, ack = DATA_HEADER.unpack_from(body)
        header, ciphertext = body[: DATA_HEADER.size], body[DATA_HEADER.size :]
        if kind == Kind.ACK:
            if counter <= self._peer_ack_counter:
                self.counters.duplicates_dropped += 1
                return
            self.keys.recv.open(Kind.ACK, counter, header, ciphertext)
            self._peer_ack_counter = counter
            self._on_ack(ack)
            return
        # DATA: go-back-N. Only the next sequence number is accepted; a replay or an
        # old copy is dropped, and a record past a gap waits for the retransmission.
        if counter <= self._received_seq:
            self.counters.duplicates_dropped += 1
            return
        if counter != self._received_seq + 1:
            self.counters.gaps_dropped += 1
            return
        plaintext = self.keys.recv.open(Kind.DATA, counter, header, ciphertext)
        self._received_seq = counter
        self.counters.records_received += 1
        self._owed_records += 1
        self._owed_bytes += len(body)
        self._on_ack(ack)
        if len(plaintext) < 2:
            raise ProtocolError("A data record is too short.")
        channel = parse_channel(plaintext[0])
        payload = self._reassembler.add(channel, plaintext[1], plaintext[2:])
        if payload is not None:
            self._events.append(
                MessageReceived(channel, messages.decode(payload, max_size=channel.max_message))
            )

    def _on_ack(self, ack: int) -> None:
        if ack >= self._next_seq:
            raise ProtocolError("The peer acknowledged data that was never sent.")
        while self._unacked and self._unacked[0].seq <= ack:
            sent = self._unacked.popleft()
            self._unacked_bytes -= len(sent.record)
            if sent.flow_controlled:
                self._inflight -= len(sent.record)
        if self._blocked and self._inflight < self.window // 2:
            self._blocked = False
            self._events.append(Writable())

    def events_received(self) -> list[PeerEvent]:
        events, self._events = self._events, []
        return events

    # ---- sending -----------------------------------------------------------------

    def send(
        self, channel: Channel, message: dict[str, Any], *, replace: str | None = None
    ) -> None:
        """Queues a message. With ``replace``, a queued message with the same key that
        has not started going out is dropped first: a newer frame supersedes it."""
        if self.state != State.OPEN:
            raise InvalidState("Messages can be sent only once the connection is open.")
        payload = messages.encode(message)
        if len(payload) > channel.max_message:
            raise MessageTooLarge(f"A {channel.name.lower()} message is over its size limit.")
        queue = self._queues[channel]
        if replace is not None:
            for item in list(queue):
                if item.key == replace and not item.started:
                    queue.remove(item)
                    self._dequeued(channel, item)
                    self.counters.frames_replaced += 1
        if self._queued_bytes + self._unacked_bytes + len(payload) > MAX_BUFFERED:
            raise MessageTooLarge("The link is stalled: too much data is waiting to be sent.")
        fragments: deque[tuple[int, bytes]] = deque()
        for offset in range(0, max(len(payload), 1), FRAGMENT_SIZE):
            chunk = payload[offset : offset + FRAGMENT_SIZE]
            final = offset + FRAGMENT_SIZE >= len(payload)
            fragments.append((FLAG_FINAL if final else 0, chunk))
        queue.append(_Outgoing(replace, fragments, size=len(payload)))
        self._queued_bytes += len(payload)
        if channel.flow_controlled:
            self._queued_bulk += len(payload)

    def _dequeued(self, channel: Channel, item: _Outgoing) -> None:
        self._queued_bytes -= item.size
        if channel.flow_controlled:
            self._queued_bulk -= item.size

    def writable(self, channel: Channel) -> bool:
        """Whether a bulk producer should send now; if not, a :class:`Writable` event
        follows once acknowledgements free half the window."""
        if self.state != State.OPEN:
            return False
        if not channel.flow_controlled:
            return True
        if self._inflight + self._queued_bulk < self.window:
            return True
        self._blocked = True
        return False

    def data_to_send(self, max_records: int | None = None) -> list[bytes]:
        """Records to send, each as one relay message, highest priority first.

        Pull a few at a time (``max_records``) while the link is busy, so a control
        message queued meanwhile overtakes bulk data still waiting here.
        """
        out: list[bytes] = []
        limit = max_records if max_records is not None else 1 << 30
        while self._handshake_out and len(out) < limit:
            out.append(self._handshake_out.popleft())
        while self._retransmit and len(out) < limit:
            out.append(self._retransmit.popleft())
            self.counters.retransmitted += 1
        if self.state != State.OPEN:
            return out
        while len(out) < limit:
            record = self._next_data_record()
            if record is None:
                break
            out.append(record)
        if len(out) < limit and self.ack_pending and self._owed_enough():
            out.append(self.ack_record())
        return out

    def _next_data_record(self) -> bytes | None:
        for channel in Channel:
            queue = self._queues[channel]
            if not queue:
                continue
            if channel.flow_controlled and self._inflight >= self.window:
                self._blocked = True
                continue
            item = queue[0]
            flags, chunk = item.fragments.popleft()
            item.started = True
            if not item.fragments:
                queue.popleft()
                self._dequeued(channel, item)
            return self._seal_data(channel, flags, chunk)
        return None

    def _seal_data(self, channel: Channel, flags: int, chunk: bytes) -> bytes:
        assert self.keys is not None
        seq = self._next_seq
        self._next_seq += 1
        header = DATA_HEADER.pack(PROTOCOL_VERSION, Kind.DATA, seq, self._received_seq)
        sealed = self.keys.send.seal(Kind.DATA, seq, header, bytes([channel, flags]) + chunk)
        record = encode_record(header + sealed)
        self._unacked.append(_Sent(seq, record, channel.flow_controlled))
        self._unacked_bytes += len(record)
        if channel.flow_controlled:
            self._inflight += len(record)
        self._owed_records = self._owed_bytes = 0
        self.counters.records_sent += 1
        return record

    @property
    def ack_pending(self) -> bool:
        return self._owed_records > 0 and self.state == State.OPEN

    def _owed_enough(self) -> bool:
        return self._owed_records >= ACK_EVERY_RECORDS or self._owed_bytes >= ACK_EVERY_BYTES

    def ack_record(self) -> bytes:
        """An acknowledgement of everything received so far. The I/O layer sends one
        after a short delay when :attr:`ack_pending` stays true."""
        assert self.keys is not None
        self._ack_counter += 1
        header = DATA_HEADER.pack(PROTOCOL_VERSION, Kind.ACK, self._ack_counter, self._received_seq)
        self._owed_records = self._owed_bytes = 0
        return encode_record(header + self.keys.send.seal(Kind.ACK, self._ack_counter, header, b""))

    # ---- link changes -------------------------------------------------------------

    def resume(self) -> None:
        """The relay link was re-established: resend what the peer has not confirmed.

        Retransmitted records are the same bytes as before (same sequence number, same
        nonce, same plaintext), so no nonce is ever used for two different messages.
        """
        if self.state != State.OPEN:
            raise InvalidState("Only an open session can resume.")
        self._reader.reset()
        self._retransmit = deque(s.record for s in self._unacked)
        self._owed_records = max(self._owed_records, 1)

    @property
    def unacknowledged(self) -> int:
        return len(self._unacked)

    @property
    def backlog(self) -> int:
        """Bytes of messages queued here, plus records sent and not yet acknowledged:
        0 once the peer has everything sent so far."""
        return self._queued_bytes + self._unacked_bytes

    def close(self) -> None:
        self.state = State.CLOSED
        for queue in self._queues.values():
            queue.clear()
        self._retransmit.clear()
