"""ONNX low-precision element types (float8, float8 E8M0, float4, int4/uint4/int2/uint2) end to end.

The oracle is ml_dtypes (numpy dtypes) and onnx's reference helpers: every one of the 256 codes of
each type is decoded by the runtime's Cast and compared bit for bit with ml_dtypes, and a float32
sweep (every float16 value, ties, overflow, NaN/Inf) is encoded and compared with
``onnx.numpy_helper.saturate_cast`` / ``astype`` / ``to_float8e8m0``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import optima_v2.runtime as rt
from optima_v2.model_folder import LOW_PRECISION_TYPES, Graph, ModelFolder, element_type

ml_dtypes = pytest.importorskip("ml_dtypes")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

#: element type -> (ml_dtypes dtype, ONNX data type, enum value)
TYPES = {
    "F8E4M3FN": (ml_dtypes.float8_e4m3fn, TensorProto.FLOAT8E4M3FN, 15),
    "F8E4M3FNUZ": (ml_dtypes.float8_e4m3fnuz, TensorProto.FLOAT8E4M3FNUZ, 16),
    "F8E5M2": (ml_dtypes.float8_e5m2, TensorProto.FLOAT8E5M2, 17),
    "F8E5M2FNUZ": (ml_dtypes.float8_e5m2fnuz, TensorProto.FLOAT8E5M2FNUZ, 18),
    "F8E8M0": (ml_dtypes.float8_e8m0fnu, TensorProto.FLOAT8E8M0, 19),
    "I4": (ml_dtypes.int4, TensorProto.INT4, 20),
    "U4": (ml_dtypes.uint4, TensorProto.UINT4, 21),
    "F4E2M1": (ml_dtypes.float4_e2m1fn, TensorProto.FLOAT4E2M1, 22),
    "I2": (ml_dtypes.int2, TensorProto.INT2, 23),
    "U2": (ml_dtypes.uint2, TensorProto.UINT2, 24),
}
FLOAT8 = ["F8E4M3FN", "F8E4M3FNUZ", "F8E5M2", "F8E5M2FNUZ"]
SMALL_INTS = {"I4": 4, "U4": 4, "I2": 2, "U2": 2}


def codes(type_name: str) -> np.ndarray:
    """Every valid byte of a type (4/2-bit types use only the low bits)."""
    return np.arange(1 << SMALL_INTS.get(type_name, 4 if type_name == "F4E2M1" else 8), dtype=np.uint8)


def run_model(folder: Path, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    model = rt.Context().load_model(str(folder))
    request = model.create_request()
    request.set_inputs(inputs)
    request.infer()
    request.wait()
    return list(request.get_outputs())  # copies, with ml_dtypes dtypes


def run_cast(tmp_path: Path, x: np.ndarray, in_type: str, out_type: str, to: int, **attributes) -> np.ndarray:
    g = Graph()
    g.add_input("x", in_type, x.shape)
    g.add_tensor("y", out_type, x.shape)
    g.add_node("Cast", ["x"], ["y"], attributes={"to": to, **attributes})
    g.add_output("y")
    folder = ModelFolder("cast")
    folder.add_subgraph(g)
    (y,) = run_model(folder.write(tmp_path / f"cast_{in_type}_{out_type}_{len(list(tmp_path.iterdir()))}"), {"x": x})
    return y


def float_sweep() -> np.ndarray:
    """Every float16 value (as float32) plus ties, float32 subnormals, huge values, NaN and Inf."""
    halves = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
    rng = np.random.default_rng(3)
    extra = [
        np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3e38, -3e38, 2.0**-127, 2.0**127 * 1.5], np.float32),
        (np.arange(-600, 601, dtype=np.float32) * 0.25),  # integers and ties around the 4/2-bit ranges
        rng.standard_normal(20000).astype(np.float32) * np.float32(1000),
    ]
    return np.concatenate([halves, *extra])


def same_bits(got: np.ndarray, want: np.ndarray) -> None:
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    got_bytes, want_bytes = got.view(np.uint8), want.view(np.uint8)
    bad = np.nonzero(got_bytes != want_bytes)[0]
    assert bad.size == 0, (
        f"{bad.size} mismatches, first at {bad[:5]}: got {got_bytes[bad[:5]]} want {want_bytes[bad[:5]]}"
    )


def test_enum_values_sizes_and_dtypes():
    for name, (dtype, _, value) in TYPES.items():
        member = getattr(rt.ElementType, name)
        assert int(member) == value
        assert member.size == 1
        assert member.to_dtype() == np.dtype(dtype)
        assert np.dtype(dtype).itemsize == 1  # unpacked in memory, as ml_dtypes
        assert element_type(np.dtype(dtype)) == name
        assert element_type(member) == name
    assert set(LOW_PRECISION_TYPES) == set(TYPES)
    assert int(rt.ElementType.Bool) == 14  # existing values are unchanged


def test_missing_ml_dtypes_gives_a_clear_type_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ml_dtypes", None)  # makes `import ml_dtypes` fail
    with pytest.raises(TypeError, match="element type F8E4M3FN needs the ml_dtypes package"):
        rt.ElementType.F8E4M3FN.to_dtype()
    from optima_v2.model_folder import low_precision_dtype

    with pytest.raises(TypeError, match="element type I4 needs the ml_dtypes package"):
        low_precision_dtype("I4")
    assert rt.ElementType.F32.to_dtype() == np.float32  # other types do not need it


@pytest.mark.parametrize("name", list(TYPES))
def test_decoding_every_code_matches_ml_dtypes(tmp_path, name):
    dtype = TYPES[name][0]
    x = codes(name).view(dtype)
    got = run_cast(tmp_path, x, name, "F32", TensorProto.FLOAT)
    same_bits(got, x.astype(np.float32))
    got16 = run_cast(tmp_path, x, name, "F16", TensorProto.FLOAT16)
    with np.errstate(over="ignore"):  # E8M0 beyond float16: inf, as expected
        want16 = x.astype(np.float32).astype(np.float16)
    same_bits(got16, want16)


@pytest.mark.parametrize("name", FLOAT8)
@pytest.mark.parametrize("saturate", [1, 0])
def test_float8_encoding_matches_onnx_reference(tmp_path, name, saturate):
    dtype, onnx_type, _ = TYPES[name]
    x = float_sweep()
    got = run_cast(tmp_path, x, "F32", name, onnx_type, saturate=saturate)
    with np.errstate(invalid="ignore"):  # NaN/Inf inputs are part of the sweep
        want = numpy_helper.saturate_cast(x, np.dtype(dtype)) if saturate else x.astype(dtype)
    same_bits(got, want)


def test_float4_encoding_matches_ml_dtypes(tmp_path):
    x = float_sweep()
    got = run_cast(tmp_path, x, "F32", "F4E2M1", TensorProto.FLOAT4E2M1)
    with np.errstate(invalid="ignore"):
        want = x.astype(ml_dtypes.float4_e2m1fn)
    same_bits(got, want)


@pytest.mark.parametrize("round_mode", ["up", "nearest", "down"])
@pytest.mark.parametrize("saturate", [1, 0])
def test_e8m0_encoding_matches_onnx_reference(tmp_path, round_mode, saturate):
    x = float_sweep()
    got = run_cast(tmp_path, x, "F32", "F8E8M0", TensorProto.FLOAT8E8M0, saturate=saturate, round_mode=round_mode)
    same_bits(got, numpy_helper.to_float8e8m0(x, bool(saturate), round_mode))


@pytest.mark.parametrize("name", list(SMALL_INTS))
def test_small_int_casts_match_ml_dtypes(tmp_path, name):
    dtype, onnx_type, _ = TYPES[name]
    steps = np.arange(-40, 41, dtype=np.float32) * np.float32(0.75)
    x = np.concatenate([steps, np.array([np.nan, 1e10, -1e10], np.float32)])
    same_bits(run_cast(tmp_path, x, "F32", name, onnx_type), x.astype(dtype))
    ints = np.arange(-300, 301, 7, dtype=np.int32)
    same_bits(run_cast(tmp_path, ints, "I32", name, onnx_type), ints.astype(dtype))
    back = codes(name).view(dtype)
    same_bits(run_cast(tmp_path, back, name, "I8", TensorProto.INT8), back.astype(np.int8))


def test_model_folder_writes_one_byte_per_element(tmp_path):
    g = Graph()
    packed_source = np.array([-8, -1, 0, 7, 3], dtype=ml_dtypes.int4)
    g.add_constant("w", packed_source)
    g.add_constant("c", np.array([0, 5, 15], dtype=np.uint8), "F4E2M1")
    assert g.tensor("w").type == "I4"
    assert g.tensor("w").nbytes == 5
    assert g.tensor("w").data.tobytes() == bytes([8, 15, 0, 7, 3])
    with pytest.raises(ValueError, match="uint8 codes of I2 must be below 4"):
        g.add_constant("bad", np.array([4], dtype=np.uint8), "I2")
    with pytest.raises(ValueError, match="cannot hold element type F8E5M2"):
        g.add_constant("bad2", np.zeros(2, dtype=ml_dtypes.float8_e4m3fn), "F8E5M2")


def test_tensor_io_uses_ml_dtypes(tmp_path):
    x = np.arange(16, dtype=np.uint8).view(ml_dtypes.float4_e2m1fn)
    g = Graph()
    g.add_input("x", "F4E2M1", x.shape)
    g.add_tensor("y", "F4E2M1", x.shape)
    g.add_node("Cast", ["x"], ["y"], attributes={"to": TensorProto.FLOAT4E2M1})
    g.add_output("y")
    folder = ModelFolder("io")
    folder.add_subgraph(g)
    model = rt.Context().load_model(str(folder.write(tmp_path / "io")))
    assert model.input_tensors_info[0].type == rt.ElementType.F4E2M1
    assert model.input_tensors_info[0].dtype == np.dtype(ml_dtypes.float4_e2m1fn)
    request = model.create_request()
    with pytest.raises(TypeError, match="does not match the tensor type F4E2M1"):
        request.set_inputs({"x": x.view(np.uint8)})
    request.set_inputs({"x": x})
    request.infer()
    request.wait()
    (copy,) = request.get_outputs()
    same_bits(copy, x)
    out = request.get_output_tensor(0)
    assert out.dtype == np.dtype(ml_dtypes.float4_e2m1fn)
    same_bits(out.to_numpy(), x)
    raw = np.asarray(out)  # the buffer protocol exposes the raw bytes
    assert raw.dtype == np.uint8
    same_bits(raw.view(out.dtype), x)


def _packed_model(name: str, values: np.ndarray, zero: np.ndarray) -> onnx.ModelProto:
    """y = DequantizeLinear(w, scale, zero) with w and zero as (packed) initializers."""
    _, onnx_type, _ = TYPES[name]
    w = numpy_helper.from_array(values, "w")  # onnx packs 4/2-bit values two/four per byte
    assert w.data_type == onnx_type
    z = numpy_helper.from_array(zero, "z")
    scale = numpy_helper.from_array(np.array([0.5, 2.0, -1.0], np.float32), "s")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, values.shape)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, values.shape)
    nodes = [
        helper.make_node("DequantizeLinear", ["w", "s", "z"], ["d"], axis=0),
        helper.make_node("Add", ["d", "x"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "packed", [x], [y], initializer=[w, scale, z])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])


@pytest.mark.parametrize("name", ["I4", "U4", "I2", "U2", "F8E4M3FN", "F4E2M1"])
def test_compiler_unpacks_initializers(tmp_path, name):
    from onnx.reference import ReferenceEvaluator

    from optima_v2.compiler import compile_onnx

    dtype = TYPES[name][0]
    rng = np.random.default_rng(1)
    # Odd element count: the packed form has a half-filled last byte.
    valid = codes(name) if name != "F8E4M3FN" else codes(name)[codes(name) & 0x7F != 0x7F]
    values = rng.choice(valid, size=(3, 5)).astype(np.uint8).view(dtype)
    zero = np.zeros(3, np.uint8).view(dtype) if name.startswith("F") else rng.choice(codes(name), 3).view(dtype)
    model = _packed_model(name, values, zero)
    folder = compile_onnx(model, tmp_path / name, optimize=False)  # keep DequantizeLinear at run time
    graph_dir = folder / "Subgraph_0"
    assert (graph_dir / "weights.bin").stat().st_size >= values.size  # unpacked: one byte each
    x = rng.standard_normal(values.shape).astype(np.float32)
    (got,) = run_model(folder, {"x": x})
    (want,) = ReferenceEvaluator(model).run(None, {"x": x})
    np.testing.assert_array_equal(got, want)
