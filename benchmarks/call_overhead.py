"""Per-call overhead of ``req.infer(); req.wait()`` on a one-Add model, next to ONNX Runtime.

Usage::

    python benchmarks/call_overhead.py [--sizes 16,1000] [--rounds 30] [--markdown] [--json out.json]
                                       [--cpp BUILD/benchmarks/optima_v2_call_overhead]

Builds ``y = a + b`` (two float32 ``[1, N]`` inputs) with onnx.helper for each size, compiles it
with :func:`optima_v2.compiler.compile_onnx` and measures, in ONE process, with one thread on
both sides (``Context(thread_count=1)``; ORT ``intra_op_num_threads=1``):

- ``optima infer+wait``: ``req.infer(); req.wait()`` with the inputs set once up front
  (``enable_profile=False``, like ORT, which does not profile unless asked);
- ``optima infer+wait (profile on)``: the same with the Context's default ``enable_profile=True``;
- ``optima set+infer+wait+view``: ``set_inputs`` of both arrays, infer, wait and a zero-copy numpy
  view of the output (what a typical call site does);
- ``ORT run``: ``sess.run(None, feeds)`` with the same arrays;
- ``ORT IOBinding``: ``sess.run_with_iobinding`` with inputs and a preallocated output bound once
  (ORT's closest analogue to preset inputs);
- with ``--cpp PATH``: the C++ program benchmarks/cpp/CallOverhead.cpp (``Req.infer();
  Req.wait();`` on the same compiled folder, one thread, profiling off) in a child process,
  plus its ``C++ bare condvar hand-off (floor)``: a mutex/condition-variable round trip to a
  second thread, the least that handing work to a sleeping worker and sleeping until it
  answers costs on the machine.

The Python paths run interleaved: every round runs each path once (in a shuffled order) for
``--batches`` samples; one sample is the mean of ``--batch`` back-to-back calls, so the clock's
own cost is spread out and machine noise hits every path alike. The garbage collector is off
while measuring. Reported per path: median, p90 and min of the samples in microseconds, and the
ratio of the median to ORT's two figures. The defaults take about 10 s.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

#: Row labels, in table order; the two ORT rows are the baselines of the ratio columns.
OPTIMA_PRESET = "optima infer+wait"
OPTIMA_PROFILED = "optima infer+wait (profile on)"
OPTIMA_FULL = "optima set+infer+wait+view"
ORT_RUN = "ORT run"
ORT_IOBINDING = "ORT IOBinding"
CPP = "optima C++ infer+wait"
HANDOFF = "C++ bare condvar hand-off (floor)"
ROW_ORDER = [HANDOFF, CPP, OPTIMA_PRESET, OPTIMA_PROFILED, OPTIMA_FULL, ORT_IOBINDING, ORT_RUN]


def build_add_model(size: int, opset: int = 17) -> Any:
    """``y = a + b`` over two float32 ``[1, size]`` inputs."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["y"], name="add")],
        f"add_{size}",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, size]) for n in ("a", "b")],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, size])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def stats(samples: list[float]) -> dict[str, float]:
    """Median, p90 (nearest rank) and min of per-call times in microseconds."""
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {
        "median_us": float(np.median(ordered)),
        "p90_us": p90,
        "min_us": ordered[0],
        "samples": len(ordered),
    }


