"""Reading an ONNX model (path or ModelProto) into a checked, uniformly named ModelProto."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import onnx
import onnx.version_converter
from onnx import ModelProto, numpy_helper

from .errors import CompileError

MIN_OPSET = 7
#: Models older than MIN_OPSET are converted to this opset with onnx.version_converter.
UPGRADE_OPSET = 13

ModelSource = Union[str, "os.PathLike[str]", ModelProto]


def load_model(model: ModelSource) -> ModelProto:
    """A private copy of ``model`` with every node named uniquely and Constant nodes as initializers.

    External data (``.onnx.data`` next to the file) is loaded with the model. Any problem reading
    or checking the file is a CompileError naming the file.
    """
    if isinstance(model, ModelProto):
        proto = ModelProto()
        proto.CopyFrom(model)
        where = f"model {proto.graph.name or '<unnamed>'!r}"
    elif isinstance(model, (str, os.PathLike)):
        path = Path(model)
        where = str(path)
        if not path.is_file():
            raise CompileError(f"{path}: no such ONNX file")
        try:
            proto = onnx.load(str(path), load_external_data=True)
        except Exception as error:  # protobuf DecodeError, missing external data, ...
            raise CompileError(f"{path}: not a readable ONNX model ({type(error).__name__}: {error})") from None
    else:
        raise CompileError(f"model must be a path or an onnx.ModelProto, got {type(model).__name__}")
    try:
        onnx.checker.check_model(proto)
    except (onnx.checker.ValidationError, ValueError) as error:
        raise CompileError(f"{where}: invalid ONNX model: {str(error).strip().splitlines()[0]}") from None
    opset = onnx_opset(proto)
    newest = onnx.defs.onnx_opset_version()
    if opset > newest:
        raise CompileError(f"{where}: ONNX opset {opset} is not supported (use {MIN_OPSET} to {newest})")
    if opset < MIN_OPSET:
        proto = _upgrade(proto, where, opset)
    name_nodes(proto)
    name_omitted_outputs(proto)
    constants_to_initializers(proto)
    return proto


def _upgrade(proto: ModelProto, where: str, opset: int) -> ModelProto:
    """Models older than opset 7 (legacy exporters) are converted by onnx's version converter."""
    _per_channel_prelu_slopes(proto)
    try:
        converted = onnx.version_converter.convert_version(proto, UPGRADE_OPSET)
        # Converted ops may add initializers that are not graph inputs: valid from IR version 4 on,
        # and opset 13 needs IR version 7 anyway.
        converted.ir_version = max(converted.ir_version, 7)
        onnx.checker.check_model(converted)
    except Exception as error:  # the converter raises RuntimeError / assertion texts
        raise CompileError(
            f"{where}: ONNX opset {opset} is older than {MIN_OPSET} and onnx's version converter cannot "
            f"upgrade it to {UPGRADE_OPSET}: {str(error).strip().splitlines()[0] if str(error).strip() else error}"
        ) from None
    return converted


def _per_channel_prelu_slopes(proto: ModelProto) -> None:
    """PRelu before opset 7 applies a 1-D slope of size C per channel (axis 1); from opset 7 on it
    broadcasts numpy-style (from the last axis), and the converter leaves the slope as it is:
    reshape such constant slopes to [C, 1, ...] so the meaning is kept."""
    try:
        inferred = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # no ranks known: nothing to reshape
        return
    ranks = {
        v.name: len(v.type.tensor_type.shape.dim)
        for v in [*inferred.graph.input, *inferred.graph.value_info]
        if v.type.tensor_type.HasField("shape")
    }
    initializers = {t.name: t for t in proto.graph.initializer}
    for node in proto.graph.node:
        if node.op_type != "PRelu" or len(node.input) < 2 or node.input[1] not in initializers:
            continue
        slope = initializers[node.input[1]]
        rank = ranks.get(node.input[0], 0)
        if len(slope.dims) == 1 and slope.dims[0] > 1 and rank > 2:
            array = numpy_helper.to_array(slope).reshape([slope.dims[0]] + [1] * (rank - 2))
            slope.CopyFrom(numpy_helper.from_array(array, slope.name))
            for value in proto.graph.input:  # old IR versions list initializers as inputs too
                if value.name == slope.name and value.type.tensor_type.HasField("shape"):
                    del value.type.tensor_type.shape.dim[:]
                    for size in array.shape:
                        value.type.tensor_type.shape.dim.add().dim_value = size


def onnx_opset(model: ModelProto) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise CompileError("the model imports no ai.onnx opset")


def name_nodes(model: ModelProto) -> None:
    """Give unnamed and duplicate-named nodes a unique ``<op>_<index>`` name (device maps use them)."""
    seen: set[str] = set()
    for index, node in enumerate(model.graph.node):
        name = node.name
        if not name or name in seen:
            base = f"{node.op_type}_{index}"
            name, suffix = base, 1
            while name in seen:
                name, suffix = f"{base}_{suffix}", suffix + 1
            node.name = name
        seen.add(name)


def name_omitted_outputs(model: ModelProto) -> None:
    """Omitted optional outputs (``""``): trailing ones are dropped; one before a used output gets a
    name (``<node>.unused_output_<i>``) so shape inference types it: the model format has no
    omitted outputs, and the backend checks every declared output."""
    for node in model.graph.node:
        outputs = list(node.output)
        while outputs and not outputs[-1]:
            outputs.pop()
        outputs = [name or f"{node.name}.unused_output_{i}" for i, name in enumerate(outputs)]
        if outputs != list(node.output):
            del node.output[:]
            node.output.extend(outputs)


def constants_to_initializers(model: ModelProto) -> None:
    """Constant nodes become initializers: the native format holds constants as tensors, not ops."""
    graph = model.graph
    keep = []
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            value = _constant_value(node)
            graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
        else:
            keep.append(node)
    if len(keep) != len(graph.node):
        del graph.node[:]
        graph.node.extend(keep)


def _constant_value(node: onnx.NodeProto):
    import numpy as np

    if len(node.attribute) != 1:
        raise CompileError(f"node {node.name!r} (Constant): expected exactly one value attribute")
    attribute = node.attribute[0]
    value = onnx.helper.get_attribute_value(attribute)
    if attribute.name == "value":
        return numpy_helper.to_array(value)
    if attribute.name == "sparse_value":
        raise CompileError(f"node {node.name!r} (Constant): sparse constants are not supported")
    dtypes = {
        "value_float": np.float32,
        "value_floats": np.float32,
        "value_int": np.int64,
        "value_ints": np.int64,
    }
    if attribute.name in dtypes:
        return np.array(value, dtype=dtypes[attribute.name])
    raise CompileError(f"node {node.name!r} (Constant): attribute {attribute.name!r} is not supported")
