"""Shapes onnx's inference leaves unknown, found by evaluating the node on stand-in data.

onnx has no or only partial shape inference for some ops (Compress with a constant condition,
MaxUnpool with a constant output_shape, GroupNormalization-18, ...). When every input of such a
node has a static shape and every input whose values decide the output shape
(:data:`~.freezing.SHAPE_VALUE_INPUTS`) is a constant, the output shapes are a function of what
is known: the node is run once with onnx's reference evaluator on zeros of the input shapes (the
constants as they are) and the shapes of its results are recorded. Ops whose output shape
depends on the data itself (NonZero, Unique, NonMaxSuppression, ImageDecoder) are never guessed.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import onnx
from onnx import ModelProto, TypeProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from ._graph import is_default_domain
from .folding import NON_DETERMINISTIC
from .freezing import DATA_DEPENDENT, SHAPE_VALUE_INPUTS
from .shapes import tensor_types

#: Ops whose first output has the type and shape of their first input (onnx's inference of some
#: of them fails inside their function body, and the reference evaluator cannot run them alone).
SAME_SHAPE_AS_INPUT = frozenset(
    {
        "GroupNormalization",
        "InstanceNormalization",
        "LayerNormalization",
        "LpNormalization",
        "MeanVarianceNormalization",
        "RMSNormalization",
    }
)


def _static(type_proto: Optional[TypeProto]) -> Optional[tuple[int, ...]]:
    if type_proto is None or not type_proto.HasField("tensor_type"):
        return None
    tensor_type = type_proto.tensor_type
    if not tensor_type.elem_type or not tensor_type.HasField("shape"):
        return None
    if not all(d.HasField("dim_value") for d in tensor_type.shape.dim):
        return None
    return tuple(int(d.dim_value) for d in tensor_type.shape.dim)


def complete_shapes(model: ModelProto, opset: int) -> bool:
    """Record the output shapes of nodes onnx could not infer (see module doc); True if any was."""
    graph = model.graph
    types = tensor_types(model)
    constants = {t.name: t for t in graph.initializer}
    recorded = False
    for node in graph.node:
        outputs = [o for o in node.output if o]
        if all(_static(types.get(o)) is not None for o in outputs):
            continue
        if not is_default_domain(node) or node.op_type in DATA_DEPENDENT or node.op_type in NON_DETERMINISTIC:
            continue
        if any(a.type in (a.GRAPH, a.GRAPHS) for a in node.attribute):
            continue
        deciding = SHAPE_VALUE_INPUTS.get(node.op_type, ())
        if any(i < len(node.input) and node.input[i] and node.input[i] not in constants for i in deciding):
            continue
        if node.op_type in SAME_SHAPE_AS_INPUT and node.input and _static(types.get(node.input[0])) is not None:
            if _static(types.get(outputs[0])) is None:
                info = helper.make_tensor_value_info(outputs[0], types[node.input[0]].tensor_type.elem_type, None)
                info.type.CopyFrom(types[node.input[0]])
                _replace_value_info(model, info)
                types[outputs[0]] = info.type
                recorded = True
            if all(_static(types.get(o)) is not None for o in outputs):
                continue
        feeds = _stand_in_inputs(node, types, constants)
        if feeds is None:
            continue
        results = _evaluate(node, feeds, types, opset)
        if results is None:  # no shape then: static_specs reports it
            continue
        for name, value in zip(node.output, results):
            if not name or _static(types.get(name)) is not None:
                continue
            value = np.asarray(value)
            try:
                elem = helper.np_dtype_to_tensor_dtype(value.dtype)
            except (KeyError, ValueError, TypeError):
                continue
            info = helper.make_tensor_value_info(name, elem, list(value.shape))
            _replace_value_info(model, info)
            types[name] = info.type
            recorded = True
    return recorded


def _evaluate(
    node: onnx.NodeProto, feeds: dict[str, np.ndarray], types: dict[str, TypeProto], opset: int
) -> Optional[list[np.ndarray]]:
    """Run ``node`` with onnx's reference evaluator; None when it cannot.

    A function op whose body depends on its input types (GroupNormalization-21 ...) cannot run as
    a bare node: it then runs as a one-node model with typed inputs.
    """
    try:
        return ReferenceEvaluator(node, opsets={"": opset}).run(None, feeds)
    except Exception:
        pass
    try:
        inputs = [
            helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(value.dtype), list(value.shape))
            for name, value in feeds.items()
        ]
        outputs = [helper.make_value_info(name, TypeProto()) for name in node.output if name]
        graph = helper.make_graph([node], "node", inputs, outputs)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        return ReferenceEvaluator(model).run(None, feeds)
    except Exception:
        return None


def _stand_in_inputs(
    node: onnx.NodeProto, types: dict[str, TypeProto], constants: dict[str, onnx.TensorProto]
) -> Optional[dict[str, np.ndarray]]:
    feeds: dict[str, np.ndarray] = {}
    for name in node.input:
        if not name or name in feeds:
            continue
        if name in constants:
            feeds[name] = numpy_helper.to_array(constants[name])
            continue
        shape = _static(types.get(name))
        if shape is None:
            return None
        dtype = helper.tensor_dtype_to_np_dtype(types[name].tensor_type.elem_type)
        feeds[name] = np.zeros(shape, dtype=dtype)
    return feeds


def _replace_value_info(model: ModelProto, info: onnx.ValueInfoProto) -> None:
    graph = model.graph
    for container in (graph.output, graph.value_info):
        for existing in container:
            if existing.name == info.name:
                existing.CopyFrom(info)
                return
    graph.value_info.append(info)
