"""ONNX Runtime as an onnx Backend (the anchor column), shaped like optima_v2.testing.onnx_backend.

``prepare`` keeps the model; the first ``run`` creates the InferenceSession (CPU provider): a
session ONNX Runtime cannot create (an op or type it has no kernel for, an opset it does not know)
raises :class:`OrtRefusal`, counted as refused like our compiler's refusals.

ONNX Runtime's numpy bridge knows no ml_dtypes arrays (bfloat16, float8): those go in as raw
bytes tagged with the ONNX type, and come out by copying the output's bytes into the ml_dtypes
array onnx's reference data uses, so the anchor column measures the kernels, not the bridge.
"""

from __future__ import annotations

import ctypes
from typing import Any, Optional

import numpy as np
import onnx
import onnxruntime as ort
from onnx.backend.base import Backend, BackendRep


class OrtRefusal(RuntimeError):
    """ONNX Runtime could not create a session for the model."""


class OrtRep(BackendRep):
    def __init__(self, model: onnx.ModelProto) -> None:
        self.model = model
        self.session: Optional[ort.InferenceSession] = None

    def run(self, inputs: Any, **kwargs: Any) -> tuple[np.ndarray, ...]:
        if self.session is None:
            options = ort.SessionOptions()
            options.log_severity_level = 3
            try:
                self.session = ort.InferenceSession(
                    self.model.SerializeToString(), options, providers=["CPUExecutionProvider"]
                )
            except Exception as error:  # onnxruntime raises its own (non-exported) error classes
                raise OrtRefusal(f"ONNX Runtime cannot create a session: {error}") from error
        names = [i.name for i in self.session.get_inputs()]
        if isinstance(inputs, dict):
            feeds = dict(inputs)
        else:
            values = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
            feeds = dict(zip(names, values))
        feeds = {name: np.asarray(value) for name, value in feeds.items()}  # numpy scalars too
        types = {v.name: v.type.tensor_type.elem_type for v in [*self.model.graph.input, *self.model.graph.output]}
        if not any(_is_ml_dtype(np.asarray(v).dtype) for v in feeds.values()) and not any(
            t in _RAW_TYPES or t in _PACKED_TYPES for t in types.values()
        ):
            return tuple(self.session.run(None, feeds))
        values = {name: _to_ort(np.asarray(value), types.get(name, 0)) for name, value in feeds.items()}
        outputs = self.session.run_with_ort_values(None, values)
        return tuple(_from_ort(value, types.get(o.name, 0)) for value, o in zip(outputs, self.session.get_outputs()))


#: ONNX element types numpy has no native dtype for, stored one element per 1 or 2 bytes.
_RAW_TYPES = {
    onnx.TensorProto.BFLOAT16,
    onnx.TensorProto.FLOAT8E4M3FN,
    onnx.TensorProto.FLOAT8E4M3FNUZ,
    onnx.TensorProto.FLOAT8E5M2,
    onnx.TensorProto.FLOAT8E5M2FNUZ,
    *([onnx.TensorProto.FLOAT8E8M0] if hasattr(onnx.TensorProto, "FLOAT8E8M0") else []),
}


#: Sub-byte ONNX types (ml_dtypes: one element per byte, value in the low bits) -> bits per element;
#: ONNX Runtime stores them packed, first element in the lowest bits.
_PACKED_TYPES = {
    getattr(onnx.TensorProto, name): bits
    for name, bits in (("INT4", 4), ("UINT4", 4), ("FLOAT4E2M1", 4), ("INT2", 2), ("UINT2", 2))
    if hasattr(onnx.TensorProto, name)
}


def _is_ml_dtype(dtype: np.dtype) -> bool:
    return dtype.type.__module__.startswith("ml_dtypes")


def _to_ort(array: np.ndarray, onnx_type: int) -> ort.OrtValue:
    if onnx_type in _PACKED_TYPES:
        bits = _PACKED_TYPES[onnx_type]
        per_byte = 8 // bits
        raw = np.ascontiguousarray(array).view(np.uint8).ravel() & np.uint8((1 << bits) - 1)
        raw = np.concatenate([raw, np.zeros(-len(raw) % per_byte, np.uint8)])
        packed = np.zeros(len(raw) // per_byte, np.uint8)
        for i in range(per_byte):
            packed |= raw[i::per_byte] << np.uint8(bits * i)
        value = ort.OrtValue.ortvalue_from_shape_and_type(list(array.shape), onnx_type)
        ctypes.memmove(value.data_ptr(), packed.ctypes.data, min(packed.nbytes, value.tensor_size_in_bytes()))
        return value
    if onnx_type in _RAW_TYPES and _is_ml_dtype(array.dtype):
        raw = np.ascontiguousarray(array).view(np.uint8 if array.dtype.itemsize == 1 else np.uint16)
        return ort.OrtValue.ortvalue_from_numpy_with_onnx_type(raw, onnx_type)
    return ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(array))


def _from_ort(value: ort.OrtValue, onnx_type: int) -> np.ndarray:
    if onnx_type in _PACKED_TYPES:
        bits = _PACKED_TYPES[onnx_type]
        shape = tuple(value.shape())
        count = int(np.prod(shape, dtype=np.int64))
        size = value.tensor_size_in_bytes()
        packed = np.frombuffer(bytes((ctypes.c_uint8 * size).from_address(value.data_ptr())), np.uint8) if size else []
        shifts = np.arange(8 // bits, dtype=np.uint8) * np.uint8(bits)
        raw = ((np.asarray(packed, np.uint8)[:, None] >> shifts) & np.uint8((1 << bits) - 1)).ravel()[:count]
        return raw.astype(np.uint8).view(onnx.helper.tensor_dtype_to_np_dtype(onnx_type)).reshape(shape)
    if onnx_type not in _RAW_TYPES:
        return value.numpy()
    dtype = onnx.helper.tensor_dtype_to_np_dtype(onnx_type)
    shape = tuple(value.shape())
    count = int(np.prod(shape, dtype=np.int64))
    raw = (ctypes.c_uint8 * (count * dtype.itemsize)).from_address(value.data_ptr()) if count else b""
    return np.frombuffer(bytes(raw), dtype=dtype).reshape(shape).copy()


class OrtBackend(Backend):
    @classmethod
    def prepare(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: Any) -> OrtRep:
        return OrtRep(model)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return device.upper() == "CPU"
