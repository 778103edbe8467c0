"""compile_torch: a PyTorch module -> ONNX (``torch.onnx.export``) -> :func:`compile_onnx`.

PyTorch stays optional: it is imported only when :func:`compile_torch` is called. The module is
exported with the TorchScript-based exporter (``dynamo=False``): since torch 2.9 the default
(dynamo) exporter needs the separate ``onnxscript`` package, which the legacy exporter does not,
and it writes the classic ONNX ops (LSTM, Gemm, ...) the native backend runs. Sample inputs are
traced as they are, so the exported shapes are static and ``input_shapes`` is rarely needed.
"""

from __future__ import annotations

import inspect
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, Union

from .api import compile_onnx
from .errors import CompileError

#: The ONNX opset the module is exported with (LayerNormalization needs 17).
TORCH_EXPORT_OPSET = 17


def _import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise CompileError(
            "compile_torch needs PyTorch, and the package 'torch' is not installed (pip install torch); "
            "or export the model with torch.onnx.export yourself and use compile_onnx"
        ) from None
    return torch


def _sample_tuple(torch: Any, sample_inputs: Any) -> tuple[Any, ...]:
    """The sample inputs as a tuple of tensors (one tensor, or a list/tuple of them)."""
    samples = tuple(sample_inputs) if isinstance(sample_inputs, (list, tuple)) else (sample_inputs,)
    if not samples:
        raise CompileError("compile_torch: sample_inputs is empty; give one example tensor per forward() argument")
    for index, sample in enumerate(samples):
        if not isinstance(sample, torch.Tensor):
            raise CompileError(
                f"compile_torch: sample_inputs[{index}] is a {type(sample).__name__}, expected a torch.Tensor"
            )
    return samples


def _names(names: Optional[Sequence[str]], count: Optional[int], prefix: str, what: str) -> Optional[list[str]]:
    if names is None:
        return None if count is None else [f"{prefix}_{i}" for i in range(count)]
    if isinstance(names, str) or not all(isinstance(n, str) and n for n in names):
        raise CompileError(f"compile_torch: {what} must be a list of non-empty names, got {names!r}")
    if count is not None and len(names) != count:
        raise CompileError(f"compile_torch: {len(names)} {what} for {count} sample inputs")
    return list(names)


def _export(torch: Any, module: Any, samples: tuple[Any, ...], path: Path, **options: Any) -> None:
    export = torch.onnx.export
    if "dynamo" in inspect.signature(export).parameters:
        options["dynamo"] = False
    try:
        with warnings.catch_warnings():
            # the TorchScript exporter announces its deprecation and traces with TracerWarnings
            warnings.simplefilter("ignore")
            export(module, samples, str(path), **options)
    except Exception as error:  # torch raises many types (OnnxExporterError, RuntimeError, ...)
        text = str(error).strip()
        first = text.splitlines()[0] if text else ""
        raise CompileError(f"torch.onnx.export failed ({type(error).__name__}: {first})") from None


def compile_torch(
    module: Any,
    sample_inputs: Any,
    output_dir: Union[str, os.PathLike[str]],
    *,
    input_names: Optional[Sequence[str]] = None,
    output_names: Optional[Sequence[str]] = None,
    opset: int = TORCH_EXPORT_OPSET,
    **compile_options: Any,
) -> Path:
    """Compile a ``torch.nn.Module`` into a model folder; returns its path.

    ``sample_inputs`` is one tensor or a tuple of tensors, one per ``forward`` argument; the model
    is traced with them (in eval mode), so its inputs get their shapes. Model inputs are named
    ``input_names`` (default ``input_0``, ``input_1``, ...) and outputs ``output_names`` (default
    ``output_0``, ...). ``compile_options`` are those of :func:`compile_onnx` (``device_map``
    names nodes of the exported graph, e.g. ``/conv1/Conv``; see
    :func:`write_device_map_template`). Every problem is a :class:`CompileError`.
    """
    torch = _import_torch()
    if not isinstance(module, torch.nn.Module):
        raise CompileError(f"compile_torch: expected a torch.nn.Module, got {type(module).__name__}")
    samples = _sample_tuple(torch, sample_inputs)
    inputs = _names(input_names, len(samples), "input", "input_names")
    outputs = _names(output_names, None, "output", "output_names")
    with tempfile.TemporaryDirectory(prefix="optima-v2-torch-") as scratch:
        # A file, not bytes: models over 2 GB are written with external data next to it.
        path = Path(scratch) / "model.onnx"
        options: dict[str, Any] = {"input_names": inputs, "opset_version": opset}
        if outputs is not None:
            options["output_names"] = outputs
        with torch.no_grad():
            _export(torch, module, samples, path, **options)
        if outputs is None:
            _name_outputs(path)
        return compile_onnx(path, output_dir, **compile_options)


def _name_outputs(path: Path) -> None:
    """Default output names ``output_<i>`` (the exporter names them after internal values)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    renames = {o.name: f"output_{i}" for i, o in enumerate(model.graph.output)}
    taken = {n for node in model.graph.node for n in [*node.input, *node.output]} | {
        v.name for v in [*model.graph.input, *model.graph.initializer]
    }
    if any(new in taken and new != old for old, new in renames.items()):
        return  # keep the exporter's names rather than collide
    for value in model.graph.output:
        value.name = renames[value.name]
    for node in model.graph.node:
        for index, name in enumerate(node.output):
            if name in renames:
                node.output[index] = renames[name]
        for index, name in enumerate(node.input):
            if name in renames:
                node.input[index] = renames[name]
    onnx.save(model, str(path))
