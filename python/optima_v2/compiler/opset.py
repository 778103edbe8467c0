"""One internal opset: every imported model is converted to :data:`INTERNAL_OPSET` of ``ai.onnx``.

The native kernels and the compiler passes follow one version of each op's semantics, so models
of opset 7 (or older, best effort) up to the newest onnx knows are converted on import, with
onnx's version converter plus our own rewrites where it gets the meaning wrong:

- Hardmax before opset 13 coerces its input to 2-D at ``axis``; the converter only bumps the
  version (which would make it act on ``axis`` alone): rewritten to Flatten -> Hardmax -> Reshape
  before conversion. (Softmax and LogSoftmax are rewritten that way by the converter itself.)
- Upsample and Resize before opset 11 compute source coordinates as ``x / scale`` (asymmetric);
  the converter leaves Resize's defaults (half_pixel, round_prefer_floor): the converted Resize
  gets ``coordinate_transformation_mode="asymmetric"`` and, for nearest, ``nearest_mode="floor"``
  (``"ceil"`` when every scale shrinks, as ONNX Runtime does for these versions).
- PRelu before opset 7 applies a 1-D slope per channel (axis 1): constant slopes are reshaped to
  ``[C, 1, ...]`` (from opset 7 the slope broadcasts numpy-style).

The converter serializes the model (protobuf limits that to 2 GB, and each copy of the weights
costs memory) and never reads weights: it converts a weight-less copy (:mod:`._light`), whose
result is copied back into the model in place.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import onnx
import onnx.version_converter
from onnx import ModelProto, NodeProto, helper, numpy_helper

from ._light import adopt, light_copy
from .errors import CompileError

#: The ai.onnx opset every model is converted to (onnx 1.23's newest); lowered to the installed
#: onnx's newest when that is older.
NEWEST_KNOWN_OPSET = 28
INTERNAL_OPSET = min(NEWEST_KNOWN_OPSET, onnx.defs.onnx_opset_version())


def default_opset(model: ModelProto) -> int:
    """The model's ai.onnx opset version."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise CompileError("the model imports no ai.onnx opset")


def to_internal_opset(model: ModelProto, where: str) -> ModelProto:
    """``model`` converted to :data:`INTERNAL_OPSET`, in place; returns ``model``."""
    opset = default_opset(model)
    if opset == INTERNAL_OPSET:
        return model
    if opset > INTERNAL_OPSET:
        raise CompileError(
            f"{where}: ONNX opset {opset} is newer than {INTERNAL_OPSET}, the newest this compiler reads"
        )
    if opset < 7:
        _per_channel_prelu_slopes(model)
    if opset < 13:
        _hardmax_to_2d(model)
    old_resizes = _old_resize_outputs(model, opset)
    names = {node.output[0]: node.name for node in model.graph.node if node.output and node.name}
    light, detached = light_copy(model)
    originals = {t.name for t in light.graph.initializer}
    try:
        converted = onnx.version_converter.convert_version(light, INTERNAL_OPSET)
    except Exception as error:  # the converter raises RuntimeError / assertion texts
        text = str(error).strip()
        raise CompileError(
            f"{where}: onnx's version converter cannot convert opset {opset} to {INTERNAL_OPSET}: "
            f"{text.splitlines()[-1] if text else type(error).__name__}"
        ) from None
    del light
    for tensor in converted.graph.initializer:
        if tensor.name not in originals and _is_data_less(tensor):
            raise CompileError(
                f"{where}: converting opset {opset} to {INTERNAL_OPSET} lost the data of {tensor.name!r}"
            )
    adopt(model, converted, detached, initializers=True)
    del converted
    needed = helper.find_min_ir_version_for(list(model.opset_import), ignore_unknown=True)
    model.ir_version = max(model.ir_version, needed)
    _fix_old_resizes(model, old_resizes)
    for node in model.graph.node:  # replaced nodes (Upsample -> Resize) keep their name
        if not node.name and node.output and node.output[0] in names:
            node.name = names[node.output[0]]
    try:
        onnx.checker.check_model(light_copy(model)[0])  # the weights were checked when loaded
    except (onnx.checker.ValidationError, ValueError) as error:
        raise CompileError(
            f"{where}: converting opset {opset} to {INTERNAL_OPSET} gave an invalid model: "
            f"{str(error).strip().splitlines()[0]}"
        ) from None
    return model


# --- weights kept out of the converter -------------------------------------------------------------
def _is_data_less(tensor: onnx.TensorProto) -> bool:
    """An initializer with elements but no data (one derived from a detached weight)."""
    if tensor.data_location == onnx.TensorProto.EXTERNAL or not all(tensor.dims):
        return False
    fields = ("raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data", "string_data")
    return not any(len(getattr(tensor, field)) for field in fields)


