"""BatchNorm folding: ONNX Runtime on the model before vs after the pass, and the cases that must not fold."""

from __future__ import annotations

import copy
import json
from typing import Optional

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from compiler_models import assert_matches, onnxruntime_outputs, run_folder  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from optima_v2.compiler import compile_onnx  # noqa: E402
from optima_v2.compiler.dead_code import remove_dead_nodes  # noqa: E402
from optima_v2.compiler.fold_batchnorm import fold_batchnorms  # noqa: E402

F32 = TensorProto.FLOAT


def _bn_params(rng: np.random.Generator, channels: int, prefix: str = "bn") -> list[tuple[str, np.ndarray]]:
    return [
        (f"{prefix}.scale", rng.uniform(0.5, 1.5, channels).astype(np.float32)),
        (f"{prefix}.bias", rng.standard_normal(channels).astype(np.float32)),
        (f"{prefix}.mean", rng.standard_normal(channels).astype(np.float32)),
        (f"{prefix}.var", rng.uniform(0.2, 2.0, channels).astype(np.float32)),
    ]


def _bn(x: str, y: str, prefix: str = "bn", **attrs) -> onnx.NodeProto:
    names = [f"{prefix}.{p}" for p in ("scale", "bias", "mean", "var")]
    return helper.make_node("BatchNormalization", [x, *names], [y], name=prefix, **attrs)


