"""The compiler passes one by one, checked against onnx's reference evaluator."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from compiler_models import cnn, mlp, shape_chain  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

from optima_v2.compiler.dead_code import remove_dead_nodes  # noqa: E402
from optima_v2.compiler.folding import fold_constants  # noqa: E402
from optima_v2.compiler.loading import load_model  # noqa: E402
from optima_v2.compiler.placement import device_map_template, partition, read_device_map  # noqa: E402
from optima_v2.compiler.shapes import apply_input_shapes, infer_shapes, static_specs, tensor_types  # noqa: E402
from optima_v2.compiler.simplify import remove_identities  # noqa: E402


def _reference(model, feeds):
    return ReferenceEvaluator(model).run(None, feeds)


def test_loading_names_nodes_and_turns_constants_into_initializers(rng):
    model = shape_chain(rng)
    model.graph.node[0].name = ""
    model.graph.node[2].name = "gather"  # duplicate
    loaded = load_model(model)
    names = [n.name for n in loaded.graph.node]
    assert len(set(names)) == len(names) and names[0] == "Shape_0" and names[2] == "Unsqueeze_2"
    assert "Constant" not in [n.op_type for n in loaded.graph.node]
    minus1 = next(t for t in loaded.graph.initializer if t.name == "minus1")
    assert numpy_helper.to_array(minus1).tolist() == [-1]
    assert model.graph.node[0].name == ""  # the caller's model is untouched


def test_shapes_become_static(rng):
    model = load_model(shape_chain(rng))
    apply_input_shapes(model, {"x": [5, 4, 6]})
    model = infer_shapes(model)
    specs = static_specs(model)
    assert specs["x"] == ("F32", (5, 4, 6))
    assert specs["y"] == ("F32", (5, 5))  # through data propagation of Shape -> ... -> Reshape
    assert specs["shape"] == ("I64", (3,))


def test_identity_and_dropout_removal_keeps_results(rng):
    model = load_model(mlp(rng))
    x = rng.standard_normal((2, 8)).astype(np.float32)
    want = _reference(model, {"x": x})
    assert remove_identities(model.graph) == 2
    assert [n.op_type for n in model.graph.node] == ["Gemm", "Relu", "Gemm", "Relu"]
    assert model.graph.node[-1].output[0] == "y"  # the graph output keeps its name
    np.testing.assert_array_equal(_reference(model, {"x": x})[0], want[0])


def test_identity_from_input_to_output_stays():
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"], name="copy")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
    )
    assert remove_identities(graph) == 0 and len(graph.node) == 1


def test_dead_nodes_and_unused_initializers_go(rng):
    model = load_model(cnn(rng))
    dead_weight = numpy_helper.from_array(np.ones((3,), np.float32), "unused_w")
    model.graph.initializer.append(dead_weight)
    model.graph.node.append(helper.make_node("Relu", ["c2"], ["dangling"], name="dead"))
    x = rng.standard_normal((1, 3, 16, 16)).astype(np.float32)
    want = _reference(model, {"x": x})[0]
    assert remove_dead_nodes(model.graph) == 1
    assert "dead" not in [n.name for n in model.graph.node]
    assert "unused_w" not in [t.name for t in model.graph.initializer]
    np.testing.assert_array_equal(_reference(model, {"x": x})[0], want)


def test_folding_matches_the_reference_evaluator(rng):
    model = load_model(shape_chain(rng))
    apply_input_shapes(model, {"x": [3, 4, 6]})
    model = infer_shapes(model)
    x = rng.standard_normal((3, 4, 6)).astype(np.float32)
    want = _reference(model, {"x": x})[0]
    assert fold_constants(model.graph, tensor_types(model), 17) == 4  # Shape, Gather, Unsqueeze, Concat
    remove_dead_nodes(model.graph)
    assert [n.op_type for n in model.graph.node] == ["Reshape", "MatMul", "Tanh"]
    target = next(t for t in model.graph.initializer if t.name == "target")
    assert numpy_helper.to_array(target).tolist() == [3, -1]
    np.testing.assert_allclose(_reference(model, {"x": x})[0], want, rtol=0, atol=0)


def test_folding_leaves_dynamic_shapes_alone(rng):
    model = load_model(shape_chain(rng))  # batch still symbolic: Shape cannot fold
    assert fold_constants(model.graph, tensor_types(model), 17) == 0


def test_partition_keeps_devices_together(rng):
    model = load_model(cnn(rng))
    devices = read_device_map({"relu1": "NVIDIA:0", "conv3": "nvidia:0"})
    parts = partition(model.graph, devices, "x64:0")
    # relu1 and conv3 are not adjacent in any topological order: two accelerator subgraphs.
    assert [(p.device, p.framework, [n.name for n in p.nodes]) for p in parts] == [
        ("x64:0", "Native", ["conv1"]),
        ("NVIDIA:0", "OpenCL", ["relu1"]),
        ("x64:0", "Native", ["conv2", "add", "relu2"]),
        ("NVIDIA:0", "OpenCL", ["conv3"]),
        ("x64:0", "Native", ["relu3"]),
    ]


def test_partition_prefers_the_current_device():
    # Two independent branches a1 -> a2 and b1 -> b2 interleaved in model order: grouping by device
    # gives two subgraphs, model order would give four.
    nodes = [
        helper.make_node("Relu", ["x"], ["a1"], name="a1"),
        helper.make_node("Relu", ["x"], ["b1"], name="b1"),
        helper.make_node("Relu", ["a1"], ["a2"], name="a2"),
        helper.make_node("Relu", ["b1"], ["b2"], name="b2"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in ("a2", "b2")],
    )
    parts = partition(graph, {"b1": "NVIDIA:0", "b2": "NVIDIA:0"}, "x64:0")
    assert [[n.name for n in p.nodes] for p in parts] == [["a1", "a2"], ["b1", "b2"]]


def test_device_map_template(rng):
    names = [n.name for n in load_model(cnn(rng)).graph.node]
    template = device_map_template(names, "X64:0")
    assert list(template) == names and set(template.values()) == {"x64:0"}
    assert read_device_map(template) == template
