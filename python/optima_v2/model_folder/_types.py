"""Element types, names and shapes as the model format (docs/model-format.md) defines them."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any, Optional

import numpy as np

MAX_DIMENSIONS = 8
MAX_DIM_SIZE = 2**31 - 1
MAX_TENSOR_BYTES = 2**34
MAX_NAME_BYTES = 256
MAX_SUBGRAPHS = 4096
WEIGHT_ALIGNMENT = 64

#: Element type name -> (bytes per element, numpy storage dtype).
ELEMENT_TYPES: dict[str, tuple[int, np.dtype]] = {
    "I8": (1, np.dtype(np.int8)),
    "U8": (1, np.dtype(np.uint8)),
    "I16": (2, np.dtype(np.int16)),
    "U16": (2, np.dtype(np.uint16)),
    "I32": (4, np.dtype(np.int32)),
    "U32": (4, np.dtype(np.uint32)),
    "I64": (8, np.dtype(np.int64)),
    "U64": (8, np.dtype(np.uint64)),
    "F16": (2, np.dtype(np.float16)),
    "F32": (4, np.dtype(np.float32)),
    "F64": (8, np.dtype(np.float64)),
    "Q8": (1, np.dtype(np.int8)),
    "Q16": (2, np.dtype(np.int16)),
    "BF16": (2, np.dtype(np.uint16)),
    "BOOL": (1, np.dtype(np.bool_)),
    # ONNX low-precision types: one byte per element (unpacked), stored as the byte ml_dtypes
    # uses (4/2-bit codes in the low bits, high bits zero); numpy storage is that uint8 byte.
    "F8E4M3FN": (1, np.dtype(np.uint8)),
    "F8E4M3FNUZ": (1, np.dtype(np.uint8)),
    "F8E5M2": (1, np.dtype(np.uint8)),
    "F8E5M2FNUZ": (1, np.dtype(np.uint8)),
    "F8E8M0": (1, np.dtype(np.uint8)),
    "I4": (1, np.dtype(np.uint8)),
    "U4": (1, np.dtype(np.uint8)),
    "F4E2M1": (1, np.dtype(np.uint8)),
    "I2": (1, np.dtype(np.uint8)),
    "U2": (1, np.dtype(np.uint8)),
}
#: Low-precision element type -> its ml_dtypes dtype name (that dtype has itemsize 1).
LOW_PRECISION_TYPES: dict[str, str] = {
    "F8E4M3FN": "float8_e4m3fn",
    "F8E4M3FNUZ": "float8_e4m3fnuz",
    "F8E5M2": "float8_e5m2",
    "F8E5M2FNUZ": "float8_e5m2fnuz",
    "F8E8M0": "float8_e8m0fnu",
    "I4": "int4",
    "U4": "uint4",
    "F4E2M1": "float4_e2m1fn",
    "I2": "int2",
    "U2": "uint2",
}
#: Bits of the code in each byte of the 4/2-bit types (the high bits must be zero).
LOW_PRECISION_BITS = {"I4": 4, "U4": 4, "F4E2M1": 4, "I2": 2, "U2": 2}
_BY_UPPER = {name.upper(): name for name in ELEMENT_TYPES}
# numpy dtypes with an unambiguous element type (Q8/Q16/BF16 must be named explicitly).
_FROM_NUMPY = {
    np.dtype(np.int8): "I8",
    np.dtype(np.uint8): "U8",
    np.dtype(np.int16): "I16",
    np.dtype(np.uint16): "U16",
    np.dtype(np.int32): "I32",
    np.dtype(np.uint32): "U32",
    np.dtype(np.int64): "I64",
    np.dtype(np.uint64): "U64",
    np.dtype(np.float16): "F16",
    np.dtype(np.float32): "F32",
    np.dtype(np.float64): "F64",
    np.dtype(np.bool_): "BOOL",
}

FRAMEWORKS = ("TFLite", "OpenVINO", "SNPE", "DVAPI", "Vulkan", "OpenCL", "Native")
DEVICE_KINDS = (
    "x86", "x64", "ARM", "ARM64", "NVIDIA", "AMDGPU", "IntelGPU", "Mali", "Adreno", "Hexagon",
    "Myriad", "ARA1", "EdgeTPU", "CV22",
)  # fmt: skip
_DEVICE_RE = re.compile(r"^([A-Za-z0-9]+):([0-9]{1,9})$")


def _ml_dtypes() -> Any:
    try:
        import ml_dtypes
    except ImportError:
        return None
    return ml_dtypes


def low_precision_dtype(type_name: str) -> np.dtype:
    """ml_dtypes' numpy dtype of a low-precision element type; TypeError without ml_dtypes."""
    module = _ml_dtypes()
    if module is None:
        raise TypeError(
            f"element type {type_name} needs the ml_dtypes package for its numpy dtype "
            f"(ml_dtypes.{LOW_PRECISION_TYPES[type_name]}); install it with 'pip install ml_dtypes'"
        )
    return np.dtype(getattr(module, LOW_PRECISION_TYPES[type_name]))


