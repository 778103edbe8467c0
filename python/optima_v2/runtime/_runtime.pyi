"""Type stubs of the pybind11 module ``optima_v2.runtime._runtime``.

Users import ``optima_v2.runtime`` (``import optima_v2.runtime as rt``), which re-exports every name
below. Written by hand from the binding sources (python/src/*.cpp); tests/python/test_api_surface.py
checks that this file and the compiled module declare the same names.
"""

import builtins
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Protocol, TypeVar, Union, overload

import numpy as np
import numpy.typing as npt
from typing_extensions import Buffer, CapsuleType

_T = TypeVar("_T")
_PathLike = Union[str, "os.PathLike[str]"]

class _SupportsDLPack(Protocol):
    """A DLPack producer (a torch tensor, a jax array, ...)."""

    def __dlpack__(self, *, stream: None = None) -> object:
        """Export a DLPack capsule."""

# What Tensor.copy_from / InferRequest.set_inputs take: an ndarray, any buffer-protocol object
# (memoryview, bytearray, array.array, a Tensor) or a DLPack producer (torch tensor).
_ArrayIn = Union[npt.NDArray[Any], Buffer, "Tensor", _SupportsDLPack]
# Mapping keys are invariant: dict[str, ndarray] must match without a cast.
_Inputs = Union[
    _ArrayIn,
    Sequence[_ArrayIn],
    Mapping[str, _ArrayIn],
    Mapping[int, _ArrayIn],
    Mapping[Union[str, int], _ArrayIn],
]

__version__: str
"""The runtime library's version, ``"major.minor.patch"``."""

# ---------------------------------------------------------------------------------------------
# Exceptions
# ---------------------------------------------------------------------------------------------

class Exception(builtins.RuntimeError):  # noqa: A001 - mirrors optima_v2::runtime::Exception
    """Base of the errors raised by the OptimaV2 Runtime (a ``RuntimeError``)."""

class BackendException(Exception):
    """A backend (extension) failed on its own account; ``backend_name`` names it."""

    backend_name: str
    """Name of the extension that failed (set on instances raised by the runtime)."""

class InferException(Exception):
    """An inference could not start or failed while running."""

class InitializationFailedException(Exception):
    """The runtime or an extension failed to initialise."""

class InvalidArgumentException(Exception, builtins.ValueError):
    """An argument value was refused by the runtime (also a ``ValueError``)."""

class InvalidExtensionException(Exception):
    """A file given as an extension is not a valid extension."""

class InvalidModelException(Exception):
    """A model folder is corrupt or invalid."""

class InvalidOperationException(Exception):
    """The object is not in a state that allows the operation (e.g. ``infer()`` while running)."""

class OutOfResourceException(Exception):
    """Memory or another resource ran out."""

class UnsupportedModelException(Exception):
    """The model needs a framework, device or op that is not available."""

# ---------------------------------------------------------------------------------------------
# Enums (pybind11 enums: members are class attributes; ``int(member)`` gives the C++ value)
# ---------------------------------------------------------------------------------------------

class _Enum:
    """Common surface of the pybind11 enums below (not a runtime class)."""

    __members__: ClassVar[dict[str, Any]]
    def __init__(self, value: int) -> None:
        """The member whose C++ value is ``value``."""
    def __eq__(self, other: object) -> bool: ...
    def __ne__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...
    def __int__(self) -> int: ...
    def __index__(self) -> int: ...
    def __getstate__(self) -> int: ...
    def __setstate__(self, state: int) -> None: ...
    @property
    def name(self) -> str:
        """The member's name, e.g. ``"F32"``."""
    @property
    def value(self) -> int:
        """The member's C++ value."""

