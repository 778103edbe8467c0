"""Static shapes: fix the input dims the user gives, run onnx shape inference, demand static results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

import onnx
from onnx import ModelProto, TensorProto, TypeProto

from ._light import adopt, light_copy
from .errors import CompileError
from .freezing import DATA_DEPENDENT, SHAPE_VALUE_INPUTS

#: ONNX element type -> model-format element type.
ELEMENT_TYPES = {
    TensorProto.INT8: "I8",
    TensorProto.UINT8: "U8",
    TensorProto.INT16: "I16",
    TensorProto.UINT16: "U16",
    TensorProto.INT32: "I32",
    TensorProto.UINT32: "U32",
    TensorProto.INT64: "I64",
    TensorProto.UINT64: "U64",
    TensorProto.FLOAT16: "F16",
    TensorProto.FLOAT: "F32",
    TensorProto.DOUBLE: "F64",
    TensorProto.BFLOAT16: "BF16",
    TensorProto.BOOL: "BOOL",
}
# Low-precision types: one byte per element in the model format (4/2-bit initializers are unpacked
# by numpy_helper.to_array and written unpacked). Older onnx releases lack some of them.
for _onnx_name, _format_name in (
    ("FLOAT8E4M3FN", "F8E4M3FN"),
    ("FLOAT8E4M3FNUZ", "F8E4M3FNUZ"),
    ("FLOAT8E5M2", "F8E5M2"),
    ("FLOAT8E5M2FNUZ", "F8E5M2FNUZ"),
    ("FLOAT8E8M0", "F8E8M0"),
    ("INT4", "I4"),
    ("UINT4", "U4"),
    ("FLOAT4E2M1", "F4E2M1"),
    ("INT2", "I2"),
    ("UINT2", "U2"),
):
    if hasattr(TensorProto, _onnx_name):
        ELEMENT_TYPES[getattr(TensorProto, _onnx_name)] = _format_name


def graph_inputs(model: ModelProto) -> list[onnx.ValueInfoProto]:
    """Real inputs: graph inputs that are not initializers (older exporters list weights as inputs)."""
    initializers = {t.name for t in model.graph.initializer}
    return [v for v in model.graph.input if v.name not in initializers]


def _dim_text(dim: onnx.TensorShapeProto.Dimension) -> str:
    if dim.HasField("dim_value"):
        return str(dim.dim_value)
    return dim.dim_param or "?"


def apply_input_shapes(model: ModelProto, input_shapes: Optional[Mapping[str, Sequence[int]]]) -> None:
    """Set the shapes of model inputs; every dim must end up static, else one error lists them all."""
    shapes = dict(input_shapes or {})
    inputs = {v.name: v for v in graph_inputs(model)}
    unknown = sorted(set(shapes) - set(inputs))
    if unknown:
        raise CompileError(f"input_shapes names {unknown}, which are not model inputs (inputs: {sorted(inputs)})")
    missing = []
    for name, value in inputs.items():
        tensor_type = value.type.tensor_type
        if not value.type.HasField("tensor_type"):
            raise CompileError(f"model input {name!r} is not a tensor")
        if name in shapes:
            dims = _check_dims(name, shapes[name])
            current = tensor_type.shape.dim if tensor_type.HasField("shape") else None
            if current is not None and len(current) != len(dims):
                raise CompileError(
                    f"input_shapes[{name!r}] = {list(dims)} has rank {len(dims)}, the input has rank {len(current)}"
                )
            if current is not None:
                for axis, (old, new) in enumerate(zip(current, dims)):
                    if old.HasField("dim_value") and old.dim_value != new:
                        raise CompileError(
                            f"input_shapes[{name!r}] = {list(dims)}: dim {axis} is {old.dim_value} in the model"
                        )
            tensor_type.ClearField("shape")
            tensor_type.shape.SetInParent()  # rank 0 too: an absent shape means "unknown rank"
            for dim in dims:
                tensor_type.shape.dim.add().dim_value = dim
            continue
        if not tensor_type.HasField("shape"):
            missing.append(f"{name!r} (unknown rank)")
            continue
        for axis, dim in enumerate(tensor_type.shape.dim):
            if not dim.HasField("dim_value"):
                missing.append(f"{name!r} dim {axis} ({_dim_text(dim)})")
    if missing:
        raise CompileError(
            "dynamic dimensions left unknown (give them with input_shapes / --input-shape NAME=1x3x224x224): "
            + ", ".join(missing)
        )


def _check_dims(name: str, dims: Sequence[int]) -> tuple[int, ...]:
    try:
        result = tuple(int(d) for d in dims)
    except (TypeError, ValueError):
        raise CompileError(f"input_shapes[{name!r}] must be a sequence of ints, got {dims!r}") from None
    if any(d < 0 for d in result) or any(isinstance(d, bool) for d in dims):
        raise CompileError(f"input_shapes[{name!r}] = {list(dims)} has a negative or non-integer dimension")
    return result


def infer_shapes(model: ModelProto) -> ModelProto:
    """onnx shape inference (with data propagation) from the static inputs; old annotations dropped.

    Exported models carry value_info and outputs with symbolic dims; they are cleared first so
    the inferred static shapes are not merged with stale ones.
    """
    del model.graph.value_info[:]
    for output in model.graph.output:
        if output.type.HasField("tensor_type"):
            output.type.tensor_type.ClearField("shape")
    return _onnx_inference(model)


def propagate_shapes(model: ModelProto) -> ModelProto:
    """onnx shape inference keeping the annotations already there (after :mod:`.shape_eval`)."""
    return _onnx_inference(model)


_INFERENCE_ERRORS = (onnx.shape_inference.InferenceError, onnx.checker.ValidationError, RuntimeError)


def _onnx_inference(model: ModelProto) -> ModelProto:
    """Strict onnx shape inference; where it stops with an error, non-strict inference instead.

    onnx's inference of some function ops fails inside their function body although the node is
    valid (MeanVarianceNormalization's default ``axes`` reaches a Constant of its body as a missing
    attribute): non-strict inference skips such a node, and :mod:`.shape_eval` completes its
    shapes; a tensor still unknown then is reported by :func:`static_specs`.

    Inference serializes the model: it runs on a weight-less copy (:mod:`._light`) and the
    inferred graph is copied back into ``model``, which is returned.
    """
    light, detached = light_copy(model)
    try:
        inferred = onnx.shape_inference.infer_shapes(light, check_type=True, strict_mode=True, data_prop=True)
    except _INFERENCE_ERRORS as strict_error:
        try:
            inferred = onnx.shape_inference.infer_shapes(light, check_type=True, strict_mode=False, data_prop=True)
        except _INFERENCE_ERRORS:
            message = (
                str(strict_error).strip().splitlines()[0] if str(strict_error).strip() else type(strict_error).__name__
            )
            raise CompileError(f"shape inference failed: {message}") from None
    adopt(model, inferred, detached, initializers=False)
    return model


def tensor_types(model: ModelProto) -> dict[str, TypeProto]:
    """Name -> TypeProto of every tensor with a known type (inputs, value_info, outputs, initializers)."""
    graph = model.graph
    result: dict[str, TypeProto] = {}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        result[value.name] = value.type
    for init in graph.initializer:
        proto = TypeProto()
        proto.tensor_type.elem_type = init.data_type
        proto.tensor_type.shape.SetInParent()  # a scalar has a (rank-0) shape too
        for dim in init.dims:
            proto.tensor_type.shape.dim.add().dim_value = dim
        result[init.name] = proto
    return result


def static_specs(model: ModelProto) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Name -> (element type, static shape) of every tensor the graph uses.

    One CompileError lists every tensor whose type or shape is still unknown or not static.
    """
    types = tensor_types(model)
    used: list[str] = [v.name for v in graph_inputs(model)]
    for node in model.graph.node:
        used.extend(n for n in [*node.input, *node.output] if n)
    used.extend(v.name for v in model.graph.output)
    specs: dict[str, tuple[str, tuple[int, ...]]] = {}
    unknown, bad_types = [], []
    producers = {out: node for node in model.graph.node for out in node.output if out}
    constants = {t.name for t in model.graph.initializer}
    for name in dict.fromkeys(used):
        proto = types.get(name)
        if proto is None or not proto.HasField("tensor_type"):
            unknown.append(f"{name!r} (no type){_why_unknown(producers.get(name), constants)}")
            continue
        tensor_type = proto.tensor_type
        element = ELEMENT_TYPES.get(tensor_type.elem_type)
        if element is None:
            bad_types.append(f"{name!r} ({TensorProto.DataType.Name(tensor_type.elem_type)})")
            continue
        if not tensor_type.HasField("shape"):
            unknown.append(f"{name!r} (unknown rank){_why_unknown(producers.get(name), constants)}")
            continue
        dims = tensor_type.shape.dim
        if not all(d.HasField("dim_value") for d in dims):
            dims_text = ", ".join(_dim_text(d) for d in dims)
            unknown.append(f"{name!r} [{dims_text}]{_why_unknown(producers.get(name), constants)}")
            continue
        specs[name] = (element, tuple(int(d.dim_value) for d in dims))
    if unknown:
        raise CompileError("shapes still unknown after shape inference: " + ", ".join(unknown))
    if bad_types:
        raise CompileError("element types the model format cannot hold: " + ", ".join(bad_types))
    return specs


def _why_unknown(node: Optional[onnx.NodeProto], constants: set[str]) -> str:
    """`` from node 'n' (op Op: why)`` for a tensor whose shape stays unknown."""
    if node is None:
        return ""
    reason = ""
    if node.op_type in DATA_DEPENDENT:
        reason = ": its output shape depends on the input values"
    else:
        varying = [
            node.input[i]
            for i in SHAPE_VALUE_INPUTS.get(node.op_type, ())
            if i < len(node.input) and node.input[i] and node.input[i] not in constants
        ]
        if varying:
            reason = f": input {varying[0]!r} must be a constant (output shape depends on its values)"
    return f" from node {node.name!r} (op {node.op_type}{reason})"
