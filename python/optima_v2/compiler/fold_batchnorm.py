"""BatchNorm folding: an inference BatchNormalization right after a linear op becomes part of it.

BatchNormalization computes ``y = x * s + t`` per channel (axis 1), with
``s = scale / sqrt(var + epsilon)`` and ``t = B - mean * s``. When ``x`` comes from an op whose
output channels are scaled columns/filters of a constant weight, the scale goes into the weight
and the shift into the bias:

- ``Conv`` (any group count): filter ``m`` of W is scaled by ``s[m]``; bias ``b' = b * s + t``;
- ``ConvTranspose`` (group 1): W is ``[C_in, C_out, ...]``, so dim 1 is scaled;
- ``Gemm`` (2-D): the columns of ``op(B)`` are scaled; ``C`` becomes ``beta * C * s + t`` with beta 1;
- ``MatMul`` with a constant 2-D right operand and a 2-D output, alone or followed by an ``Add``
  of a constant: the columns of W are scaled and the shift becomes (or joins) the added constant.

Nothing folds unless every operand involved is an initializer, the BatchNormalization is in
inference mode with only its ``Y`` output used, its parameters are ``[C]`` vectors for the
producer's channel count, and the producer's output feeds nothing but the BatchNormalization
(and is not a graph output). New weights get new initializers (the old ones may be shared);
unused ones are left for dead-node removal. Arithmetic is done in float64, then cast back.
"""

from __future__ import annotations

from collections import Counter
from typing import Optional

import numpy as np
from onnx import GraphProto, NodeProto, TensorProto, helper, numpy_helper

from ._graph import is_default_domain

_FLOAT_TYPES = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16)


class _Graph:
    """Lookups over a graph being rewritten: constants, producers, consumer counts, new names."""

    def __init__(self, graph: GraphProto) -> None:
        self.graph = graph
        self.constants = {t.name: t for t in graph.initializer}
        self.producer = {out: node for node in graph.node for out in node.output if out}
        self.uses: Counter[str] = Counter(name for node in graph.node for name in node.input if name)
        self.outputs = {o.name for o in graph.output}
        self.names = set(self.constants) | set(self.producer) | {i.name for i in graph.input}

    def array(self, name: str) -> Optional[np.ndarray]:
        """The value of a float initializer, or None (not constant, or not a float type)."""
        tensor = self.constants.get(name)
        if tensor is None or tensor.data_type not in _FLOAT_TYPES:
            return None
        return numpy_helper.to_array(tensor)

    def only_consumer_is(self, tensor: str, count: int = 1) -> bool:
        return self.uses[tensor] == count and tensor not in self.outputs

    def add_constant(self, base: str, value: np.ndarray) -> str:
        name, index = f"{base}_bnfold", 1
        while name in self.names:
            index += 1
            name = f"{base}_bnfold{index}"
        self.names.add(name)
        tensor = numpy_helper.from_array(value, name)
        self.graph.initializer.append(tensor)
        self.constants[name] = tensor
        return name


def _attribute(node: NodeProto, name: str, default: object) -> object:
    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default


def _set_attribute(node: NodeProto, name: str, value: object) -> None:
    kept = [a for a in node.attribute if a.name != name]
    del node.attribute[:]
    node.attribute.extend(kept)
    node.attribute.append(helper.make_attribute(name, value))


def _batchnorm_affine(g: _Graph, bn: NodeProto) -> Optional[tuple[np.ndarray, np.ndarray]]:
    """(s, t) of an inference BatchNormalization with constant 1-D parameters, else None."""
    if not is_default_domain(bn) or len(bn.input) != 5 or any(o for o in bn.output[1:]):
        return None
    if _attribute(bn, "training_mode", 0) or not _attribute(bn, "spatial", 1):
        return None
    params = [g.array(name) for name in bn.input[1:]]
    if any(p is None for p in params):
        return None
    scale, bias, mean, var = (np.asarray(p, dtype=np.float64) for p in params)  # type: ignore[arg-type]
    if scale.ndim != 1 or not all(p.shape == scale.shape for p in (bias, mean, var)):
        return None
    epsilon = float(_attribute(bn, "epsilon", 1e-5))  # type: ignore[arg-type]
    s = scale / np.sqrt(var + epsilon)
    return s, bias - mean * s


def _scaled(weight: np.ndarray, s: np.ndarray, axis: int) -> np.ndarray:
    shape = [1] * weight.ndim
    shape[axis] = s.size
    return (weight.astype(np.float64) * s.reshape(shape)).astype(weight.dtype)


def _fold_conv(g: _Graph, node: NodeProto, s: np.ndarray, t: np.ndarray) -> bool:
    weight = g.array(node.input[1])
    if weight is None or weight.ndim < 3:
        return False
    transpose = node.op_type == "ConvTranspose"
    group = int(_attribute(node, "group", 1))  # type: ignore[arg-type]
    if transpose and group != 1:
        return False  # output channel m of a grouped ConvTranspose spans dims 0 and 1 of W
    channels = weight.shape[1] if transpose else weight.shape[0]
    if s.size != channels:
        return False
    bias = None
    if len(node.input) > 2 and node.input[2]:
        bias = g.array(node.input[2])
        if bias is None or bias.shape != (channels,):
            return False
    new_bias = t if bias is None else bias.astype(np.float64) * s + t
    inputs = [node.input[0], g.add_constant(node.input[1], _scaled(weight, s, 1 if transpose else 0))]
    base = node.input[2] if bias is not None else f"{node.name}_bias"
    inputs.append(g.add_constant(base, new_bias.astype(weight.dtype)))
    del node.input[:]
    node.input.extend(inputs)
    return True


