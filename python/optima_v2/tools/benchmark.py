"""``optima-v2 benchmark``: latency and throughput of a model folder (like OpenVINO's benchmark_app).

Latency mode runs one request back to back; throughput mode keeps ``--requests`` requests in
flight, each restarted from its completion callback. The first inference (which warms caches and
lazy allocations) is timed separately and left out of the statistics.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
from typing import Any, Optional, TextIO

from ._common import ToolError, load_model, model_inputs, open_context, summary_stats


class ProgressBar:
    """``[#####.....]  50%  2.5/5.0 s  1234 inferences`` on ``stream``, redrawn in place."""

    def __init__(self, stream: TextIO, seconds: float, enabled: bool = True) -> None:
        self.stream, self.seconds, self.enabled = stream, seconds, enabled
        self.drawn = -1
        self.last = float("-inf")

    def update(self, elapsed: float, count: int) -> None:
        """Redraw at most every 0.1 s (and at 100 %), so the bar costs nothing measurable."""
        if not self.enabled:
            return
        fraction = min(elapsed / self.seconds, 1.0) if self.seconds > 0 else 1.0
        percent = int(fraction * 100)
        if percent == self.drawn or (elapsed - self.last < 0.1 and percent < 100):
            return
        self.drawn, self.last = percent, elapsed
        bar = "#" * int(fraction * 30)
        print(
            f"\r[{bar:<30}] {percent:3d}%  {elapsed:.1f}/{self.seconds:.1f} s  {count} inferences",
            end="", file=self.stream, flush=True,
        )  # fmt: skip

    def close(self) -> None:
        if self.enabled and self.drawn >= 0:
            print(file=self.stream, flush=True)


def _latency_mode(model: Any, inputs: dict[str, Any], seconds: float, bar: ProgressBar) -> list[float]:
    request = model.create_request()
    request.set_inputs(inputs)
    latencies: list[float] = []
    start = time.perf_counter()
    while True:
        begin = time.perf_counter()
        request.infer()
        request.wait()
        end = time.perf_counter()
        latencies.append(end - begin)
        bar.update(end - start, len(latencies))
        if end - start >= seconds:
            return latencies


def _throughput_mode(model: Any, inputs: dict[str, Any], seconds: float, count: int, bar: ProgressBar) -> list[float]:
    requests = [model.create_request() for _ in range(count)]
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    done = threading.Event()
    running = [count]
    started = [0.0] * count
    deadline = [0.0]

    def finished(request: Any, error: Optional[BaseException], index: int) -> None:
        now = time.perf_counter()
        with lock:
            if error is not None:
                errors.append(error)
            else:
                latencies.append(now - started[index])
            again = error is None and now < deadline[0]
            if not again:
                running[0] -= 1
                if running[0] == 0:
                    done.set()
        if again:
            started[index] = time.perf_counter()
            try:
                request.infer()  # safe inside the callback (runtime contract)
            except Exception as failure:  # reported by the main thread
                with lock:
                    errors.append(failure)
                    running[0] -= 1
                    if running[0] == 0:
                        done.set()

    for index, request in enumerate(requests):
        request.set_inputs(inputs)
        request.set_callback(finished, index)
    begin = time.perf_counter()
    deadline[0] = begin + seconds
    for index, request in enumerate(requests):
        started[index] = time.perf_counter()
        request.infer()
    while not done.wait(0.1):
        bar.update(time.perf_counter() - begin, len(latencies))
    for request in requests:
        request.wait()
        request.set_callback(None)
    if errors:
        raise errors[0]
    return latencies


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Run the benchmark described by ``args``; the report as a dict (times in ms)."""
    if args.time <= 0:
        raise ToolError(f"-t/--time must be positive, got {args.time}")
    requests = args.requests if args.requests is not None else (1 if args.mode == "latency" else 4)
    if requests < 1:
        raise ToolError(f"--requests must be at least 1, got {requests}")
    if args.mode == "latency" and requests != 1:
        raise ToolError("--requests applies to --mode throughput (latency mode runs one request)")
    context = open_context(args.extension, args.threads, profile=False)
    begin = time.perf_counter()
    model = load_model(context, args.model_dir)
    load_time = time.perf_counter() - begin
    inputs = model_inputs(model, seed=0)

    first = model.create_request()
    first.set_inputs(inputs)
    begin = time.perf_counter()
    first.infer()
    first.wait()
    first_time = time.perf_counter() - begin
    del first

    bar = ProgressBar(sys.stderr, args.time, enabled=not args.no_progress)
    begin = time.perf_counter()
    try:
        if args.mode == "latency":
            latencies = _latency_mode(model, inputs, args.time, bar)
        else:
            latencies = _throughput_mode(model, inputs, args.time, requests, bar)
    finally:
        bar.close()
    duration = time.perf_counter() - begin
    stats = summary_stats([value * 1e3 for value in latencies])
    return {
        "model": str(args.model_dir),
        "mode": args.mode,
        "requests": requests,
        "devices": sorted({f"{str(s.device).rsplit('.', 1)[-1]}:{s.device_index}" for s in model.subgraph_info}),
        "load_time_ms": load_time * 1e3,
        "first_inference_ms": first_time * 1e3,
        "iterations": len(latencies),
        "duration_s": duration,
        "latency_ms": stats,
        "throughput_fps": len(latencies) / duration,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
    }


def format_report(report: dict[str, Any]) -> str:
    latency = report["latency_ms"]
    return "\n".join(
        [
            f"model:              {report['model']} ({', '.join(report['devices'])})",
            f"mode:               {report['mode']}, {report['requests']} request(s)",
            f"load time:          {report['load_time_ms']:.2f} ms",
            f"first inference:    {report['first_inference_ms']:.3f} ms",
            f"iterations:         {report['iterations']} in {report['duration_s']:.2f} s",
            "latency (ms):",
            *(f"  {key:<8}{latency[key]:>12.3f}" for key in ("min", "median", "mean", "p90", "p99", "max")),
            f"throughput:         {report['throughput_fps']:.2f} inferences/s",
            f"peak RSS:           {report['peak_rss_mib']:.1f} MiB",
        ]
    )


def run(args: argparse.Namespace) -> int:
    report = benchmark(args)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0
