"""compile_onnx errors: one clear CompileError naming everything at fault."""

from __future__ import annotations

import json

import pytest

onnx = pytest.importorskip("onnx")
from compiler_models import cnn, mlp, shape_chain  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

from optima_v2.compiler import CompileError, compile_onnx  # noqa: E402


def test_every_unknown_dim_is_listed(tmp_path, rng):
    model = mlp(rng)
    model.graph.input.append(helper.make_tensor_value_info("extra", TensorProto.FLOAT, ["n", 2, "m"]))
    with pytest.raises(CompileError) as error:
        compile_onnx(model, tmp_path / "out")
    message = str(error.value)
    assert "'x' dim 0 (batch)" in message and "'extra' dim 0 (n)" in message and "'extra' dim 2 (m)" in message
    assert isinstance(error.value, ValueError)
    assert not (tmp_path / "out").exists()


def test_input_shapes_are_checked(tmp_path, rng):
    with pytest.raises(CompileError, match=r"\['nope'\], which are not model inputs"):
        compile_onnx(mlp(rng), tmp_path / "out", input_shapes={"x": [1, 8], "nope": [1]})
    with pytest.raises(CompileError, match="has rank 3, the input has rank 2"):
        compile_onnx(mlp(rng), tmp_path / "out", input_shapes={"x": [1, 8, 1]})
    with pytest.raises(CompileError, match="dim 1 is 8 in the model"):
        compile_onnx(mlp(rng), tmp_path / "out", input_shapes={"x": [1, 9]})


def test_every_unsupported_op_is_listed(tmp_path):
    nodes = [
        helper.make_node("Softmax", ["x"], ["a"], name="soft"),
        helper.make_node("Relu", ["a"], ["b"], name="ok"),
        helper.make_node("LeakyRelu", ["b"], ["c"], name="leaky"),
        helper.make_node("Cast", ["c"], ["d"], name="cast", to=TensorProto.DOUBLE),
        helper.make_node("Sigmoid", ["d"], ["y"], name="sig64"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [2, 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(CompileError) as error:
        compile_onnx(model, tmp_path / "out")
    message = str(error.value)
    for part in ("node 'soft' (op Softmax)", "node 'leaky' (op LeakyRelu)", "node 'cast' (op Cast)",
                 "node 'sig64' (op Sigmoid: F64 input 'd')"):  # fmt: skip
        assert part in message
    assert "'ok'" not in message


def test_malformed_files(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\xff\x00 definitely not protobuf \x12\x34" * 10)
    with pytest.raises(CompileError, match=r"garbage\.onnx"):
        compile_onnx(garbage, tmp_path / "out")
    with pytest.raises(CompileError, match="no such ONNX file"):
        compile_onnx(tmp_path / "missing.onnx", tmp_path / "out")
    with pytest.raises(CompileError, match=r"path or an onnx\.ModelProto"):
        compile_onnx(42, tmp_path / "out")


def test_invalid_graph_is_refused(tmp_path, rng):
    model = mlp(rng)
    model.graph.node[1].input[0] = "undefined_tensor"
    with pytest.raises(CompileError, match="invalid ONNX model"):
        compile_onnx(model, tmp_path / "out", input_shapes={"x": [1, 8]})


def test_device_map_errors(tmp_path, rng):
    with pytest.raises(CompileError, match=r"\['no_such_node'\]"):
        compile_onnx(cnn(rng), tmp_path / "out", device_map={"conv1": "x64:0", "no_such_node": "x64:0"})
    with pytest.raises(CompileError, match="must be 'KIND:INDEX'"):
        compile_onnx(cnn(rng), tmp_path / "out", device_map={"conv1": "x64"})
    with pytest.raises(CompileError, match="unknown device kind 'TPU'"):
        compile_onnx(cnn(rng), tmp_path / "out", device_map={"conv1": "TPU:0"})
    with pytest.raises(CompileError, match="no framework writes subgraphs for device 'Hexagon:0'"):
        compile_onnx(cnn(rng), tmp_path / "out", default_device="hexagon:0")
    bad = tmp_path / "map.json"
    bad.write_text("{not json")
    with pytest.raises(CompileError, match="not valid JSON"):
        compile_onnx(cnn(rng), tmp_path / "out", device_map=bad)
    bad.write_text(json.dumps(["conv1"]))
    with pytest.raises(CompileError, match="expected an object"):
        compile_onnx(cnn(rng), tmp_path / "out", device_map=bad)
    with pytest.raises(CompileError, match="cannot read"):
        compile_onnx(cnn(rng), tmp_path / "out", device_map=tmp_path / "missing.json")


def test_without_optimization_shape_ops_are_unsupported(tmp_path, rng):
    with pytest.raises(CompileError, match=r"node 'shape' \(op Shape\).*node 'gather' \(op Gather\)"):
        compile_onnx(shape_chain(rng), tmp_path / "out", input_shapes={"x": [1, 4, 6]}, optimize=False)


def test_refuses_to_overwrite_a_folder_that_is_not_a_model(tmp_path, rng):
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(CompileError, match="not a model folder"):
        compile_onnx(cnn(rng), target)
    assert (target / "notes.txt").read_text() == "keep me"
