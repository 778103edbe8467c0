"""Identity and inference-mode Dropout removal: their output is their input."""

from __future__ import annotations

from onnx import GraphProto, NodeProto, numpy_helper

from ._graph import is_default_domain, rename_tensor, set_nodes


def _passthrough_input(node: NodeProto, graph: GraphProto) -> str | None:
    """The input a node forwards unchanged, or None when it is not a removable pass-through."""
    if not is_default_domain(node) or not node.input or not node.input[0]:
        return None
    if node.op_type == "Identity":
        return node.input[0]
    if node.op_type != "Dropout":
        return None
    if len(node.output) > 1 and node.output[1]:
        if any(node.output[1] in (n.input) for n in graph.node) or node.output[1] in {o.name for o in graph.output}:
            return None  # the mask is used: keep the node (it will be reported as unsupported)
    if len(node.input) > 2 and node.input[2]:
        training = [t for t in graph.initializer if t.name == node.input[2]]
        if not training or bool(numpy_helper.to_array(training[0]).item()):
            return None  # training mode (or unknown): not the identity
    return node.input[0]


def dropouts_to_identities(graph: GraphProto) -> int:
    """Inference-mode Dropout (mask unused) becomes Identity, which the backend runs; returns the count.

    A lowering, done even without optimization.
    """
    count = 0
    for node in graph.node:
        if node.op_type == "Dropout" and _passthrough_input(node, graph) is not None:
            node.op_type = "Identity"
            del node.input[1:]
            del node.output[1:]
            del node.attribute[:]
            count += 1
    return count


def remove_identities(graph: GraphProto) -> int:
    """Drop Identity / inference Dropout nodes; returns how many were removed.

    A node whose output is a graph output and whose input is a graph input, an initializer or
    another graph output stays (as Identity): nothing else could compute that output.
    """
    removed = 0
    changed = True
    while changed:
        changed = False
        outputs = {o.name for o in graph.output}
        fixed = {i.name for i in graph.input} | {t.name for t in graph.initializer} | outputs
        for node in graph.node:
            source = _passthrough_input(node, graph)
            if source is None:
                continue
            target = node.output[0]
            if target in outputs:
                if source in fixed:
                    if node.op_type == "Dropout":
                        node.op_type = "Identity"
                        del node.input[1:]
                        del node.output[1:]
                        del node.attribute[:]
                    continue
                set_nodes(graph, (n for n in graph.node if n is not node))
                rename_tensor(graph, source, target)
            else:
                set_nodes(graph, (n for n in graph.node if n is not node))
                rename_tensor(graph, target, source)
            removed += 1
            changed = True
            break
    return removed