def _fold_gemm(g: _Graph, node: NodeProto, s: np.ndarray, t: np.ndarray) -> bool:
    weight = g.array(node.input[1])
    if weight is None or weight.ndim != 2:
        return False
    trans_b = bool(_attribute(node, "transB", 0))
    columns = weight.shape[0] if trans_b else weight.shape[1]
    if s.size != columns:
        return False
    # alpha scales A * op(B) only: scaling op(B)'s columns keeps it valid.
    beta = float(_attribute(node, "beta", 1.0))  # type: ignore[arg-type]
    shift = t
    if len(node.input) > 2 and node.input[2] and beta != 0.0:
        c = g.array(node.input[2])
        if c is None or c.ndim > 2:
            return False
        try:
            target = np.broadcast_shapes(c.shape, (columns,))
        except ValueError:
            return False
        shift = beta * np.broadcast_to(c.astype(np.float64), target) * s + t
    new_weight = _scaled(weight, s, 0 if trans_b else 1)
    inputs = [node.input[0], g.add_constant(node.input[1], new_weight)]
    base = node.input[2] if len(node.input) > 2 and node.input[2] else f"{node.name}_C"
    inputs.append(g.add_constant(base, shift.astype(weight.dtype)))
    del node.input[:]
    node.input.extend(inputs)
    _set_attribute(node, "beta", 1.0)
    return True


def _matmul_weight(g: _Graph, matmul: NodeProto, s: np.ndarray) -> Optional[np.ndarray]:
    """The constant 2-D right operand of a MatMul whose output is 2-D with ``s.size`` columns."""
    if matmul.op_type != "MatMul" or not is_default_domain(matmul):
        return None
    weight = g.array(matmul.input[1])
    if weight is None or weight.ndim != 2 or weight.shape[1] != s.size:
        return None
    return weight


def _fold_matmul(
    g: _Graph, producer: NodeProto, bn: NodeProto, s: np.ndarray, t: np.ndarray, ranks: dict[str, int]
) -> Optional[NodeProto]:
    """MatMul (+ Add of a constant) followed by BN; returns the node that now produces BN's output."""
    if ranks.get(bn.input[0]) != 2:
        return None  # BN's channel axis is 1: it is the MatMul's column axis only for 2-D outputs
    if producer.op_type == "Add":
        if not is_default_domain(producer) or len(producer.input) != 2:
            return None
        for side in (0, 1):
            matmul = g.producer.get(producer.input[side])
            other = producer.input[1 - side]
            if matmul is None or g.array(other) is None or not g.only_consumer_is(producer.input[side]):
                continue
            weight = _matmul_weight(g, matmul, s)
            if weight is None or ranks.get(matmul.output[0]) != 2:
                continue
            added = g.array(other)
            assert added is not None
            try:
                target = np.broadcast_shapes(added.shape, (s.size,))
            except ValueError:
                continue
            if len(target) > 2:
                continue
            shift = np.broadcast_to(added.astype(np.float64), target) * s + t
            matmul.input[1] = g.add_constant(matmul.input[1], _scaled(weight, s, 1))
            producer.input[1 - side] = g.add_constant(other, shift.astype(added.dtype))
            return producer
        return None
    weight = _matmul_weight(g, producer, s)
    if weight is None:
        return None
    producer.input[1] = g.add_constant(producer.input[1], _scaled(weight, s, 1))
    shift = g.add_constant(f"{bn.name}_shift", t.astype(weight.dtype))
    return helper.make_node("Add", [bn.input[0], shift], [bn.output[0]], name=bn.name)


def _ranks(graph: GraphProto) -> dict[str, int]:
    ranks = {}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        tensor_type = value.type.tensor_type
        if value.type.HasField("tensor_type") and tensor_type.HasField("shape"):
            ranks[value.name] = len(tensor_type.shape.dim)
    for tensor in graph.initializer:
        ranks[tensor.name] = len(tensor.dims)
    return ranks


def fold_batchnorms(graph: GraphProto) -> int:
    """Fold every foldable BatchNormalization into its producer; returns how many were folded."""
    folded = 0
    ranks = _ranks(graph)
    index = 0
    while index < len(graph.node):  # by index: the graph changes as BNs fold
        bn = graph.node[index]
        index += 1
        if bn.op_type != "BatchNormalization":
            continue
        g = _Graph(graph)
        affine = _batchnorm_affine(g, bn)
        producer = g.producer.get(bn.input[0])
        if affine is None or producer is None or not g.only_consumer_is(bn.input[0]):
            continue
        s, t = affine
        if not is_default_domain(producer) or any(o for o in producer.output[1:]):
            continue
        replacement: Optional[NodeProto] = None
        if producer.op_type in ("Conv", "ConvTranspose"):
            if _fold_conv(g, producer, s, t):
                replacement = producer
        elif producer.op_type == "Gemm":
            if ranks.get(bn.input[0]) == 2 and _fold_gemm(g, producer, s, t):
                replacement = producer
        elif producer.op_type in ("MatMul", "Add"):
            replacement = _fold_matmul(g, producer, bn, s, t, ranks)
        if replacement is None:
            continue
        if replacement is producer:
            producer.output[0] = bn.output[0]
            del graph.node[index - 1]
            index -= 1
        else:  # BN becomes an Add of the shift
            graph.node[index - 1].CopyFrom(replacement)
        folded += 1
    return folded