class ElementType(_Enum):
    """Element type of a tensor."""

    __members__: ClassVar[dict[str, ElementType]]
    I8: ClassVar[ElementType]
    """Signed 8-bit integer (numpy ``int8``)."""
    U8: ClassVar[ElementType]
    """Unsigned 8-bit integer (numpy ``uint8``)."""
    I16: ClassVar[ElementType]
    """Signed 16-bit integer (numpy ``int16``)."""
    U16: ClassVar[ElementType]
    """Unsigned 16-bit integer (numpy ``uint16``)."""
    I32: ClassVar[ElementType]
    """Signed 32-bit integer (numpy ``int32``)."""
    U32: ClassVar[ElementType]
    """Unsigned 32-bit integer (numpy ``uint32``)."""
    I64: ClassVar[ElementType]
    """Signed 64-bit integer (numpy ``int64``)."""
    U64: ClassVar[ElementType]
    """Unsigned 64-bit integer (numpy ``uint64``)."""
    F16: ClassVar[ElementType]
    """IEEE half precision (numpy ``float16``)."""
    F32: ClassVar[ElementType]
    """IEEE single precision (numpy ``float32``)."""
    F64: ClassVar[ElementType]
    """IEEE double precision (numpy ``float64``)."""
    Q8: ClassVar[ElementType]
    """8-bit quantized value (stored as numpy ``int8``)."""
    Q16: ClassVar[ElementType]
    """16-bit quantized value (stored as numpy ``int16``)."""
    BF16: ClassVar[ElementType]
    """bfloat16 (numpy ``uint16`` bit patterns)."""
    Bool: ClassVar[ElementType]
    """Boolean, one byte (numpy ``bool``)."""
    F8E4M3FN: ClassVar[ElementType]
    """float8 e4m3fn (``ml_dtypes.float8_e4m3fn``), one byte."""
    F8E4M3FNUZ: ClassVar[ElementType]
    """float8 e4m3fnuz (``ml_dtypes.float8_e4m3fnuz``), one byte."""
    F8E5M2: ClassVar[ElementType]
    """float8 e5m2 (``ml_dtypes.float8_e5m2``), one byte."""
    F8E5M2FNUZ: ClassVar[ElementType]
    """float8 e5m2fnuz (``ml_dtypes.float8_e5m2fnuz``), one byte."""
    F8E8M0: ClassVar[ElementType]
    """float8 e8m0 scale type (``ml_dtypes.float8_e8m0fnu``), one byte."""
    I4: ClassVar[ElementType]
    """Signed 4-bit integer (``ml_dtypes.int4``), one byte per element."""
    U4: ClassVar[ElementType]
    """Unsigned 4-bit integer (``ml_dtypes.uint4``), one byte per element."""
    F4E2M1: ClassVar[ElementType]
    """float4 e2m1 (``ml_dtypes.float4_e2m1fn``), one byte per element."""
    I2: ClassVar[ElementType]
    """Signed 2-bit integer (``ml_dtypes.int2``), one byte per element."""
    U2: ClassVar[ElementType]
    """Unsigned 2-bit integer (``ml_dtypes.uint2``), one byte per element."""
    def to_dtype(self) -> np.dtype[Any]:
        """The numpy dtype of this element type.

        Types numpy lacks map to their storage: BF16 -> uint16 (bit patterns), Q8 -> int8,
        Q16 -> int16. The low-precision types (F8*, F4E2M1, I4, U4, I2, U2) map to ml_dtypes'
        dtypes (one byte per element); ``TypeError`` when ml_dtypes is not installed.
        """
    @property
    def size(self) -> int:
        """Bytes per element."""

class DeviceKind(_Enum):
    """Kind of device a subgraph runs on."""

    __members__: ClassVar[dict[str, DeviceKind]]
    x86: ClassVar[DeviceKind]
    """32-bit x86 CPU."""
    x64: ClassVar[DeviceKind]
    """x86-64 CPU (the native backend's device on x86-64)."""
    ARM: ClassVar[DeviceKind]
    """32-bit ARM CPU."""
    ARM64: ClassVar[DeviceKind]
    """AArch64 CPU (the native backend's device on aarch64)."""
    NVIDIA: ClassVar[DeviceKind]
    """NVIDIA GPU."""
    AMDGPU: ClassVar[DeviceKind]
    """AMD GPU."""
    IntelGPU: ClassVar[DeviceKind]
    """Intel GPU."""
    Mali: ClassVar[DeviceKind]
    """Arm Mali GPU."""
    Adreno: ClassVar[DeviceKind]
    """Qualcomm Adreno GPU."""
    Hexagon: ClassVar[DeviceKind]
    """Qualcomm Hexagon DSP/NPU."""
    Myriad: ClassVar[DeviceKind]
    """Intel Movidius Myriad VPU."""
    ARA1: ClassVar[DeviceKind]
    """Kinara ARA-1 NPU."""
    EdgeTPU: ClassVar[DeviceKind]
    """Google Edge TPU."""
    CV22: ClassVar[DeviceKind]
    """Ambarella CV22 SoC."""