def _model(nodes, x_shape, y_shape, inits, opset=17, extra_inputs=(), outputs=("y",)):
    inputs = [helper.make_tensor_value_info("x", F32, list(x_shape))]
    inputs += [helper.make_tensor_value_info(name, F32, list(shape)) for name, shape in extra_inputs]
    outs = [helper.make_tensor_value_info(name, F32, None) for name in outputs]
    outs[0] = helper.make_tensor_value_info(outputs[0], F32, list(y_shape))
    graph = helper.make_graph(nodes, "bn", inputs, outs, [numpy_helper.from_array(a, n) for n, a in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return onnx.shape_inference.infer_shapes(model)


def _fold(model) -> tuple[onnx.ModelProto, int]:
    folded = copy.deepcopy(model)
    count = fold_batchnorms(folded.graph)
    remove_dead_nodes(folded.graph)
    onnx.checker.check_model(folded)
    return folded, count


def _feeds(model, rng: np.random.Generator) -> dict[str, np.ndarray]:
    feeds = {}
    for value in model.graph.input:
        dims = [d.dim_value for d in value.type.tensor_type.shape.dim]
        feeds[value.name] = rng.standard_normal(dims).astype(np.float32)
    return feeds


def _check_folds(model, rng: np.random.Generator, remaining: Optional[list[str]] = None) -> onnx.ModelProto:
    folded, count = _fold(model)
    assert count == 1
    ops = [n.op_type for n in folded.graph.node]
    assert "BatchNormalization" not in ops
    if remaining is not None:
        assert ops == remaining
    feeds = _feeds(model, rng)
    want = onnxruntime_outputs(model, feeds)
    got = onnxruntime_outputs(folded, feeds)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(w).max())))
    return folded


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("group", [1, 2, 6])
def test_conv_bn_folds(rng, bias, group):
    w = (rng.standard_normal((6, 6 // group, 3, 3)) * 0.3).astype(np.float32)
    inits = [("w", w), *_bn_params(rng, 6)]
    inputs = ["x", "w"]
    if bias:
        inits.append(("b", rng.standard_normal(6).astype(np.float32)))
        inputs.append("b")
    nodes = [
        helper.make_node("Conv", inputs, ["c"], name="conv", pads=[1, 0, 1, 2], strides=[2, 1], group=group),
        _bn("c", "y", epsilon=1e-3),
    ]
    folded = _check_folds(_model(nodes, (2, 6, 9, 7), (2, 6, 5, 7), inits), rng, ["Conv"])
    assert folded.graph.node[0].output[0] == "y" and len(folded.graph.node[0].input) == 3


@pytest.mark.parametrize("opset", [9, 14, 15])
def test_conv_bn_folds_across_opsets(rng, opset):
    inits = [("w", rng.standard_normal((4, 3, 1, 1)).astype(np.float32)), *_bn_params(rng, 4)]
    attrs = {"training_mode": 0} if opset >= 14 else {}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"), _bn("c", "y", **attrs)]
    _check_folds(_model(nodes, (1, 3, 5, 5), (1, 4, 5, 5), inits, opset=opset), rng, ["Conv"])


def test_conv_transpose_bn_folds(rng):
    inits = [("w", (rng.standard_normal((3, 5, 3, 3)) * 0.3).astype(np.float32)), *_bn_params(rng, 5)]
    inits.append(("b", rng.standard_normal(5).astype(np.float32)))
    nodes = [
        helper.make_node("ConvTranspose", ["x", "w", "b"], ["c"], name="deconv", strides=[2, 2], pads=[1, 1, 1, 1]),
        _bn("c", "y"),
    ]
    _check_folds(_model(nodes, (1, 3, 4, 5), (1, 5, 7, 9), inits), rng, ["ConvTranspose"])


@pytest.mark.parametrize(
    ("trans_b", "c_shape", "beta"),
    [(0, (7,), 1.0), (1, (1, 7), 0.5), (1, (), 2.0), (0, (3, 7), 1.0), (0, None, 1.0), (1, (7,), 0.0)],
)
def test_gemm_bn_folds(rng, trans_b, c_shape, beta):
    w = rng.standard_normal((7, 5) if trans_b else (5, 7)).astype(np.float32)
    inits = [("w", w), *_bn_params(rng, 7)]
    inputs = ["x", "w"]
    if c_shape is not None:
        inits.append(("c", rng.standard_normal(c_shape).astype(np.float32)))
        inputs.append("c")
    nodes = [
        helper.make_node("Gemm", inputs, ["g"], name="fc", transB=trans_b, alpha=0.7, beta=beta),
        _bn("g", "y"),
    ]
    _check_folds(_model(nodes, (3, 5), (3, 7), inits), rng, ["Gemm"])


def test_matmul_add_bn_folds(rng):
    inits = [("w", rng.standard_normal((5, 7)).astype(np.float32)), ("c", rng.standard_normal(7).astype(np.float32))]
    inits += _bn_params(rng, 7)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
        helper.make_node("Add", ["c", "m"], ["a"], name="add"),  # constant on the left
        _bn("a", "y"),
    ]
    _check_folds(_model(nodes, (4, 5), (4, 7), inits), rng, ["MatMul", "Add"])


def test_matmul_bn_becomes_matmul_add(rng):
    inits = [("w", rng.standard_normal((5, 7)).astype(np.float32)), *_bn_params(rng, 7)]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"), _bn("m", "y")]
    _check_folds(_model(nodes, (4, 5), (4, 7), inits), rng, ["MatMul", "Add"])


def test_shared_weights_are_not_modified_in_place(rng):
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    inits = [("w", w), *_bn_params(rng, 4)]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        _bn("c", "y"),
        helper.make_node("Conv", ["x", "w"], ["z"], name="conv2", pads=[1, 1, 1, 1]),
    ]
    model = _model(nodes, (1, 3, 6, 6), (1, 4, 6, 6), inits, outputs=("y", "z"))
    folded = _check_folds(model, rng, ["Conv", "Conv"])
    assert folded.graph.node[1].input[1] == "w"


def _not_folded(model) -> None:
    folded, count = _fold(model)
    assert count == 0
    assert [n.op_type for n in folded.graph.node] == [n.op_type for n in model.graph.node]


def test_bn_input_used_twice_does_not_fold(rng):
    inits = [("w", rng.standard_normal((4, 3, 1, 1)).astype(np.float32)), *_bn_params(rng, 4)]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
        _bn("c", "y"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
    ]
    _not_folded(_model(nodes, (1, 3, 4, 4), (1, 4, 4, 4), inits, outputs=("y", "r")))


def test_producer_output_that_is_a_graph_output_does_not_fold(rng):
    inits = [("w", rng.standard_normal((4, 3, 1, 1)).astype(np.float32)), *_bn_params(rng, 4)]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"), _bn("c", "y")]
    _not_folded(_model(nodes, (1, 3, 4, 4), (1, 4, 4, 4), inits, outputs=("y", "c")))


def test_non_constant_weights_do_not_fold(rng):
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"), _bn("c", "y")]
    model = _model(nodes, (1, 3, 4, 4), (1, 4, 4, 4), _bn_params(rng, 4), extra_inputs=[("w", (4, 3, 1, 1))])
    _not_folded(model)


def test_non_constant_bn_parameters_do_not_fold(rng):
    params = _bn_params(rng, 4)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"), _bn("c", "y")]
    inits = [("w", rng.standard_normal((4, 3, 1, 1)).astype(np.float32)), *params[1:]]
    _not_folded(_model(nodes, (1, 3, 4, 4), (1, 4, 4, 4), inits, extra_inputs=[("bn.scale", (4,))]))


def test_training_mode_does_not_fold(rng):
    inits = [("w", rng.standard_normal((4, 3, 1, 1)).astype(np.float32)), *_bn_params(rng, 4)]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"), _bn("c", "y", training_mode=1)]
    _not_folded(_model(nodes, (1, 3, 4, 4), (1, 4, 4, 4), inits, opset=15))


def test_grouped_conv_transpose_does_not_fold(rng):
    inits = [("w", rng.standard_normal((4, 3, 3, 3)).astype(np.float32)), *_bn_params(rng, 6)]
    nodes = [helper.make_node("ConvTranspose", ["x", "w"], ["c"], name="deconv", group=2), _bn("c", "y")]
    _not_folded(_model(nodes, (1, 4, 4, 4), (1, 6, 6, 6), inits))


def test_channel_axis_mismatch_does_not_fold(rng):
    # 3-D MatMul output [2, 7, 5]: BN's channel axis (1, size 7) is not the weight's column axis.
    inits = [("w", rng.standard_normal((4, 5)).astype(np.float32)), *_bn_params(rng, 7)]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"), _bn("m", "y")]
    model = _model(nodes, (2, 7, 4), (2, 7, 5), inits)
    _not_folded(model)
    feeds = _feeds(model, rng)
    assert onnxruntime_outputs(model, feeds)[0].shape == (2, 7, 5)


def test_channel_axis_mismatch_with_equal_sizes_does_not_fold(rng):
    # MatMul output [2, 5, 5]: BN's channel count equals the weight's columns, but its axis (1)
    # is the rows of each product; folding into the columns would be wrong.
    inits = [("w", rng.standard_normal((4, 5)).astype(np.float32)), *_bn_params(rng, 5)]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"), _bn("m", "y")]
    _not_folded(_model(nodes, (2, 5, 4), (2, 5, 5), inits))


def test_compiled_resnet_block_matches_onnxruntime(tmp_path, rng):
    """Conv-BN-Relu x2 + residual: compiled (BN folded, the residual Add and the activations
    fused) vs ONNX Runtime."""
    inits = [
        ("w1", (rng.standard_normal((8, 4, 3, 3)) * 0.3).astype(np.float32)),
        ("w2", (rng.standard_normal((8, 8, 3, 3)) * 0.2).astype(np.float32)),
        ("wp", (rng.standard_normal((8, 4, 1, 1)) * 0.5).astype(np.float32)),
        *_bn_params(rng, 8, "bn1"),
        *_bn_params(rng, 8, "bn2"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        _bn("c1", "n1", "bn1"),
        helper.make_node("Relu", ["n1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        _bn("c2", "n2", "bn2"),
        helper.make_node("Conv", ["x", "wp"], ["p"], name="proj"),
        helper.make_node("Add", ["n2", "p"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["y"], name="relu2"),
    ]
    model = _model(nodes, (1, 4, 10, 10), (1, 8, 10, 10), inits)
    folder = compile_onnx(model, tmp_path / "block")
    graph = json.loads((folder / "Subgraph_0" / "graph.json").read_text())
    assert sorted(n["op"] for n in graph["nodes"]) == ["Conv", "Conv", "Conv"]
    x = rng.standard_normal((1, 4, 10, 10)).astype(np.float32)
    (got,) = run_folder(folder, [x])
    assert_matches(got, onnxruntime_outputs(model, {"x": x})[0])