def _low_precision_of(np_dtype: np.dtype) -> Optional[str]:
    """The low-precision element type of an ml_dtypes dtype, else None."""
    if np_dtype.itemsize != 1 or _ml_dtypes() is None:  # (float8_e5m2 has kind "f", others "V")
        return None
    for name in LOW_PRECISION_TYPES:
        if np_dtype == low_precision_dtype(name):
            return name
    return None


def low_precision_bytes(array: np.ndarray, type_name: str, what: str) -> np.ndarray:
    """The storage bytes (uint8) of an array of a low-precision type.

    Accepts the type's ml_dtypes dtype or uint8 codes (checked: 4/2-bit codes must leave the high
    bits zero).
    """
    if array.dtype == np.uint8:
        data = array
        bits = LOW_PRECISION_BITS.get(type_name)
        if bits is not None and data.size and int(data.max()) >> bits:
            raise ValueError(f"{what}: uint8 codes of {type_name} must be below {1 << bits}, got {int(data.max())}")
    elif _low_precision_of(array.dtype) == type_name:
        data = array.view(np.uint8)
    else:
        raise ValueError(
            f"{what}: array dtype {array.dtype} cannot hold element type {type_name} "
            f"(use ml_dtypes.{LOW_PRECISION_TYPES[type_name]} or uint8 codes)"
        )
    return data


def element_type(dtype: Any) -> str:
    """Canonical element type name ("F32", "BOOL", ...) of a type name, numpy dtype or rt.ElementType."""
    if isinstance(dtype, str):
        if dtype.upper() in _BY_UPPER:
            return _BY_UPPER[dtype.upper()]
    elif hasattr(type(dtype), "__members__") and isinstance(getattr(dtype, "name", None), str):
        # An enum such as optima_v2.runtime.ElementType.
        if dtype.name.upper() in _BY_UPPER:
            return _BY_UPPER[dtype.name.upper()]
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:
        np_dtype = None
    if np_dtype is not None:
        np_dtype = np_dtype.newbyteorder("=") if np_dtype.byteorder in "<>" else np_dtype
        if np_dtype in _FROM_NUMPY:
            return _FROM_NUMPY[np_dtype]
        low = _low_precision_of(np_dtype)
        if low is not None:
            return low
    raise ValueError(
        f"unsupported element type {dtype!r}; use one of {', '.join(ELEMENT_TYPES)} or a matching numpy dtype"
    )


def element_size(type_name: str) -> int:
    return ELEMENT_TYPES[type_name][0]


def check_name(name: Any, what: str) -> str:
    if not isinstance(name, str):
        raise ValueError(f"{what}: name must be a str, got {type(name).__name__}")
    size = len(name.encode("utf-8"))
    if not 1 <= size <= MAX_NAME_BYTES:
        raise ValueError(f"{what}: name {name!r} must be 1..{MAX_NAME_BYTES} bytes of UTF-8, is {size}")
    return name


def check_shape(shape: Iterable[Any], what: str) -> tuple[int, ...]:
    try:
        dims = tuple(shape)
    except TypeError:
        raise ValueError(f"{what}: shape must be a sequence of ints, got {shape!r}") from None
    if len(dims) > MAX_DIMENSIONS:
        raise ValueError(f"{what}: shape {dims} has {len(dims)} dimensions, at most {MAX_DIMENSIONS} are supported")
    result = []
    for dim in dims:
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
            raise ValueError(f"{what}: shape {dims} has a non-integer dimension {dim!r}")
        if not 0 <= int(dim) <= MAX_DIM_SIZE:
            raise ValueError(f"{what}: shape {dims} has dimension {dim} outside 0..{MAX_DIM_SIZE}")
        result.append(int(dim))
    return tuple(result)


def check_byte_size(type_name: str, shape: tuple[int, ...], what: str) -> int:
    size = element_size(type_name) * math.prod(shape)
    if size > MAX_TENSOR_BYTES:
        raise ValueError(f"{what}: {size} bytes exceeds the limit of {MAX_TENSOR_BYTES} bytes")
    return size


def check_alignment(alignment: Any, what: str) -> int:
    if (
        isinstance(alignment, bool)
        or not isinstance(alignment, (int, np.integer))
        or not 1 <= alignment <= 4096
        or alignment & (alignment - 1)
    ):
        raise ValueError(f"{what}: alignment {alignment!r} must be a power of two in 1..4096")
    return int(alignment)


def check_framework(framework: Any) -> str:
    if isinstance(framework, str):
        for known in FRAMEWORKS:
            if known.lower() == framework.lower():
                return known
    name = getattr(framework, "name", None)  # rt.FrameworkKind
    if isinstance(name, str) and name in FRAMEWORKS:
        return name
    raise ValueError(f"unknown framework {framework!r}; use one of {', '.join(FRAMEWORKS)}")


def check_device(device: Any) -> str:
    match = _DEVICE_RE.match(device) if isinstance(device, str) else None
    if match is None:
        raise ValueError(f"device {device!r} must be 'KIND:INDEX', e.g. 'X64:0'")
    for known in DEVICE_KINDS:
        if known.lower() == match.group(1).lower():
            return f"{known}:{int(match.group(2))}"
    raise ValueError(f"unknown device kind {match.group(1)!r}; use one of {', '.join(DEVICE_KINDS)}")