class FrameworkKind(_Enum):
    """Framework (extension) that runs a subgraph."""

    __members__: ClassVar[dict[str, FrameworkKind]]
    TFLite: ClassVar[FrameworkKind]
    """TensorFlow Lite."""
    OpenVINO: ClassVar[FrameworkKind]
    """Intel OpenVINO."""
    SNPE: ClassVar[FrameworkKind]
    """Qualcomm SNPE."""
    DVAPI: ClassVar[FrameworkKind]
    """DVAPI."""
    Vulkan: ClassVar[FrameworkKind]
    """Vulkan compute."""
    OpenCL: ClassVar[FrameworkKind]
    """OpenCL (the test accelerator extension uses this name)."""
    Native: ClassVar[FrameworkKind]
    """The bundled native CPU backend."""

class LogLevel(_Enum):
    """Minimum level of the messages a Context logs."""

    __members__: ClassVar[dict[str, LogLevel]]
    Debug: ClassVar[LogLevel]
    """Everything, including internal details."""
    Verbose: ClassVar[LogLevel]
    """Detailed progress messages."""
    Info: ClassVar[LogLevel]
    """Informational messages."""
    Warning: ClassVar[LogLevel]
    """Warnings and errors (the default)."""
    Error: ClassVar[LogLevel]
    """Errors only."""

class ProfileKind(_Enum):
    """What a ProfileData entry measures."""

    __members__: ClassVar[dict[str, ProfileKind]]
    ModelInit: ClassVar[ProfileKind]
    """Loading the whole model."""
    SubgraphInit: ClassVar[ProfileKind]
    """Loading one subgraph."""
    RequestInit: ClassVar[ProfileKind]
    """Creating a request."""
    TransferFromInput: ClassVar[ProfileKind]
    """Input tensor -> device memory."""
    TransferToOutput: ClassVar[ProfileKind]
    """Device memory -> output tensor."""
    LayerExecute: ClassVar[ProfileKind]
    """One kernel."""
    Wait: ClassVar[ProfileKind]
    """Waiting in a queue or on dependencies."""
    BufferCopy: ClassVar[ProfileKind]
    """Copy between subgraphs on different devices."""
    ModelExecute: ClassVar[ProfileKind]
    """The whole model (LayerExecute + Wait + BufferCopy)."""
    SubgraphExecute: ClassVar[ProfileKind]
    """One subgraph (LayerExecute + Wait)."""

def get_element_size(type: ElementType) -> int:  # noqa: A002 - API.md's parameter name
    """Bytes per element of ``type``."""

def is_device_cpu(kind: DeviceKind) -> bool:
    """True for CPU device kinds (x86, x64, ARM, ARM64)."""

def is_device_gpu(kind: DeviceKind) -> bool:
    """True for GPU device kinds (NVIDIA, AMDGPU, IntelGPU, Mali, Adreno)."""

def is_device_npu(kind: DeviceKind) -> bool:
    """True for NPU/DSP/accelerator device kinds (Hexagon, Myriad, ARA1, EdgeTPU, CV22)."""

# ---------------------------------------------------------------------------------------------
# Plain data
# ---------------------------------------------------------------------------------------------

class TensorInfo:
    """Name, shape, element type and alignment of a tensor (read-only)."""

    @property
    def name(self) -> str:
        """Tensor name."""
    @property
    def shape(self) -> tuple[int, ...]:
        """Dimensions as a tuple of ints (``()`` for a scalar)."""
    @property
    def type(self) -> ElementType:
        """Element type."""
    @property
    def alignment(self) -> int:
        """Byte alignment of the tensor's buffer."""
    @property
    def dtype(self) -> np.dtype[Any]:
        """numpy dtype matching ``type`` (see :meth:`ElementType.to_dtype`)."""
    @property
    def size(self) -> int:
        """Size in bytes."""
    def __eq__(self, other: object, /) -> bool:
        """Same name, shape, type and alignment."""
    __hash__: ClassVar[None]  # type: ignore[assignment]

class DeviceInfo:
    """A device offered by a loaded extension (read-only)."""

    @property
    def framework(self) -> FrameworkKind:
        """Framework (extension) offering the device."""
    @property
    def kind(self) -> DeviceKind:
        """Kind of device."""
    @property
    def name(self) -> str:
        """Human-readable device name."""
    @property
    def id(self) -> str:
        """Device identifier given by the extension (may be empty)."""
    @property
    def index(self) -> int:
        """The N of ``KIND:N`` in model.meta."""

