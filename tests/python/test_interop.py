"""Zero-copy interop of rt.Tensor: __array__, DLPack, and copy_from from any buffer / DLPack object."""

from __future__ import annotations

import array
import gc
import re
import weakref

import ml_dtypes
import numpy as np
import pytest
from conftest import write_unary_model

import optima_v2.runtime as rt

try:
    import torch
except ImportError:  # torch is optional
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


@pytest.fixture
def request_(model):
    return model.create_request()


def fill(req, rng):
    inputs = [
        rng.standard_normal((1, 3, 32, 32)).astype(np.float32),
        rng.standard_normal((1, 1, 32, 32)).astype(np.float32),
    ]
    req.set_inputs(inputs)
    return inputs


# --- __array__ ----------------------------------------------------------------------------------
def test_array_protocol_is_a_writable_view(request_, rng):
    inputs = fill(request_, rng)
    tensor = request_.get_input_tensor(0)
    view = tensor.__array__()
    assert isinstance(view, np.ndarray) and view.dtype == np.float32 and view.shape == (1, 3, 32, 32)
    assert np.array_equal(view, inputs[0])
    view[0, 0, 0, 0] = 123.0  # writes go to the request's memory
    assert tensor.to_numpy()[0, 0, 0, 0] == 123.0
    assert np.shares_memory(view, np.asarray(tensor))


def test_array_protocol_dtype_and_copy_keywords(request_, rng):
    inputs = fill(request_, rng)
    tensor = request_.get_input_tensor(1)
    copied = np.array(tensor, copy=True)
    copied[...] = 0
    assert np.array_equal(tensor.to_numpy(), inputs[1])  # a real copy
    as64 = np.asarray(tensor, dtype=np.float64)
    assert as64.dtype == np.float64 and np.array_equal(as64, inputs[1].astype(np.float64))
    with pytest.raises(ValueError, match="cannot be viewed as float64 without a copy"):
        tensor.__array__(np.float64, copy=False)
    with pytest.raises(ValueError):
        np.array(tensor, dtype=np.float64, copy=False)
    assert np.shares_memory(np.array(tensor, copy=False), tensor.__array__())
    assert np.shares_memory(tensor.__array__(np.float32, copy=False), tensor.__array__())
    assert not np.shares_memory(tensor.__array__(copy=True), tensor.__array__())
    with pytest.raises(TypeError, match="copy must be"):
        tensor.__array__(copy="yes")


def test_view_keeps_the_request_alive(model, rng):
    req = model.create_request()
    inputs = fill(req, rng)
    ref = weakref.ref(req)
    view = req.get_input_tensor(0).__array__()
    del req
    gc.collect()
    assert ref() is not None  # the view's base chain keeps the request
    assert np.array_equal(view, inputs[0])
    del view
    gc.collect()
    assert ref() is None


def test_low_precision_array_has_ml_dtypes_dtype(tmp_path):
    model = rt.Context().load_model(str(write_unary_model(tmp_path / "m", "Identity", "F8E4M3FN", (5,))))
    req = model.create_request()
    values = np.array([0.5, -1.0, 2.0, 0.0, 448.0], ml_dtypes.float8_e4m3fn)
    req.get_input_tensor(0).copy_from(values)
    view = np.asarray(req.get_input_tensor(0).__array__())
    assert view.dtype == np.dtype(ml_dtypes.float8_e4m3fn)
    assert np.array_equal(view.astype(np.float32), values.astype(np.float32))
    with pytest.raises(BufferError, match=r"F8E4M3FN.*no DLPack type code"):
        req.get_input_tensor(0).__dlpack__()


# --- DLPack -------------------------------------------------------------------------------------
def test_dlpack_device_is_cpu(request_):
    assert request_.get_output_tensor(0).__dlpack_device__() == (1, 0)


@pytest.mark.parametrize("max_version", [None, (1, 0), (1, 3)])
def test_numpy_from_dlpack_is_zero_copy(model, rng, max_version):
    req = model.create_request()
    inputs = fill(req, rng)
    tensor = req.get_input_tensor(0)
    if max_version is None:
        capsule = tensor.__dlpack__()
        assert "dltensor" in repr(capsule) and "versioned" not in repr(capsule)
    else:
        capsule = tensor.__dlpack__(max_version=max_version)
        assert "dltensor_versioned" in repr(capsule)
    del capsule  # an unconsumed capsule frees itself
    viewed = np.from_dlpack(tensor)
    assert viewed.shape == (1, 3, 32, 32) and viewed.dtype == np.float32
    assert np.array_equal(viewed, inputs[0])
    viewed[0, 1, 2, 3] = -7.0
    assert tensor.to_numpy()[0, 1, 2, 3] == -7.0
    ref = weakref.ref(req)
    del req, tensor
    gc.collect()
    assert ref() is not None  # the imported array keeps the request alive through the capsule
    assert viewed[0, 1, 2, 3] == -7.0
    del viewed
    gc.collect()
    assert ref() is None


def test_dlpack_copy_and_device_keywords(request_, rng):
    inputs = fill(request_, rng)
    tensor = request_.get_input_tensor(1)
    copied = np.from_dlpack(tensor, copy=True)
    assert np.array_equal(copied, inputs[1]) and not np.shares_memory(copied, tensor.__array__())
    with pytest.raises(BufferError, match="kDLCPU"):
        tensor.__dlpack__(dl_device=(2, 0))
    with pytest.raises(BufferError, match="stream"):
        tensor.__dlpack__(stream=3)
    assert np.array_equal(np.from_dlpack(tensor, device="cpu"), inputs[1])


