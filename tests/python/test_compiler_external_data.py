"""Weights through the compiler: external data files, every numeric initializer type, the weights file layout.

Oracles: ONNX Runtime for the models' outputs, the ONNX initializers' own bytes (numpy_helper) for
what the model folder stores, and the model format's rules (docs/model-format.md: each constant a
64-byte-aligned byte range of weights.bin, sized exactly) checked on graph.json directly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from compiler_models import assert_matches, onnxruntime_outputs, run_folder  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from optima_v2.compiler import CompileError, compile_onnx  # noqa: E402

F32 = TensorProto.FLOAT


def _mlp(seed: int = 0) -> onnx.ModelProto:
    """x[4, 32] -> Gemm(32x48) -> Relu -> Gemm(48x8): weights large enough for external data."""
    rng = np.random.default_rng(seed)
    inits = [
        numpy_helper.from_array((rng.standard_normal((32, 48)) / 6).astype(np.float32), "w1"),
        numpy_helper.from_array(rng.standard_normal(48).astype(np.float32), "b1"),
        numpy_helper.from_array((rng.standard_normal((48, 8)) / 7).astype(np.float32), "w2"),
        numpy_helper.from_array(rng.standard_normal(8).astype(np.float32), "b2"),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1"),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], name="fc2"),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", F32, [4, 32])],
        [helper.make_tensor_value_info("y", F32, [4, 8])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _save_external(model: onnx.ModelProto, path: Path, one_file: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    copy = onnx.ModelProto()
    copy.CopyFrom(model)  # onnx.save moves the initializers of the model it saves to external references
    onnx.save(
        copy,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=one_file,
        location=f"{path.name}.data" if one_file else None,
        size_threshold=0,
    )
    return path


def _x() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((4, 32)).astype(np.float32)


@pytest.mark.parametrize("one_file", [True, False], ids=["one_data_file", "file_per_tensor"])
def test_external_data_model_compiles(tmp_path, one_file):
    model = _mlp()
    path = _save_external(model, tmp_path / "models" / "mlp.onnx", one_file)
    stored = onnx.load(str(path), load_external_data=False)
    assert all(t.data_location == TensorProto.EXTERNAL for t in stored.graph.initializer)  # really external
    folder = compile_onnx(path, tmp_path / "out")
    (got,) = run_folder(folder, [_x()])
    assert_matches(got, onnxruntime_outputs(model, {"x": _x()})[0])


def test_external_data_found_next_to_the_model_from_another_cwd(tmp_path, monkeypatch):
    model = _mlp(2)
    _save_external(model, tmp_path / "models" / "mlp.onnx")
    elsewhere = tmp_path / "work" / "deeper"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    folder = compile_onnx("../../models/mlp.onnx", "out")  # relative model path and output folder
    assert folder.resolve() == (elsewhere / "out").resolve()
    (got,) = run_folder(folder, [_x()])
    assert_matches(got, onnxruntime_outputs(model, {"x": _x()})[0])
    monkeypatch.chdir(tmp_path)
    folder = compile_onnx(tmp_path / "models" / "mlp.onnx", tmp_path / "out_absolute")
    (got_absolute,) = run_folder(folder, [_x()])
    np.testing.assert_array_equal(got_absolute, got)


def test_missing_external_data_file_is_a_compile_error(tmp_path):
    path = _save_external(_mlp(), tmp_path / "mlp.onnx")
    (tmp_path / "mlp.onnx.data").unlink()
    with pytest.raises(CompileError) as error:
        compile_onnx(path, tmp_path / "out")
    assert type(error.value) is CompileError and str(path) in str(error.value)
    assert not (tmp_path / "out").exists()


def test_truncated_external_data_file_is_a_compile_error(tmp_path):
    path = _save_external(_mlp(), tmp_path / "mlp.onnx")
    data = tmp_path / "mlp.onnx.data"
    data.write_bytes(data.read_bytes()[:100])
    with pytest.raises(CompileError) as error:
        compile_onnx(path, tmp_path / "out")
    assert type(error.value) is CompileError and str(path) in str(error.value)


def test_model_proto_without_its_external_data_is_a_compile_error(tmp_path, monkeypatch):
    """A ModelProto loaded with load_external_data=False has no base folder to find its data in."""
    path = _save_external(_mlp(), tmp_path / "models" / "mlp.onnx")
    proto = onnx.load(str(path), load_external_data=False)
    monkeypatch.chdir(tmp_path)  # the data file is not in the current folder either
    with pytest.raises(CompileError) as error:
        compile_onnx(proto, tmp_path / "out")
    assert type(error.value) is CompileError and "w1" in str(error.value)


# --- every numeric initializer type ------------------------------------------------------------

#: ONNX element type -> (model-format type, numpy storage dtype the runtime uses for it)
NUMERIC_TYPES = {
    TensorProto.FLOAT16: ("F16", np.float16),
    TensorProto.BFLOAT16: ("BF16", np.uint16),  # bit patterns
    TensorProto.FLOAT: ("F32", np.float32),
    TensorProto.DOUBLE: ("F64", np.float64),
    TensorProto.INT8: ("I8", np.int8),
    TensorProto.UINT8: ("U8", np.uint8),
    TensorProto.INT16: ("I16", np.int16),
    TensorProto.UINT16: ("U16", np.uint16),
    TensorProto.INT32: ("I32", np.int32),
    TensorProto.UINT32: ("U32", np.uint32),
    TensorProto.INT64: ("I64", np.int64),
    TensorProto.UINT64: ("U64", np.uint64),
    TensorProto.BOOL: ("BOOL", np.bool_),
}


def _values(onnx_type: int, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Values in the type's numpy form for numpy_helper.from_array (bfloat16 through ml_dtypes)."""
    if onnx_type == TensorProto.BOOL:
        return rng.integers(0, 2, shape).astype(np.bool_)
    if onnx_type == TensorProto.BFLOAT16:
        ml_dtypes = pytest.importorskip("ml_dtypes")
        return rng.standard_normal(shape).astype(ml_dtypes.bfloat16)
    dtype = np.dtype(helper.tensor_dtype_to_np_dtype(onnx_type))
    if dtype.kind == "f":
        return (rng.standard_normal(shape) * 100).astype(dtype)
    info = np.iinfo(dtype)  # the extremes, so no value is silently narrowed on the way
    values = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    values.flat[0], values.flat[1] = info.min, info.max
    return values


