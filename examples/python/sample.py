"""The user's guide, Python part, run end to end on the sample model and checked against numpy.

    output_1 = Conv2d(input_1, W, 3x3, stride 1, pad 1) + input_2

Usage: python examples/python/sample.py [MODEL_FOLDER]   (default: examples/sample_model)
Exits with status 1 when an output differs from the numpy reference by more than 1e-5.
"""

from __future__ import annotations

import json
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

import optima_v2.runtime as rt

TOLERANCE = 1e-5
CHAINED_RUNS = 3  # inferences each callback-driven request performs


def conv_weights(model_path: Path) -> np.ndarray:
    """The Conv weights, read from the model folder's weights file (independently of the runtime)."""
    folder = model_path / "Subgraph_0"
    graph = json.loads((folder / "graph.json").read_text())
    weight = next(t for t in graph["tensors"] if "data" in t)
    raw = (folder / graph.get("weights", "weights.bin")).read_bytes()
    start, size = weight["data"]["offset"], weight["data"]["size"]
    return np.frombuffer(raw[start : start + size], dtype="<f4").reshape(weight["shape"])


def reference(input_1: np.ndarray, input_2: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Conv2d (stride 1, pad 1, no bias) + Add in float64 numpy."""
    padded = np.pad(input_1.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))  # N,C,H,W,3,3
    conv = np.einsum("nchwij,ocij->nohw", windows, weights.astype(np.float64))
    return conv + input_2


def random_inputs(rng: np.random.Generator, model: rt.Model) -> list[np.ndarray]:
    return [rng.standard_normal(info.shape).astype(info.type.to_dtype()) for info in model.input_tensors_info]


def check(name: str, got: np.ndarray, inputs: list[np.ndarray], weights: np.ndarray) -> float:
    error = float(np.max(np.abs(got - reference(inputs[0], inputs[1], weights))))
    if error > TOLERANCE:
        raise SystemExit(f"MISMATCH {name}: max abs error {error:.3g} > {TOLERANCE}")
    return error


def main(model_path: Path) -> int:
    rng = np.random.default_rng(1234)
    weights = conv_weights(model_path)

    # Create the context (the guide's keywords; the log goes to a temporary file).
    with tempfile.TemporaryDirectory() as log_dir:
        context = rt.Context(loglevel=rt.LogLevel.Verbose, log_path=str(Path(log_dir) / "runtime.log"))
        context.verbosity = rt.LogLevel.Warning
        del context
    context = rt.Context()
    print("runtime", rt.Context.version, "devices:", context.available_devices)

    # Load the model and look at its tensors.
    model = context.load_model(str(model_path))
    for info in model.input_tensors_info:
        print("input ", info)
    for info in model.output_tensors_info:
        print("output", info)
    assert model.get_input_tensor_info(1) == model.get_input_tensor_info("input_2")
    print("subgraphs:", model.subgraph_info)

    # Create requests.
    req = model.create_request()
    reqs = [model.create_request() for _ in range(4)]

    # Set inputs: tensor by tensor, as a list, as a dict.
    inputs = random_inputs(rng, model)
    for tensor, array in zip(req.input_tensors, inputs):
        tensor.copy_from(array)
    req.infer()
    req.wait()
    check("copy_from", req.get_output_tensor(0).to_numpy(), inputs, weights)

    inputs = random_inputs(rng, model)
    req.set_inputs(inputs)
    req.infer()
    if req.wait(100):
        req.wait()  # not finished within 100 ms: wait for good
    check("set_inputs(list)", req.get_outputs()[0], inputs, weights)

    inputs = random_inputs(rng, model)
    req.set_inputs({"input_1": inputs[0], "input_2": inputs[1]})
    req.infer()
    req.wait()
    for tensor in req.output_tensors:
        check("set_inputs(dict)", tensor.to_numpy(), inputs, weights)
    check("get_output_tensor(name)", req.get_output_tensor("output_1").to_numpy(), inputs, weights)

    # Callbacks: each request re-runs itself from its callback with fresh inputs.
    done = threading.Event()
    lock = threading.Lock()
    remaining = [len(reqs)]
    failures: list[str] = []

    def callback(r: rt.InferRequest, ex: Exception | None, state: dict) -> None:
        try:
            if ex:
                failures.append(f"request {state['index']}: {ex!r}")
            else:
                check(f"callback request {state['index']}", r.get_outputs()[0], state["inputs"], weights)
                state["runs"] += 1
                if state["runs"] < CHAINED_RUNS:
                    state["inputs"] = [rng_local.standard_normal(a.shape).astype(a.dtype) for a in state["inputs"]]
                    r.set_inputs(state["inputs"])
                    r.infer()  # safe from inside the callback
                    return
        except BaseException as error:  # reported below, never lost in a thread
            failures.append(f"request {state['index']}: {error!r}")
        with lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                done.set()

    rng_local = np.random.default_rng(99)
    for index, r in enumerate(reqs):
        state = {"index": index, "runs": 0, "inputs": random_inputs(rng, model)}
        r.set_inputs(state["inputs"])
        r.set_callback(callback, state)
    for r in reqs:
        r.infer()
    if not done.wait(60):
        raise SystemExit("callbacks did not finish within 60 s")
    if failures:
        raise SystemExit("callback failures: " + "; ".join(failures))

    # Profile data of the latest inference.
    for data in req.profile_data:
        print(data)

    print("OK: all outputs match numpy within", TOLERANCE)
    return 0


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[1] / "sample_model"
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))
