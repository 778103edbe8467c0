"""Activation fusion: compiled (fused) models vs ONNX Runtime on the unfused model; what must not fuse;
the CLI's step progress."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from compiler_models import assert_matches, onnxruntime_outputs, run_folder  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from optima_v2.cli import main  # noqa: E402
from optima_v2.compiler import compile_onnx  # noqa: E402
from optima_v2.compiler.fuse_activation import fuse_activations  # noqa: E402

F32 = TensorProto.FLOAT


def _act(op, *extra_inputs, **attrs):
    return lambda i, o: helper.make_node(op, [i, *extra_inputs], [o], name="act", **attrs)


FLOAT32_MAX = 3.4028234663852886e38
# (ONNX node builder, its extra initializers, expected native "activation", expected params)
ACTIVATIONS = [
    (_act("Relu"), [], "Relu", None),
    (_act("LeakyRelu", alpha=0.2), [], "LeakyRelu", [0.2]),
    (_act("Clip", "lo", "hi"), [("lo", 0.0), ("hi", 6.0)], "Clip", [0.0, 6.0]),  # Relu6
    (_act("Clip", "", "hi"), [("hi", 0.5)], "Clip", [-FLOAT32_MAX, 0.5]),
    (_act("Sigmoid"), [], "Sigmoid", None),
    (_act("Tanh"), [], "Tanh", None),
    (_act("HardSigmoid", alpha=0.3, beta=0.4), [], "HardSigmoid", [0.3, 0.4]),
    (_act("HardSwish"), [], "HardSwish", None),
    (_act("Gelu"), [], "Gelu", None),
    (_act("Gelu", approximate="tanh"), [], "GeluTanh", None),
]

# (producer node builder, weight initializers, x shape, y shape)
PRODUCERS = {
    "Conv": (
        lambda i, o: helper.make_node("Conv", [i, "w", "b"], [o], name="prod", pads=[1, 1, 1, 1], strides=[2, 1]),
        lambda rng: [("w", rng.standard_normal((6, 3, 3, 3)) * 0.4), ("b", rng.standard_normal(6))],
        (2, 3, 9, 11),
        (2, 6, 5, 11),
    ),
    "ConvTranspose": (
        lambda i, o: helper.make_node("ConvTranspose", [i, "w"], [o], name="prod", strides=[2, 2]),
        lambda rng: [("w", rng.standard_normal((3, 4, 3, 3)) * 0.4)],
        (1, 3, 5, 4),
        (1, 4, 11, 9),
    ),
    "Gemm": (
        lambda i, o: helper.make_node("Gemm", [i, "w", "b"], [o], name="prod", transB=1, alpha=0.5, beta=2.0),
        lambda rng: [("w", rng.standard_normal((300, 17)) * 0.4), ("b", rng.standard_normal(300))],
        (5, 17),
        (5, 300),
    ),
    "MatMul": (
        lambda i, o: helper.make_node("MatMul", [i, "w"], [o], name="prod"),
        lambda rng: [("w", rng.standard_normal((17, 9)) * 0.4)],
        (2, 5, 17),
        (2, 5, 9),
    ),
}


def _model(nodes, x_shape, y_shape, inits, opset=20, outputs=None):
    outs = outputs or [helper.make_tensor_value_info("y", F32, list(y_shape))]
    graph = helper.make_graph(
        nodes,
        "fuse",
        [helper.make_tensor_value_info("x", F32, list(x_shape))],
        outs,
        [numpy_helper.from_array(np.asarray(a, dtype=np.float32), n) for n, a in inits],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return onnx.shape_inference.infer_shapes(model)  # fuse_activations reads the tensor types


def _graph(folder, index=0):
    return json.loads((folder / f"Subgraph_{index}" / "graph.json").read_text())


def _run_and_compare(model, folder, rng, x_shape):
    x = rng.standard_normal(x_shape).astype(np.float32)
    (got,) = run_folder(folder, [x])
    assert_matches(got, onnxruntime_outputs(model, {"x": x})[0])


@pytest.mark.parametrize("producer", sorted(PRODUCERS))
@pytest.mark.parametrize("activation", range(len(ACTIVATIONS)))
def test_fused_model_matches_onnxruntime(tmp_path, rng, producer, activation):
    make_producer, weights, x_shape, y_shape = PRODUCERS[producer]
    make_act, act_inits, name, params = ACTIVATIONS[activation]
    nodes = [make_producer("x", "h"), make_act("h", "y")]
    model = _model(nodes, x_shape, y_shape, weights(rng) + act_inits)
    folder = compile_onnx(model, tmp_path / "m")
    (node,) = _graph(folder)["nodes"]
    assert node["op"] == producer and node["name"] == "prod" and node["outputs"] == ["y"]
    assert node["attributes"]["activation"] == {"type": "string", "value": name}
    if params is None:
        assert "activation_params" not in node["attributes"]
    else:
        got = node["attributes"]["activation_params"]
        assert got["type"] == "floats"
        np.testing.assert_allclose(got["value"], params, rtol=1e-6)
    _run_and_compare(model, folder, rng, x_shape)


def test_resnet_style_chain_fuses_every_pair(tmp_path, rng):
    """Conv-Relu, Conv-Clip(0, 6) (Relu6), Conv-HardSwish; the residual Add's Relu stays."""
    inits = [
        ("w1", rng.standard_normal((8, 3, 3, 3)) * 0.3),
        ("w2", rng.standard_normal((8, 8, 3, 3)) * 0.2),
        ("w3", rng.standard_normal((8, 1, 3, 3)) * 0.3),
        ("lo", 0.0),
        ("hi", 6.0),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2", pads=[1, 1, 1, 1]),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["r2"], name="relu6"),
        helper.make_node("Conv", ["r2", "w3"], ["c3"], name="dw", pads=[1, 1, 1, 1], group=8),
        helper.make_node("HardSwish", ["c3"], ["r3"], name="hswish"),
        helper.make_node("Add", ["r3", "r1"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["y"], name="relu_out"),
    ]
    model = _model(nodes, (1, 3, 12, 12), (1, 8, 12, 12), inits)
    folder = compile_onnx(model, tmp_path / "m")
    graph = _graph(folder)
    fused = {n["name"]: n.get("attributes", {}).get("activation", {}).get("value") for n in graph["nodes"]}
    assert fused == {"conv1": "Relu", "conv2": "Clip", "dw": "HardSwish", "add": None, "relu_out": None}
    _run_and_compare(model, folder, rng, (1, 3, 12, 12))


def _conv_relu(rng, outputs=None, extra_nodes=()):
    inits = [("w", rng.standard_normal((4, 3, 1, 1)))]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
        helper.make_node("Relu", ["c"], ["y"], name="relu"),
        *extra_nodes,
    ]
    return _model(nodes, (1, 3, 4, 4), (1, 4, 4, 4), inits, outputs=outputs)


