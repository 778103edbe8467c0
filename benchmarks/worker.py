"""One measurement of one runtime on one model, in a fresh process (run by run_suite.py).

Usage::

    python benchmarks/worker.py --runtime {optima,ort,openvino} --mode {latency,throughput,rss}
        --model PATH --input INPUT.npy [--threads N] [--requests N] [--min-iters N]
        [--min-time S] [--max-time S] [--duration S] [--warmup N] [--save-output OUT.npy]

``--model`` is the ONNX file (ORT, OpenVINO) or the compiled model folder (optima). Prints one
JSON object on stdout. The process imports only numpy and the runtime under test (never onnx),
so ``baseline_rss_mib`` (peak RSS once the runtime is imported, before anything is loaded) is
the cost of an idle interpreter with that runtime, and ``peak_rss_mib`` (at the end) is the
process's whole high-water mark (``VmHWM``, see :func:`rss_mib`); nothing is subtracted.

Modes:

- ``latency``: load (runtime object + model + one request, timed as ``load_s``), first inference
  (timed alone, ``first_inference_s``), ``--warmup`` more, then back-to-back inferences until
  at least ``--min-iters`` and ``--min-time`` seconds, or ``--max-time`` seconds (at least 3
  iterations, ``--min-samples``), each timed alone; the inputs are passed on every call (what an
  application does). ``cores_busy``: process CPU time / wall time of the timed part.
- ``throughput``: all of ``--threads`` cores, ``--requests`` inferences in flight for
  ``--duration`` seconds; completed inferences per second (and ``cores_busy`` as above).
- ``profile`` (optima only): the runtime's per-layer profile of ``--rounds`` inferences on 1
  thread, summed by op family (:func:`profile_by_op`): the "why" of the analysis.
- ``rss``: peak RSS with ``--requests`` requests in flight for ``--rounds`` rounds (optima), or
  as many sequential runs on one session (ORT, OpenVINO): the memory measurement of the suite.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np


def cpu_seconds() -> float:
    """User + system CPU time of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB.

    Linux: ``VmHWM`` of /proc/self/status, the high-water mark of this program's own memory.
    Not ``ru_maxrss``: Linux carries the parent's RSS at fork() over into the child's
    ``ru_maxrss`` across exec(), so a child of a large parent would report the parent's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


class Runner:
    """A loaded model on one runtime: run once, read the output, run many at once."""

    info: dict[str, Any]

    def run(self, x: np.ndarray) -> None:
        raise NotImplementedError

    def output(self) -> np.ndarray:
        raise NotImplementedError

    def throughput(self, x: np.ndarray, duration: float, requests: int) -> tuple[int, float, float]:
        """Inferences completed, seconds taken and CPU seconds used, keeping ``requests`` in flight."""
        raise NotImplementedError

    def rss(self, x: np.ndarray, requests: int, rounds: int) -> None:
        raise NotImplementedError


class OptimaRunner(Runner):
    def __init__(self, path: str, threads: int) -> None:
        import optima_v2.runtime as rt

        self.rt = rt
        # Profiling off, like the other two runtimes, which record nothing unless asked.
        self.ctx = rt.Context(thread_count=threads, enable_profile=False)
        self.model = self.ctx.load_model(path)
        self.req = self.model.create_request()
        self.info = {"threads": self.ctx.thread_count}

    def run(self, x: np.ndarray) -> None:
        self.req.set_inputs(x)
        self.req.infer()
        self.req.wait()

    def output(self) -> np.ndarray:
        return np.array(self.req.get_output_tensor(0), copy=True)

    def throughput(self, x: np.ndarray, duration: float, requests: int) -> tuple[int, float, float]:
        queue = self.rt.RequestQueue(self.model, jobs=requests)
        self.info["requests"] = len(queue)
        done = [0]

        def on_done(_req: Any, _userdata: Any, error: BaseException | None) -> None:
            if error is not None:
                raise error
            done[0] += 1

        queue.set_callback(on_done)
        for _ in range(len(queue)):  # warm every request once
            queue.start(x)
        queue.wait_all()
        done[0] = 0
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        deadline = start + duration
        while time.perf_counter() < deadline:
            queue.start(x)
        queue.wait_all()
        return done[0], time.perf_counter() - start, cpu_seconds() - cpu_start

    def rss(self, x: np.ndarray, requests: int, rounds: int) -> None:
        reqs = [self.req] + [self.model.create_request() for _ in range(requests - 1)]
        self.info["requests"] = len(reqs)
        for _ in range(rounds):
            for req in reqs:
                req.set_inputs(x)
                req.infer()
            for req in reqs:
                req.wait()


