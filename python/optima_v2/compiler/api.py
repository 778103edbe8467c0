"""compile_onnx: ONNX model -> model folder, running the passes in order."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Optional, Union

from onnx import ModelProto

from .dead_code import remove_dead_nodes
from .errors import CompileError
from .export import export
from .folding import fold_constants
from .loading import ModelSource, load_model, onnx_opset
from .ops import check_supported
from .placement import (
    DeviceMap,
    check_device_map_names,
    device_map_template,
    normalize_device,
    partition,
    read_device_map,
)
from .shapes import apply_input_shapes, infer_shapes, static_specs, tensor_types
from .simplify import dropouts_to_identities, remove_identities

Progress = Callable[[str], None]


def compile_onnx(
    model: ModelSource,
    output_dir: Union[str, os.PathLike[str]],
    *,
    input_shapes: Optional[Mapping[str, Sequence[int]]] = None,
    device_map: DeviceMap = None,
    default_device: str = "x64:0",
    optimize: bool = True,
    progress: Optional[Progress] = None,
) -> Path:
    """Compile an ONNX model (a path or an ``onnx.ModelProto``) into a model folder; returns its path.

    ``input_shapes`` fixes model input shapes (every dynamic dim must be given); ``device_map``
    maps node names to devices (a dict or a JSON file), other nodes go to ``default_device``.
    With ``optimize`` false, only the lowering needed to run is done (Constant nodes become
    constants, inference Dropout becomes Identity); Identity removal, constant folding and
    dead-node removal are skipped.
    Every problem is a :class:`CompileError` (a ValueError).
    """
    report = progress or (lambda _message: None)
    default = normalize_device(default_device, "default_device")
    devices = read_device_map(device_map)
    report("loading")
    proto = load_model(model)
    check_device_map_names(devices, [n.name for n in proto.graph.node])
    apply_input_shapes(proto, input_shapes)
    report("shape inference")
    proto = infer_shapes(proto)
    dropouts_to_identities(proto.graph)
    if optimize:
        proto = _optimize(proto, report)
    specs = static_specs(proto)
    check_supported(
        proto.graph, {name: spec[0] for name, spec in specs.items()}, {t.name for t in proto.graph.initializer}
    )
    report("placement")
    partitions = partition(proto.graph, devices, default)
    report("writing")
    name = proto.graph.name or "model"
    try:
        return export(proto.graph, partitions, specs, Path(output_dir), name)
    except (FileExistsError, NotADirectoryError) as error:
        raise CompileError(f"cannot write the model folder: {error}") from None


def _optimize(proto: ModelProto, report: Progress) -> ModelProto:
    opset = onnx_opset(proto)
    report("optimizing")
    remove_identities(proto.graph)
    while True:
        folded = fold_constants(proto.graph, tensor_types(proto), opset)
        remove_dead_nodes(proto.graph)
        if not folded:
            break
        # Folded shapes (Reshape targets, ...) make more shapes static: infer again and retry.
        proto = infer_shapes(proto)
    return proto


def write_device_map_template(model: ModelSource, path: Union[str, os.PathLike[str]], device: str = "X64:0") -> Path:
    """Write ``{node name: device}`` for every node of ``model`` as JSON, to edit into a device map."""
    proto = load_model(model)
    template = device_map_template([n.name for n in proto.graph.node], device)
    target = Path(path)
    target.write_text(json.dumps(template, indent=2) + "\n", encoding="utf-8")
    return target
