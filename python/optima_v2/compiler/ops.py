"""What the native backend runs (docs/native-backend.md): the one list the compiler checks against.

Keep this table in step with the backend's op registry; ``check_supported`` reports every node
outside it in one :class:`CompileError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Optional

from onnx import GraphProto

from .errors import CompileError

ANY_TYPE: Optional[frozenset[str]] = None  # any element type the model format knows


@dataclass(frozen=True)
class OpSupport:
    #: element types of the first (data) input; ``None`` = any.
    types: Optional[frozenset[str]]
    #: attributes the backend understands (others are refused at load).
    attributes: frozenset[str] = frozenset()
    #: input positions that must be constants (initializers) at compile time.
    constant_inputs: tuple[int, ...] = ()


_F32 = frozenset({"F32"})
_ARITH = frozenset({"F32", "I32", "I64"})

#: ONNX op type (ai.onnx domain) -> what the native backend accepts.
NATIVE_OPS: Mapping[str, OpSupport] = {
    "Conv": OpSupport(_F32, frozenset({"group", "strides", "dilations", "pads", "auto_pad", "kernel_shape"})),
    "Add": OpSupport(_ARITH),
    "Sub": OpSupport(_ARITH),
    "Mul": OpSupport(_ARITH),
    "Div": OpSupport(_ARITH),
    "Relu": OpSupport(_ARITH),
    "Sigmoid": OpSupport(_F32),
    "Tanh": OpSupport(_F32),
    "MatMul": OpSupport(_F32),
    "Gemm": OpSupport(_F32, frozenset({"transA", "transB", "alpha", "beta"})),
    "Identity": OpSupport(ANY_TYPE),
    "Reshape": OpSupport(ANY_TYPE, frozenset({"allowzero"}), constant_inputs=(1,)),
    "Flatten": OpSupport(ANY_TYPE, frozenset({"axis"})),
}


def check_supported(graph: GraphProto, types: Mapping[str, str], constants: set[str]) -> None:
    """Raise one CompileError listing every node the native backend cannot run.

    ``types`` maps tensor names to element type names ("F32"), ``constants`` holds the names of
    initializers.
    """
    problems = []
    for node in graph.node:
        default_domain = node.domain in ("", "ai.onnx")
        support = NATIVE_OPS.get(node.op_type) if default_domain else None
        op = node.op_type if default_domain else f"{node.domain}.{node.op_type}"
        label = f"node {node.name!r} (op {op}"
        if support is None:
            problems.append(label + ")")
            continue
        reasons = []
        data = node.input[0] if node.input else ""
        if support.types is not None and data and types.get(data) not in support.types:
            reasons.append(f"{types.get(data, 'unknown type')} input {data!r}")
        for attribute in node.attribute:
            if attribute.name not in support.attributes:
                reasons.append(f"attribute {attribute.name!r}")
        for index in support.constant_inputs:
            if index < len(node.input) and node.input[index] and node.input[index] not in constants:
                reasons.append(f"input {node.input[index]!r} is not a constant")
        if reasons:
            problems.append(f"{label}: {', '.join(reasons)})")
    if problems:
        raise CompileError("not supported by the native backend: " + ", ".join(problems))
