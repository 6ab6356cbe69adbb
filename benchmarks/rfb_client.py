"""A minimal RFB 3.8 viewer that counts what a VNC server sends, for the x11vnc reference.

It does the handshake with security type None, asks for 32-bit true colour, offers one
encoding (ZRLE or Tight) plus CopyRect, and then loops: incremental
FramebufferUpdateRequest for the whole screen, read the update, ask again — what a
real viewer does. It never paints anything: it parses each rectangle just far enough to
know its length (RFC 6143 §7.6–7.7; Tight as in libvncserver and TigerVNC), and inflates
the zlib data through the same streams the server compresses with, so that a length read
wrongly shows up as a zlib error instead of silently wrong figures. For Tight the
inflated size is also checked against the size the rectangle header announces.
"""

from __future__ import annotations

import select
import socket
import struct
import time
import zlib
from dataclasses import dataclass

from benchmarks.processes import BenchmarkError

#: Encoding numbers (RFC 6143 §7.7).
RAW, COPY_RECT, TIGHT, ZRLE = 0, 1, 7, 16
ENCODINGS = {"zrle": ZRLE, "tight": TIGHT}
#: What we ask the server for: 32 bits per pixel, depth 24, little-endian, true colour,
#: 8 bits per channel (so ZRLE's CPIXEL and Tight's TPIXEL are 3 bytes).
PIXEL_FORMAT = struct.pack(">BBBBHHHBBB3x", 32, 24, 0, 1, 255, 255, 255, 16, 8, 0)
BYTES_PER_PIXEL = 4
TPIXEL = 3
#: Tight sends data shorter than this uncompressed, without a length.
TIGHT_MIN_TO_COMPRESS = 12
#: Bounds on what the server may announce (it is a reference server on loopback, but a
#: desynchronised stream must fail fast instead of allocating gigabytes).
MAX_RECT_BYTES = 64 * 1024 * 1024
MAX_TEXT = 1024 * 1024


@dataclass
class RfbCount:
    """What the server sent while counting (the warm-up excluded)."""

    seconds: float
    updates: int = 0
    #: Every byte of every server message: headers, rectangles, payloads.
    bytes: int = 0
    rects: int = 0
    copy_rects: int = 0
    #: What the zlib data inflated to (ZRLE, Tight): a check, not a figure to compare.
    inflated: int = 0


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0
        #: Bytes handed out by :meth:`exact` so far.
        self.consumed = 0

    def buffered(self) -> bool:
        return len(self.buf) > self.pos

    def exact(self, n: int) -> bytes:
        while len(self.buf) - self.pos < n:
            if self.pos:
                del self.buf[: self.pos]
                self.pos = 0
            chunk = self.sock.recv(max(1 << 16, n - len(self.buf)))
            if not chunk:
                raise BenchmarkError("the VNC server closed the connection")
            self.buf += chunk
        out = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        self.consumed += n
        return out

    def u8(self) -> int:
        return self.exact(1)[0]

    def u16(self) -> int:
        value: int = struct.unpack(">H", self.exact(2))[0]
        return value

    def u32(self) -> int:
        value: int = struct.unpack(">I", self.exact(4))[0]
        return value


