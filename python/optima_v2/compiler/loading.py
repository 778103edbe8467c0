"""Reading an ONNX model (path or ModelProto) into a checked, uniformly named ModelProto."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import onnx
from onnx import ModelProto, helper, numpy_helper
from onnx.external_data_helper import load_external_data_for_model

from ._light import check_detached, light_copy
from ._stream import read_binary_model
from .errors import CompileError
from .opset import default_opset, to_internal_opset

#: Oldest opset accepted as supported (older ones are converted on a best-effort basis).
MIN_OPSET = 7

ModelSource = Union[str, "os.PathLike[str]", ModelProto]


def load_model(model: ModelSource) -> ModelProto:
    """A private copy of ``model`` in the internal opset (:mod:`.opset`), with every node named
    uniquely, Constant nodes as initializers and every graph output computed by a node.

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
        if path.is_dir():
            raise CompileError(f"{path}: is a directory, not an ONNX file")
        if not path.is_file():
            raise CompileError(f"{path}: no such ONNX file")
        if path.stat().st_size == 0:
            raise CompileError(f"{path}: invalid ONNX model: the file is empty")
        try:
            proto = read_model(path)
        except Exception as error:  # protobuf DecodeError, missing external data, ...
            raise CompileError(f"{path}: not a readable ONNX model ({type(error).__name__}: {error})") from None
    else:
        raise CompileError(f"model must be a path or an onnx.ModelProto, got {type(model).__name__}")
    # The checker serializes the model it checks: it checks a weight-less copy, and the weights
    # one at a time.
    light, detached = light_copy(proto)
    try:
        onnx.checker.check_model(light)
        check_detached(proto, detached)
    except (onnx.checker.ValidationError, ValueError) as error:
        raise CompileError(f"{where}: invalid ONNX model: {str(error).strip().splitlines()[0]}") from None
    del light
    name_nodes(proto)  # before conversion: the converter keeps the names of the nodes it keeps
    proto = to_internal_opset(proto, where)
    constants_to_initializers(proto)
    outputs_through_identities(proto)
    name_nodes(proto)
    name_omitted_outputs(proto)
    explicit_defaults(proto)
    return proto


def explicit_defaults(model: ModelProto) -> None:
    """Attribute defaults onnx's shape inference gets wrong are written out: STFT without
    ``onesided`` (default 1) is inferred as two-sided."""
    for node in model.graph.node:
        if node.op_type == "STFT" and node.domain in ("", "ai.onnx"):
            if not any(a.name == "onesided" for a in node.attribute):
                node.attribute.append(helper.make_attribute("onesided", 1))


def read_model(path: Path) -> ModelProto:
    """onnx.load(path) (external data included), without holding the file's bytes and the parsed
    model at once: a binary model's top-level initializers are parsed one at a time as they are
    read (:mod:`._stream`); text formats and anything that reader does not expect go to onnx.load."""
    _, extension = os.path.splitext(str(path))
    if onnx.serialization.registry.get_format_from_file_extension(extension) not in (None, "protobuf"):
        return onnx.load(str(path), load_external_data=True)
    try:
        proto = read_binary_model(path)
    except Exception:  # malformed: onnx.load says what is wrong, in its words
        return onnx.load(str(path), load_external_data=True)
    load_external_data_for_model(proto, os.path.dirname(str(path)))
    return proto


def onnx_opset(model: ModelProto) -> int:
    """The ai.onnx opset of ``model`` (:data:`~.opset.INTERNAL_OPSET` once loaded)."""
    return default_opset(model)


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


def outputs_through_identities(model: ModelProto) -> None:
    """A graph output that is a constant (an initializer, e.g. a Constant node's output) gets an
    Identity node computing it from the constant, renamed ``<output>.constant``: model outputs are
    written by subgraphs, and the native format holds constants as tensors, not ops."""
    graph = model.graph
    constants = {t.name: t for t in graph.initializer}
    for output in graph.output:
        tensor = constants.get(output.name)
        if tensor is None:
            continue
        source = f"{output.name}.constant"
        for node in graph.node:  # other readers keep reading the constant, under its new name
            for index, name in enumerate(node.input):
                if name == output.name:
                    node.input[index] = source
        tensor.name = source
        for value in graph.input:  # old IR versions list initializers as inputs too
            if value.name == output.name:
                value.name = source
        graph.node.append(helper.make_node("Identity", [source], [output.name], name=f"{output.name}.identity"))