class Case:
    """Every measured path of one model size, sharing the same input arrays."""

    def __init__(self, size: int, workdir: Path, rt: Any, ort: Any) -> None:
        from optima_v2.compiler import compile_onnx

        self.size = size
        model = build_add_model(size)
        self.model_dir = compile_onnx(model, workdir / f"add_{size}")
        rng = np.random.default_rng(size)
        self.a = rng.standard_normal((1, size), dtype=np.float32)
        self.b = rng.standard_normal((1, size), dtype=np.float32)
        self.expected = self.a + self.b

        # Contexts own the thread pool; one thread like ORT's intra_op_num_threads=1.
        self.ctx = rt.Context(thread_count=1, enable_profile=False)
        self.ctx_profiled = rt.Context(thread_count=1)
        self.req = self.ctx.load_model(str(self.model_dir)).create_request()
        self.req.set_inputs([self.a, self.b])
        self.req_profiled = self.ctx_profiled.load_model(str(self.model_dir)).create_request()
        self.req_profiled.set_inputs([self.a, self.b])
        self.req_full = self.ctx.load_model(str(self.model_dir)).create_request()
        self.out_tensor = self.req_full.get_output_tensor(0)

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.sess = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        self.feeds = {"a": self.a, "b": self.b}
        self.binding = self.sess.io_binding()
        self.binding.bind_ortvalue_input("a", ort.OrtValue.ortvalue_from_numpy(self.a))
        self.binding.bind_ortvalue_input("b", ort.OrtValue.ortvalue_from_numpy(self.b))
        self.ort_out = ort.OrtValue.ortvalue_from_shape_and_type([1, size], np.float32)
        self.binding.bind_ortvalue_output("y", self.ort_out)

        self.paths: dict[str, Callable[[], Any]] = {
            OPTIMA_PRESET: self.optima_preset,
            OPTIMA_PROFILED: self.optima_profiled,
            OPTIMA_FULL: self.optima_full,
            ORT_RUN: self.ort_run,
            ORT_IOBINDING: self.ort_iobinding,
        }
        self.check()

    def optima_preset(self) -> None:
        self.req.infer()
        self.req.wait()

    def optima_profiled(self) -> None:
        self.req_profiled.infer()
        self.req_profiled.wait()

    def optima_full(self) -> np.ndarray:
        req = self.req_full
        req.set_inputs([self.a, self.b])
        req.infer()
        req.wait()
        return np.asarray(self.out_tensor)

    def ort_run(self) -> np.ndarray:
        return self.sess.run(None, self.feeds)[0]

    def ort_iobinding(self) -> None:
        self.sess.run_with_iobinding(self.binding)

    def check(self) -> None:
        """Every path computes a + b (a benchmark of a wrong result would mean nothing)."""
        self.optima_preset()
        self.optima_profiled()
        results = {
            OPTIMA_PRESET: np.asarray(self.req.get_output_tensor(0)),
            OPTIMA_PROFILED: np.asarray(self.req_profiled.get_output_tensor(0)),
            OPTIMA_FULL: self.optima_full(),
            ORT_RUN: self.ort_run(),
        }
        self.ort_iobinding()
        results[ORT_IOBINDING] = self.ort_out.numpy()
        for name, got in results.items():
            if not np.allclose(got, self.expected, rtol=1e-6, atol=1e-6):
                raise SystemExit(f"{name} on [1, {self.size}] computed a wrong result")


def time_batch(call: Callable[[], Any], batch: int) -> float:
    """Mean microseconds per call over ``batch`` back-to-back calls."""
    start = time.perf_counter_ns()
    for _ in range(batch):
        call()
    return (time.perf_counter_ns() - start) / 1000.0 / batch


def measure_python(case: Case, rounds: int, batches: int, batch: int, seed: int) -> dict[str, Any]:
    order = list(case.paths)
    for name in order:  # warm-up: first calls fault pages in and fill caches
        for _ in range(500):
            case.paths[name]()
    samples: dict[str, list[float]] = {name: [] for name in order}
    shuffler = random.Random(seed)
    gc.collect()
    gc.disable()
    try:
        for _ in range(rounds):
            shuffler.shuffle(order)
            for name in order:
                call = case.paths[name]
                samples[name].extend(time_batch(call, batch) for _ in range(batches))
    finally:
        gc.enable()
    return {name: stats(values) for name, values in samples.items()}


def profile_breakdown(case: Case, runs: int = 2000) -> dict[str, float]:
    """Where a call's time goes, in µs per call (median over ``runs`` for profile entries).

    ``profile:<kind>`` entries are the runtime's own profile (whole microseconds per entry, so
    sub-microsecond parts read as about 0): ``Wait`` is the time from ``infer()`` until a pool
    thread starts the subgraph, i.e. the thread hand-off. ``binding:`` entries time Python calls
    that do no inference, i.e. the pybind11 crossing plus the request's lock.
    """
    totals: dict[str, list[float]] = {}
    for _ in range(runs):
        case.optima_profiled()
        for entry in case.req_profiled.profile_data:
            if entry.kind.name == "RequestInit":  # made once at create_request, not per call
                continue
            key = f"profile:{entry.kind.name}:{entry.name}"
            totals.setdefault(key, []).append(entry.time)
    parts = {key: float(np.median(values)) for key, values in sorted(totals.items())}
    req = case.req
    req.infer()
    req.wait()
    calls = runs * 10
    parts["binding:req.wait() on a finished request"] = min(time_batch(req.wait, calls) for _ in range(3))
    parts["binding:req.input_tensor_count"] = min(time_batch(lambda: req.input_tensor_count, calls) for _ in range(3))
    parts["python:empty lambda call"] = min(time_batch(lambda: None, calls) for _ in range(3))
    return parts


