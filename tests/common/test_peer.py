"""The end-to-end connection state machine, driven by hand: no sockets, no clock."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.crypto import SessionCode
from common.errors import (
    InvalidState,
    LifelineError,
    MessageTooLarge,
    ProtocolError,
    TamperedRecord,
    WrongCode,
)
from common.protocol import Channel, HandshakeDone, MessageReceived, PeerConnection, State, Writable

CODE = SessionCode("482", "193076")


def pump(a: PeerConnection, b: PeerConnection) -> None:
    moved = True
    while moved:
        moved = False
        for src, dst in ((a, b), (b, a)):
            for record in src.data_to_send():
                dst.receive_data(record)
                moved = True


def open_pair(code: SessionCode | None = CODE) -> tuple[PeerConnection, PeerConnection]:
    console = PeerConnection("console", "sid", code)
    applet = PeerConnection("applet", "sid", code)
    console.start()
    applet.start()
    pump(console, applet)
    assert console.state is State.OPEN and applet.state is State.OPEN
    (c_done,), (a_done,) = console.events_received(), applet.events_received()
    assert isinstance(c_done, HandshakeDone) and c_done == a_done
    return console, applet


def assert_totals_consistent(conn: PeerConnection) -> None:
    """The running totals the hot path keeps match what they summarise."""
    queued = {ch: sum(item.size for item in conn._queues[ch]) for ch in Channel}
    assert conn._queued_bytes == sum(queued.values())
    assert conn._queued_bulk == sum(v for ch, v in queued.items() if ch.flow_controlled)
    assert conn._unacked_bytes == sum(len(s.record) for s in conn._unacked)
    assert conn._inflight == sum(len(s.record) for s in conn._unacked if s.flow_controlled)


def messages_of(conn: PeerConnection) -> list[dict]:
    return [e.message for e in conn.events_received() if isinstance(e, MessageReceived)]


@pytest.mark.parametrize("code", [CODE, None], ids=["code", "queue"])
def test_both_flows_agree_and_show_the_same_sas(code: SessionCode | None) -> None:
    console, applet = open_pair(code)
    assert console.keys and applet.keys and len(console.keys.sas) == 6
    assert console.keys.sas == applet.keys.sas


def test_a_wrong_code_fails_on_both_sides() -> None:
    console = PeerConnection("console", "sid", CODE)
    applet = PeerConnection("applet", "sid", SessionCode("482", "193077"))
    console.start()
    applet.start()
    c_out, a_out = console.data_to_send(), applet.data_to_send()
    for r in a_out:
        console.receive_data(r)
    for r in c_out:
        applet.receive_data(r)
    c_confirm, a_confirm = console.data_to_send(), applet.data_to_send()
    with pytest.raises(WrongCode):
        for r in a_confirm:
            console.receive_data(r)
    with pytest.raises(WrongCode):
        for r in c_confirm:
            applet.receive_data(r)
    assert console.state is State.CLOSED and applet.state is State.CLOSED
    with pytest.raises(InvalidState):
        console.send(Channel.CHAT, {"t": "chat", "text": "leak?"})


def test_no_application_data_before_key_confirmation() -> None:
    console = PeerConnection("console", "sid", CODE)
    with pytest.raises(InvalidState):
        console.send(Channel.CHAT, {"t": "chat", "text": "too early"})
    c, _a = open_pair()
    c.send(Channel.CHAT, {"t": "chat", "text": "x"})
    (record,) = c.data_to_send()
    fresh = PeerConnection("applet", "sid", CODE)
    fresh.start()
    with pytest.raises(InvalidState):
        fresh.receive_data(record)


def test_messages_flow_in_order_on_every_channel() -> None:
    c, a = open_pair()
    for i in range(10):
        c.send(Channel(i % 4), {"t": "m", "i": i})
    pump(c, a)
    got = messages_of(a)
    assert sorted(m["i"] for m in got) == list(range(10))
    for ch in Channel:
        ours = [m["i"] for m in got if m["i"] % 4 == ch]
        assert ours == sorted(ours)


def test_the_backlog_empties_once_the_peer_acknowledged_everything() -> None:
    c, a = open_pair()
    assert c.backlog == 0
    c.send(Channel.FILE, {"t": "m", "data": b"x" * 200_000})
    queued = c.backlog
    assert queued > 200_000
    for record in c.data_to_send(max_records=1):  # one fragment goes out
        a.receive_data(record)
    assert c.backlog > 0
    pump(c, a)  # the rest, and the acknowledgements
    for record in [*a.data_to_send(), a.ack_record()]:
        c.receive_data(record)
    assert c.backlog == 0


def test_replayed_records_are_not_delivered_twice() -> None:
    c, a = open_pair()
    c.send(Channel.CHAT, {"t": "chat", "text": "once"})
    (record,) = c.data_to_send()
    a.receive_data(record)
    a.receive_data(record)
    assert messages_of(a) == [{"v": 1, "t": "chat", "text": "once"}]
    assert a.counters.duplicates_dropped == 1


def test_reordered_records_wait_for_retransmission() -> None:
    c, a = open_pair()
    c.send(Channel.CHAT, {"t": "chat", "text": "first"})
    c.send(Channel.CHAT, {"t": "chat", "text": "second"})
    first, second = c.data_to_send()
    a.receive_data(second)
    assert messages_of(a) == [] and a.counters.gaps_dropped == 1
    a.receive_data(first)
    c.resume()
    pump(c, a)
    assert [m["text"] for m in messages_of(a)] == ["first", "second"]


def test_tampered_records_close_the_connection() -> None:
    c, a = open_pair()
    c.send(Channel.CHAT, {"t": "chat", "text": "secret"})
    (record,) = c.data_to_send()
    tampered = bytearray(record)
    tampered[-1] ^= 1
    with pytest.raises(TamperedRecord):
        a.receive_data(bytes(tampered))
    assert a.state is State.CLOSED


def test_acknowledging_unsent_data_is_refused() -> None:
    c, a = open_pair()
    a._received_seq = 99  # a hostile peer claims it saw records never sent
    a._owed_records = 1
    with pytest.raises(ProtocolError):
        c.receive_data(a.ack_record())


def test_control_overtakes_a_large_transfer_after_one_fragment() -> None:
    c, a = open_pair()
    c.send(Channel.FILE, {"t": "file", "data": bytes(1024 * 1024)})
    first = c.data_to_send(max_records=1)
    c.send(Channel.CONTROL, {"t": "input", "x": 1})
    nxt = c.data_to_send(max_records=1)
    for r in first + nxt:
        a.receive_data(r)
    assert messages_of(a) == [{"v": 1, "t": "input", "x": 1}]


def test_back_pressure_tells_video_to_wait_then_resume() -> None:
    console = PeerConnection("console", "sid", CODE, window=256 * 1024)
    applet = PeerConnection("applet", "sid", CODE, window=256 * 1024)
    console.start(), applet.start()
    pump(console, applet)
    console.events_received()
    frame = {"t": "frame", "data": bytes(100 * 1024)}
    sent = 0
    while console.writable(Channel.VIDEO):
        console.send(Channel.VIDEO, frame)
        sent += 1
    records = console.data_to_send()
    assert not console.writable(Channel.VIDEO)
    assert console.writable(Channel.CONTROL)
    for r in records:
        applet.receive_data(r)
    for r in applet.data_to_send():
        console.receive_data(r)
    if applet.ack_pending:
        console.receive_data(applet.ack_record())
    assert any(isinstance(e, Writable) for e in console.events_received())
    assert console.writable(Channel.VIDEO)
    delivered = len(messages_of(applet))
    assert delivered < sent  # the window held the rest back
    pump(console, applet)
    assert delivered + len(messages_of(applet)) == sent


def test_a_newer_frame_replaces_a_stale_one_not_yet_sent() -> None:
    c, a = open_pair()
    for i in range(5):
        c.send(Channel.VIDEO, {"t": "frame", "i": i}, replace="screen")
    pump(c, a)
    assert [m["i"] for m in messages_of(a)] == [4]
    assert c.counters.frames_replaced == 4
    assert_totals_consistent(c)


def test_oversized_messages_are_refused_on_send() -> None:
    c, _ = open_pair()
    with pytest.raises(MessageTooLarge):
        c.send(Channel.CHAT, {"t": "chat", "text": "x" * (300 * 1024)})


def test_resume_delivers_everything_exactly_once() -> None:
    c, a = open_pair()
    for i in range(20):
        c.send(Channel.CHAT, {"t": "chat", "i": i})
    records = c.data_to_send()
    for r in records[:7]:  # the link dies after 7 records
        a.receive_data(r)
    a.data_to_send()
    c.resume()
    a.resume()
    pump(c, a)
    assert [m["i"] for m in messages_of(a)] == list(range(20))
    assert a.ack_pending  # small traffic: the I/O layer's delayed-ack timer sends it
    c.receive_data(a.ack_record())
    assert c.unacknowledged == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["drop", "dup", "ok", "cut"]), min_size=1, max_size=40),
    st.integers(0, 2**32),
)
def test_any_loss_and_duplication_pattern_recovers_on_resume(pattern: list[str], seed: int) -> None:
    rng = random.Random(seed)
    c, a = open_pair()
    expected = []
    for i, action in enumerate(pattern):
        c.send(Channel(rng.randrange(4)), {"t": "m", "i": i})
        expected.append(i)
        for record in c.data_to_send():
            if action == "drop":
                continue
            a.receive_data(record)
            if action == "dup":
                a.receive_data(record)
        for record in a.data_to_send():
            if action != "cut":
                c.receive_data(record)
        if action == "cut":
            c.resume()
            a.resume()
    c.resume()
    a.resume()
    pump(c, a)
    assert sorted(m["i"] for m in messages_of(a)) == expected
    for conn in (c, a):
        assert_totals_consistent(conn)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=512))
def test_hostile_bytes_never_crash_an_open_connection(data: bytes) -> None:
    _, a = open_pair()
    try:
        a.receive_data(data)
    except LifelineError:
        assert a.state is State.CLOSED


def test_queue_flow_refuses_a_key_that_breaks_its_commitment() -> None:
    console = PeerConnection("console", "sid", None)
    applet = PeerConnection("applet", "sid", None)
    console.start(), applet.start()
    for r in applet.data_to_send():  # commitment
        console.receive_data(r)
    for r in console.data_to_send():  # console's key
        applet.receive_data(r)
    impostor = PeerConnection("applet", "sid", None)  # a key other than the committed one
    from common.protocol import messages
    from common.protocol.framing import Kind, encode_record

    forged = encode_record(
        bytes([1, Kind.HANDSHAKE]) + messages.encode({"t": "reveal", "k": impostor._dh.public_key})
    )
    with pytest.raises(WrongCode):
        console.receive_data(forged)


def test_queue_flow_man_in_the_middle_shows_different_sas() -> None:
    """A broker running its own exchange with each side gets through, but the short
    authentication strings differ: that is what people compare aloud."""
    console, applet = PeerConnection("console", "sid", None), PeerConnection("applet", "sid", None)
    mitm_applet, mitm_console = (
        PeerConnection("applet", "sid", None),
        PeerConnection("console", "sid", None),
    )
    for p in (console, applet, mitm_applet, mitm_console):
        p.start()
    pump(console, mitm_applet)
    pump(mitm_console, applet)
    assert console.state is State.OPEN and applet.state is State.OPEN
    assert console.keys and applet.keys and console.keys.sas != applet.keys.sas


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["t", "m", "k", "c", "mac", "v"]),
        st.one_of(st.binary(max_size=80), st.text(max_size=10), st.integers(-(2**63), 2**64 - 1)),
    )
)
def test_hostile_handshake_messages_never_crash(fields: dict) -> None:
    from common.protocol import messages as msgs
    from common.protocol.framing import Kind, encode_record

    for role in ("console", "applet"):
        for code in (CODE, None):
            conn = PeerConnection(role, "sid", code)
            conn.start()
            try:
                raw = msgs.encode(fields) if "v" in fields else msgs.encode({"v": 1, **fields})
                conn.receive_data(encode_record(bytes([1, Kind.HANDSHAKE]) + raw))
            except LifelineError:
                assert conn.state is State.CLOSED


def test_handshake_values_must_sit_in_their_own_field() -> None:
    from common.protocol import messages as msgs
    from common.protocol.framing import Kind, encode_record

    applet = PeerConnection("applet", "sid", CODE)
    applet.start()
    console = PeerConnection("console", "sid", CODE)
    console.start()
    (pake,) = console.data_to_send()
    value = msgs.decode(pake[6:])["m"]
    wrong_field = encode_record(bytes([1, Kind.HANDSHAKE]) + msgs.encode({"t": "pake", "k": value}))
    with pytest.raises(InvalidState):
        applet.receive_data(wrong_field)


def test_a_64_kib_chunk_travels_as_one_record() -> None:
    c, _ = open_pair()
    c.send(Channel.FILE, {"t": "file_data", "id": 7, "offset": 2**40, "data": bytes(64 * 1024)})
    assert len(c.data_to_send()) == 1
