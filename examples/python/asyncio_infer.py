"""Inference from asyncio: ``await req.infer_async()`` on several requests at once.

Usage: python examples/python/asyncio_infer.py [MODEL_FOLDER]
Runs 4 requests concurrently on the sample model, checks the results against numpy and shows
that the event loop kept running meanwhile; exits with status 1 on a mismatch.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import numpy as np

import optima_v2.runtime as rt

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "sample_model"
TOLERANCE = 1e-4


def reference(model_path: Path, x1: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """The sample model in numpy: 3x3 Conv (weights read from the folder) + input_2."""
    import json

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


async def infer(req: rt.InferRequest, inputs: list[np.ndarray]) -> np.ndarray:
    await req.infer_async(inputs)  # the loop runs other tasks meanwhile
    return req.get_outputs()[0]


async def heartbeat(stop: asyncio.Event) -> int:
    beats = 0
    while not stop.is_set():
        beats += 1
        await asyncio.sleep(0)
    return beats


async def run(model_path: Path) -> int:
    model = rt.Context().load_model(str(model_path))
    rng = np.random.default_rng(1)
    work = [
        [rng.standard_normal((1, 3, 32, 32)).astype(np.float32), rng.standard_normal((1, 1, 32, 32)).astype(np.float32)]
        for _ in range(4)
    ]
    requests = [model.create_request() for _ in work]
    stop = asyncio.Event()
    beat_task = asyncio.create_task(heartbeat(stop))
    outputs = await asyncio.gather(*(infer(req, x) for req, x in zip(requests, work)))
    stop.set()
    beats = await beat_task
    print(f"{len(outputs)} inferences awaited concurrently; the loop ran {beats} other steps meanwhile")

    # Errors raise in the awaiting task: here bad inputs (a failed inference raises its
    # rt.Exception subclass the same way).
    try:
        await requests[0].infer_async([work[0][1], work[0][0]])
    except ValueError as error:
        print(f"as expected: {type(error).__name__}: {error}")

    worst = max(float(np.max(np.abs(out - reference(model_path, *x)))) for out, x in zip(outputs, work))
    if worst > TOLERANCE:
        print(f"MISMATCH: max abs error {worst:g}")
        return 1
    print(f"OK: all outputs match numpy (max abs error {worst:.2g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(run(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_MODEL)))
