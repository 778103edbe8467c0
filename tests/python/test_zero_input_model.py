"""Models without inputs: outputs computed from constants only (Range, ConstantOfShape, Constant).

The model folder format allows zero inputs; the compiler keeps the node computing such an output
(or an Identity of a constant output) and the runtime infers it. Oracle: numpy.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import optima_v2.runtime as rt
from optima_v2.model_folder import Graph, ModelFolder

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from optima_v2.compiler import compile_onnx  # noqa: E402


def _infer(folder) -> list[np.ndarray]:
    model = rt.Context().load_model(str(folder))
    assert len(model.input_tensors_info) == 0
    outputs = []
    for _ in range(2):  # every request computes the same outputs
        request = model.create_request()
        request.set_inputs([])
        request.infer()
        assert request.wait() is False
        outputs = [np.array(o) for o in request.get_outputs()]
    return outputs


def test_model_folder_without_inputs_loads_and_infers(tmp_path):
    a = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    b = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    graph = Graph()
    graph.add_constant("a", a)
    graph.add_constant("b", b)
    graph.add_tensor("y", "F32", (2, 3))
    graph.add_node("Add", ["a", "b"], ["y"])
    graph.add_output("y")
    folder = ModelFolder("constants_only")
    folder.add_subgraph(graph)
    path = folder.write(tmp_path / "m")
    meta = json.loads((path / "model.meta").read_text())
    assert meta["inputs"] == []
    (y,) = _infer(path)
    np.testing.assert_array_equal(y, a + b)


def _model(nodes, outputs, initializers=(), opset=21):
    graph = helper.make_graph(nodes, "constants", [], outputs, list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def test_range_of_constants_compiles_to_a_zero_input_model(tmp_path):
    inits = [
        numpy_helper.from_array(np.array(1.5, np.float32), "start"),
        numpy_helper.from_array(np.array(7.0, np.float32), "limit"),
        numpy_helper.from_array(np.array(0.75, np.float32), "delta"),
    ]
    model = _model(
        [helper.make_node("Range", ["start", "limit", "delta"], ["y"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8])],
        inits,
    )
    (y,) = _infer(compile_onnx(model, tmp_path / "m"))
    np.testing.assert_allclose(y, np.arange(1.5, 7.0, 0.75, dtype=np.float32), rtol=1e-6)


def test_constant_of_shape_and_rank0_constant_outputs(tmp_path):
    """Two outputs: ConstantOfShape of a constant shape, and a Constant node's rank-0 value."""
    nodes = [
        helper.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(np.array([2, 3], np.int64))),
        helper.make_node(
            "ConstantOfShape", ["shape"], ["filled"], value=numpy_helper.from_array(np.array([2.5], np.float32))
        ),
        helper.make_node("Constant", [], ["scalar"], value=numpy_helper.from_array(np.array(-4, np.int32))),
    ]
    outputs = [
        helper.make_tensor_value_info("filled", TensorProto.FLOAT, [2, 3]),
        helper.make_tensor_value_info("scalar", TensorProto.INT32, []),
    ]
    filled, scalar = _infer(compile_onnx(_model(nodes, outputs), tmp_path / "m"))
    np.testing.assert_array_equal(filled, np.full((2, 3), 2.5, np.float32))
    assert scalar.shape == () and scalar.dtype == np.int32 and int(scalar) == -4


def test_constant_output_also_read_by_a_node(tmp_path):
    """The output constant keeps feeding its other reader (renamed, with an Identity for the output)."""
    nodes = [
        helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.array([1.0, -2.0], np.float32))),
        helper.make_node("Neg", ["c"], ["n"]),
    ]
    outputs = [
        helper.make_tensor_value_info("c", TensorProto.FLOAT, [2]),
        helper.make_tensor_value_info("n", TensorProto.FLOAT, [2]),
    ]
    c, n = _infer(compile_onnx(_model(nodes, outputs), tmp_path / "m"))
    np.testing.assert_array_equal(c, np.array([1.0, -2.0], np.float32))
    np.testing.assert_array_equal(n, np.array([-1.0, 2.0], np.float32))


def test_rank0_constants_stay_rank0(tmp_path, rng):
    """A scalar constant (shape ()) read by CastLike/Mul is written with shape (), not (1,)."""
    x = rng.standard_normal((3, 4)).astype(np.float32)
    nodes = [
        helper.make_node("CastLike", ["alpha", "x"], ["alpha_cast"]),
        helper.make_node("Mul", ["x", "alpha_cast"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "scalar",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])],
        [numpy_helper.from_array(np.array(0.5, np.float64), "alpha")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    # optimize=False: CastLike of the constant is not folded, so the native backend sees it.
    folder = compile_onnx(model, tmp_path / "m", optimize=False)
    graph_json = json.loads((folder / "Subgraph_0" / "graph.json").read_text())
    shapes = {t["name"]: t["shape"] for t in graph_json["tensors"]}
    assert shapes["alpha"] == [] and shapes["alpha_cast"] == []
    loaded = rt.Context().load_model(str(folder))
    request = loaded.create_request()
    request.set_inputs([x])
    request.infer()
    assert request.wait() is False
    np.testing.assert_allclose(np.array(request.get_outputs()[0]), x * np.float32(0.5), rtol=1e-6)
