"""Small helpers over onnx.GraphProto shared by the passes."""

from __future__ import annotations

from collections.abc import Iterable

from onnx import GraphProto, NodeProto


def set_nodes(graph: GraphProto, nodes: Iterable[NodeProto]) -> None:
    kept = list(nodes)
    del graph.node[:]
    graph.node.extend(kept)


def rename_tensor(graph: GraphProto, old: str, new: str) -> None:
    """Every node input/output named ``old`` is named ``new`` (graph inputs/outputs untouched)."""
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name == old:
                node.input[index] = new
        for index, name in enumerate(node.output):
            if name == old:
                node.output[index] = new


def is_default_domain(node: NodeProto) -> bool:
    return node.domain in ("", "ai.onnx")