def _bits(array: np.ndarray, storage) -> np.ndarray:
    """The array as the runtime's storage dtype (bfloat16 -> its uint16 bit patterns)."""
    if array.dtype.itemsize == np.dtype(storage).itemsize and array.dtype != storage:
        return array.view(storage)
    return array.astype(storage)


def _all_types_model(external: bool, tmp_path: Path):
    """For each type T: y_T = Concat(x_T, c_T) with c_T an initializer of type T (odd sizes)."""
    rng = np.random.default_rng(7)
    nodes, inputs, outputs, inits, constants = [], [], [], [], {}
    for onnx_type, (name, _storage) in NUMERIC_TYPES.items():
        tag = name.lower()
        constant = _values(onnx_type, (3, 5), rng)
        constants[name] = constant
        inits.append(numpy_helper.from_array(constant, f"c_{tag}"))
        inputs.append(helper.make_tensor_value_info(f"x_{tag}", onnx_type, [2, 5]))
        outputs.append(helper.make_tensor_value_info(f"y_{tag}", onnx_type, [5, 5]))
        nodes.append(helper.make_node("Concat", [f"x_{tag}", f"c_{tag}"], [f"y_{tag}"], name=f"concat_{tag}", axis=0))
    model = helper.make_model(
        helper.make_graph(nodes, "types", inputs, outputs, inits), opset_imports=[helper.make_opsetid("", 17)]
    )
    source = _save_external(model, tmp_path / "types.onnx") if external else model
    return source, constants


