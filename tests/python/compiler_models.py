"""ONNX models built with onnx.helper for the compiler tests, and an ONNX Runtime oracle."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import optima_v2.runtime as rt  # noqa: E402

F32 = TensorProto.FLOAT


def _model(nodes, inputs, outputs, initializers, name: str, opset: int = 17):
    graph = helper.make_graph(nodes, name, inputs, outputs, [numpy_helper.from_array(a, n) for n, a in initializers])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def mlp(rng: np.random.Generator):
    """x[batch, 8] -> Gemm -> Relu -> Dropout -> Gemm(transB) -> Relu -> Identity -> y[batch, 4]."""
    inits = [
        ("w1", rng.standard_normal((8, 16)).astype(np.float32)),
        ("b1", rng.standard_normal(16).astype(np.float32)),
        ("w2", rng.standard_normal((4, 16)).astype(np.float32)),
        ("b2", rng.standard_normal((1, 4)).astype(np.float32)),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], name="fc1"),
        helper.make_node("Relu", ["h1"], ["r1"], name="relu1"),
        helper.make_node("Dropout", ["r1"], ["d1"], name="drop1"),
        helper.make_node("Gemm", ["d1", "w2", "b2"], ["h2"], name="fc2", transB=1, alpha=0.5),
        helper.make_node("Relu", ["h2"], ["r2"], name="relu2"),
        helper.make_node("Identity", ["r2"], ["y"], name="out"),
    ]
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", F32, ["batch", 8])],
        [helper.make_tensor_value_info("y", F32, ["batch", 4])],
        inits,
        "mlp",
    )


def cnn(rng: np.random.Generator):
    """A residual CNN: conv1 -> relu1 -> conv2 -> add(conv1 out) -> relu2 -> conv3 (depthwise) -> relu3."""
    inits = [
        ("w1", (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)),
        ("b1", rng.standard_normal(8).astype(np.float32)),
        ("w2", (rng.standard_normal((8, 8, 3, 3)) * 0.2).astype(np.float32)),
        ("w3", (rng.standard_normal((8, 1, 3, 3)) * 0.3).astype(np.float32)),
        ("b3", rng.standard_normal(8).astype(np.float32)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "c1"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["r2"], name="relu2"),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], name="conv3", group=8, strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c3"], ["y"], name="relu3"),
    ]
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", F32, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("y", F32, [1, 8, 8, 8])],
        inits,
        "cnn",
    )


def shape_chain(rng: np.random.Generator):
    """x[batch, 4, 6] -> Shape -> Gather(0) -> Unsqueeze -> Concat(-1) -> Reshape -> MatMul: flattens per batch."""
    inits = [
        ("zero", np.array(0, dtype=np.int64)),
        ("axes", np.array([0], dtype=np.int64)),
        ("w", rng.standard_normal((24, 5)).astype(np.float32)),
    ]
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"], name="shape"),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes"], ["batch1"], name="unsqueeze"),
        helper.make_node("Constant", [], ["minus1"], name="const", value_ints=[-1]),
        helper.make_node("Concat", ["batch1", "minus1"], ["target"], name="concat", axis=0),
        helper.make_node("Reshape", ["x", "target"], ["flat"], name="reshape"),
        helper.make_node("MatMul", ["flat", "w"], ["mm"], name="matmul"),
        helper.make_node("Tanh", ["mm"], ["y"], name="tanh"),
    ]
    return _model(
        nodes,
        [helper.make_tensor_value_info("x", F32, ["batch", 4, 6])],
        [helper.make_tensor_value_info("y", F32, ["batch", 5])],
        inits,
        "shape_chain",
    )


def onnxruntime_outputs(model, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def run_folder(path, inputs: list[np.ndarray], context: Optional[rt.Context] = None) -> list[np.ndarray]:
    model = (context or rt.Context()).load_model(str(path))
    request = model.create_request()
    request.set_inputs(inputs)
    request.infer()
    assert request.wait() is False
    return [np.array(o) for o in request.get_outputs()]


def assert_matches(got: np.ndarray, want: np.ndarray) -> None:
    """max abs diff <= 1e-4 relative to the output scale (issue 4's acceptance bound)."""
    assert got.shape == want.shape and got.dtype == want.dtype
    scale = max(1.0, float(np.abs(want).max()))
    assert float(np.abs(got - want).max()) <= 1e-4 * scale
