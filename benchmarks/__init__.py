"""Lifeline benchmarks: ``python -m benchmarks [NAME] [--quick] [--json]``.

Each benchmark is a module in this package with a ``TITLE`` and a
``run(quick: bool) -> Result`` (see :mod:`benchmarks.report`). It starts what it measures
as real processes on 127.0.0.1 (broker, reference servers, client processes), stops them
before returning, and removes its temporary folders.

To add one, write the module and list it in :data:`BENCHMARKS`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: Name on the command line → module; in the order ``python -m benchmarks`` runs them.
BENCHMARKS: dict[str, str] = {
    "relay": "benchmarks.relay",
    "latency": "benchmarks.latency",
    "idle_rss": "benchmarks.idle_rss",
    "codec": "benchmarks.codec",
    "screen": "benchmarks.screen",
    "glass_to_glass": "benchmarks.glass_to_glass",
    "console_paint": "benchmarks.console_paint",
    "input_round_trip": "benchmarks.input_round_trip",
    "recording": "benchmarks.recording",
    "files": "benchmarks.files",
    "audit": "benchmarks.audit",
    "packaging": "benchmarks.packaging",
}


def load(name: str) -> ModuleType:
    """The benchmark module called ``name`` (a key of :data:`BENCHMARKS`)."""
    return importlib.import_module(BENCHMARKS[name])
