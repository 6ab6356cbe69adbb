"""The reference of the file-transfer benchmark: ``cat FILE | nc`` into ``nc -l > OUT``,
as two Python processes (neither socat nor nc is assumed installed).

``python -m benchmarks.files_plain receive --out PATH``
    listens on 127.0.0.1, prints ``listening on PORT``, accepts one connection and writes
    everything it reads to ``PATH`` (a real file, ``fsync``'d at the end, as Lifeline's
    receiver does); prints ``received N bytes in S s, the last after L s``, the clock
    running from the accept to the end of the ``fsync`` (``L``: to the last ``write``);
    exits.
``python -m benchmarks.files_plain send --port P --file PATH``
    connects and sends the file with ``read`` + ``sendall`` (what ``cat | nc`` does, in
    one process); exits.

Both use 256 KiB buffers, the size of Lifeline's file chunks. No TLS, no hashing, no
framing: the floor of moving a file over loopback TCP on this machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import time
from pathlib import Path

BUFFER = 256 * 1024


def receive(out: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        print(f"listening on {server.getsockname()[1]}", flush=True)
        conn, _ = server.accept()
        t0 = time.perf_counter()
        buffer = bytearray(BUFFER)
        view = memoryview(buffer)
        total = 0
        with conn, out.open("wb") as f:
            while n := conn.recv_into(buffer):
                f.write(view[:n])
                total += n
            f.flush()
            last_byte = time.perf_counter() - t0
            os.fsync(f.fileno())
        seconds = time.perf_counter() - t0
    print(
        f"received {total} bytes in {seconds:.6f} s, the last after {last_byte:.6f} s", flush=True
    )


def send(port: int, path: Path) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn, path.open("rb") as f:
        while data := f.read(BUFFER):
            conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.files_plain")
    parser.add_argument("mode", choices=["receive", "send"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--port", type=int)
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.mode == "receive":
        receive(args.out)
    else:
        send(args.port, args.file)


if __name__ == "__main__":
    main()
