"""Weight-less copies of a model for the onnx tools that serialize the whole model.

onnx's checker, shape inference and version converter serialize the model they are given (and
parse it again in C++): with the weights, each call holds two or three extra copies of them, and
protobuf limits the serialized model to 2 GB. None of them needs the value of a large weight, so
they run on a copy whose large initializers are typed graph inputs, and what they produce is
copied back into the original model in place (the weights never move: with upb, a copied-out
message is not freed until its whole model is).
"""

from __future__ import annotations

import math

import onnx
from onnx import GraphProto, ModelProto, TensorProto, helper

#: Initializers at most this large stay in the copy: shape inference and the version converter
#: read small constants (Reshape targets, Slice bounds, Resize scales, axes, ...).
SMALL_BYTES = 1024


def _byte_estimate(tensor: TensorProto) -> int:
    """The tensor's data size from its type and dims, without reading the data (which copies it)."""
    if tensor.data_type in (TensorProto.STRING, TensorProto.UNDEFINED):
        return 0  # kept in the copy: rare, and their size is not the dims' business
    try:
        itemsize = helper.tensor_dtype_to_np_dtype(tensor.data_type).itemsize
    except (KeyError, ValueError, TypeError):
        itemsize = 1
    return math.prod(tensor.dims) * itemsize


def is_large(tensor: TensorProto) -> bool:
    return _byte_estimate(tensor) > SMALL_BYTES and tensor.data_location != TensorProto.EXTERNAL


def _repeated(field) -> bool:
    flag = getattr(field, "is_repeated", None)  # protobuf >= 6; older ones have only ``label``
    return bool(flag) if flag is not None else field.label == field.LABEL_REPEATED


def _copy_field(target, source, field) -> None:
    value = getattr(source, field.name)
    if _repeated(field):
        getattr(target, field.name).extend(value)
    elif field.type == field.TYPE_MESSAGE:
        getattr(target, field.name).CopyFrom(value)
    else:
        setattr(target, field.name, value)


def light_copy(model: ModelProto) -> tuple[ModelProto, list[str]]:
    """A copy of ``model`` whose large initializers are graph inputs of their type and shape; also
    the names of those initializers (only the top-level graph's; subgraphs are copied as they are)."""
    light = ModelProto()
    for field, _ in model.ListFields():
        if field.name != "graph":
            _copy_field(light, model, field)
    graph, source = light.graph, model.graph
    for field, _ in source.ListFields():
        if field.name != "initializer":
            _copy_field(graph, source, field)
    inputs = {v.name for v in source.input}
    detached: list[str] = []
    for tensor in source.initializer:
        if not is_large(tensor):
            graph.initializer.add().CopyFrom(tensor)
            continue
        detached.append(tensor.name)
        if tensor.name not in inputs:  # old IR versions list initializers as inputs already
            graph.input.append(helper.make_tensor_value_info(tensor.name, tensor.data_type, list(tensor.dims)))
    return light, detached


def adopt(model: ModelProto, result: ModelProto, detached: list[str], *, initializers: bool) -> None:
    """Copy what an onnx tool produced from ``light_copy(model)`` back into ``model`` in place.

    Everything but the initializers is taken from ``result`` (the inputs made for ``detached``
    removed again); with ``initializers``, the small initializers are replaced by ``result``'s
    (the version converter adds and rewrites constants), the large ones stay where they are.
    """
    added = set(detached) - {v.name for v in model.graph.input}
    for field in ModelProto.DESCRIPTOR.fields:
        if field.name != "graph":
            model.ClearField(field.name)
            if _repeated(field) or result.HasField(field.name):
                _copy_field(model, result, field)
    graph, produced = model.graph, result.graph
    for field in GraphProto.DESCRIPTOR.fields:
        if field.name == "initializer":
            continue
        graph.ClearField(field.name)
        if _repeated(field) or produced.HasField(field.name):
            _copy_field(graph, produced, field)
    if added:
        kept = [v for v in graph.input if v.name not in added]
        del graph.input[:]
        graph.input.extend(kept)
    if initializers:
        large = set(detached)
        for index in reversed(range(len(graph.initializer))):
            if graph.initializer[index].name not in large:
                del graph.initializer[index]
        graph.initializer.extend(produced.initializer)


def check_detached(model: ModelProto, detached: list[str]) -> None:
    """onnx's checks of the initializers :func:`light_copy` left out, one tensor at a time."""
    if not detached:
        return
    names = set(detached)
    context = onnx.checker.C.CheckerContext()
    context.ir_version = model.ir_version
    context.opset_imports = {entry.domain: entry.version for entry in model.opset_import}
    for tensor in model.graph.initializer:
        if tensor.name in names:
            onnx.checker.check_tensor(tensor, context)
