"""Opset conversion (compiler.opset): every model is compiled in one internal opset.

Each case builds a model in an old opset, runs it with ONNX Runtime *in that opset* (the oracle)
and compares with our runtime on the compiled (converted) model. The cases cover onnx's version
converter (attributes that became inputs) and our own rewrites where it is wrong (Hardmax before
13, Upsample / Resize before 11).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from compiler_models import run_folder  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from optima_v2.compiler import compile_onnx  # noqa: E402
from optima_v2.compiler.loading import load_model  # noqa: E402
from optima_v2.compiler.opset import INTERNAL_OPSET, default_opset  # noqa: E402

SHAPE = (2, 3, 4, 5)
X_INFO = ("x", TensorProto.FLOAT, list(SHAPE))


def _model(nodes, opset: int, outputs: list[tuple[str, int]], inits=(), inputs=(X_INFO,)) -> Any:
    graph = helper.make_graph(
        nodes,
        f"opset{opset}",
        [helper.make_tensor_value_info(*i) for i in inputs],
        [helper.make_tensor_value_info(name, elem, None) for name, elem in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in dict(inits).items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)


def _node(op: str, inputs: list[str], outputs: list[str], **attrs: Any):
    return helper.make_node(op, inputs, outputs, name=f"{op.lower()}_node", **attrs)


F = TensorProto.FLOAT

CASES = {
    # Softmax family before 13: coerced to 2-D at `axis` (the whole trailing block is normalized).
    "softmax_11_axis1": (_model([_node("Softmax", ["x"], ["y"], axis=1)], 11, [("y", F)])),
    "logsoftmax_11_axis1": (_model([_node("LogSoftmax", ["x"], ["y"], axis=1)], 11, [("y", F)])),
    "softmax_7_default": (_model([_node("Softmax", ["x"], ["y"])], 7, [("y", F)])),
    "hardmax_11_axis1": (_model([_node("Hardmax", ["x"], ["y"], axis=1)], 11, [("y", F)])),
    "hardmax_7_axis2": (_model([_node("Hardmax", ["x"], ["y"], axis=2)], 7, [("y", F)])),
    # Attributes that became inputs.
    "split_11_sizes": (_model([_node("Split", ["x"], ["a", "b"], axis=1, split=[1, 2])], 11, [("a", F), ("b", F)])),
    "split_7_equal": (_model([_node("Split", ["x"], ["a", "b", "c"], axis=1)], 7, [("a", F), ("b", F), ("c", F)])),
    "squeeze_unsqueeze_11": (
        _model(
            [
                _node("Unsqueeze", ["x"], ["u"], axes=[0, 5]),
                helper.make_node("Squeeze", ["u"], ["y"], name="squeeze", axes=[0]),
            ],
            11,
            [("y", F)],
        )
    ),
    "reducesum_11_axes": (_model([_node("ReduceSum", ["x"], ["y"], axes=[1, 3], keepdims=0)], 11, [("y", F)])),
    "reducemean_11_axes": (_model([_node("ReduceMean", ["x"], ["y"], axes=[-1])], 11, [("y", F)])),
    "reducemax_11_all": (_model([_node("ReduceMax", ["x"], ["y"])], 11, [("y", F)])),
    "pad_10_reflect": (
        _model([_node("Pad", ["x"], ["y"], pads=[0, 1, 0, 2, 0, 0, 1, 1], mode="reflect")], 10, [("y", F)])
    ),
    "pad_7_value": (_model([_node("Pad", ["x"], ["y"], pads=[0, 1, 0, 2, 0, 0, 1, 1], value=1.5)], 7, [("y", F)])),
    "clip_10_min_max": (_model([_node("Clip", ["x"], ["y"], min=-0.2, max=0.3)], 10, [("y", F)])),
    "clip_7_max_only": (_model([_node("Clip", ["x"], ["y"], max=0.3)], 7, [("y", F)])),
    "slice_9_attrs": (
        _model([_node("Slice", ["x"], ["y"], starts=[1, -3], ends=[3, 100], axes=[1, 3])], 9, [("y", F)])
    ),
    "topk_9_k": (_model([_node("TopK", ["x"], ["v", "i"], k=2, axis=2)], 9, [("v", F), ("i", TensorProto.INT64)])),
    "scatter_9": (
        _model(
            [_node("Scatter", ["x", "idx", "upd"], ["y"], axis=1)],
            9,
            [("y", F)],
            {"idx": np.full((2, 1, 4, 5), 2, np.int64), "upd": np.ones((2, 1, 4, 5), np.float32)},
        )
    ),
    # Upsample / Resize before 11: asymmetric coordinates.
    "upsample_7_nearest": (
        _model([_node("Upsample", ["x"], ["y"], mode="nearest", scales=[1.0, 1.0, 2.0, 3.0])], 7, [("y", F)])
    ),
    "upsample_9_linear": (
        _model(
            [_node("Upsample", ["x", "s"], ["y"], mode="linear")],
            9,
            [("y", F)],
            {"s": np.array([1, 1, 2, 2], np.float32)},
        )
    ),
    "resize_10_linear": (
        _model(
            [_node("Resize", ["x", "s"], ["y"], mode="linear")],
            10,
            [("y", F)],
            {"s": np.array([1, 1, 2, 1.5], np.float32)},
        )
    ),
    "resize_10_nearest_up": (
        _model(
            [_node("Resize", ["x", "s"], ["y"], mode="nearest")],
            10,
            [("y", F)],
            {"s": np.array([1, 1, 1.5, 2.5], np.float32)},
        )
    ),
    "resize_10_nearest_down": (
        _model(
            [_node("Resize", ["x", "s"], ["y"], mode="nearest")],
            10,
            [("y", F)],
            {"s": np.array([1, 1, 0.5, 0.6], np.float32)},
        )
    ),
    # Ops whose only change is the version number.
    "not_1": (
        _model([_node("Not", ["b"], ["y"])], 1, [("y", TensorProto.BOOL)], inputs=[("b", TensorProto.BOOL, [6])])
    ),
    "batchnorm_7": (
        _model(
            [_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)],
            7,
            [("y", F)],
            {k: np.linspace(0.5, 1.5, 3, dtype=np.float32) for k in "sbmv"},
        )
    ),
}


def _feeds(model, rng: np.random.Generator) -> dict[str, np.ndarray]:
    feeds = {}
    for value in model.graph.input:
        if value.name == "x":
            feeds["x"] = rng.standard_normal(SHAPE).astype(np.float32)
        elif value.name == "b":
            feeds["b"] = np.array([True, False, True, True, False, False])
    return feeds


def _prepared(name: str, rng: np.random.Generator) -> tuple[Any, dict[str, np.ndarray], list[np.ndarray]]:
    """The case's model with output shapes declared (onnx's checker wants them), its inputs, and
    ONNX Runtime's outputs for them in the model's own opset."""
    model = CASES[name]
    feeds = _feeds(model, rng)
    expected = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)
    declared = onnx.ModelProto()
    declared.CopyFrom(model)
    for output, value in zip(declared.graph.output, expected):
        output.type.tensor_type.shape.SetInParent()
        for size in value.shape:
            output.type.tensor_type.shape.dim.add().dim_value = size
    return declared, feeds, expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_old_opset_matches_onnxruntime(name, tmp_path, rng):
    model, feeds, expected = _prepared(name, rng)
    assert default_opset(model) < INTERNAL_OPSET
    folder = compile_onnx(model, tmp_path / "m")
    got = run_folder(folder, [feeds[v.name] for v in model.graph.input if v.name in feeds])
    assert len(got) == len(expected)
    for want, have in zip(expected, got):
        assert have.shape == want.shape and have.dtype == want.dtype
        if want.dtype.kind == "f":
            np.testing.assert_allclose(have, want, rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_array_equal(have, want)


def test_loaded_models_are_in_the_internal_opset(rng):
    for name in ("softmax_11_axis1", "upsample_7_nearest", "not_1"):
        assert default_opset(load_model(_prepared(name, rng)[0])) == INTERNAL_OPSET
    assert INTERNAL_OPSET == min(28, onnx.defs.onnx_opset_version())


def test_converted_nodes_keep_their_names_for_device_maps(tmp_path, rng):
    """Upsample becomes Resize in conversion; its node name (used by device maps) is kept."""
    model, feeds, _ = _prepared("upsample_7_nearest", rng)
    names = [n.name for n in load_model(model).graph.node]
    assert "upsample_node" in names
    folder = compile_onnx(model, tmp_path / "m", device_map={"upsample_node": "X64:0"})
    (got,) = run_folder(folder, [feeds["x"]])
    np.testing.assert_array_equal(got, feeds["x"].repeat(2, axis=2).repeat(3, axis=3))


def test_hardmax_rewrite_is_exact_on_ties_and_axis(rng):
    """Hardmax-11(axis=1) on [2,3,4]: one 1 per batch row over the whole 3x4 block (first max)."""
    from onnx.reference import ReferenceEvaluator

    x = rng.integers(0, 3, size=(2, 3, 4)).astype(np.float32)  # many ties
    model = _model([_node("Hardmax", ["x"], ["y"], axis=1)], 11, [("y", F)], inputs=[("x", F, [2, 3, 4])])
    model.graph.output[0].type.tensor_type.shape.SetInParent()
    for size in (2, 3, 4):
        model.graph.output[0].type.tensor_type.shape.dim.add().dim_value = size
    (got,) = ReferenceEvaluator(load_model(model)).run(None, {"x": x})
    flat = x.reshape(2, 12)
    want = np.zeros_like(flat)
    want[np.arange(2), flat.argmax(axis=1)] = 1
    np.testing.assert_array_equal(got, want.reshape(2, 3, 4))


def test_large_weights_survive_conversion(tmp_path, rng):
    """Weights over the detach threshold (1 MiB) are kept out of the converter and put back."""
    w = rng.standard_normal((20, 16000)).astype(np.float32)  # 1.28 MB
    nodes = [_node("MatMul", ["x", "w"], ["m"]), _node("Softmax", ["m"], ["y"], axis=1)]
    model = _model(nodes, 11, [("y", F)], {"w": w}, inputs=[("x", F, [3, 20])])
    model.graph.output[0].type.tensor_type.shape.SetInParent()
    for size in (3, 16000):
        model.graph.output[0].type.tensor_type.shape.dim.add().dim_value = size
    x = rng.standard_normal((3, 20)).astype(np.float32)
    (want,) = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    (got,) = run_folder(compile_onnx(model, tmp_path / "m"), [x])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)