def _ops(model) -> list[str]:
    return [n.op_type for n in model.graph.node]


def test_not_fused_when_the_intermediate_has_another_consumer(rng):
    outs = [helper.make_tensor_value_info(n, F32, [1, 4, 4, 4]) for n in ("y", "z")]
    model = _conv_relu(rng, outs, [helper.make_node("Sigmoid", ["c"], ["z"], name="sig")])
    assert fuse_activations(model.graph, {}, "x64:0") == 0
    assert _ops(model) == ["Conv", "Relu", "Sigmoid"]


def test_not_fused_when_the_intermediate_is_a_graph_output(rng):
    outs = [helper.make_tensor_value_info(n, F32, [1, 4, 4, 4]) for n in ("y", "c")]
    model = _conv_relu(rng, outs)
    assert fuse_activations(model.graph, {}, "x64:0") == 0


def test_not_fused_off_the_native_backend(rng):
    model = _conv_relu(rng)
    assert fuse_activations(model.graph, {}, "NVIDIA:0") == 0  # the whole graph on the accelerator
    assert fuse_activations(model.graph, {"relu": "NVIDIA:0"}, "x64:0") == 0  # split between devices
    assert fuse_activations(model.graph, {"conv": "NVIDIA:0"}, "x64:0") == 0
    assert _ops(model) == ["Conv", "Relu"]
    assert fuse_activations(model.graph, {"conv": "x64:0"}, "x64:0") == 1
    assert _ops(model) == ["Conv"]


