"""Export: partitions of an optimized ONNX graph -> a ModelFolder (written by :mod:`.runtime_check`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx
from onnx import GraphProto, NodeProto, TensorProto, numpy_helper

from ..model_folder import Graph, ModelFolder
from ._light import is_large
from .errors import CompileError
from .placement import Partition
from .runtime_check import ExportedSubgraph

TensorSpecs = Mapping[str, tuple[str, tuple[int, ...]]]


def _attributes(node: NodeProto) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for attribute in node.attribute:
        value = onnx.helper.get_attribute_value(attribute)
        if attribute.type == attribute.TENSOR:
            value = numpy_helper.to_array(value)
        elif attribute.type == attribute.STRING:
            value = value.decode("utf-8")
        elif attribute.type == attribute.STRINGS:
            value = [v.decode("utf-8") for v in value]
        elif attribute.type == attribute.FLOATS:
            value = {"type": "floats", "value": [float(v) for v in value]}
        elif attribute.type == attribute.FLOAT:
            value = {"type": "float", "value": float(value)}
        elif attribute.type in (attribute.INT, attribute.INTS):
            pass
        else:
            raise CompileError(
                f"node {node.name!r} (op {node.op_type}): attribute {attribute.name!r} of type "
                f"{onnx.AttributeProto.AttributeType.Name(attribute.type)} cannot be written"
            )
        result[attribute.name] = value
    return result


def _constant_value(tensor: TensorProto, element: str) -> np.ndarray:
    # np.asarray, not ascontiguousarray: the latter makes a rank-0 constant [1] (the graph
    # makes it C-ordered itself, without a copy when it already is).
    array = np.asarray(numpy_helper.to_array(tensor))
    if element == "BF16":  # ml_dtypes.bfloat16 -> the format's uint16 bit patterns
        array = array.view(np.uint16)
    return array


def _add_constant(sub: Graph, tensor: TensorProto, element: str, shape: tuple[int, ...]) -> None:
    """A weight is converted when the graph is written, one at a time (each conversion copies it);
    small constants now, so a bad one is reported while exporting."""
    if is_large(tensor):
        sub.add_lazy_constant(tensor.name, element, shape, lambda: _constant_value(tensor, element))
    else:
        sub.add_constant(tensor.name, _constant_value(tensor, element), element, copy=False)


def _boundary_copies(partitions: list[Partition], graph: GraphProto) -> None:
    """A model output read by another subgraph gets an Identity copy in its producer for the others.

    The model format forbids a model output from also being a boundary tensor.
    """
    outputs = {o.name for o in graph.output}
    owner = {name: p for p in partitions for n in p.nodes for name in n.output if name}
    for name in list(outputs):
        producer = owner.get(name)
        if producer is None:
            continue
        readers = [n for p in partitions if p is not producer for n in p.nodes if name in n.input]
        if not readers:
            continue
        copy = f"{name}.boundary"
        producer.nodes.append(onnx.helper.make_node("Identity", [name], [copy], name=f"{name}.boundary_copy"))
        for node in readers:
            for index, value in enumerate(node.input):
                if value == name:
                    node.input[index] = copy


def export(
    graph: GraphProto, partitions: list[Partition], specs: TensorSpecs, name: str
) -> tuple[ModelFolder, list[ExportedSubgraph]]:
    """The model folder to write (validated when written) and its subgraphs.

    Constants go to the subgraphs that read them.
    """
    _boundary_copies(partitions, graph)
    constants = {t.name: t for t in graph.initializer}
    model_inputs = [v.name for v in graph.input if v.name not in constants]
    model_outputs = [o.name for o in graph.output]
    produced_in = {name: i for i, p in enumerate(partitions) for n in p.nodes for name in n.output if name}
    read_in: dict[str, set[int]] = {}
    for i, part in enumerate(partitions):
        for node in part.nodes:
            for tensor in node.input:
                if tensor:
                    read_in.setdefault(tensor, set()).add(i)
    for output in model_outputs:
        if output not in produced_in:
            raise CompileError(f"model output {output!r} is not computed by any node (it is an input or a constant)")

    def spec(tensor: str) -> tuple[str, tuple[int, ...]]:
        if tensor in specs:
            return specs[tensor]
        source = tensor[: -len(".boundary")] if tensor.endswith(".boundary") else tensor
        return specs[source]

    folder = ModelFolder(name)
    exported: list[ExportedSubgraph] = []
    try:
        for i, part in enumerate(partitions):
            sub, declared = Graph(), set()
            for node in part.nodes:
                for tensor in node.input:
                    if not tensor or tensor in declared:
                        continue
                    declared.add(tensor)
                    if tensor in constants:
                        _add_constant(sub, constants[tensor], *spec(tensor))
                    else:  # a model input or a tensor of an earlier subgraph
                        sub.add_input(tensor, *spec(tensor))
                for tensor in node.output:
                    if tensor:
                        declared.add(tensor)
                        sub.add_tensor(tensor, *spec(tensor))
                attributes = _attributes(node)
                sub.add_node(node.op_type, list(node.input), list(node.output), name=node.name, attributes=attributes)
            for node in part.nodes:
                for tensor in node.output:
                    if tensor and (tensor in model_outputs or read_in.get(tensor, set()) - {i}):
                        sub.add_output(tensor)
            folder.add_subgraph(sub, framework=part.framework, device=part.device)
            exported.append(ExportedSubgraph(sub, part.framework, part.device))
        folder.set_inputs([n for n in model_inputs if n in read_in])
        folder.set_outputs(model_outputs)
        return folder, exported
    except ValueError as error:
        if isinstance(error, CompileError):
            raise
        raise CompileError(f"building the model folder: {error}") from None
