"""Residual fusion (Add(Conv(x), z) -> Conv with a fourth input): compiled models vs ONNX Runtime
on the unfused model, the fused nodes' shape, and what must not fuse."""

from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from compiler_models import assert_matches, onnxruntime_outputs, run_folder  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from optima_v2.compiler import compile_onnx  # noqa: E402
from optima_v2.compiler.fuse_residual import fuse_residual_adds  # noqa: E402

F32 = TensorProto.FLOAT


def _model(nodes, inputs, y_shape, inits, outputs=None):
    outs = outputs or [helper.make_tensor_value_info("y", F32, list(y_shape))]
    graph = helper.make_graph(
        nodes,
        "residual",
        [helper.make_tensor_value_info(name, F32, list(shape)) for name, shape in inputs],
        outs,
        [numpy_helper.from_array(np.asarray(a, dtype=np.float32), n) for n, a in inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return onnx.shape_inference.infer_shapes(model)  # the pass reads the tensor shapes


def _nodes(folder, index=0):
    return json.loads((folder / f"Subgraph_{index}" / "graph.json").read_text())["nodes"]


def _compare(model, folder, rng, inputs):
    feeds = {name: rng.standard_normal(shape).astype(np.float32) for name, shape in inputs}
    got = run_folder(folder, list(feeds.values()))
    for mine, theirs in zip(got, onnxruntime_outputs(model, feeds)):
        assert_matches(mine, theirs)


def _block(rng, channels=8, size=9):
    """A ResNet basic block: conv-relu, conv, + the block input, relu."""
    inits = [
        ("w1", rng.standard_normal((channels, channels, 3, 3)) * 0.2),
        ("b1", rng.standard_normal(channels)),
        ("w2", rng.standard_normal((channels, channels, 3, 3)) * 0.2),
        ("b2", rng.standard_normal(channels)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "x"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["y"], name="relu2"),
    ]
    shape = (1, channels, size, size)
    return _model(nodes, [("x", shape)], shape, inits), [("x", shape)]


@pytest.mark.parametrize(("channels", "size"), [(8, 9), (40, 7), (130, 6), (64, 12)])
def test_resnet_block_becomes_two_convs(tmp_path, rng, channels, size):
    """Sizes reach the native kernel's paths: im2col/shifted rows, row bands, row bands that skip
    the padded kernel columns (from 64 channels), and those reading the input unpadded in place
    (planes of 100 pixels and more)."""
    model, inputs = _block(rng, channels, size)
    folder = compile_onnx(model, tmp_path / "m")
    nodes = _nodes(folder)
    assert [(n["name"], n["op"]) for n in nodes] == [("conv1", "Conv"), ("conv2", "Conv")]
    assert nodes[1]["inputs"] == ["r1", "w2", "b2", "x"]
    assert nodes[1]["outputs"] == ["y"]
    assert nodes[1]["attributes"]["activation"]["value"] == "Relu"
    _compare(model, folder, rng, inputs)


def test_residual_computed_after_the_conv(tmp_path, rng):
    """Add(Conv(x), z) with z produced by a node listed after the Conv, and a Conv without bias:
    the fused node moves to the Add's place and keeps an empty bias slot."""
    inits = [("w", rng.standard_normal((6, 3, 3, 3)) * 0.3), ("v", rng.standard_normal((6, 3, 1, 1)))]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Conv", ["x", "v"], ["z"], name="shortcut", strides=[2, 2]),
        helper.make_node("Add", ["c", "z"], ["y"], name="add"),
    ]
    model = _model(nodes, [("x", (2, 3, 11, 11))], (2, 6, 6, 6), inits)
    folder = compile_onnx(model, tmp_path / "m")
    assert [(n["name"], n["inputs"], n["outputs"]) for n in _nodes(folder)] == [
        ("shortcut", ["x", "v"], ["z"]),
        ("conv", ["x", "w", "", "z"], ["y"]),
    ]
    _compare(model, folder, rng, [("x", (2, 3, 11, 11))])


def _conv_add(rng, z_shape=(1, 4, 5, 5), outputs=None, extra=()):
    inits = [("w", rng.standard_normal((4, 3, 3, 3)))]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c", "z"], ["y"], name="add"),
        *extra,
    ]
    return _model(nodes, [("x", (1, 3, 5, 5)), ("z", z_shape)], (1, 4, 5, 5), inits, outputs)


def _ops(model) -> list[str]:
    return [n.op_type for n in model.graph.node]


def test_fuses_with_the_conv_on_either_side_of_the_add(rng):
    for swap in (False, True):
        model = _conv_add(rng)
        if swap:
            model.graph.node[1].input[:] = ["z", "c"]
        assert fuse_residual_adds(model.graph, {}, "x64:0") == 1
        assert _ops(model) == ["Conv"] and list(model.graph.node[0].input) == ["x", "w", "", "z"]
        assert list(model.graph.node[0].output) == ["y"]


def test_not_fused_when_the_add_broadcasts(rng):
    for z_shape in ((1, 4, 1, 1), (4, 1, 1), (1,)):
        model = _conv_add(rng, z_shape)
        assert fuse_residual_adds(model.graph, {}, "x64:0") == 0
        assert _ops(model) == ["Conv", "Add"]


def test_not_fused_when_the_conv_output_is_read_elsewhere(rng):
    outs = [helper.make_tensor_value_info(n, F32, [1, 4, 5, 5]) for n in ("y", "s")]
    model = _conv_add(rng, outputs=outs, extra=[helper.make_node("Sigmoid", ["c"], ["s"], name="sig")])
    assert fuse_residual_adds(model.graph, {}, "x64:0") == 0
    outs = [helper.make_tensor_value_info(n, F32, [1, 4, 5, 5]) for n in ("y", "c")]
    assert fuse_residual_adds(_conv_add(rng, outputs=outs).graph, {}, "x64:0") == 0


def test_not_fused_after_an_activation_or_off_the_native_backend(rng):
    model = _conv_add(rng)
    model.graph.node[0].attribute.append(helper.make_attribute("activation", "Relu"))
    assert fuse_residual_adds(model.graph, {}, "x64:0") == 0  # Relu(conv) + z is not conv + z
    model = _conv_add(rng)
    assert fuse_residual_adds(model.graph, {}, "NVIDIA:0") == 0
    assert fuse_residual_adds(model.graph, {"add": "NVIDIA:0"}, "x64:0") == 0
    assert _ops(model) == ["Conv", "Add"]


def test_no_residual_fusion_without_optimization(tmp_path, rng):
    model, _ = _block(rng)
    folder = compile_onnx(model, tmp_path / "m", optimize=False)
    assert [n["op"] for n in _nodes(folder)] == ["Conv", "Relu", "Conv", "Add", "Relu"]
