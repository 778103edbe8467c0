"""Statistics of profile entries over many runs (definitions in ``docs/profiling.md``)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Optional, Union

from .collect import ProfileRun
from .entry import Entry, to_entries

RunLike = Union[ProfileRun, Sequence[Any]]
#: Kinds measured outside infer() (loading, creating the request): no share of ModelExecute.
INIT_KINDS = ("ModelInit", "SubgraphInit", "RequestInit")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between closest ranks.

    Same definition as numpy's default (``method="linear"``): position ``(n - 1) * q / 100`` in
    the sorted values.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be in 0..100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Row:
    """Statistics of one group of samples; times in microseconds, ``share`` in percent."""

    kind: str
    name: str
    subgraph: str
    count: int
    total: float
    mean: float
    p50: float
    p90: float
    min: float
    max: float
    share: Optional[float]


def _row(kind: str, name: str, subgraph: str, count: int, samples: list[float], model_total: float) -> Row:
    total = float(sum(samples))
    return Row(
        kind=kind,
        name=name,
        subgraph=subgraph,
        count=count,
        total=total,
        mean=total / len(samples),
        p50=percentile(samples, 50),
        p90=percentile(samples, 90),
        min=float(min(samples)),
        max=float(max(samples)),
        share=100.0 * total / model_total if model_total > 0 and kind not in INIT_KINDS else None,
    )


class ProfileStats:
    """Aggregate of the profile entries of many runs.

    * :attr:`entries`: one :class:`Row` per distinct (kind, subgraph, name), samples = each entry's
      time; ``count`` = number of entries.
    * :attr:`kinds`: one :class:`Row` per kind, samples = the per-run sum of that kind's entries
      (0 in a run without one); ``count`` = number of entries of the kind.
    * ``share`` = total time of the group / total ModelExecute time, in percent (None without a
      ModelExecute entry and for the init kinds, which are measured outside infer()).
    """

    def __init__(self, runs: Iterable[RunLike]) -> None:
        self.runs: list[list[Entry]] = [
            list(run.entries) if isinstance(run, ProfileRun) else to_entries(run) for run in runs
        ]
        if not self.runs:
            raise ValueError("ProfileStats needs at least one run")
        model_total = float(sum(e.time for run in self.runs for e in run if e.kind == "ModelExecute"))
        self.model_total = model_total

        groups: dict[tuple[str, str, str], list[float]] = {}
        for run in self.runs:
            for e in run:
                groups.setdefault((e.kind, e.subgraph, e.name), []).append(float(e.time))
        self.entries = [
            _row(kind, name, subgraph, len(samples), samples, model_total)
            for (kind, subgraph, name), samples in groups.items()
        ]

        kind_names = list(dict.fromkeys(e.kind for run in self.runs for e in run))
        self.kinds = []
        for kind in kind_names:
            per_run = [float(sum(e.time for e in run if e.kind == kind)) for run in self.runs]
            count = sum(1 for run in self.runs for e in run if e.kind == kind)
            self.kinds.append(_row(kind, kind, "", count, per_run, model_total))

    @property
    def run_count(self) -> int:
        return len(self.runs)

    def layers(self) -> list[Row]:
        """LayerExecute rows, slowest (by mean) first."""
        return sorted((r for r in self.entries if r.kind == "LayerExecute"), key=lambda r: -r.mean)

    def to_dicts(self) -> dict[str, Any]:
        """``{"runs": n, "model_execute_total_us": t, "kinds": [...], "entries": [...]}`` of plain dicts."""
        return {
            "runs": self.run_count,
            "model_execute_total_us": self.model_total,
            "kinds": [asdict(r) for r in self.kinds],
            "entries": [asdict(r) for r in sorted(self.entries, key=lambda r: -r.total)],
        }

    def format_table(self, top: Optional[int] = None) -> str:
        """Text tables: per kind, then per entry (slowest total first; ``top`` limits the rows)."""
        header = f"{'count':>6} {'mean us':>10} {'p50 us':>10} {'p90 us':>10} {'share':>7}"

        def line(label: str, r: Row) -> str:
            share = f"{r.share:6.1f}%" if r.share is not None else f"{'-':>7}"
            return f"{label} {r.count:>6} {r.mean:>10.1f} {r.p50:>10.1f} {r.p90:>10.1f} {share}"

        lines = [f"profile of {self.run_count} run(s); per kind (per-run sums):", f"{'kind':<20} {header}"]
        lines += [line(f"{r.kind:<20}", r) for r in self.kinds]
        rows = sorted(self.entries, key=lambda r: -r.total)
        shown = rows if top is None else rows[:top]
        width = max([24] + [len(f"{r.subgraph}/{r.name}") for r in shown])
        lines += ["", f"per entry ({len(shown)} of {len(rows)}, slowest total first):"]
        lines.append(f"{'kind':<16} {'subgraph/name':<{width}} {header}")
        for r in shown:
            where = f"{r.subgraph}/{r.name}" if r.subgraph else r.name
            lines.append(line(f"{r.kind:<16} {where:<{width}}", r))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format_table()
