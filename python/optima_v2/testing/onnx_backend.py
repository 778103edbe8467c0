"""An ``onnx.backend.base.Backend`` over the compiler and the runtime, for onnx's BackendTest.

``prepare(model)`` keeps the model; each ``run(inputs)`` compiles it (cached by the inputs' shapes
and dtypes, and by the values of the frozen inputs) into a temporary model folder with every
input shape fixed from the actual inputs, loads it with :mod:`optima_v2.runtime` and infers::

    import onnx.backend.test
    from optima_v2.testing import onnx_backend
    suite = onnx.backend.test.BackendTest(onnx_backend, __name__)

Inputs whose values decide output shapes (a Reshape target, Slice bounds, TopK's K, ...: see
:func:`optima_v2.compiler.shape_value_inputs`) are frozen as constants from the values of the run,
as an ahead-of-time compiler needs them. A model the compiler or the runtime refuses raises
:class:`BackendRefusal` (a ``CompileError`` or the runtime's ``UnsupportedModelException`` /
``InvalidModelException`` as its cause) with the refusal's message; anything else propagates.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np
import onnx
from onnx.backend.base import Backend, BackendRep

import optima_v2.runtime as rt

from ..compiler import CompileError, compile_onnx, shape_value_inputs
from ..compiler.runtime_check import runtime_context

__all__ = ["BackendRefusal", "OptimaBackend", "OptimaRep", "is_compatible", "prepare", "run_model", "supports_device"]


def _shared_context() -> rt.Context:
    return runtime_context()  # the compiler's: one set of extensions and thread pool per process


class BackendRefusal(RuntimeError):
    """The compiler or the runtime refused the model (op, type, attribute ... not supported)."""


def _bfloat16() -> Any:
    try:
        import ml_dtypes
    except ImportError:  # onnx installs it; without it no array is bfloat16 anyway
        return None
    return np.dtype(ml_dtypes.bfloat16)


class OptimaRep(BackendRep):
    """A prepared ONNX model; each distinct input signature is compiled once, on first run."""

    def __init__(self, model: onnx.ModelProto, device: str = "CPU", **compile_options: Any) -> None:
        self.model = model
        self.device = device
        self.compile_options = compile_options
        initializers = {t.name for t in model.graph.initializer}
        self.input_names = [v.name for v in model.graph.input if v.name not in initializers]
        self.output_names = [v.name for v in model.graph.output]
        self.frozen = set(shape_value_inputs(model))
        self._compiled: dict[tuple[Any, ...], tuple[Path, rt.Model]] = {}
        self._workdir: Optional[Path] = None

    def run(self, inputs: Any, **kwargs: Any) -> tuple[np.ndarray, ...]:
        feeds = self._feeds(inputs)
        key = tuple(
            (name, array.dtype.str, array.shape, array.tobytes() if name in self.frozen else None)
            for name, array in feeds.items()
        )
        if key not in self._compiled:
            self._compiled[key] = self._compile(feeds, len(self._compiled))
        _, model = self._compiled[key]
        request = model.create_request()
        runtime_inputs = {}
        for info in model.input_tensors_info:
            array = feeds[info.name]
            if info.type == rt.ElementType.BF16:
                array = array.view(np.uint16)
            runtime_inputs[info.name] = array if array.flags.c_contiguous else array.copy(order="C")
        request.set_inputs(runtime_inputs)
        request.infer()
        request.wait()
        bfloat16 = _bfloat16()
        outputs = []
        for info, tensor in zip(model.output_tensors_info, request.get_outputs()):
            array = np.array(tensor)  # a copy: the request owns its memory
            if info.type == rt.ElementType.BF16 and bfloat16 is not None:
                array = array.view(bfloat16)
            outputs.append(array)
        by_name = {info.name: array for info, array in zip(model.output_tensors_info, outputs)}
        return tuple(by_name[name] for name in self.output_names)

    def close(self) -> None:
        self._compiled.clear()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may be gone already
            pass

    # --- internals -----------------------------------------------------------------------------
    def _feeds(self, inputs: Any) -> dict[str, np.ndarray]:
        if isinstance(inputs, dict):
            unknown = sorted(set(inputs) - set(self.input_names))
            if unknown:
                raise ValueError(f"inputs {unknown} are not model inputs {self.input_names}")
            items = [(name, inputs[name]) for name in self.input_names if name in inputs]
        else:
            values = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
            if len(values) > len(self.input_names):
                raise ValueError(f"{len(values)} inputs given, the model has {len(self.input_names)}")
            items = list(zip(self.input_names, values))
        feeds = {name: np.asarray(value) for name, value in items}
        missing = [name for name in self.input_names if name not in feeds]
        if missing:
            raise ValueError(f"inputs {missing} are not given")
        return feeds

    def _compile(self, feeds: dict[str, np.ndarray], index: int) -> tuple[Path, rt.Model]:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="optima_v2_onnx_backend_"))
        folder = self._workdir / f"model_{index}"
        values = {name: array for name, array in feeds.items() if name in self.frozen}
        shapes = {name: list(array.shape) for name, array in feeds.items() if name not in self.frozen}
        try:
            compile_onnx(self.model, folder, input_shapes=shapes, input_values=values, **self.compile_options)
        except CompileError as error:
            raise BackendRefusal(f"refused by the compiler: {error}") from error
        try:
            model = _shared_context().load_model(str(folder))
        except (rt.UnsupportedModelException, rt.InvalidModelException) as error:
            raise BackendRefusal(f"refused by the runtime: {error}") from error
        return folder, model


class OptimaBackend(Backend):
    """onnx Backend: compile with :func:`optima_v2.compiler.compile_onnx`, run with optima_v2.runtime."""

    @classmethod
    def is_compatible(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: Any) -> bool:
        return cls.supports_device(device)

    @classmethod
    def prepare(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs: Any) -> OptimaRep:
        """Keep ``model``; ``kwargs`` are compile_onnx options (``optimize``, ``device_map`` ...)."""
        if not cls.supports_device(device):
            raise ValueError(f"device {device!r} is not supported (only CPU)")
        options = {k: v for k, v in kwargs.items() if k in ("optimize", "device_map", "default_device")}
        return OptimaRep(model, device, **options)

    @classmethod
    def run_model(
        cls, model: onnx.ModelProto, inputs: Any, device: str = "CPU", **kwargs: Any
    ) -> tuple[np.ndarray, ...]:
        rep = cls.prepare(model, device, **kwargs)
        try:
            return rep.run(inputs)
        finally:
            rep.close()

    @classmethod
    def run_node(
        cls,
        node: onnx.NodeProto,
        inputs: Any,
        device: str = "CPU",
        outputs_info: Optional[Sequence[tuple[np.dtype, tuple[int, ...]]]] = None,
        **kwargs: Any,
    ) -> tuple[np.ndarray, ...]:
        """Run one node: wrapped into a one-node model (input types from ``inputs``)."""
        values = [np.asarray(v) for v in (inputs.values() if isinstance(inputs, dict) else inputs)]
        names = list(node.input)
        graph_inputs = [
            onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
            for name, v in zip(names, values)
            if name
        ]
        graph_outputs = []
        for i, name in enumerate(node.output):
            if outputs_info is not None and i < len(outputs_info):
                dtype, shape = outputs_info[i]
                graph_outputs.append(
                    onnx.helper.make_tensor_value_info(
                        name, onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), shape
                    )
                )
            else:
                graph_outputs.append(onnx.helper.make_empty_tensor_value_info(name))
        opset = kwargs.pop("opset_version", onnx.defs.onnx_opset_version())
        graph = onnx.helper.make_graph([node], "node", graph_inputs, graph_outputs)
        model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)])
        if outputs_info is None:  # output types from onnx's shape inference
            model = onnx.shape_inference.infer_shapes(model)
        return cls.run_model(model, [v for n, v in zip(names, values) if n], device, **kwargs)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return device.upper() == "CPU"


# Module-level functions: onnx's BackendTest takes the backend as a module or a class.
is_compatible = OptimaBackend.is_compatible
prepare = OptimaBackend.prepare
run_model = OptimaBackend.run_model
run_node = OptimaBackend.run_node
supports_device = OptimaBackend.supports_device