class ProfileData:
    """One profile entry; times in microseconds (read-only)."""

    @property
    def kind(self) -> ProfileKind:
        """What the entry measures."""
    @property
    def name(self) -> str:
        """Layer, subgraph or model name."""
    @property
    def time(self) -> int:
        """Duration in microseconds."""
    @property
    def start(self) -> int:
        """Start in microseconds from the beginning of the ``infer()`` (or load)."""
    @property
    def subgraph(self) -> str:
        """Subgraph the entry belongs to (``''`` for model-level entries)."""

class SubgraphInfo:
    """Where a subgraph of a loaded model runs, as decided at load (read-only)."""

    @property
    def name(self) -> str:
        """Subgraph name (its folder in the model)."""
    @property
    def framework(self) -> FrameworkKind:
        """Framework running it."""
    @property
    def device(self) -> DeviceKind:
        """Kind of device running it."""
    @property
    def device_index(self) -> int:
        """Index of that device among the devices of its kind."""
    @property
    def device_name(self) -> str:
        """Name of the device running it."""
    @property
    def fell_back(self) -> bool:
        """True when fallback moved it off the device model.meta asked for."""
    @property
    def inputs(self) -> list[str]:
        """Names of the subgraph's input tensors."""
    @property
    def outputs(self) -> list[str]:
        """Names of the subgraph's output tensors."""

# ---------------------------------------------------------------------------------------------
# Tensor, InferRequest, Model, Context
# ---------------------------------------------------------------------------------------------

class Tensor:
    """An input or output tensor of an InferRequest (host memory owned by the request).

    Obtained from a request, never constructed. Supports the buffer protocol:
    ``numpy.asarray(tensor)`` is a writable, zero-copy view of the tensor's memory, valid while
    the tensor object lives (it keeps its request alive). Low-precision types (F8*, F4E2M1, I4,
    U4, I2, U2) are viewed as their raw bytes (uint8): ``numpy.asarray(tensor).view(tensor.dtype)``
    gives the ml_dtypes view.
    """

    def copy_from(self, array: _ArrayIn) -> None:
        """Copy a C-contiguous array of exactly the tensor's shape and dtype into the tensor.

        ``array``: an ndarray, any buffer-protocol object (memoryview, bytearray, array.array,
        another Tensor) or a DLPack producer (torch tensor), viewed through numpy without an
        intermediate copy. Other types or a wrong dtype -> ``TypeError``; wrong shape, more than 8
        dims or non-contiguous -> ``ValueError``.
        """
    def to_numpy(self) -> npt.NDArray[Any]:
        """A new ndarray holding a copy of the tensor's data."""
    @property
    def name(self) -> str:
        """Tensor name."""
    @property
    def shape(self) -> tuple[int, ...]:
        """Dimensions as a tuple of ints."""
    @property
    def type(self) -> ElementType:
        """Element type."""
    @property
    def dtype(self) -> np.dtype[Any]:
        """numpy dtype matching ``type`` (see :meth:`ElementType.to_dtype`)."""
    @property
    def size(self) -> int:
        """Size in bytes."""
    @property
    def info(self) -> TensorInfo:
        """The tensor's TensorInfo."""
    def __array__(self, dtype: npt.DTypeLike | None = None, *, copy: bool | None = None) -> npt.NDArray[Any]:
        """numpy array protocol: a zero-copy view of the tensor with its numpy dtype.

        Low-precision types get ml_dtypes' dtype. ``copy=True`` returns a copy; a different
        ``dtype`` converts (a copy), which ``copy=False`` refuses with ``ValueError``.
        """
    def __dlpack__(
        self,
        *,
        stream: None = None,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: bool | None = None,
    ) -> CapsuleType:
        """DLPack export (``numpy.from_dlpack``, ``torch.from_dlpack``): a capsule viewing the tensor.

        No copy (``copy=True`` exports a copy); the capsule keeps the tensor and its request alive.
        ``stream`` must be None; ``dl_device``, when given, must be ``(1, 0)`` (kDLCPU).
        Low-precision types (F8*, F4E2M1, I4, U4, I2, U2) raise ``BufferError``. BF16 exports as
        DLPack bfloat16.
        """
    def __dlpack_device__(self) -> tuple[int, int]:
        """``(1, 0)``: kDLCPU, device 0 (model I/O tensors are host memory)."""
    if sys.version_info >= (3, 12):
        def __buffer__(self, flags: int, /) -> memoryview:
            """Buffer protocol: a zero-copy view of the tensor's memory."""