@pytest.mark.parametrize("dtype", ["I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "F16", "F32", "F64", "Bool"])
def test_dlpack_roundtrip_every_numpy_type(tmp_path, dtype):
    model = rt.Context().load_model(str(write_unary_model(tmp_path / "m", "Identity", dtype, (2, 3))))
    req = model.create_request()
    tensor = req.get_input_tensor(0)
    values = (np.arange(6).reshape(2, 3) % 2 == 1) if dtype == "Bool" else np.arange(6).reshape(2, 3)
    values = values.astype(tensor.dtype)
    tensor.copy_from(values)
    got = np.from_dlpack(tensor)
    assert got.dtype == values.dtype and np.array_equal(got, values)


@needs_torch
def test_torch_from_dlpack_views_the_output(model, rng):
    req = model.create_request()
    fill(req, rng)
    req.infer()
    req.wait()
    out = req.get_output_tensor(0)
    t = torch.from_dlpack(out)
    assert t.dtype == torch.float32 and tuple(t.shape) == out.shape
    assert np.array_equal(t.numpy(), out.to_numpy())
    t[0, 0, 0, 0] = 42.0
    assert out.to_numpy()[0, 0, 0, 0] == 42.0  # same memory


@needs_torch
def test_torch_bf16_through_dlpack(tmp_path):
    model = rt.Context().load_model(str(write_unary_model(tmp_path / "m", "Identity", "BF16", (4,))))
    req = model.create_request()
    want = torch.tensor([1.5, -2.0, 0.25, 3.0], dtype=torch.bfloat16)
    bits = want.view(torch.int16).numpy().view(np.uint16)
    req.get_input_tensor(0).copy_from(bits)
    got = torch.from_dlpack(req.get_input_tensor(0))
    assert got.dtype == torch.bfloat16 and torch.equal(got, want)


# --- copy_from with any buffer / DLPack object --------------------------------------------------
def test_copy_from_buffer_protocol_objects(tmp_path):
    model = rt.Context().load_model(str(write_unary_model(tmp_path / "m", "Identity", "F32", (4,))))
    req = model.create_request()
    tensor = req.get_input_tensor(0)
    values = [1.0, 2.5, -3.0, 4.25]
    tensor.copy_from(array.array("f", values))
    assert tensor.to_numpy().tolist() == values
    tensor.copy_from(memoryview(np.array(values[::-1], np.float32)))
    assert tensor.to_numpy().tolist() == values[::-1]
    tensor.copy_from(memoryview(bytearray(np.array(values, np.float32).tobytes())).cast("f"))
    assert tensor.to_numpy().tolist() == values
    other = model.create_request().get_input_tensor(0)
    other.copy_from(np.array([9, 8, 7, 6], np.float32))
    tensor.copy_from(other)  # Tensor -> Tensor through the array protocol
    assert tensor.to_numpy().tolist() == [9, 8, 7, 6]


def test_copy_from_bytes_into_u8(tmp_path):
    model = rt.Context().load_model(str(write_unary_model(tmp_path / "m", "Identity", "U8", (3,))))
    tensor = model.create_request().get_input_tensor(0)
    tensor.copy_from(bytearray(b"\x01\x02\xff"))
    assert tensor.to_numpy().tolist() == [1, 2, 255]
    tensor.copy_from(b"abc")
    assert bytes(tensor.to_numpy()) == b"abc"


def test_copy_from_keeps_strict_checks(tmp_path):
    model = rt.Context().load_model(str(write_unary_model(tmp_path / "m", "Identity", "F32", (4,))))
    tensor = model.create_request().get_input_tensor(0)
    before = tensor.to_numpy()
    label = re.escape(f"tensor '{tensor.name}': ")
    with pytest.raises(TypeError, match=label + "array dtype float64 does not match the tensor type F32"):
        tensor.copy_from(array.array("d", [1, 2, 3, 4]))
    with pytest.raises(TypeError, match="array dtype uint8 does not match"):
        tensor.copy_from(bytearray(16))  # right size, wrong dtype
    with pytest.raises(ValueError, match=label + r"array shape \(3,\) does not match the tensor shape \(4,\)"):
        tensor.copy_from(array.array("f", [1, 2, 3]))
    with pytest.raises(ValueError, match="not C-contiguous"):
        tensor.copy_from(memoryview(np.arange(8, dtype=np.float32))[::2])
    with pytest.raises(TypeError, match=label + ".*buffer protocol or DLPack, got list"):
        tensor.copy_from([1.0, 2.0, 3.0, 4.0])
    assert np.array_equal(tensor.to_numpy(), before)  # nothing was written


@needs_torch
def test_copy_from_torch_tensor(tmp_path):
    model = rt.Context().load_model(str(write_unary_model(tmp_path / "m", "Identity", "F32", (2, 2))))
    tensor = model.create_request().get_input_tensor(0)
    tensor.copy_from(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert tensor.to_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(TypeError, match="dtype float64 does not match"):
        tensor.copy_from(torch.zeros((2, 2), dtype=torch.float64))
    with pytest.raises(ValueError, match="not C-contiguous"):
        tensor.copy_from(torch.tensor([[1.0, 2.0], [3.0, 4.0]]).t())
    with pytest.raises(TypeError, match="through DLPack"):
        tensor.copy_from(torch.zeros((2, 2), requires_grad=True))


def test_set_inputs_accepts_buffers(model, rng):
    x1, x2 = (rng.standard_normal(s).astype(np.float32) for s in [(1, 3, 32, 32), (1, 1, 32, 32)])
    req = model.create_request()
    req.set_inputs([memoryview(x1), {"input_2": x2}["input_2"]])
    assert np.array_equal(req.get_input_tensor(0).to_numpy(), x1)
