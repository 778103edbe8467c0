"""``optima-v2 demo``: build a small model, run it, check it against numpy, show a profile.

The wheel ships no model folder, so the demo writes one with :mod:`optima_v2.model_folder` into
a temporary directory: Conv 3x3 -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> Softmax.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ..model_folder import Graph, ModelFolder
from ..profiling import ProfileStats, collect
from ._common import open_context, summarize

CHANNELS, CLASSES, SIZE = 8, 10, 16


def build_demo_model(folder: Path, rng: np.random.Generator) -> tuple[Path, dict[str, np.ndarray]]:
    """Write the demo model folder; returns its path and its weights (for the numpy reference)."""
    weights = {
        "conv_w": (rng.standard_normal((CHANNELS, 3, 3, 3)) / 5).astype(np.float32),
        "conv_b": (rng.standard_normal(CHANNELS) / 10).astype(np.float32),
        "fc_w": (rng.standard_normal((CHANNELS, CLASSES)) / 3).astype(np.float32),
        "fc_b": (rng.standard_normal(CLASSES) / 10).astype(np.float32),
    }
    g = Graph()
    g.add_input("image", "F32", (1, 3, SIZE, SIZE))
    for name, array in weights.items():
        g.add_constant(name, array)
    g.add_tensor("conv", "F32", (1, CHANNELS, SIZE, SIZE))
    g.add_node("Conv", ["image", "conv_w", "conv_b"], ["conv"], name="conv",
               attributes={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]})  # fmt: skip
    g.add_tensor("relu", "F32", (1, CHANNELS, SIZE, SIZE))
    g.add_node("Relu", ["conv"], ["relu"], name="relu")
    g.add_tensor("pool", "F32", (1, CHANNELS, 1, 1))
    g.add_node("GlobalAveragePool", ["relu"], ["pool"], name="pool")
    g.add_tensor("flat", "F32", (1, CHANNELS))
    g.add_node("Flatten", ["pool"], ["flat"], name="flatten")
    g.add_tensor("logits", "F32", (1, CLASSES))
    g.add_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc")
    g.add_tensor("probabilities", "F32", (1, CLASSES))
    g.add_node("Softmax", ["logits"], ["probabilities"], name="softmax", attributes={"axis": -1})
    g.add_output("probabilities")
    model = ModelFolder("demo_classifier")
    model.add_subgraph(g)
    return model.write(folder / "demo_classifier"), weights


def numpy_reference(image: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    """The demo model in float64 numpy (direct convolution, independent of the runtime)."""
    x = np.pad(image.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((1, CHANNELS, SIZE, SIZE))
    for i in range(3):
        for j in range(3):
            conv += np.einsum("nchw,oc->nohw", x[:, :, i : i + SIZE, j : j + SIZE], w["conv_w"][:, :, i, j])
    conv += w["conv_b"].reshape(1, -1, 1, 1)
    pooled = np.maximum(conv, 0).mean(axis=(2, 3))
    logits = pooled @ w["fc_w"] + w["fc_b"]
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def run(args: argparse.Namespace) -> int:
    rng = np.random.default_rng(0)
    context = open_context(args.extension, args.threads, profile=True)
    devices = ", ".join(f"{str(d.kind).rsplit('.', 1)[-1]}:{d.index} ({d.name})" for d in context.available_devices)
    print(f"devices: {devices}")
    with tempfile.TemporaryDirectory(prefix="optima_v2_demo_") as tmp:
        path, weights = build_demo_model(Path(tmp), rng)
        print(f"built {path.name}: Conv 3x3 -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> Softmax")
        begin = time.perf_counter()
        model = context.load_model(str(path))
        print(f"loaded in {(time.perf_counter() - begin) * 1e3:.2f} ms")
        image = rng.standard_normal((1, 3, SIZE, SIZE)).astype(np.float32)
        runs = collect(model, 20, {"image": image})
        request = model.create_request()
        request.set_inputs({"image": image})
        request.infer()
        request.wait()
        (got,) = request.get_outputs()
        want = numpy_reference(image, weights)
        error = float(np.abs(got - want).max())
        print(f"output {summarize('probabilities', got)}")
        print(f"top class {int(got.argmax())} (numpy: {int(want.argmax())}); max |runtime - numpy| = {error:.3g}")
        print()
        print(ProfileStats(runs).format_table())
        del request, model
    if error > 1e-5 or int(got.argmax()) != int(want.argmax()):
        print("demo FAILED: the runtime's output differs from numpy's")
        return 1
    print("\ndemo OK: the runtime matches numpy")
    return 0
