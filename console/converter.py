"""``lifeline-converter``: Lifeline recordings (RCREC) to AVI or MP4.

    lifeline-converter IN.rcrec [IN2.rcrec …] [-o OUT.avi | -d DIR] [--to mp4]
                       [--codec h264|mjpeg] [--fps N] [--key-file KEY]
    lifeline-converter                  (no arguments: a window to drop recordings on)

Patterns (``*.rcrec``) are expanded here too, for shells that do not. Each file gets a
progress bar; a file that fails says why and the others go on; the exit status is 1 if
any failed. A recording cut short (a killed console) converts up to where it stops.
"""

from __future__ import annotations

import argparse
import glob
import sys
from pathlib import Path
from typing import TextIO

from common.errors import LifelineError
from common.recording import RecordingReader
from common.recording.export import CODECS, CONTAINERS, DEFAULT_FPS, export

KEY_SIZE = 32


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lifeline-converter",
        description="Convert Lifeline session recordings (.rcrec) to AVI or MP4 videos.",
    )
    parser.add_argument("inputs", nargs="+", metavar="IN.rcrec", help="recordings or patterns")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("-o", "--output", type=Path, help="the video file (one input only)")
    where.add_argument("-d", "--directory", type=Path, help="where the videos go")
    parser.add_argument("--to", choices=CONTAINERS, default="avi", help="container (default avi)")
    parser.add_argument("--codec", choices=sorted(CODECS), default="h264",
                        help="h264 (small, the default) or mjpeg (plays anywhere)")  # fmt: skip
    parser.add_argument("--fps", type=int, default=DEFAULT_FPS,
                        help=f"frames per second of the video (default {DEFAULT_FPS})")  # fmt: skip
    parser.add_argument("--key-file", type=Path,
                        help="the 32-byte key of encrypted recordings")  # fmt: skip
    return parser


def expand(patterns: list[str]) -> list[Path]:
    paths: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        paths.extend(Path(m) for m in matches or [pattern])
    return paths


def target(source: Path, args: argparse.Namespace) -> Path:
    if args.output is not None:
        return Path(args.output)
    folder = args.directory if args.directory is not None else source.parent
    return Path(folder) / source.with_suffix("." + args.to).name


class ProgressBar:
    def __init__(self, name: str, out: TextIO) -> None:
        self.name, self.out = name, out
        self.interactive = out.isatty()

    def __call__(self, done: float) -> None:
        if self.interactive:
            filled = int(done * 30)
            self.out.write(f"\r  {self.name}  [{'#' * filled}{'.' * (30 - filled)}] {done:4.0%}")
            self.out.flush()

    def finish(self, message: str) -> None:
        if self.interactive:
            self.out.write("\r" + " " * (len(self.name) + 45) + "\r")
        self.out.write(f"  {self.name}: {message}\n")
        self.out.flush()


def convert(source: Path, destination: Path, args: argparse.Namespace, key: bytes | None) -> str:
    """Converts one file; returns what to tell the person. Raises on failure."""
    if destination.exists() and destination.resolve() == source.resolve():
        raise ValueError("the output would overwrite the recording")
    bar = ProgressBar(source.name, sys.stderr)
    # Written under a temporary name, renamed once whole: nothing half-written is left.
    partial = destination.with_name(f".{destination.stem}.converting{destination.suffix}")
    try:
        with source.open("rb") as file:
            reader = RecordingReader(file, key)
            result = export(reader, partial, codec=args.codec, fps=args.fps, progress=bar)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    note = "" if result.complete else f" (the recording stops early: {result.stopped})"
    bar.finish(
        f"{destination} — {result.width}×{result.height}, {result.duration:.1f} s, "
        f"{result.encoded} of {result.frames} frames encoded{note}"
    )
    return str(destination)


def run_window() -> int:
    from PySide6.QtWidgets import QApplication

    from console.converter_window import ConverterWindow
    from console.ui.style import STYLE_SHEET

    qt = QApplication(sys.argv[:1])
    qt.setApplicationName("Lifeline converter")
    qt.setStyleSheet(STYLE_SHEET)
    window = ConverterWindow()
    window.show()
    return qt.exec()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        return run_window()
    args = build_parser().parse_args(argv)
    if args.fps < 1 or args.fps > 60:
        print("lifeline-converter: --fps must be between 1 and 60", file=sys.stderr)
        return 2
    sources = expand(args.inputs)
    if args.output is not None and len(sources) != 1:
        print("lifeline-converter: -o names one video; use -d for several", file=sys.stderr)
        return 2
    key = None
    if args.key_file is not None:
        try:
            key = args.key_file.read_bytes()
        except OSError as exc:
            print(f"lifeline-converter: cannot read the key file: {exc.strerror}", file=sys.stderr)
            return 2
        if len(key) != KEY_SIZE:
            print("lifeline-converter: a key file holds exactly 32 bytes", file=sys.stderr)
            return 2
    if args.directory is not None:
        args.directory.mkdir(parents=True, exist_ok=True)
    failed = 0
    for source in sources:
        destination = target(source, args)
        try:
            convert(source, destination, args, key)
        except FileNotFoundError:
            failed += 1
            print(f"  {source}: no such file", file=sys.stderr)
        except (LifelineError, ValueError, OSError) as exc:
            failed += 1
            print(f"  {source}: {exc}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
