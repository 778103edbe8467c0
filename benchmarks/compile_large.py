"""Compile time and peak memory of a ~100 MB ONNX model (issue 4: < 30 s and < 2x the model size).

Usage: python benchmarks/compile_large.py [--size-mb 100] [--opset 17] [--tracemalloc] [--workdir DIR]

Builds an MLP of square float32 Gemms (weights ~= --size-mb), saves it, then compiles it in a
fresh child process (so building the model does not count) and reports, per compiler step (the
``progress`` callback of compile_onnx): wall time, resident memory at the step's start and the
peak resident memory during the step (Linux: /proc/self/status VmRSS / VmHWM, the peak reset
per step through /proc/self/clear_refs when the kernel allows it). Memory is reported above the
child's baseline after importing onnx, numpy and optima_v2. ``--tracemalloc`` adds the peak of
Python-level allocations (numpy arrays included; protobuf's C++ heap not) and the lines holding
the most memory at that peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

MIB = 1024 * 1024
#: How the child process is started (a wrapper may replace it to measure a patched compiler).
CHILD_PREFIX = [__file__]


def build_model(path: Path, size_mb: float, opset: int = 17, width: int = 2048) -> int:
    """x[1, width] -> (Gemm(width x width) -> Relu) x N; returns the weight bytes written."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    layers = max(1, round(size_mb * MIB / (width * width * 4)))
    rng = np.random.default_rng(0)
    nodes, inits, current = [], [], "x"
    for i in range(layers):
        w = (rng.standard_normal((width, width), dtype=np.float32) / np.sqrt(width)).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        inits.append(numpy_helper.from_array(np.zeros(width, np.float32), f"b{i}"))
        nodes.append(helper.make_node("Gemm", [current, f"w{i}", f"b{i}"], [f"g{i}"], name=f"fc{i}"))
        out = "y" if i == layers - 1 else f"r{i}"
        nodes.append(helper.make_node("Relu", [f"g{i}"], [out], name=f"relu{i}"))
        current = out
    graph = helper.make_graph(
        nodes,
        "large_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, width])],
        inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return layers * (width * width + width) * 4


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def child(model: Path, output: Path, use_tracemalloc: bool) -> None:
    """Compile ``model`` in this (fresh) process and print one JSON line of measurements."""
    import numpy  # noqa: F401  (baseline: what any compile imports anyway)
    import onnx  # noqa: F401

    import optima_v2.runtime  # noqa: F401
    from optima_v2.compiler import compile_onnx

    if use_tracemalloc:
        import tracemalloc

        tracemalloc.start()
    resettable = _reset_peak()
    baseline = _status_kib("VmRSS")
    steps: list[dict] = []
    start = time.perf_counter()

    def progress(step: str) -> None:
        now, peak = time.perf_counter(), _status_kib("VmHWM")
        if steps:
            steps[-1].update(seconds=now - steps[-1]["t"], peak_kib=peak)
        steps.append({"step": step, "t": now, "rss_kib": _status_kib("VmRSS")})
        if resettable:
            _reset_peak()

    compile_onnx(model, output, progress=progress)
    end = time.perf_counter()
    steps[-1].update(seconds=end - steps[-1]["t"], peak_kib=_status_kib("VmHWM"))
    result = {
        "seconds": end - start,
        "baseline_kib": baseline,
        "peak_kib": max([s["peak_kib"] for s in steps] + [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss])
        if not resettable
        else max(s["peak_kib"] for s in steps),
        "peak_resettable": resettable,
        "steps": [{k: v for k, v in s.items() if k != "t"} for s in steps],
    }
    if use_tracemalloc:
        import tracemalloc

        snapshot = tracemalloc.take_snapshot()
        _, peak = tracemalloc.get_traced_memory()
        result["tracemalloc_peak_bytes"] = peak
        result["tracemalloc_top_at_end"] = [
            f"{stat.traceback[0].filename}:{stat.traceback[0].lineno} {stat.size / MIB:.1f} MiB"
            for stat in snapshot.statistics("lineno")[:5]
        ]
    print(json.dumps(result))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=100.0)
    parser.add_argument("--opset", type=int, default=17, help="ai.onnx opset of the built model (default 17)")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--child", nargs=2, type=Path, metavar=("MODEL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.tracemalloc)
        return 0
    with tempfile.TemporaryDirectory(prefix="compile_large.", dir=args.workdir) as scratch:
        model = Path(scratch) / "large.onnx"
        t0 = time.perf_counter()
        weight_bytes = build_model(model, args.size_mb, args.opset)
        size = model.stat().st_size
        print(
            f"built {model.name}: {model.stat().st_size / MIB:.1f} MiB file, {weight_bytes / MIB:.1f} MiB weights "
            f"({time.perf_counter() - t0:.1f} s)"
        )
        command = [sys.executable, *CHILD_PREFIX, "--child", str(model), str(Path(scratch) / "out")]
        if args.tracemalloc:
            command.append("--tracemalloc")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
        folder_bytes = sum(p.stat().st_size for p in (Path(scratch) / "out").rglob("*") if p.is_file())
    print(f"compile: {result['seconds']:.2f} s (target < 30 s); model folder {folder_bytes / MIB:.1f} MiB")
    extra = (result["peak_kib"] - result["baseline_kib"]) * 1024
    print(
        f"peak RSS {result['peak_kib'] / 1024:.0f} MiB, "
        f"baseline after imports {result['baseline_kib'] / 1024:.0f} MiB: "
        f"+{extra / MIB:.0f} MiB = {extra / size:.2f}x the model file (target < 2x)"
    )
    peak_note = "" if result["peak_resettable"] else " (peak not resettable: cumulative)"
    print(f"{'step':<28}{'seconds':>9}{'RSS at start':>14}{'peak in step':>14}  (MiB above baseline){peak_note}")
    for step in result["steps"]:
        print(
            f"{step['step']:<28}{step['seconds']:>9.2f}{(step['rss_kib'] - result['baseline_kib']) / 1024:>14.0f}"
            f"{(step['peak_kib'] - result['baseline_kib']) / 1024:>14.0f}"
        )
    if "tracemalloc_peak_bytes" in result:
        print(f"tracemalloc peak (Python-level allocations): {result['tracemalloc_peak_bytes'] / MIB:.0f} MiB")
        for line in result["tracemalloc_top_at_end"]:
            print(f"  held at the end: {line}")
    ok = result["seconds"] < 30 and extra < 2 * size
    print("PASS" if ok else "FAIL")
    return 0 if ok else 2


if __name__ == "__main__":
    raise SystemExit(main())
