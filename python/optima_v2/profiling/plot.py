"""PNG charts of profiles and latencies (matplotlib, optional at run time)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Union

from .stats import ProfileStats

PathLike = Union[str, "os.PathLike[str]"]


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ImportError("plotting needs matplotlib, which is not installed: pip install matplotlib") from None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    return plt


def plot_layers(stats: ProfileStats, path: PathLike, *, top: int = 25) -> None:
    """Horizontal bars of the mean time of the ``top`` slowest layers (LayerExecute) to a PNG."""
    layers = stats.layers()[:top]
    if not layers:
        raise ValueError("the profile has no LayerExecute entries to plot")
    plt = _pyplot()
    labels = [f"{r.subgraph}/{r.name}" if r.subgraph else r.name for r in reversed(layers)]
    means = [r.mean for r in reversed(layers)]
    p90 = [r.p90 - r.mean for r in reversed(layers)]
    figure, axes = plt.subplots(figsize=(9, 1.5 + 0.3 * len(layers)))
    axes.barh(labels, means, xerr=[[0] * len(means), [max(v, 0.0) for v in p90]], color="tab:blue")
    axes.set_xlabel("mean time per run (µs); whisker: p90")
    axes.set_title(f"slowest layers over {stats.run_count} run(s)")
    figure.tight_layout()
    figure.savefig(os.fspath(path), format="png")
    plt.close(figure)


def plot_latency_histogram(latencies_ms: Sequence[float], path: PathLike, *, bins: int = 40) -> None:
    """Histogram of latencies (milliseconds) to a PNG."""
    if not latencies_ms:
        raise ValueError("no latencies to plot")
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(8, 4))
    axes.hist(list(latencies_ms), bins=bins, color="tab:green")
    axes.set_xlabel("latency (ms)")
    axes.set_ylabel("inferences")
    axes.set_title(f"latency of {len(latencies_ms)} inferences")
    figure.tight_layout()
    figure.savefig(os.fspath(path), format="png")
    plt.close(figure)