@pytest.mark.parametrize("external", [False, True], ids=["inline", "external_data"])
def test_initializers_of_every_numeric_type_round_trip(tmp_path, external):
    source, constants = _all_types_model(external, tmp_path)
    folder = compile_onnx(source, tmp_path / "out")
    graph = json.loads((folder / "Subgraph_0" / "graph.json").read_text())
    weights = (folder / "Subgraph_0" / graph.get("weights", "weights.bin")).read_bytes()
    tensors = {t["name"]: t for t in graph["tensors"]}
    rng = np.random.default_rng(8)
    inputs, expected = [], []
    for onnx_type, (name, storage) in NUMERIC_TYPES.items():
        tag = name.lower()
        entry = tensors[f"c_{tag}"]
        assert (entry["type"], entry["shape"]) == (name, [3, 5])
        want = _bits(constants[name], storage)
        stored = weights[entry["data"]["offset"] : entry["data"]["offset"] + entry["data"]["size"]]
        assert stored == want.astype(want.dtype.newbyteorder("<")).tobytes(), name
        x = _bits(_values(onnx_type, (2, 5), rng), storage)
        inputs.append(x)
        expected.append(np.concatenate([x, want]))
    got = run_folder(folder, inputs)
    for (name, _), g, w in zip(NUMERIC_TYPES.values(), got, expected):
        assert g.dtype == w.dtype, name
        np.testing.assert_array_equal(g, w, err_msg=name)


# --- the weights file: written once, 64-byte aligned --------------------------------------------


def _shared_weight_model() -> onnx.ModelProto:
    """w (odd size) read by two MatMuls, an odd-sized bias read by two Adds, a scalar."""
    rng = np.random.default_rng(9)
    inits = [
        numpy_helper.from_array(rng.standard_normal((13, 13)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.standard_normal(13).astype(np.float32), "bias"),
        numpy_helper.from_array(np.array(0.5, dtype=np.float32), "half"),
        numpy_helper.from_array(rng.standard_normal((7, 13)).astype(np.float64), "unused_by_optimizer"),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["a"], name="mm1"),
        helper.make_node("Add", ["a", "bias"], ["b"], name="add1"),
        helper.make_node("Tanh", ["b"], ["t"], name="tanh"),
        helper.make_node("MatMul", ["t", "w"], ["c"], name="mm2"),
        helper.make_node("Add", ["c", "bias"], ["d"], name="add2"),
        helper.make_node("Mul", ["d", "half"], ["y"], name="scale"),
    ]
    graph = helper.make_graph(
        nodes,
        "shared",
        [helper.make_tensor_value_info("x", F32, [3, 13])],
        [helper.make_tensor_value_info("y", F32, [3, 13])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_weights_are_written_once_and_64_byte_aligned(tmp_path):
    model = _shared_weight_model()
    folder = compile_onnx(model, tmp_path / "out")
    graph = json.loads((folder / "Subgraph_0" / "graph.json").read_text())
    weights = (folder / "Subgraph_0" / graph.get("weights", "weights.bin")).read_bytes()
    constants = [t for t in graph["tensors"] if "data" in t]
    names = [t["name"] for t in constants]
    assert len(names) == len(set(names))
    assert {"w", "bias", "half"} <= set(names) and "unused_by_optimizer" not in names
    originals = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    end = 0
    for tensor in sorted(constants, key=lambda t: t["data"]["offset"]):
        offset, size = tensor["data"]["offset"], tensor["data"]["size"]
        assert offset % 64 == 0, tensor["name"]
        assert offset >= end, f"{tensor['name']} overlaps the previous constant"
        # padding only: the gap to the previous blob is less than one alignment unit
        assert offset - end < 64, f"{tensor['name']}: {offset - end} unexplained bytes before it"
        itemsize = {"F32": 4, "F64": 8, "I64": 8}[tensor["type"]]
        assert size == itemsize * int(np.prod(tensor["shape"], dtype=np.int64))
        if tensor["name"] in originals:
            assert weights[offset : offset + size] == originals[tensor["name"]].astype("<f4").tobytes()
        end = offset + size
    assert len(weights) == end  # nothing after the last constant
    # w is stored once although two nodes read it: the file is smaller than two copies of w
    assert len(weights) < 2 * 13 * 13 * 4
    x = np.random.default_rng(10).standard_normal((3, 13)).astype(np.float32)
    (got,) = run_folder(folder, [x])
    assert_matches(got, onnxruntime_outputs(model, {"x": x})[0])
