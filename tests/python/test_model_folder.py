"""The model-folder writer: output per docs/model-format.md, validation, and loading by the runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import assert_close, conv2d

import optima_v2.runtime as rt
from optima_v2.model_folder import Graph, ModelFolder


def read_json(path):
    return json.loads(path.read_text(encoding="utf-8"))


def simple_graph(x="x", y="y", dtype="F32", shape=(2, 3)) -> Graph:
    g = Graph()
    g.add_input(x, dtype, shape)
    g.add_tensor(y, dtype, shape)
    g.add_node("Relu", [x], [y])
    g.add_output(y)
    return g


def test_layout_and_weights(tmp_path):
    g = Graph()
    g.add_input("x", np.float32, (2, 3))
    w1 = np.arange(5, dtype=np.float32) / 3
    w2 = np.arange(12, dtype=">i8").reshape(3, 4)  # big-endian source: written little-endian
    w3 = np.array([True, False, True])
    g.add_constant("w1", w1)
    g.add_constant("w2", w2)
    g.add_constant("w3", w3)
    g.add_tensor("y", "f32", (2, 3))
    g.add_node(
        "Custom",
        ["x", "", "w1"],
        ["y"],
        name="n0",
        attributes={
            "i": 3,
            "b": True,
            "f": 0.5,
            "s": "text",
            "ints": [1, 2],
            "empty": [],
            "floats": [1, 2.5],
            "strings": ["a", "b"],
            "t": np.array([[1, 2]], dtype=np.int32),
            "explicit": {"type": "floats", "value": []},
        },
    )
    g.add_output("y")
    model = ModelFolder("m")
    model.add_subgraph(g, device="x64:0")
    out = model.write(tmp_path / "m")

    meta = read_json(out / "model.meta")
    assert meta["format"] == "optima-v2-model" and meta["format_version"] == 1 and meta["name"] == "m"
    assert meta["inputs"] == [{"name": "x", "type": "F32", "shape": [2, 3], "alignment": 64}]
    assert meta["outputs"] == [{"name": "y", "type": "F32", "shape": [2, 3], "alignment": 64}]
    assert meta["subgraphs"] == [
        {"name": "Subgraph_0", "path": "Subgraph_0", "framework": "Native", "device": "x64:0",
         "inputs": ["x"], "outputs": ["y"]}
    ]  # fmt: skip
    graph = read_json(out / "Subgraph_0" / "graph.json")
    assert graph["format"] == "optima-v2-native-graph" and graph["format_version"] == 1
    assert graph["inputs"] == ["x"] and graph["outputs"] == ["y"]
    tensors = {t["name"]: t for t in graph["tensors"]}
    node = graph["nodes"][0]
    assert node["inputs"] == ["x", "", "w1"]
    assert node["attributes"] == {
        "i": {"type": "int", "value": 3},
        "b": {"type": "int", "value": 1},
        "f": {"type": "float", "value": 0.5},
        "s": {"type": "string", "value": "text"},
        "ints": {"type": "ints", "value": [1, 2]},
        "empty": {"type": "ints", "value": []},
        "floats": {"type": "floats", "value": [1.0, 2.5]},
        "strings": {"type": "strings", "value": ["a", "b"]},
        "t": {"type": "tensor", "value": "n0.t"},
        "explicit": {"type": "floats", "value": []},
    }
    weights = (out / "Subgraph_0" / graph["weights"]).read_bytes()
    expected = {"w1": w1.astype("<f4"), "w2": w2.astype("<i8"), "w3": w3, "n0.t": np.array([[1, 2]], "<i4")}
    assert {n: tensors[n]["type"] for n in expected} == {"w1": "F32", "w2": "I64", "w3": "BOOL", "n0.t": "I32"}
    for name, array in expected.items():
        data = tensors[name]["data"]
        assert data["offset"] % 64 == 0
        assert data["size"] == array.nbytes
        assert weights[data["offset"] : data["offset"] + data["size"]] == array.tobytes()
        assert tensors[name]["shape"] == list(array.shape)
    assert "data" not in tensors["x"] and "data" not in tensors["y"]
    assert len(weights) == max(t["data"]["offset"] + t["data"]["size"] for t in tensors.values() if "data" in t)


def test_constant_types_without_numpy_equivalent(tmp_path):
    g = simple_graph()
    g.add_constant("bf", np.array([0x3F80, 0x4000], np.uint16), dtype="BF16")
    g.add_constant("q", np.array([1, -1], np.int8), dtype=rt.ElementType.Q8)
    assert g.tensor("bf").type == "BF16" and g.tensor("q").type == "Q8"
    with pytest.raises(ValueError, match="cannot hold"):
        g.add_constant("bad", np.zeros(2, np.float64), dtype="F32")
    with pytest.raises(ValueError, match="ndarray"):
        g.add_constant("bad2", [1.0, 2.0])


def test_graph_validation_errors():
    g = Graph()
    g.add_input("x", "F32", (2,))
    with pytest.raises(ValueError, match="duplicate"):
        g.add_input("x", "F32", (2,))
    with pytest.raises(ValueError, match="at most 8"):
        g.add_tensor("big", "F32", (1,) * 9)
    with pytest.raises(ValueError, match="unsupported element type"):
        g.add_tensor("c", np.complex64, (2,))
    with pytest.raises(ValueError, match="unsupported element type"):
        g.add_tensor("s", "string", (2,))
    with pytest.raises(ValueError, match="non-integer"):
        g.add_tensor("f", "F32", (2.0,))
    with pytest.raises(ValueError, match="outside"):
        g.add_tensor("n", "F32", (-1,))
    with pytest.raises(ValueError, match="exceeds"):
        g.add_tensor("huge", "F64", (2**31 - 1, 2**31 - 1))
    with pytest.raises(ValueError, match="name"):
        g.add_tensor("", "F32", (1,))
    with pytest.raises(ValueError, match="alignment"):
        g.add_tensor("a", "F32", (1,), alignment=3)
    g.add_tensor("y", "F32", (2,))
    g.add_tensor("z", "F32", (2,))
    with pytest.raises(ValueError, match="not a declared tensor"):
        g.add_node("Relu", ["nope"], ["y"])
    with pytest.raises(ValueError, match="topological"):
        g.add_node("Relu", ["z"], ["y"])  # z is not computed yet
    with pytest.raises(ValueError, match="not declared"):
        g.add_node("Relu", ["x"], ["undeclared"])
    with pytest.raises(ValueError, match="already"):
        g.add_node("Relu", ["x"], ["x"])
    with pytest.raises(ValueError, match="mixes"):
        g.add_node("Relu", ["x"], ["y"], attributes={"bad": [1, "a"]})
    with pytest.raises(ValueError, match="finite"):
        g.add_node("Relu", ["x"], ["y"], attributes={"bad": float("nan")})
    with pytest.raises(ValueError, match="unsupported attribute"):
        g.add_node("Relu", ["x"], ["y"], attributes={"bad": object()})
    with pytest.raises(ValueError, match="not of attribute type"):
        g.add_node("Relu", ["x"], ["y"], attributes={"bad": {"type": "int", "value": "x"}})
    with pytest.raises(ValueError, match="lists of names"):
        g.add_node("Relu", "x", ["y"])
    g.add_node("Relu", ["x"], ["y"], name="r")
    with pytest.raises(ValueError, match="already"):
        g.add_node("Relu", ["x"], ["y"])  # y computed twice
    with pytest.raises(ValueError, match="duplicate node"):
        g.add_node("Relu", ["y"], ["z"], name="r")
    with pytest.raises(ValueError, match="no outputs"):
        g.validate()
    g.add_output("z")
    with pytest.raises(ValueError, match="not computed"):
        g.validate()


def test_model_validation_errors(tmp_path):
    with pytest.raises(ValueError, match="no subgraphs"):
        ModelFolder("m").write(tmp_path / "a")
    model = ModelFolder("m")
    with pytest.raises(ValueError, match="framework"):
        model.add_subgraph(simple_graph(), framework="CUDA")
    with pytest.raises(ValueError, match="KIND:INDEX"):
        model.add_subgraph(simple_graph(), device="x64")
    with pytest.raises(ValueError, match="device kind"):
        model.add_subgraph(simple_graph(), device="TPU:0")
    model.add_subgraph(simple_graph(), name="s")
    with pytest.raises(ValueError, match="duplicate subgraph"):
        model.add_subgraph(simple_graph("y", "w"), name="s")

    clash = ModelFolder("m")
    clash.add_subgraph(simple_graph("x", "y"))
    clash.add_subgraph(simple_graph("y", "z", shape=(3, 2)))
    with pytest.raises(ValueError, match="in another subgraph"):
        clash.to_meta()

    twice = ModelFolder("m")
    twice.add_subgraph(simple_graph("x", "y"))
    twice.add_subgraph(simple_graph("x", "y"))
    with pytest.raises(ValueError, match="also computed"):
        twice.to_meta()

    cycle = ModelFolder("m")
    cycle.add_subgraph(simple_graph("a", "b"))
    cycle.add_subgraph(simple_graph("b", "a"))
    with pytest.raises(ValueError):
        cycle.to_meta()

    read_output = ModelFolder("m")
    read_output.add_subgraph(simple_graph("x", "y"))
    read_output.add_subgraph(simple_graph("y", "z"))
    read_output.set_outputs(["y", "z"])
    with pytest.raises(ValueError, match="also read"):
        read_output.to_meta()
    read_output.set_outputs(["z"])
    read_output.set_inputs(["x", "y"])
    with pytest.raises(ValueError, match="computed by subgraph"):
        read_output.to_meta()
    with pytest.raises(ValueError, match="twice"):
        read_output.set_inputs(["x", "x"])


def test_write_refuses_to_clobber(tmp_path):
    model = ModelFolder("m")
    model.add_subgraph(simple_graph())
    target = model.write(tmp_path / "m")
    with pytest.raises(FileExistsError):
        model.write(target)
    model.write(target, overwrite=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="not a model folder"):
        model.write(other, overwrite=True)
    assert (other / "keep.txt").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "other"]  # no staging leftovers


def test_two_subgraphs_with_a_boundary_tensor_run(tmp_path, context, rng):
    """Subgraph 0: t = Conv(x, W); subgraph 1: y = Relu(t + b). Checked against numpy."""
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    g0 = Graph()
    g0.add_input("x", "F32", (1, 3, 8, 8))
    g0.add_constant("w", w)
    g0.add_tensor("t", "F32", (1, 2, 8, 8))
    g0.add_node("Conv", ["x", "w"], ["t"], attributes={"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]})
    g0.add_output("t")
    g1 = Graph()
    g1.add_input("t", "F32", (1, 2, 8, 8))
    g1.add_input("b", "F32", (1, 2, 8, 8))
    g1.add_tensor("s", "F32", (1, 2, 8, 8))
    g1.add_tensor("y", "F32", (1, 2, 8, 8))
    g1.add_node("Add", ["t", "b"], ["s"])
    g1.add_node("Relu", ["s"], ["y"])
    g1.add_output("y")
    model = ModelFolder("two")
    model.add_subgraph(g0)
    model.add_subgraph(g1, name="second")
    meta = model.to_meta()
    assert [t["name"] for t in meta["inputs"]] == ["x", "b"]
    assert [t["name"] for t in meta["tensors"]] == ["t"]
    assert [t["name"] for t in meta["outputs"]] == ["y"]
    path = model.write(tmp_path / "two")

    loaded = context.load_model(str(path))
    assert [s.name for s in loaded.subgraph_info] == ["Subgraph_0", "second"]
    req = loaded.create_request()
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    b = rng.standard_normal((1, 2, 8, 8)).astype(np.float32)
    req.set_inputs({"x": x, "b": b})
    req.infer()
    req.wait()
    assert_close(req.get_outputs()[0], np.maximum(conv2d(x, w) + b, 0))
