"""Compile-time refusals: what no backend can be asked about, because it cannot be written.

Whether a backend runs a node (op, element types, attributes, constant inputs) is decided by the
backend itself when the written model folder is loaded (:mod:`.runtime_check`); the compiler keeps
no table of supported ops. What stays here is what the native graph format cannot express:
nodes of other domains (the format names ops without a domain, so ``com.x.Relu`` would silently
run as ONNX ``Relu``) and attributes holding graphs, sparse tensors or types (control flow).
"""

from __future__ import annotations

from onnx import AttributeProto, GraphProto

from .errors import CompileError

#: Attribute types the native graph format has no encoding for.
_UNWRITABLE_ATTRIBUTES = {
    AttributeProto.GRAPH: "a subgraph",
    AttributeProto.GRAPHS: "subgraphs",
    AttributeProto.SPARSE_TENSOR: "a sparse tensor",
    AttributeProto.SPARSE_TENSORS: "sparse tensors",
    AttributeProto.TYPE_PROTO: "a type",
    AttributeProto.TYPE_PROTOS: "types",
}


def check_writable(graph: GraphProto) -> None:
    """Raise one CompileError listing every node the model format cannot hold (domain, attributes)."""
    problems = []
    for node in graph.node:
        default_domain = node.domain in ("", "ai.onnx")
        op = node.op_type if default_domain else f"{node.domain}.{node.op_type}"
        reasons = [] if default_domain else [f"domain {node.domain!r} is not ai.onnx"]
        for attribute in node.attribute:
            what = _UNWRITABLE_ATTRIBUTES.get(attribute.type)
            if what is not None:
                reasons.append(f"attribute {attribute.name!r} holds {what}")
        if reasons:
            problems.append(f"node {node.name!r} (op {op}: {', '.join(reasons)})")
    if problems:
        raise CompileError("not supported by the model format: " + ", ".join(problems))