def measure_cpp(
    binary: Path, case: Case, rounds: int, batches: int, batch: int, extension_path: Optional[str]
) -> dict[str, Any]:
    env = dict(os.environ)
    if extension_path:
        env["OPTIMA_V2_EXTENSION_PATH"] = extension_path
    cmd = [
        str(binary),
        str(case.model_dir),
        "--rounds",
        str(rounds),
        "--batches",
        str(batches),
        "--batch",
        str(batch),
        "--threads",
        "1",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"{binary} failed ({done.returncode}): {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def machine_facts() -> dict[str, str]:
    facts = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "numpy": np.__version__,
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return facts


def ratio(value: float, base: Optional[float]) -> str:
    return f"{value / base:.2f}x" if base else "-"


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| model | path | median µs | p90 µs | min µs | vs ORT run | vs ORT IOBinding |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, rows in results["sizes"].items():
        run_median = rows.get(ORT_RUN, {}).get("median_us")
        bind_median = rows.get(ORT_IOBINDING, {}).get("median_us")
        for name in ROW_ORDER:
            if name not in rows:
                continue
            row = rows[name]
            lines.append(
                f"| Add [1,{size}] | {name} | {row['median_us']:.2f} | {row['p90_us']:.2f} | "
                f"{row['min_us']:.2f} | {ratio(row['median_us'], run_median)} | "
                f"{ratio(row['median_us'], bind_median)} |"
            )
    return "\n".join(lines)


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="16,1000", help="comma-separated N of the [1, N] inputs")
    parser.add_argument("--rounds", type=int, default=100, help="interleaved rounds")
    parser.add_argument("--batches", type=int, default=5, help="samples per path per round")
    parser.add_argument("--batch", type=int, default=40, help="calls averaged into one sample")
    parser.add_argument("--cpp", type=Path, help="the optima_v2_call_overhead binary to run too")
    parser.add_argument(
        "--cpp-extension-path",
        help="OPTIMA_V2_EXTENSION_PATH for the C++ binary only (when its build has no extension)",
    )
    parser.add_argument("--breakdown", action="store_true", help="add the runtime's profile split")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--markdown", action="store_true", help="print the markdown table")
    parser.add_argument("--workdir", type=Path, help="folder for the compiled models (default: temp)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-round shuffle")
    args = parser.parse_args(argv)
    if min(args.rounds, args.batches, args.batch) <= 0:
        parser.error("--rounds, --batches and --batch must be positive")
    try:
        args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes: expected comma-separated integers, got {args.sizes!r}")
    if not args.size_list or min(args.size_list) <= 0:
        parser.error("--sizes: give at least one positive size")
    if args.cpp is not None and not args.cpp.is_file():
        parser.error(f"--cpp: {args.cpp} is not a file")
    return args


def main(argv: Optional[list[str]] = None) -> int:
    args = parse_args(argv)
    import onnxruntime as ort

    import optima_v2
    import optima_v2.runtime as rt

    started = time.perf_counter()
    results: dict[str, Any] = {
        "machine": machine_facts(),
        "versions": {
            "optima_v2": getattr(optima_v2, "__version__", ".".join(map(str, rt.Context.version))),
            "onnxruntime": ort.__version__,
        },
        "settings": {
            "rounds": args.rounds,
            "batches": args.batches,
            "calls_per_sample": args.batch,
            "threads": 1,
        },
        "sizes": {},
        "breakdown_us": {},
    }
    with tempfile.TemporaryDirectory(prefix="optima_call_overhead_") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for size in args.size_list:
            case = Case(size, workdir, rt, ort)
            rows = measure_python(case, args.rounds, args.batches, args.batch, args.seed)
            if args.cpp is not None:
                cpp = measure_cpp(args.cpp, case, args.rounds, args.batches, args.batch, args.cpp_extension_path)
                rows[CPP] = {k: v for k, v in cpp.items() if not k.startswith("handoff_")}
                if "handoff_median_us" in cpp:
                    rows[HANDOFF] = {
                        "median_us": cpp["handoff_median_us"],
                        "p90_us": cpp["handoff_p90_us"],
                        "min_us": cpp["handoff_min_us"],
                        "samples": cpp["samples"],
                    }
            if args.breakdown:
                results["breakdown_us"][str(size)] = profile_breakdown(case)
            results["sizes"][str(size)] = rows
    results["wall_s"] = round(time.perf_counter() - started, 1)

    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.markdown:
        print(markdown(results))
    else:
        for size, rows in results["sizes"].items():
            for name in ROW_ORDER:
                if name in rows:
                    r = rows[name]
                    print(
                        f"[1,{size}] {name:32s} median {r['median_us']:8.2f} µs  "
                        f"p90 {r['p90_us']:8.2f}  min {r['min_us']:8.2f}"
                    )
    if args.breakdown:
        for size, parts in results["breakdown_us"].items():
            print(f"\nwhere the time goes, Add [1,{size}], µs per call:")
            for key, value in parts.items():
                print(f"  {key:48s} {value:7.2f}")
    print(f"\n({results['wall_s']} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