def test_not_fused_when_clip_bounds_are_computed_or_inverted(rng):
    base = [("w", rng.standard_normal((4, 3)))]
    for inits, clip_inputs in (
        (base, ["m", "x_min"]),  # a bound that is not a constant
        ([*base, ("lo", 2.0), ("hi", 1.0)], ["m", "lo", "hi"]),  # min > max: ONNX gives max
    ):
        nodes = [
            helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
            helper.make_node("ReduceMin", ["x"], ["x_min"], name="rmin", keepdims=0),
            helper.make_node("Clip", clip_inputs, ["y"], name="clip"),
        ]
        model = _model(nodes, (2, 4), (2, 3), inits, opset=17)
        assert fuse_activations(model.graph, {}, "x64:0") == 0


def test_not_fused_for_integer_outputs_or_other_producers():
    inits = [numpy_helper.from_array(np.ones((3, 2), np.int32), "w")]
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["m"], name="mm"),
            helper.make_node("Relu", ["m"], ["y"], name="relu"),
        ],
        "int",
        [helper.make_tensor_value_info("x", TensorProto.INT32, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [2, 2])],
        inits,
    )
    model = onnx.shape_inference.infer_shapes(helper.make_model(graph))
    assert fuse_activations(model.graph, {}, "x64:0") == 0
    add = _model(
        [helper.make_node("Add", ["x", "x"], ["a"], name="add"), helper.make_node("Relu", ["a"], ["y"], name="r")],
        (2, 2),
        (2, 2),
        [],
    )
    assert fuse_activations(add.graph, {}, "x64:0") == 0


def test_no_fusion_without_optimization(tmp_path, rng):
    model = _conv_relu(rng)
    folder = compile_onnx(model, tmp_path / "m", optimize=False)
    assert [n["op"] for n in _graph(folder)["nodes"]] == ["Conv", "Relu"]
    assert all("activation" not in n.get("attributes", {}) for n in _graph(folder)["nodes"])


def test_device_map_split_keeps_the_accelerator_part_unfused(tmp_path, rng):
    model = _conv_relu(rng)
    folder = compile_onnx(model, tmp_path / "m", device_map={"relu": "NVIDIA:0"})
    assert [n["op"] for n in _graph(folder, 0)["nodes"]] == ["Conv"]
    assert "activation" not in _graph(folder, 0)["nodes"][0].get("attributes", {})
    assert [n["op"] for n in _graph(folder, 1)["nodes"]] == ["Relu"]


def test_cli_compile_prints_numbered_steps_with_times(tmp_path, rng, capsys):
    onnx.save(_conv_relu(rng), tmp_path / "m.onnx")
    assert main(["compile", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().err.strip().splitlines()
    steps = [re.fullmatch(r"\[(\d+)/(\d+)\] ([a-z ]+) \.\.\. \d+\.\d s", line) for line in lines]
    assert all(steps), lines
    assert [int(m.group(1)) for m in steps] == list(range(1, len(lines) + 1))
    assert {int(m.group(2)) for m in steps} == {len(lines)}
    names = [m.group(3) for m in steps]
    assert names[0] == "loading" and names[-1] == "checking with the runtime"
    assert {"folding constants", "folding batch norms", "fusing activations"} <= set(names)
    assert main(["compile", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "out2"), "--no-optimize"]) == 0
    plain = capsys.readouterr().err
    assert "fusing activations" not in plain and "[1/5] loading ..." in plain


def test_cli_marks_the_failing_step(tmp_path, rng, capsys):
    model = _conv_relu(rng)
    model.graph.node[0].op_type = "NoSuchOp"
    onnx.save(model, tmp_path / "bad.onnx")
    assert main(["compile", str(tmp_path / "bad.onnx"), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert re.search(r"\] [a-z ]+ \.\.\. \d+\.\d s \(failed\)\nerror: ", err), err
