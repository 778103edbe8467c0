"""Writer of OptimaV2 model folders (format version 1, see ``docs/model-format.md``).

Build each subgraph as a :class:`Graph` in the native graph format (inputs, constants from numpy
arrays, intermediate tensors with explicit type and shape, ONNX-semantics nodes with typed
attributes), add the graphs to a :class:`ModelFolder` with their framework and device, and write
it. Weights are written once per constant, 64-byte aligned, little-endian. Everything is validated
with ValueErrors naming the tensor, node, attribute or subgraph at fault.
"""

from __future__ import annotations

from ._types import (
    DEVICE_KINDS,
    ELEMENT_TYPES,
    FRAMEWORKS,
    LOW_PRECISION_TYPES,
    MAX_DIMENSIONS,
    element_type,
    low_precision_dtype,
)
from .graph import Graph, Node, TensorSpec
from .writer import ModelFolder

__all__ = [
    "DEVICE_KINDS",
    "ELEMENT_TYPES",
    "FRAMEWORKS",
    "LOW_PRECISION_TYPES",
    "MAX_DIMENSIONS",
    "Graph",
    "ModelFolder",
    "Node",
    "TensorSpec",
    "element_type",
    "low_precision_dtype",
]
