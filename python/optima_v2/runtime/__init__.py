"""The OptimaV2 inference runtime: ``import optima_v2.runtime as rt``.

Objects (see ``help()`` of each): :class:`Context` loads extensions and models,
:class:`Model` describes a loaded model and creates :class:`InferRequest` objects, whose
:class:`Tensor` inputs and outputs are host memory owned by the request (numpy views through
the buffer protocol). Inference is asynchronous: ``req.infer()`` then ``req.wait()`` or a callback
set with ``req.set_callback(fn)``; ``await req.infer_async()`` from asyncio; :class:`RequestQueue`
for throughput. Tensors interoperate without copies: buffer protocol, ``__array__`` and DLPack.

Errors: bad argument values raise ``ValueError`` (bad indices ``IndexError``, wrong types or
dtypes ``TypeError``); failures of the runtime raise subclasses of :class:`Exception` (itself a
``RuntimeError``), mirroring the C++ classes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Callable, Union

import numpy as np

from ._async import infer_async as _infer_async
from ._runtime import (
    BackendException,
    Context,
    DeviceInfo,
    DeviceKind,
    ElementType,
    Exception,  # noqa: A004 - rt.Exception mirrors optima_v2::runtime::Exception
    FrameworkKind,
    InferException,
    InferRequest,
    InitializationFailedException,
    InvalidArgumentException,
    InvalidExtensionException,
    InvalidModelException,
    InvalidOperationException,
    LogLevel,
    Model,
    OutOfResourceException,
    ProfileData,
    ProfileKind,
    SubgraphInfo,
    Tensor,
    TensorInfo,
    UnsupportedModelException,
    __version__,
    get_element_size,
    is_device_cpu,
    is_device_gpu,
    is_device_npu,
)
from .queue import QueueCallback, RequestQueue

# ``await req.infer_async()``: a coroutine method (see optima_v2.runtime._async).
InferRequest.infer_async = _infer_async  # type: ignore[method-assign]  # declared in _runtime.pyi

#: What ``InferRequest.set_inputs`` accepts.
Inputs = Union[np.ndarray, Sequence[np.ndarray], Mapping[Union[str, int], np.ndarray]]
#: ``callback(req, ex)``; with userdata ``callback(req, ex, userdata)``.
Callback = Callable[..., object]
#: Paths are ``str`` or ``os.PathLike``.
PathLike = Union[str, "os.PathLike[str]"]

__all__ = [
    "BackendException",
    "Callback",
    "Context",
    "DeviceInfo",
    "DeviceKind",
    "ElementType",
    "Exception",
    "FrameworkKind",
    "InferException",
    "InferRequest",
    "InitializationFailedException",
    "Inputs",
    "InvalidArgumentException",
    "InvalidExtensionException",
    "InvalidModelException",
    "InvalidOperationException",
    "LogLevel",
    "Model",
    "OutOfResourceException",
    "PathLike",
    "ProfileData",
    "ProfileKind",
    "QueueCallback",
    "RequestQueue",
    "SubgraphInfo",
    "Tensor",
    "TensorInfo",
    "UnsupportedModelException",
    "__version__",
    "get_element_size",
    "is_device_cpu",
    "is_device_gpu",
    "is_device_npu",
]
