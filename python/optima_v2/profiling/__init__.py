"""Profiling helpers: aggregate ``InferRequest.profile_data`` over many runs, export traces, plot.

* :func:`collect` runs a model ``n`` times and keeps each run's profile entries and latency.
* :class:`ProfileStats` aggregates runs into per-entry and per-kind statistics (count, mean, p50,
  p90, share of ModelExecute), printable with :meth:`ProfileStats.format_table` or as dicts.
* :func:`chrome_trace` / :func:`write_trace` export runs as Chrome trace event JSON (open in
  ``chrome://tracing`` or https://ui.perfetto.dev).
* :func:`plot_layers` / :func:`plot_latency_histogram` write PNG charts (needs matplotlib).

See ``docs/profiling.md`` for the definitions.
"""

from __future__ import annotations

from .collect import ProfileRun, collect
from .entry import Entry, to_entries
from .plot import plot_latency_histogram, plot_layers
from .stats import ProfileStats, Row, percentile
from .trace import chrome_trace, write_trace

__all__ = [
    "Entry",
    "ProfileRun",
    "ProfileStats",
    "Row",
    "chrome_trace",
    "collect",
    "percentile",
    "plot_latency_histogram",
    "plot_layers",
    "to_entries",
    "write_trace",
]
