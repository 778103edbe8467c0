"""Model inputs given values at compile time (``compile_onnx(input_values=...)``) become constants.

A model folder has static shapes, so an input whose *values* decide an output shape (a Reshape
target, Slice bounds, TopK's K, ...) can only be a runtime input when those values are known when
compiling. :func:`shape_value_inputs` finds such inputs (what an ONNX backend adapter freezes from
the values it is run with); :func:`freeze_inputs` turns inputs into initializers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from onnx import ModelProto, TensorProto, helper, numpy_helper

from .errors import CompileError

#: ai.onnx op -> input positions whose values decide the shape of an output.
SHAPE_VALUE_INPUTS: Mapping[str, tuple[int, ...]] = {
    "AffineGrid": (1,),
    "BlackmanWindow": (0,),
    "CenterCropPad": (1,),
    "Col2Im": (1, 2),
    "Compress": (1,),
    "ConstantOfShape": (0,),
    "DFT": (1, 2),
    "Expand": (1,),
    "HammingWindow": (0,),
    "HannWindow": (0,),
    "MaxUnpool": (2,),
    "MelWeightMatrix": (0, 1),
    "NonMaxSuppression": (2,),
    "OneHot": (1,),
    "Pad": (1, 3),
    "Range": (0, 1, 2),
    "ReduceL1": (1,),
    "ReduceL2": (1,),
    "ReduceLogSum": (1,),
    "ReduceLogSumExp": (1,),
    "ReduceMax": (1,),
    "ReduceMean": (1,),
    "ReduceMin": (1,),
    "ReduceProd": (1,),
    "ReduceSum": (1,),
    "ReduceSumSquare": (1,),
    "Reshape": (1,),
    "Resize": (1, 2, 3),
    "STFT": (1, 3),
    "Slice": (1, 2, 3, 4),
    "Split": (1,),
    "Squeeze": (1,),
    "TopK": (1,),
    "Tile": (1,),
    "Unsqueeze": (1,),
    "Upsample": (1,),
}

#: Ops whose output shape depends on their input *data*: no compile-time value fixes it.
DATA_DEPENDENT = frozenset({"NonZero", "Unique", "NonMaxSuppression", "ImageDecoder", "StringSplit"})

#: Ops whose output values depend only on the *shape* of their input: the walk stops there.
_SHAPE_ONLY = frozenset({"Shape", "Size"})


def shape_value_inputs(model: ModelProto) -> list[str]:
    """Model inputs whose values reach a shape-deciding input position (directly or through nodes).

    Walks producers backwards from every position of :data:`SHAPE_VALUE_INPUTS`, stopping at
    Shape/Size (they read only the shape). Inputs in model order.
    """
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    inputs = [v.name for v in graph.input if v.name not in initializers]
    producer = {out: node for node in graph.node for out in node.output if out}
    pending = []
    for node in graph.node:
        if node.domain not in ("", "ai.onnx"):
            continue
        for index in SHAPE_VALUE_INPUTS.get(node.op_type, ()):
            if index < len(node.input) and node.input[index]:
                pending.append(node.input[index])
    reached: set[str] = set()
    while pending:
        name = pending.pop()
        if name in reached:
            continue
        reached.add(name)
        node = producer.get(name)
        if node is not None and node.op_type not in _SHAPE_ONLY:
            pending.extend(n for n in node.input if n)
    return [name for name in inputs if name in reached]


def freeze_inputs(model: ModelProto, values: Mapping[str, Any]) -> None:
    """Make each named model input an initializer holding the given array (dtype and shape checked)."""
    if not values:
        return
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    by_name = {v.name: v for v in graph.input if v.name not in initializers}
    unknown = sorted(set(values) - set(by_name))
    if unknown:
        raise CompileError(f"input_values names {unknown}, which are not model inputs (inputs: {sorted(by_name)})")
    for name, value in values.items():
        array = np.asarray(value)
        if not by_name[name].type.HasField("tensor_type"):
            raise CompileError(f"input_values[{name!r}]: the input is not a tensor")
        tensor_type = by_name[name].type.tensor_type
        expected = helper.tensor_dtype_to_np_dtype(tensor_type.elem_type) if tensor_type.elem_type else None
        if expected is not None and array.dtype != expected:
            raise CompileError(
                f"input_values[{name!r}]: dtype {array.dtype} but the input is "
                f"{TensorProto.DataType.Name(tensor_type.elem_type)}"
            )
        if tensor_type.HasField("shape"):
            dims = tensor_type.shape.dim
            if len(dims) != array.ndim or any(
                d.HasField("dim_value") and d.dim_value != size for d, size in zip(dims, array.shape)
            ):
                declared = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in dims]
                raise CompileError(f"input_values[{name!r}]: shape {list(array.shape)} but the input is {declared}")
        graph.initializer.append(numpy_helper.from_array(array, name))
    keep = [v for v in graph.input if v.name not in values]
    del graph.input[:]
    graph.input.extend(keep)
