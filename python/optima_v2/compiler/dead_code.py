"""Dead-node removal: keep only the nodes graph outputs depend on, and the initializers they read."""

from __future__ import annotations

from onnx import GraphProto

from ._graph import set_nodes


def remove_dead_nodes(graph: GraphProto) -> int:
    """Returns the number of nodes removed. Unused initializers are dropped as well."""
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(graph.node):
        if any(name in needed for name in node.output if name):
            kept.append(node)
            needed.update(name for name in node.input if name)
    removed = len(graph.node) - len(kept)
    if removed:
        set_nodes(graph, reversed(kept))
    # Deleted in place, by index: rebuilding the list would copy every weight kept.
    for index in reversed(range(len(graph.initializer))):
        if graph.initializer[index].name not in needed:
            del graph.initializer[index]
    return removed
