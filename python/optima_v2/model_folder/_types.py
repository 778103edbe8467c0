"""Element types, names and shapes as the model format (docs/model-format.md) defines them."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

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
}
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
