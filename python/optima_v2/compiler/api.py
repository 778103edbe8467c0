"""compile_onnx: ONNX model -> model folder, running the passes in order."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional, Union

from onnx import ModelProto

from .dead_code import remove_dead_nodes
from .export import export
from .fold_batchnorm import fold_batchnorms
from .folding import fold_constants
from .freezing import freeze_inputs
from .fuse_activation import fuse_activations
from .fuse_residual import fuse_residual_adds
from .loading import ModelSource, load_model, onnx_opset
from .ops import check_writable
from .placement import (
    DeviceMap,
    check_device_map_names,
    device_map_template,
    normalize_device,
    partition,
    read_device_map,
)
from .runtime_check import write_checked
from .shape_eval import complete_shapes
from .shapes import apply_input_shapes, infer_shapes, propagate_shapes, static_specs, tensor_types
from .simplify import dropouts_to_identities, remove_identities

Progress = Callable[[str], None]


def compile_onnx(
    model: ModelSource,
    output_dir: Union[str, os.PathLike[str]],
    *,
    input_shapes: Optional[Mapping[str, Sequence[int]]] = None,
    input_values: Optional[Mapping[str, Any]] = None,
    device_map: DeviceMap = None,
    default_device: str = "x64:0",
    optimize: bool = True,
    progress: Optional[Progress] = None,
) -> Path:
    """Compile an ONNX model (a path or an ``onnx.ModelProto``) into a model folder; returns its path.

    ``input_shapes`` fixes model input shapes (every dynamic dim must be given); ``device_map``
    maps node names to devices (a dict or a JSON file), other nodes go to ``default_device``.
    ``input_values`` maps input names to arrays: those inputs become constants (e.g. a Reshape
    target or Slice bounds fed as inputs, whose values decide output shapes; see
    :func:`optima_v2.compiler.shape_value_inputs`); the compiled model no longer has them.
    The written folder is loaded with :mod:`optima_v2.runtime` before it is put in place: one
    CompileError lists every node a backend refuses (op and reason), across all subgraphs.
    With ``optimize`` false, only the lowering needed to run is done (Constant nodes become
    constants, inference Dropout becomes Identity); Identity removal, constant folding,
    dead-node removal, BatchNorm folding and activation and residual fusion are skipped.
    Activations and residual Adds are fused only into nodes placed on a ``Native`` device (see
    :mod:`.fuse_activation` and :mod:`.fuse_residual`).
    ``progress`` is called with ``"[i/n] step"`` as each step starts.
    Every problem is a :class:`CompileError` (a ValueError).
    """
    report = _Steps(progress, total=5 + (len(OPTIMIZE_STEPS) if optimize else 0))
    default = normalize_device(default_device, "default_device")
    devices = read_device_map(device_map)
    report("loading")
    proto = load_model(model)
    check_device_map_names(devices, [n.name for n in proto.graph.node])
    freeze_inputs(proto, input_values or {})
    check_writable(proto.graph)
    apply_input_shapes(proto, input_shapes)
    report("shape inference")
    proto = _infer(proto)
    dropouts_to_identities(proto.graph)
    if optimize:
        proto = _optimize(proto, report)
        report("fusing activations")
        fuse_residual_adds(proto.graph, devices, default)  # Conv + Add first: the Relu then follows it
        fuse_activations(proto.graph, devices, default)
    specs = static_specs(proto)
    report("placement")
    partitions = partition(proto.graph, devices, default)
    report("writing")
    name = proto.graph.name or "model"
    folder, subgraphs = export(proto.graph, partitions, specs, name)
    report("checking with the runtime")
    return write_checked(folder, subgraphs, Path(output_dir))


#: Progress steps of the optimization passes (the other steps: loading, shape inference,
#: placement, writing, checking with the runtime).
OPTIMIZE_STEPS = ("removing identities", "folding constants", "folding batch norms", "fusing activations")


class _Steps:
    """Numbers the steps reported to a progress callback: ``"[3/9] folding constants"``."""

    def __init__(self, progress: Optional[Progress], total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, step: str) -> None:
        self.done += 1
        self.total = max(self.total, self.done)  # a step added elsewhere still numbers sensibly
        if self.progress is not None:
            self.progress(f"[{self.done}/{self.total}] {step}")


def _optimize(proto: ModelProto, report: Progress) -> ModelProto:
    opset = onnx_opset(proto)
    report("removing identities")
    remove_identities(proto.graph)
    report("folding constants")
    while True:
        folded = fold_constants(proto.graph, tensor_types(proto), opset)
        remove_dead_nodes(proto.graph)
        if not folded:
            break
        # Folded shapes (Reshape targets, ...) make more shapes static: infer again and retry.
        proto = _infer(proto)
    report("folding batch norms")
    if fold_batchnorms(proto.graph):
        remove_dead_nodes(proto.graph)  # the unscaled weights
    return proto


def _infer(proto: ModelProto) -> ModelProto:
    """onnx shape inference, then what it leaves unknown by evaluation (shape_eval), to a fixed point."""
    proto = infer_shapes(proto)
    opset = onnx_opset(proto)
    for _ in range(len(proto.graph.node)):
        if not complete_shapes(proto, opset):
            break
        proto = propagate_shapes(proto)
    return proto


def write_device_map_template(model: ModelSource, path: Union[str, os.PathLike[str]], device: str = "X64:0") -> Path:
    """Write ``{node name: device}`` for every node of ``model`` as JSON, to edit into a device map."""
    proto = load_model(model)
    template = device_map_template([n.name for n in proto.graph.node], device)
    target = Path(path)
    target.write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")
    return target
