"""Chrome / Perfetto trace export (trace event format, "X" complete events; times in µs).

Layout: one process (pid 1) per model; its tracks (tid) are ``model`` (ModelExecute and other
model-level entries), ``init`` (RequestInit and the other init kinds), one per subgraph
(SubgraphExecute with its LayerExecute entries nested inside) and one ``<subgraph> wait/copy``
per subgraph (Wait, BufferCopy, TransferFromInput/ToOutput). Runs follow one another, separated
by a gap. The profiler's resolution is 1 µs: entries that took less are drawn
:data:`MIN_DURATION_US` wide, leaves on one track are laid one after the other, and spans are
widened to cover their leaves, so events on a track nest without partial overlap.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any, Union

from .entry import SPAN_KINDS, Entry
from .stats import INIT_KINDS, ProfileStats, RunLike

#: Width given to entries measured as 0 µs (they took less than the profiler's resolution).
MIN_DURATION_US = 0.5
#: Gap between consecutive runs in the trace.
RUN_GAP_US = 20.0
QUEUE_KINDS = ("Wait", "BufferCopy", "TransferFromInput", "TransferToOutput")


def _track(entry: Entry) -> str:
    if entry.kind in INIT_KINDS:
        return "init"
    if not entry.subgraph:
        return "model"
    if entry.kind in QUEUE_KINDS:
        return f"{entry.subgraph} wait/copy"
    return entry.subgraph


def _layout(entries: list[Entry]) -> list[tuple[Entry, float, float]]:
    """(entry, start, duration) for one run's entries on one track, nesting properly."""
    spans = [e for e in entries if e.kind in SPAN_KINDS]
    leaves = [e for e in entries if e.kind not in SPAN_KINDS]
    if len(spans) > 1:  # not expected: lay them out as leaves
        leaves, spans = entries, []
    placed: list[tuple[Entry, float, float]] = []
    cursor = float("-inf")
    for e in sorted(leaves, key=lambda e: e.start):  # stable: keeps the runtime's order on ties
        start = max(float(e.start), cursor)
        duration = float(e.time) if e.time > 0 else MIN_DURATION_US
        placed.append((e, start, duration))
        cursor = start + duration
    for span in spans:
        start = float(span.start)
        end = start + (float(span.time) if span.time > 0 else MIN_DURATION_US)
        if placed:
            start = min(start, placed[0][1])
            end = max(end, cursor)
        placed.insert(0, (span, start, end - start))
    return placed


def chrome_trace(runs: Iterable[RunLike], *, model_name: str = "model") -> dict[str, Any]:
    """The trace of ``runs`` (ProfileRun objects or lists of ProfileData/Entry) as a JSON-able dict."""
    stats = ProfileStats(runs)  # validates and converts the runs
    tracks: dict[str, int] = {"model": 0}
    for run in stats.runs:
        for e in run:
            tracks.setdefault(_track(e), len(tracks))
    pid = 1
    events: list[dict[str, Any]] = [
        {"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "ts": 0, "args": {"name": model_name}}
    ]
    for name, tid in tracks.items():
        events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "ts": 0, "args": {"name": name}})
        events.append(
            {"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid, "ts": 0, "args": {"sort_index": tid}}
        )
    offset = 0.0
    for index, run in enumerate(stats.runs):
        by_track: dict[str, list[Entry]] = {}
        for e in run:
            by_track.setdefault(_track(e), []).append(e)
        run_end = offset
        for track, entries in by_track.items():
            for e, start, duration in _layout(entries):
                events.append(
                    {
                        "ph": "X",
                        "name": e.name,
                        "cat": e.kind,
                        "pid": pid,
                        "tid": tracks[track],
                        "ts": offset + start,
                        "dur": duration,
                        "args": {"kind": e.kind, "subgraph": e.subgraph, "time_us": e.time, "run": index},
                    }
                )
                run_end = max(run_end, offset + start + duration)
        offset = run_end + RUN_GAP_US
    return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": {"runs": stats.run_count}}


def write_trace(path: Union[str, os.PathLike[str]], runs: Iterable[RunLike], *, model_name: str = "model") -> None:
    """Write :func:`chrome_trace` of ``runs`` to ``path`` as JSON."""
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(chrome_trace(runs, model_name=model_name), stream)
