"""Residual fusion: ``Add(Conv(x), z)`` becomes one Conv node with ``z`` as a fourth input.

The native Conv adds its fourth input (shaped exactly like its output) after the bias and before
a fused activation, while each block of output is still in cache, so a ResNet block's
``Conv -> Add -> Relu`` runs as one node once :mod:`.fuse_activation` has folded the Relu in as
well (run this pass first). The fused node takes the Add's place in the node order (``z`` may be
computed after the Conv) and keeps the Conv's name, device and attributes; its output is the
Add's. Only the native backend understands the fourth input (docs/model-format.md), so a pair
fuses only when both nodes are placed on the same ``Native`` device. Other conditions:
default-domain nodes, a float output, a Conv without a fused activation whose output only the
Add reads and is not a graph output, and ``z`` of the same static shape and type as that
output (no broadcasting).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from onnx import GraphProto, NodeProto

from ._graph import is_default_domain, set_nodes
from .fuse_activation import FLOAT_TYPES, native_device, tensor_uses


def _static_types(graph: GraphProto) -> dict[str, tuple[int, tuple[int, ...]]]:
    """Element type and dims of every tensor whose shape is fully known."""
    found: dict[str, tuple[int, tuple[int, ...]]] = {}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        tensor_type = value.type.tensor_type
        if not tensor_type.HasField("shape"):
            continue
        dims = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in tensor_type.shape.dim)
        if all(d >= 0 for d in dims):
            found[value.name] = (tensor_type.elem_type, dims)
    for tensor in graph.initializer:
        found[tensor.name] = (tensor.data_type, tuple(tensor.dims))
    return found


def fuse_residual_adds(graph: GraphProto, device_map: Mapping[str, str], default_device: str) -> int:
    """Fold every eligible ``Add(Conv(x), z)`` on a Native device into the Conv; returns the count.

    ``device_map`` and ``default_device`` are the canonical placement :func:`compile_onnx` uses
    (``placement.normalize_device`` form).
    """
    outputs = {o.name for o in graph.output}
    static = _static_types(graph)
    uses = tensor_uses(graph)
    producers = {out: node for node in graph.node for out in node.output if out}

    def native(node: NodeProto) -> Optional[str]:
        return native_device(node, device_map, default_device)

    def fusable_conv(name: str) -> Optional[NodeProto]:
        conv = producers.get(name)
        if (
            conv is None
            or conv.op_type != "Conv"
            or not is_default_domain(conv)
            or len(conv.input) > 3
            or any(a.name == "activation" for a in conv.attribute)
            or uses[name] != 1
            or name in outputs
            or static.get(name, (0, ()))[0] not in FLOAT_TYPES
        ):
            return None
        return conv

    fused: dict[int, NodeProto] = {}  # id(Add) -> the Conv taking its place
    dropped: set[int] = set()  # id() of the Conv nodes moved there
    for node in graph.node:
        if node.op_type != "Add" or not is_default_domain(node) or len(node.input) != 2 or len(node.output) != 1:
            continue
        for side in (0, 1):
            conv = fusable_conv(node.input[side])
            residual = node.input[1 - side]
            if (
                conv is None
                or id(conv) in dropped
                or not residual
                or residual == node.input[side]
                or static.get(residual) is None
                or static.get(residual) != static.get(node.input[side])
                or native(conv) is None
                or native(conv) != native(node)
            ):
                continue
            while len(conv.input) < 3:
                conv.input.append("")  # no bias: the fourth input keeps its position
            conv.input.append(residual)
            conv.output[0] = node.output[0]
            fused[id(node)] = conv
            dropped.add(id(conv))
            break
    if fused:
        set_nodes(graph, (fused.get(id(n), n) for n in graph.node if id(n) not in dropped))
    return len(fused)
