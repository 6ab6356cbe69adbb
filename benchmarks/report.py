"""What a benchmark returns, and how it is printed as a table or as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

#: Units used in every table: throughput in MB/s and CPU per GB are decimal (10**6,
#: 10**9 bytes); memory is binary (MiB, KiB), as ``ps`` and ``top`` show it.
MB = 1_000_000
GB = 1_000_000_000
MIB = 1024 * 1024
KIB = 1024


@dataclass
class Goal:
    """One target and whether this run met it."""

    name: str
    target: str
    measured: str
    met: bool


@dataclass
class Result:
    title: str
    #: One dict per table row; every row has the same keys, in column order.
    rows: list[dict[str, Any]]
    goals: list[Goal] = field(default_factory=list)
    #: How it was measured: what ran where, what the figures include.
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "rows": self.rows,
            "goals": [asdict(g) for g in self.goals],
            "notes": self.notes,
        }


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def format_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(no rows)"
    columns = list(rows[0])
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    # Text left, numbers right: the first column names the row.
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for r in cells:
        lines.append(
            "  ".join(
                v.ljust(w) if i == 0 or not _is_number(v) else v.rjust(w)
                for i, (v, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    if text == "-":
        return True  # an empty number cell
    try:
        float(text.rstrip("%x"))
    except ValueError:
        return False
    return True


def format_result(name: str, result: Result) -> str:
    out = [f"== {name}: {result.title}", "", format_table(result.rows), ""]
    if result.goals:
        out.append("Goals:")
        for g in result.goals:
            verdict = "met" if g.met else "NOT MET"
            out.append(f"  [{verdict:7}] {g.name}: {g.measured} (goal {g.target})")
        out.append("")
    if result.notes:
        out.append("Notes:")
        out.extend(f"  - {n}" for n in result.notes)
        out.append("")
    return "\n".join(out)


def format_json(results: dict[str, Result], machine: dict[str, Any]) -> str:
    return json.dumps(
        {"machine": machine, "benchmarks": {k: r.to_json() for k, r in results.items()}},
        indent=2,
    )
