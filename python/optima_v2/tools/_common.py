"""Helpers shared by the commands: contexts with extra extensions, inputs, output summaries."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np


class ToolError(Exception):
    """A user-facing failure: the CLI prints ``error: <message>`` and exits with status 1."""


def add_context_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--extension", action="append", default=[], metavar="PATH",
        help="load this extension library too (repeat for several)",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=0, help="thread pool size (0 = automatic)")


def open_context(extensions: Sequence[str] = (), threads: int = 0, profile: bool = True) -> Any:
    import optima_v2.runtime as rt

    context = rt.Context(enable_profile=profile, thread_count=threads)
    for path in extensions:
        context.load_extension(str(path))
    return context


def load_model(context: Any, model_dir: str) -> Any:
    if not Path(model_dir).is_dir():
        raise ToolError(f"{model_dir}: not a model folder (no such directory)")
    return context.load_model(str(model_dir))


def random_input(shape: Sequence[int], dtype: np.dtype, rng: np.random.Generator) -> np.ndarray:
    """Random data of ``dtype``: normal floats, small non-negative integers (safe as indices), bools."""
    shape = tuple(max(int(d), 1) for d in shape)  # dynamic dimensions (if any) as 1
    kind = np.dtype(dtype).kind
    if kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if kind in "iu":
        return rng.integers(0, 4, size=shape).astype(dtype)
    if kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(np.float32).astype(dtype)


def model_inputs(model: Any, given: Optional[dict[str, np.ndarray]] = None, seed: int = 0) -> dict[str, np.ndarray]:
    """``given`` completed with random data for every model input it lacks; unknown names are errors."""
    given = dict(given or {})
    infos = list(model.input_tensors_info)
    known = {info.name for info in infos}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ToolError(f"unknown input(s) {', '.join(unknown)}; the model's inputs are {', '.join(sorted(known))}")
    rng = np.random.default_rng(seed)
    return {info.name: given[info.name] if info.name in given else random_input(info.shape, info.dtype, rng)
            for info in infos}  # fmt: skip


def parse_input_files(items: Sequence[str]) -> dict[str, np.ndarray]:
    """``NAME=file.npy`` arguments as arrays."""
    result = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ToolError(f"--input expects NAME=file.npy, got {item!r}")
        try:
            result[name] = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise ToolError(f"--input {name}: cannot read {path} as a .npy file ({error})") from None
    return result


def summarize(name: str, array: np.ndarray) -> str:
    """``name: float32 [1x3] min .. max, mean m`` (numbers only for numeric data)."""
    shape = "x".join(str(d) for d in array.shape) or "scalar"
    text = f"{name}: {array.dtype} [{shape}]"
    if array.size and array.dtype.kind in "biuf":
        values = array.astype(np.float64)
        text += f" min {values.min():.6g} max {values.max():.6g} mean {values.mean():.6g}"
    return text


def summary_stats(values: Sequence[float]) -> dict[str, float]:
    from ..profiling import percentile

    data = list(values)
    return {
        "min": min(data),
        "median": percentile(data, 50),
        "mean": sum(data) / len(data),
        "p90": percentile(data, 90),
        "p99": percentile(data, 99),
        "max": max(data),
    }
