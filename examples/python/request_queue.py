"""Throughput with rt.RequestQueue: many inferences of the sample model, several in flight at once.

    output_1 = Conv2d(input_1, W, 3x3, stride 1, pad 1) + input_2

Usage: python examples/python/request_queue.py [MODEL_FOLDER] [--runs N] [--jobs J]
Checks every result against a numpy reference and prints the throughput; exits with status 1
on a mismatch.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path

import numpy as np

import optima_v2.runtime as rt

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "sample_model"
TOLERANCE = 1e-4


def reference(model_path: Path, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """The model computed with numpy from the weights in the folder (independent of the runtime)."""
    folder = model_path / "Subgraph_0"
    graph = json.loads((folder / "graph.json").read_text())
    weight = next(t for t in graph["tensors"] if "data" in t)
    raw = (folder / graph.get("weights", "weights.bin")).read_bytes()
    w = np.frombuffer(raw, "<f4", offset=weight["data"]["offset"], count=27).reshape(1, 3, 3, 3)
    padded = np.pad(x1.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((1, 1, 32, 32))
    for i in range(3):
        for j in range(3):
            out += np.einsum("nchw,oc->nohw", padded[:, :, i : i + 32, j : j + 32], w[:, :, i, j])
    return out + x2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=0, help="requests in flight (0 = automatic)")
    args = parser.parse_args()

    context = rt.Context()
    model = context.load_model(str(args.model))
    queue = rt.RequestQueue(model, jobs=args.jobs)

    rng = np.random.default_rng(0)
    inputs = [
        (rng.standard_normal((1, 3, 32, 32)).astype(np.float32), rng.standard_normal((1, 1, 32, 32)).astype(np.float32))
        for _ in range(8)
    ]
    results: dict[int, np.ndarray] = {}
    lock = threading.Lock()

    def on_done(request: rt.InferRequest, run: int, error: BaseException | None) -> None:
        if error is not None:
            raise error  # stored by the queue and re-raised by wait_all()
        output = request.get_outputs()[0]  # copy it now: the request is reused after we return
        with lock:
            results[run] = output

    queue.set_callback(on_done)
    start = time.perf_counter()
    for run in range(args.runs):
        queue.start(list(inputs[run % len(inputs)]), userdata=run)
    queue.wait_all()
    elapsed = time.perf_counter() - start

    print(f"{args.runs} inferences with {len(queue)} jobs in {elapsed:.3f} s: {args.runs / elapsed:.1f} inferences/s")
    wanted = [reference(args.model, *pair) for pair in inputs]
    worst = max(float(np.max(np.abs(results[run] - wanted[run % len(inputs)]))) for run in range(args.runs))
    if len(results) != args.runs or worst > TOLERANCE:
        print(f"MISMATCH: {len(results)} results, max abs error {worst:g}")
        return 1
    print(f"OK: all {args.runs} results match numpy (max abs error {worst:.2g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