class InferRequest:
    """One inference of a model, independent of its other requests. Made by Model.create_request().

    Instances have a ``__dict__``: the callback and its userdata live there, so callbacks that
    refer to their own request form collectable cycles.
    """

    @overload
    def get_input_tensor(self, index: int = 0) -> Tensor:
        """Input tensor by index (bad index -> ``IndexError``)."""
    @overload
    def get_input_tensor(self, name: str) -> Tensor:
        """Input tensor by name (unknown name -> ``ValueError``)."""
    @property
    def input_tensor_count(self) -> int:
        """Number of model inputs."""
    @property
    def input_tensors(self) -> list[Tensor]:
        """All input tensors, in index order."""
    @overload
    def get_output_tensor(self, index: int = 0) -> Tensor:
        """Output tensor by index (bad index -> ``IndexError``)."""
    @overload
    def get_output_tensor(self, name: str) -> Tensor:
        """Output tensor by name (unknown name -> ``ValueError``)."""
    @property
    def output_tensor_count(self) -> int:
        """Number of model outputs."""
    @property
    def output_tensors(self) -> list[Tensor]:
        """All output tensors, in index order."""
    def set_inputs(self, inputs: _Inputs) -> None:
        """Copy inputs into the request.

        One ndarray (models with one input), a sequence with one ndarray per input in index
        order, or a dict keyed by input name (str) or index (int); a dict may set a subset.
        Every array is checked before anything is copied: wrong container, key or dtype ->
        ``TypeError``; wrong shape, count, more than 8 dims or non-C-contiguous -> ``ValueError``;
        bad index -> ``IndexError``; unknown name -> ``ValueError``.
        """
    def get_outputs(self) -> list[npt.NDArray[Any]]:
        """Copies of all outputs as ndarrays, in index order."""
    @overload
    def set_callback(
        self, callback: Callable[[InferRequest, builtins.BaseException | None], object] | None, userdata: None = None
    ) -> None:
        """Call ``callback(req, ex)`` on a runtime thread (holding the GIL) when an inference finishes.

        ``ex`` is None on success or the exception describing the failure (an :class:`Exception`
        subclass for runtime errors). With ``userdata`` (not None) it is called as
        ``callback(req, ex, userdata)``. Calling ``req.infer()`` inside is safe. Replaces the
        previous callback; None removes it. An exception raised by the callback goes to
        ``sys.unraisablehook``. While running -> :class:`InvalidOperationException`; not callable
        -> ``TypeError``.
        """
    @overload
    def set_callback(
        self, callback: Callable[[InferRequest, builtins.BaseException | None, _T], object], userdata: _T
    ) -> None:
        """As above, called as ``callback(req, ex, userdata)``."""
    def infer(self) -> None:
        """Start the inference and return at once (GIL released).

        Already running -> :class:`InvalidOperationException`; failure to start ->
        :class:`InferException`.
        """
    async def infer_async(self, inputs: _Inputs | None = None) -> None:
        """Start the inference (after ``set_inputs(inputs)`` when given) and await it from asyncio.

        Does not block the event loop: completion comes from the runtime's callback. A failed
        inference raises its :class:`Exception` subclass in the awaiting task; a request already
        running raises :class:`InvalidOperationException` at once. A callback set with
        ``set_callback`` is still called. Cancelling the task does not stop the inference.
        (Defined in Python, optima_v2.runtime._async.)
        """
    def _infer_notify(self, hook: Callable[[builtins.BaseException | None], object]) -> None:
        """Internal (used by infer_async): start the inference and call ``hook(ex)`` once when it ends."""
    def wait(self, timeout_ms: int = 0) -> bool:
        """Block until the inference finishes (GIL released), at most ``timeout_ms`` ms (0 = no limit).

        Returns True when the timeout expired first, False when finished. Raises the error of a
        failed inference; never started -> :class:`InferException`; negative timeout ->
        ``ValueError``. Ctrl-C interrupts the wait.
        """
    @property
    def profile_data(self) -> list[ProfileData]:
        """ProfileData list of the latest finished ``infer()`` (empty if none or running)."""
    @property
    def id(self) -> int:
        """Identifier unique within the process."""