# --- rewrites ------------------------------------------------------------------------------------
def _attribute(node: NodeProto, name: str, default):
    for attribute in node.attribute:
        if attribute.name == name:
            return helper.get_attribute_value(attribute)
    return default


def _hardmax_to_2d(model: ModelProto) -> None:
    """Hardmax-1/11(x, axis) == Reshape(Hardmax(Flatten(x, axis), axis=1), Shape(x))."""
    nodes: list[NodeProto] = []
    changed = False
    for node in model.graph.node:
        if node.op_type != "Hardmax" or node.domain not in ("", "ai.onnx"):
            nodes.append(node)
            continue
        changed = True
        axis = int(_attribute(node, "axis", 1))
        x, y = node.input[0], node.output[0]
        base = node.name or y
        shape, flat, hard = f"{base}.shape", f"{base}.flat", f"{base}.hardmax2d"
        nodes.append(helper.make_node("Shape", [x], [shape], name=f"{base}.shape"))
        nodes.append(helper.make_node("Flatten", [x], [flat], name=f"{base}.flatten", axis=axis))
        nodes.append(helper.make_node("Hardmax", [flat], [hard], name=node.name, axis=1))
        nodes.append(helper.make_node("Reshape", [hard, shape], [y], name=f"{base}.reshape"))
    if changed:
        del model.graph.node[:]
        model.graph.node.extend(nodes)


def _old_resize_outputs(model: ModelProto, opset: int) -> set[str]:
    """Outputs of Upsample and pre-11 Resize nodes (the converter drops their node names)."""
    if opset >= 11:
        return set()
    return {n.output[0] for n in model.graph.node if n.op_type in ("Upsample", "Resize") and n.output}


def _constant_values(model: ModelProto, names: set[str]) -> dict[str, np.ndarray]:
    """The values of the constants (initializers, Constant nodes) named in ``names``."""
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer if t.name in names}
    for node in model.graph.node:
        if node.op_type == "Constant" and node.output and node.attribute and node.attribute[0].name == "value":
            if node.output[0] in names:
                values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def _fix_old_resizes(model: ModelProto, outputs: set[str]) -> None:
    if not outputs:
        return
    resizes = [n for n in model.graph.node if n.op_type == "Resize" and n.output and n.output[0] in outputs]
    values = _constant_values(model, {n.input[2] for n in resizes if len(n.input) > 2})
    for node in model.graph.node:
        if node.op_type != "Resize" or not node.output or node.output[0] not in outputs:
            continue
        present = {a.name for a in node.attribute}
        if "coordinate_transformation_mode" not in present:
            node.attribute.append(helper.make_attribute("coordinate_transformation_mode", "asymmetric"))
        mode = _attribute(node, "mode", b"nearest")
        if mode in (b"nearest", "nearest") and "nearest_mode" not in present:
            scales = _scales(node, values)
            shrinking = (
                scales is not None and scales.size > 0 and bool(np.all(scales <= 1.0)) and bool(np.any(scales < 1.0))
            )
            node.attribute.append(helper.make_attribute("nearest_mode", "ceil" if shrinking else "floor"))


def _scales(node: NodeProto, values: dict[str, np.ndarray]) -> Optional[np.ndarray]:
    if len(node.input) > 2 and node.input[2] in values:
        return np.asarray(values[node.input[2]], dtype=np.float64)
    return None


def _per_channel_prelu_slopes(model: ModelProto) -> None:
    """PRelu before opset 7: reshape a constant 1-D slope of size C to [C, 1, ...] (see module doc)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(light_copy(model)[0])
    except Exception:  # no ranks known: nothing to reshape
        return
    ranks = {
        v.name: len(v.type.tensor_type.shape.dim)
        for v in [*inferred.graph.input, *inferred.graph.value_info]
        if v.type.tensor_type.HasField("shape")
    }
    initializers = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "PRelu" or len(node.input) < 2 or node.input[1] not in initializers:
            continue
        slope = initializers[node.input[1]]
        rank = ranks.get(node.input[0], 0)
        if len(slope.dims) == 1 and slope.dims[0] > 1 and rank > 2:
            array = numpy_helper.to_array(slope).reshape([slope.dims[0]] + [1] * (rank - 2))
            slope.CopyFrom(numpy_helper.from_array(array, slope.name))
            for value in model.graph.input:  # old IR versions list initializers as inputs too
                if value.name == slope.name and value.type.tensor_type.HasField("shape"):
                    del value.type.tensor_type.shape.dim[:]
                    for size in array.shape:
                        value.type.tensor_type.shape.dim.add().dim_value = size
