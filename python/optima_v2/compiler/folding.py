"""Constant folding: nodes whose inputs are all constants become initializers.

Shape and Size of a tensor whose shape is static count as constant too, so exported
Shape -> Gather -> Concat -> Reshape chains fold down once the input shapes are fixed. Each
node is evaluated with onnx's reference evaluator (the ONNX semantics, not ours).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

import numpy as np
from onnx import GraphProto, NodeProto, TensorProto, TypeProto, numpy_helper
from onnx.reference import ReferenceEvaluator

from ._graph import is_default_domain, set_nodes
from .errors import CompileError

#: Ops never folded: their result is not a function of their inputs.
NON_DETERMINISTIC = frozenset(
    {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}
)


def _static_shape(type_proto: Optional[TypeProto]) -> Optional[tuple[int, ...]]:
    if type_proto is None or not type_proto.HasField("tensor_type"):
        return None
    tensor_type = type_proto.tensor_type
    if not tensor_type.HasField("shape") or not all(d.HasField("dim_value") for d in tensor_type.shape.dim):
        return None
    return tuple(int(d.dim_value) for d in tensor_type.shape.dim)


def _shape_value(node: NodeProto, shape: tuple[int, ...]) -> np.ndarray:
    if node.op_type == "Size":
        return np.array(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)
    start, end = 0, None
    for attribute in node.attribute:
        if attribute.name == "start":
            start = attribute.i
        elif attribute.name == "end":
            end = attribute.i
    # Python slicing clamps exactly like Shape's start/end (opset 15) do.
    return np.array(shape[start:end], dtype=np.int64)


def fold_constants(graph: GraphProto, types: Mapping[str, TypeProto], opset: int) -> int:
    """Fold every foldable node, in topological order; returns how many nodes were folded.

    ``types`` gives the known (inferred) types, used for Shape/Size of non-constant tensors.
    Nodes producing graph outputs are kept so every output stays computed by a node.
    """
    values = _Constants(graph)
    graph_outputs = {o.name for o in graph.output}
    kept: list[NodeProto] = []
    folded = 0
    for node in graph.node:
        results = None
        if is_default_domain(node) and not any(o in graph_outputs for o in node.output):
            results = _evaluate(node, values, types, opset)
        if results is None:
            kept.append(node)
            continue
        folded += 1
        for name, value in zip(node.output, results):
            if name:
                values[name] = value
                graph.initializer.append(numpy_helper.from_array(np.asarray(value), name))
    if folded:
        set_nodes(graph, kept)
    return folded


class _Constants:
    """Name -> value of the constants, each initializer converted to numpy only when a node that
    is evaluated reads it (most weights feed nodes that are not constant and never are)."""

    def __init__(self, graph: GraphProto) -> None:
        self._tensors: dict[str, TensorProto] = {t.name: t for t in graph.initializer}
        self._values: dict[str, np.ndarray] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._values or name in self._tensors

    def __getitem__(self, name: str) -> np.ndarray:
        value = self._values.get(name)
        if value is None:
            value = self._values[name] = numpy_helper.to_array(self._tensors[name])
        return value

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        self._values[name] = value


def _evaluate(
    node: NodeProto, values: _Constants, types: Mapping[str, TypeProto], opset: int
) -> Optional[list[np.ndarray]]:
    if node.op_type in NON_DETERMINISTIC:
        return None
    if node.op_type in ("Shape", "Size") and node.input and node.input[0] not in values:
        shape = _static_shape(types.get(node.input[0]))
        return None if shape is None else [_shape_value(node, shape)]
    inputs = [name for name in node.input if name]
    if not all(name in values for name in inputs) or any(
        attribute.type in (attribute.GRAPH, attribute.GRAPHS) for attribute in node.attribute
    ):
        return None
    try:
        evaluator = ReferenceEvaluator(node, opsets={"": opset})
        results = evaluator.run(None, {name: values[name] for name in inputs})
    except Exception as error:
        raise CompileError(f"constant folding of node {node.name!r} (op {node.op_type}) failed: {error}") from None
    return [np.asarray(r) for r in results]