class RfbCounter:
    """One viewer connection to a VNC server on 127.0.0.1. Blocking; use as a context
    manager so the socket is always closed."""

    def __init__(self, port: int, encoding: str, *, timeout: float = 10.0) -> None:
        self.encoding = ENCODINGS[encoding]
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = _Reader(self.sock)
        self.width = self.height = 0
        self.name = ""
        self._zrle = zlib.decompressobj()
        self._tight = [zlib.decompressobj() for _ in range(4)]
        self._inflated = 0
        #: An incremental request is out and its update has not come yet.
        self._pending = False

    def __enter__(self) -> RfbCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    # ---- handshake ------------------------------------------------------------------

    def handshake(self) -> None:
        r = self.reader
        version = r.exact(12)
        if not version.startswith(b"RFB 003."):
            raise BenchmarkError(f"not an RFB server: {version!r}")
        self.sock.sendall(b"RFB 003.008\n")
        types = r.exact(r.u8())
        if not types:
            raise BenchmarkError(f"the VNC server refused: {self._reason()}")
        if 1 not in types:
            raise BenchmarkError(f"the VNC server wants a password (security types {list(types)})")
        self.sock.sendall(b"\x01")
        if r.u32() != 0:
            raise BenchmarkError(f"the VNC server refused: {self._reason()}")
        self.sock.sendall(b"\x01")  # ClientInit: shared
        self.width, self.height = r.u16(), r.u16()
        r.exact(16)  # the server's pixel format; we set ours next
        name_length = r.u32()
        if name_length > MAX_TEXT:
            raise BenchmarkError("the VNC server's desktop name is too long")
        self.name = r.exact(name_length).decode(errors="replace")
        self.sock.sendall(b"\x00\x00\x00\x00" + PIXEL_FORMAT)  # SetPixelFormat
        encodings = [self.encoding, COPY_RECT]
        self.sock.sendall(struct.pack(f">BxH{len(encodings)}i", 2, len(encodings), *encodings))

    def _reason(self) -> str:
        length = self.reader.u32()
        return self.reader.exact(min(length, MAX_TEXT)).decode(errors="replace")

    # ---- the update loop ------------------------------------------------------------

    def request(self, *, incremental: bool) -> None:
        self.sock.sendall(struct.pack(">BBHHHH", 3, incremental, 0, 0, self.width, self.height))

    def warm_up(self, seconds: float) -> None:
        """Asks for the whole screen, then for incremental updates for ``seconds``."""
        started = time.monotonic()
        self.request(incremental=False)
        if self._read_until_update(started + 30.0) is None:
            raise BenchmarkError("the VNC server sent no first picture within 30 s")
        while time.monotonic() < started + seconds:
            if not self._pending:
                self.request(incremental=True)
                self._pending = True
            if self._read_until_update(started + seconds) is not None:
                self._pending = False

    def count(self, seconds: float) -> RfbCount:
        """Counts the updates that come in ``seconds`` (call :meth:`warm_up` first)."""
        started = time.monotonic()
        deadline = started + seconds
        result = RfbCount(seconds)
        self._inflated = 0
        while time.monotonic() < deadline:
            if not self._pending:
                self.request(incremental=True)
                self._pending = True
            before = self.reader.consumed
            rects = self._read_until_update(deadline)
            if rects is None:
                break  # nothing changed before the deadline (a static screen)
            self._pending = False
            result.bytes += self.reader.consumed - before
            if rects[0]:
                result.updates += 1
                result.rects += rects[0]
                result.copy_rects += rects[1]
        result.seconds = time.monotonic() - started
        result.inflated = self._inflated
        return result

    def _read_until_update(self, deadline: float) -> tuple[int, int] | None:
        """Reads server messages until a FramebufferUpdate has been read whole; returns
        its (rectangles, CopyRects), or None when none started before ``deadline``."""
        while True:
            left = deadline - time.monotonic()
            if not self.reader.buffered():
                if left <= 0:
                    return None
                ready, _, _ = select.select([self.sock], [], [], left)
                if not ready:
                    return None
            kind = self.reader.u8()
            if kind == 0:
                return self._update()
            self._other_message(kind)

    def _other_message(self, kind: int) -> None:
        r = self.reader
        if kind == 1:  # SetColourMapEntries
            r.exact(1)
            r.u16()
            r.exact(6 * r.u16())
        elif kind == 2:  # Bell
            pass
        elif kind == 3:  # ServerCutText
            r.exact(3)
            length = r.u32()
            if length > MAX_TEXT:
                raise BenchmarkError("the VNC server sent an oversized cut text")
            r.exact(length)
        else:
            raise BenchmarkError(f"unexpected RFB server message type {kind}")

    def _update(self) -> tuple[int, int]:
        r = self.reader
        r.exact(1)
        count = r.u16()
        copies = 0
        for _ in range(count):
            x, y, w, h = struct.unpack(">HHHH", r.exact(8))
            (encoding,) = struct.unpack(">i", r.exact(4))
            if x + w > self.width or y + h > self.height:
                raise BenchmarkError(f"a rectangle outside the screen: {x},{y} {w}×{h}")
            if encoding == RAW:
                r.exact(w * h * BYTES_PER_PIXEL)
            elif encoding == COPY_RECT:
                r.exact(4)
                copies += 1
            elif encoding == ZRLE:
                self._zrle_rect()
            elif encoding == TIGHT:
                self._tight_rect(w, h)
            else:
                raise BenchmarkError(f"the VNC server used encoding {encoding}, not offered")
        return count, copies

    def _zrle_rect(self) -> None:
        length = self.reader.u32()
        if length > MAX_RECT_BYTES:
            raise BenchmarkError(f"a ZRLE rectangle of {length} bytes")
        data = self.reader.exact(length)
        try:
            self._inflated += len(self._zrle.decompress(data))
        except zlib.error as exc:
            raise BenchmarkError(f"the ZRLE stream is corrupt ({exc})") from None

    def _tight_rect(self, w: int, h: int) -> None:
        r = self.reader
        control = r.u8()
        for stream in range(4):
            if control & (1 << stream):
                self._tight[stream] = zlib.decompressobj()
        kind = control >> 4
        if kind == 0x08:  # fill
            r.exact(TPIXEL)
            return
        if kind == 0x09:  # JPEG (only when a quality level is asked for, which we do not)
            r.exact(self._compact_length())
            return
        if kind > 0x09:
            raise BenchmarkError(f"unknown Tight compression control {control:#x}")
        stream = kind & 0x03
        filter_id = r.u8() if kind & 0x04 else 0
        if filter_id == 0 or filter_id == 2:  # copy, gradient
            size = w * h * TPIXEL
        elif filter_id == 1:  # palette
            colours = r.u8() + 1
            r.exact(colours * TPIXEL)
            size = ((w + 7) // 8) * h if colours == 2 else w * h
        else:
            raise BenchmarkError(f"unknown Tight filter {filter_id}")
        if size < TIGHT_MIN_TO_COMPRESS:
            r.exact(size)
            return
        data = r.exact(self._compact_length())
        try:
            inflated = len(self._tight[stream].decompress(data))
        except zlib.error as exc:
            raise BenchmarkError(f"the Tight stream {stream} is corrupt ({exc})") from None
        if inflated != size:
            raise BenchmarkError(f"a Tight rectangle inflated to {inflated} bytes, not {size}")
        self._inflated += inflated

    def _compact_length(self) -> int:
        length = 0
        for shift in (0, 7):
            byte = self.reader.u8()
            length |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
        else:
            length |= self.reader.u8() << 14
        if length > MAX_RECT_BYTES:
            raise BenchmarkError(f"a Tight rectangle of {length} bytes")
        return length
