"""Reading an ONNX model (path or ModelProto) into a checked, uniformly named ModelProto."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import onnx
from onnx import ModelProto, numpy_helper

from .errors import CompileError

MIN_OPSET = 7

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
    if not MIN_OPSET <= opset <= newest:
        raise CompileError(f"{where}: ONNX opset {opset} is not supported (use {MIN_OPSET} to {newest})")
    name_nodes(proto)
    constants_to_initializers(proto)
    return proto


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
