"""shape_eval: shapes onnx leaves unknown, found by evaluating the node on stand-in data."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from optima_v2.compiler.shape_eval import complete_shapes  # noqa: E402
from optima_v2.compiler.shapes import infer_shapes, tensor_types  # noqa: E402


def _model(op, condition_is_constant: bool):
    condition = np.array([True, False, True, True, False])
    if op == "Compress":
        nodes = [helper.make_node("Compress", ["x", "cond"], ["y"], axis=0)]
    else:
        nodes = [helper.make_node(op, ["x"], ["y"])]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5, 2])]
    initializers = []
    if op == "Compress":
        if condition_is_constant:
            initializers.append(numpy_helper.from_array(condition, "cond"))
        else:
            inputs.append(helper.make_tensor_value_info("cond", TensorProto.BOOL, [5]))
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.UNDEFINED, None)],
                              initializers)  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _shape(model, name):
    tensor_type = tensor_types(model)[name].tensor_type
    return [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]


def test_compress_with_a_constant_condition_gets_its_shape():
    model = infer_shapes(_model("Compress", condition_is_constant=True))
    assert _shape(model, "y") == [None, 2]  # onnx: the compressed length is unknown
    assert complete_shapes(model, 17)
    assert _shape(model, "y") == [3, 2]  # three True entries
    assert tensor_types(model)["y"].tensor_type.elem_type == TensorProto.FLOAT


def test_data_dependent_shapes_are_never_guessed():
    model = infer_shapes(_model("Compress", condition_is_constant=False))
    assert not complete_shapes(model, 17)  # the condition is a runtime input
    model = infer_shapes(_model("NonZero", condition_is_constant=False))
    assert not complete_shapes(model, 17)
    assert None in _shape(model, "y")