class OrtRunner(Runner):
    def __init__(self, path: str, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.sess = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.name = self.sess.get_inputs()[0].name
        self.result: np.ndarray = np.empty(0, np.float32)
        self.info = {"threads": threads}

    def run(self, x: np.ndarray) -> None:
        self.result = self.sess.run(None, {self.name: x})[0]

    def output(self) -> np.ndarray:
        return np.array(self.result, copy=True)

    def throughput(self, x: np.ndarray, duration: float, requests: int) -> tuple[int, float, float]:
        # Several Python threads call run() on one session (ORT releases the GIL in run()).
        feeds = {self.name: x}
        counts = [0] * requests
        barrier = threading.Barrier(requests + 1)
        deadline = [0.0]

        def work(index: int) -> None:
            self.sess.run(None, feeds)  # warm-up of this thread
            barrier.wait()
            while time.perf_counter() < deadline[0]:
                self.sess.run(None, feeds)
                counts[index] += 1

        threads = [threading.Thread(target=work, args=(i,)) for i in range(requests)]
        for t in threads:
            t.start()
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        deadline[0] = start + duration
        barrier.wait()
        for t in threads:
            t.join()
        self.info["requests"] = requests
        self.info["intra_op_threads"] = self.info.pop("threads")
        return sum(counts), time.perf_counter() - start, cpu_seconds() - cpu_start

    def rss(self, x: np.ndarray, requests: int, rounds: int) -> None:
        self.info["runs"] = requests * rounds
        for _ in range(requests * rounds):
            self.run(x)


def type_name(value: Any) -> str:
    """``f32`` for an openvino Type (its str() is ``<Type: 'float32'>``)."""
    to_string = getattr(value, "to_string", None)
    return str(to_string()) if callable(to_string) else str(value)


class OpenVinoRunner(Runner):
    def __init__(self, path: str, threads: int, hint: str) -> None:
        import openvino as ov

        self.ov = ov
        core = ov.Core()
        config = {
            "PERFORMANCE_HINT": hint,
            "INFERENCE_NUM_THREADS": str(threads),
            "INFERENCE_PRECISION_HINT": "f32",  # no silent bf16 on CPUs that have it
        }
        self.compiled = core.compile_model(path, "CPU", config)
        self.req = self.compiled.create_infer_request()
        self.info = {
            "threads": threads,
            "hint": hint,
            "precision": type_name(self.compiled.get_property("INFERENCE_PRECISION_HINT")),
            "streams": int(self.compiled.get_property("NUM_STREAMS")),
            "optimal_requests": int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")),
        }

    def run(self, x: np.ndarray) -> None:
        self.req.infer({0: x})

    def output(self) -> np.ndarray:
        return np.array(self.req.get_output_tensor(0).data, copy=True)

    def throughput(self, x: np.ndarray, duration: float, requests: int) -> tuple[int, float, float]:
        jobs = requests or self.info["optimal_requests"]
        queue = self.ov.AsyncInferQueue(self.compiled, jobs)
        self.info["requests"] = len(queue)
        done = [0]

        def on_done(_req: Any, _userdata: Any) -> None:
            done[0] += 1

        for _ in range(len(queue)):
            queue.start_async({0: x})
        queue.wait_all()
        queue.set_callback(on_done)
        cpu_start = cpu_seconds()
        start = time.perf_counter()
        deadline = start + duration
        while time.perf_counter() < deadline:
            queue.start_async({0: x})
        queue.wait_all()
        return done[0], time.perf_counter() - start, cpu_seconds() - cpu_start

    def rss(self, x: np.ndarray, requests: int, rounds: int) -> None:
        self.info["runs"] = requests * rounds
        for _ in range(requests * rounds):
            self.run(x)


def profile_by_op(path: str, x: np.ndarray, runs: int) -> dict[str, Any]:
    """optima only: where one inference's time goes, by layer-name prefix (1 thread, profile on).

    The builders in models.py name each node after its op (``conv_3``, ``matmul_7``), and the
    compiler keeps the name of the node it fuses into, so the prefix is the op family.
    """
    import optima_v2.runtime as rt

    ctx = rt.Context(thread_count=1, enable_profile=True)
    req = ctx.load_model(path).create_request()
    req.set_inputs(x)
    req.infer()
    req.wait()  # warm-up
    totals: dict[str, float] = {}
    layers = 0.0
    whole = 0.0
    for _ in range(runs):
        req.infer()
        req.wait()
        for entry in req.profile_data:
            kind = entry.kind.name
            if kind == "LayerExecute":
                prefix = entry.name.rsplit("_", 1)[0] if "_" in entry.name else entry.name
                totals[prefix] = totals.get(prefix, 0.0) + entry.time
                layers += entry.time
            elif kind == "ModelExecute":
                whole += entry.time
    return {
        "profile_runs": runs,
        "model_ms": whole / runs / 1e3,
        "layers_ms": layers / runs / 1e3,
        "by_op_ms": {k: v / runs / 1e3 for k, v in sorted(totals.items(), key=lambda kv: -kv[1])},
    }


def import_runtime(name: str) -> None:
    if name == "optima":
        import optima_v2.runtime  # noqa: F401
    elif name == "ort":
        import onnxruntime  # noqa: F401
    else:
        import openvino  # noqa: F401


def make_runner(args: argparse.Namespace) -> Runner:
    if args.runtime == "optima":
        return OptimaRunner(args.model, args.threads)
    if args.runtime == "ort":
        if args.mode == "throughput":
            # One session, one Python thread per request: split the cores between them.
            args.requests = args.requests or args.threads
            return OrtRunner(args.model, max(1, args.threads // args.requests))
        return OrtRunner(args.model, args.threads)
    hint = "THROUGHPUT" if args.mode == "throughput" else "LATENCY"
    return OpenVinoRunner(args.model, args.threads, hint)


def timed(call: Callable[[], None]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latency(runner: Runner, x: np.ndarray, args: argparse.Namespace, result: dict[str, Any]) -> None:
    result["first_inference_s"] = timed(lambda: runner.run(x))
    if args.save_output:
        np.save(args.save_output, runner.output())
    # Warm-up: --warmup runs, but no more than about --max-time / 4 seconds of them (slow models).
    warm_start = time.perf_counter()
    for _ in range(args.warmup):
        if time.perf_counter() - warm_start > args.max_time / 4:
            break
        runner.run(x)
    samples: list[float] = []
    gc.collect()
    gc.disable()
    cpu_start = cpu_seconds()
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        runner.run(x)
        now = time.perf_counter()
        samples.append(now - t0)
        elapsed = now - start
        if len(samples) >= args.min_iters and elapsed >= args.min_time:
            break
        if elapsed >= args.max_time and len(samples) >= args.min_samples:
            break
    gc.enable()
    ordered = sorted(samples)
    result.update(
        iterations=len(samples),
        p50_ms=percentile(ordered, 0.5) * 1e3,
        p90_ms=percentile(ordered, 0.9) * 1e3,
        min_ms=ordered[0] * 1e3,
        mean_ms=sum(samples) / len(samples) * 1e3,
        measured_s=time.perf_counter() - start,
        cores_busy=(cpu_seconds() - cpu_start) / (time.perf_counter() - start),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtime", choices=["optima", "ort", "openvino"], required=True)
    parser.add_argument("--mode", choices=["latency", "throughput", "rss", "profile"], required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--requests", type=int, default=0, help="in flight (0: the runtime's choice)")
    parser.add_argument("--min-iters", type=int, default=20)
    parser.add_argument("--min-time", type=float, default=1.5)
    parser.add_argument("--max-time", type=float, default=20.0)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--min-samples", type=int, default=3, help="timed runs even past --max-time")
    parser.add_argument("--rounds", type=int, default=3, help="rss mode: rounds of all requests")
    parser.add_argument("--save-output", type=Path)
    args = parser.parse_args(argv)

    x = np.load(args.input)
    import_runtime(args.runtime)
    result: dict[str, Any] = {"runtime": args.runtime, "mode": args.mode, "baseline_rss_mib": rss_mib()}
    if args.mode == "profile":
        if args.runtime != "optima":
            parser.error("--mode profile: optima only")
        result.update(profile_by_op(args.model, x, args.rounds))
        result["peak_rss_mib"] = rss_mib()
        print(json.dumps(result))
        return 0
    start = time.perf_counter()
    runner = make_runner(args)
    result["load_s"] = time.perf_counter() - start
    if args.mode == "latency":
        latency(runner, x, args, result)
    elif args.mode == "throughput":
        count, seconds, cpu = runner.throughput(x, args.duration, args.requests)
        result.update(inferences=count, seconds=seconds, per_s=count / seconds, cores_busy=cpu / seconds)
    else:
        runner.rss(x, max(1, args.requests), args.rounds)
    result.update(runner.info)
    result["peak_rss_mib"] = rss_mib()
    print(json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