class Model:
    """A loaded model. Made by Context.load_model()."""

    def create_request(self) -> InferRequest:
        """A new, independent InferRequest (GIL released while it is created)."""
    @overload
    def get_input_tensor_info(self, index: int = 0) -> TensorInfo:
        """TensorInfo of an input by index (bad index -> ``IndexError``)."""
    @overload
    def get_input_tensor_info(self, name: str) -> TensorInfo:
        """TensorInfo of an input by name (unknown name -> ``ValueError``)."""
    @property
    def input_tensor_count(self) -> int:
        """Number of model inputs."""
    @property
    def input_tensors_info(self) -> list[TensorInfo]:
        """TensorInfo of every input, in index order."""
    def get_input_index(self, name: str) -> int | None:
        """Index of the input named ``name``, or None."""
    @overload
    def get_output_tensor_info(self, index: int = 0) -> TensorInfo:
        """TensorInfo of an output by index (bad index -> ``IndexError``)."""
    @overload
    def get_output_tensor_info(self, name: str) -> TensorInfo:
        """TensorInfo of an output by name (unknown name -> ``ValueError``)."""
    @property
    def output_tensor_count(self) -> int:
        """Number of model outputs."""
    @property
    def output_tensors_info(self) -> list[TensorInfo]:
        """TensorInfo of every output, in index order."""
    def get_output_index(self, name: str) -> int | None:
        """Index of the output named ``name``, or None."""
    @property
    def subgraph_info(self) -> list[SubgraphInfo]:
        """SubgraphInfo of each subgraph: where it runs as decided at load."""
    @property
    def name(self) -> str:
        """The model's name (from model.meta)."""
    @property
    def load_profile_data(self) -> list[ProfileData]:
        """ModelInit and SubgraphInit entries of the load."""
    @property
    def _context_thread_count(self) -> int:
        """Internal: threads of the pool of the Context that loaded the model (RequestQueue's default)."""

class Context:
    """Owns the extensions, devices, logging and thread pool.

    Loads the extensions installed with the runtime and those in ``OPTIMA_V2_EXTENSION_PATH``.
    """

    version: ClassVar[tuple[int, int, int]]
    """The library's version as ``(major, minor, patch)``."""
    def __init__(
        self,
        verbosity: LogLevel | None = None,
        log_path: _PathLike | None = "",
        *,
        loglevel: LogLevel | None = None,
        enable_profile: bool = True,
        thread_count: int = 0,
        load_default_extensions: bool = True,
    ) -> None:
        """Create a context.

        ``verbosity`` (alias ``loglevel``, the user's guide spelling): minimum LogLevel logged,
        default Warning; giving both with different values -> ``ValueError``; not a LogLevel ->
        ``TypeError``. ``log_path``: log file (``''`` = stderr). ``enable_profile``: record
        per-layer profile data. ``thread_count``: threads of the pool (0 = ``OPTIMA_V2_NUM_THREADS``
        or the physical cores; outside 0..4096 -> ``ValueError``). ``load_default_extensions``:
        load the bundled extensions.
        """
    def load_model(self, model_path: _PathLike, fallback: bool = False) -> Model:
        """Load a model folder (GIL released).

        Not an existing folder -> ``ValueError``; corrupt -> :class:`InvalidModelException`;
        unknown framework/device -> :class:`UnsupportedModelException`. ``fallback``: run
        subgraphs whose device is unavailable on a CPU.
        """
    def load_extension(self, extension_path: _PathLike) -> None:
        """Load an extension library.

        Missing/not a file -> ``ValueError``; not a valid extension ->
        :class:`InvalidExtensionException`.
        """
    @property
    def verbosity(self) -> LogLevel:
        """The LogLevel (get/set)."""
    @verbosity.setter
    def verbosity(self, level: LogLevel) -> None: ...
    def set_verbosity(self, level: LogLevel) -> LogLevel:
        """Set the LogLevel; returns the previous one."""
    @property
    def available_devices(self) -> list[DeviceInfo]:
        """DeviceInfo of every device the loaded extensions offer."""
    @property
    def loaded_extensions(self) -> list[str]:
        """Descriptions of the loaded extensions."""
    @property
    def thread_count(self) -> int:
        """Number of threads of the context's pool."""
    @staticmethod
    def get_version() -> tuple[int, int, int]:
        """The library's version as ``(major, minor, patch)``."""
