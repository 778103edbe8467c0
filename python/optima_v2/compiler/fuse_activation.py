"""Activation fusion: an activation right after Conv, ConvTranspose, Gemm or MatMul runs inside it.

The fused node keeps its op and gains the native graph attributes ``activation`` (string) and
``activation_params`` (floats) described in docs/model-format.md; the native kernels apply the
activation to each output tile as it is finished. Only the native backend understands these
attributes, so a pair fuses only when both nodes are placed on the same device whose subgraph
is written for the ``Native`` framework. Other conditions: default-domain nodes, a float
output, the intermediate tensor read by the activation alone and not a graph output, and
activation parameters known at compile time (Clip's min/max constant).

=============== ======================= ==========================================
ONNX node        ``activation``          ``activation_params``
=============== ======================= ==========================================
Relu             Relu
LeakyRelu        LeakyRelu               [alpha]
Clip             Clip                    [min, max] (absent bound: float32 limit)
Sigmoid          Sigmoid
Tanh             Tanh
HardSigmoid      HardSigmoid             [alpha, beta]
HardSwish        HardSwish
Gelu             Gelu / GeluTanh         (``approximate`` "none" / "tanh")
=============== ======================= ==========================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Optional

import numpy as np
from onnx import AttributeProto, GraphProto, NodeProto, TensorProto, helper, numpy_helper

from ._graph import is_default_domain
from .placement import framework_for

#: Ops whose native kernels take a fused activation.
FUSABLE_PRODUCERS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
FLOAT_TYPES = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16)
_FLOAT32_MAX = float(np.finfo(np.float32).max)  # JSON has no infinity: an absent Clip bound


def _attribute(node: NodeProto, name: str, default: object) -> object:
    for attribute in node.attribute:
        if attribute.name == name:
            value = helper.get_attribute_value(attribute)
            return value.decode("utf-8") if isinstance(value, bytes) else value
    return default


def _scalar(graph_constants: Mapping[str, TensorProto], name: str) -> Optional[float]:
    tensor = graph_constants.get(name)
    if tensor is None:
        return None
    value = numpy_helper.to_array(tensor)
    if value.size != 1 or value.dtype.kind != "f":
        return None
    return float(value.reshape(()))


def activation_of(node: NodeProto, constants: Mapping[str, TensorProto]) -> Optional[tuple[str, list[float]]]:
    """(activation name, params) for a node the native kernels can apply as an epilogue, else None."""
    if not is_default_domain(node) or len(node.output) != 1 or not node.input or not node.input[0]:
        return None
    op = node.op_type
    if op in ("Relu", "Sigmoid", "Tanh", "HardSwish"):
        return op, []
    if op == "LeakyRelu":
        return op, [float(_attribute(node, "alpha", 0.01))]  # type: ignore[arg-type]
    if op == "HardSigmoid":
        return op, [float(_attribute(node, "alpha", 0.2)), float(_attribute(node, "beta", 0.5))]  # type: ignore[arg-type]
    if op == "Gelu":
        approximate = _attribute(node, "approximate", "none")
        if approximate not in ("none", "tanh"):
            return None
        return ("Gelu" if approximate == "none" else "GeluTanh"), []
    if op == "Clip":
        if any(a.name in ("min", "max") for a in node.attribute):  # opset < 11: attributes
            low = float(_attribute(node, "min", -_FLOAT32_MAX))  # type: ignore[arg-type]
            high = float(_attribute(node, "max", _FLOAT32_MAX))  # type: ignore[arg-type]
        else:
            bounds: list[float] = []
            for index, default in ((1, -_FLOAT32_MAX), (2, _FLOAT32_MAX)):
                if len(node.input) > index and node.input[index]:
                    value = _scalar(constants, node.input[index])
                    if value is None:
                        return None  # a bound computed at run time
                    bounds.append(value)
                else:
                    bounds.append(default)
            low, high = bounds
        if np.isnan(low) or np.isnan(high) or low > high:
            return None  # ONNX's result is not a plain clamp then
        return "Clip", [max(low, -_FLOAT32_MAX), min(high, _FLOAT32_MAX)]  # JSON has no infinity
    return None


def _elem_types(graph: GraphProto) -> dict[str, int]:
    types = {v.name: v.type.tensor_type.elem_type for v in [*graph.input, *graph.value_info, *graph.output]}
    types.update({t.name: t.data_type for t in graph.initializer})
    return types


def tensor_uses(graph: GraphProto) -> Counter[str]:
    """How many node inputs read each tensor, subgraph bodies (If/Loop) included."""
    uses: Counter[str] = Counter(name for node in graph.node for name in node.input if name)
    for node in graph.node:
        for attribute in node.attribute:
            bodies = [attribute.g] if attribute.type == AttributeProto.GRAPH else list(attribute.graphs)
            for body in bodies:
                uses.update(name for inner in body.node for name in inner.input if name)
    return uses


def native_device(node: NodeProto, device_map: Mapping[str, str], default_device: str) -> Optional[str]:
    """The node's device when a ``Native`` framework subgraph runs it, else None."""
    device = device_map.get(node.name, default_device)
    return device if framework_for(device) == "Native" else None


def fuse_activations(graph: GraphProto, device_map: Mapping[str, str], default_device: str) -> int:
    """Fuse every eligible producer/activation pair placed on a Native device; returns the count.

    ``device_map`` and ``default_device`` are the canonical placement :func:`compile_onnx` uses
    (``placement.normalize_device`` form). The fused node keeps the producer's name and device.
    """
    constants = {t.name: t for t in graph.initializer}
    outputs = {o.name for o in graph.output}
    types = _elem_types(graph)
    uses = tensor_uses(graph)
    producers = {out: node for node in graph.node for out in node.output if out}

    def native(node: NodeProto) -> Optional[str]:
        return native_device(node, device_map, default_device)

    removed: list[int] = []  # indices of the fused activation nodes
    for index, node in enumerate(graph.node):
        activation = activation_of(node, constants)
        if activation is None:
            continue
        source = node.input[0]
        producer = producers.get(source)
        if (
            producer is None
            or producer.op_type not in FUSABLE_PRODUCERS
            or not is_default_domain(producer)
            or any(a.name == "activation" for a in producer.attribute)
            or uses[source] != 1
            or source in outputs
            or types.get(source) not in FLOAT_TYPES
            or native(producer) is None
            or native(producer) != native(node)
        ):
            continue
        name, params = activation
        producer.attribute.append(helper.make_attribute("activation", name))
        if params:
            producer.attribute.append(helper.make_attribute("activation_params", params))
        producer.output[0] = node.output[0]
        producers[node.output[0]] = producer
        removed.append(index)
    for index in reversed(removed):
        del graph.node[index]
    return len(removed)
