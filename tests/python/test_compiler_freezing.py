"""compile_onnx(input_values=...): inputs become constants; shape_value_inputs finds which must."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from compiler_models import run_folder  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

from optima_v2.compiler import CompileError, compile_onnx, shape_value_inputs  # noqa: E402


def _reshape_model():
    """y = Relu(Reshape(x, shape)) with the target shape fed as a model input."""
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape"),
        helper.make_node("Relu", ["r"], ["y"], name="relu"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b"])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_shape_value_inputs_follow_producers_but_not_shape_reads():
    nodes = [
        helper.make_node("Cast", ["k_float"], ["k"], to=TensorProto.INT64),
        helper.make_node("TopK", ["x", "k"], ["values", "indices"]),
        helper.make_node("Shape", ["z"], ["z_shape"]),
        helper.make_node("Reshape", ["x", "z_shape"], ["r"]),
        helper.make_node("Gather", ["x", "idx"], ["g"]),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [6]),
            helper.make_tensor_value_info("k_float", TensorProto.FLOAT, [1]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3]),
            helper.make_tensor_value_info("idx", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("values", "r", "g")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    # TopK's K comes from k_float through a Cast; Reshape's target only from z's *shape*; Gather's
    # indices decide values, not shapes.
    assert shape_value_inputs(model) == ["k_float"]
    assert shape_value_inputs(_reshape_model()) == ["shape"]


def test_frozen_input_becomes_a_constant(tmp_path, rng):
    target = np.array([4, 6], dtype=np.int64)
    folder = compile_onnx(_reshape_model(), tmp_path / "out", input_values={"shape": target})
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    (got,) = run_folder(folder, [x])  # the model's only input is x now
    np.testing.assert_array_equal(got, np.maximum(x.reshape(4, 6), 0))


def test_input_values_are_checked(tmp_path):
    with pytest.raises(CompileError, match=r"\['nope'\], which are not model inputs"):
        compile_onnx(_reshape_model(), tmp_path / "out", input_values={"nope": np.zeros(2)})
    with pytest.raises(CompileError, match=r"input_values\['shape'\]: dtype int32 but the input is INT64"):
        compile_onnx(_reshape_model(), tmp_path / "out", input_values={"shape": np.array([4, 6], np.int32)})
    with pytest.raises(CompileError, match=r"input_values\['shape'\]: shape \[3\] but the input is \[2\]"):
        compile_onnx(_reshape_model(), tmp_path / "out", input_values={"shape": np.array([4, 6, 1], np.int64)})
    with pytest.raises(CompileError, match=r"from node 'reshape' \(op Reshape: input 'shape' must be a constant"):
        compile_onnx(_reshape_model(), tmp_path / "out")  # a shape input left dynamic cannot compile


def test_data_dependent_shapes_are_refused_naming_the_op(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("NonZero", ["x"], ["y"], name="nz")],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, [2, "n"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(CompileError, match=r"'y' \[2, .*\] from node 'nz' \(op NonZero: its output shape depends on"):
        compile_onnx(model, tmp_path / "out")


def test_models_older_than_opset_7_are_upgraded(tmp_path, rng):
    """Opset 6 PRelu applies a 1-D slope per channel; after the upgrade it still does."""
    slope = np.array([0.1, 0.2, 0.3], dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("PRelu", ["x", "slope"], ["y"], name="prelu")],
        "old",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4]),
            helper.make_tensor_value_info("slope", TensorProto.FLOAT, [3]),  # IR 3: initializers are inputs
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 4])],
        [onnx.numpy_helper.from_array(slope, "slope")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 6)], ir_version=3)
    folder = compile_onnx(model, tmp_path / "out")
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    (got,) = run_folder(folder, [x])
    np.testing.assert_allclose(got, np.where(x > 0, x, x * slope[None, :, None]), rtol=1e-6)
