"""A native-format graph: the content of one subgraph folder (graph.json + weights.bin)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from ._json import dumps
from ._types import (
    ELEMENT_TYPES,
    LOW_PRECISION_TYPES,
    WEIGHT_ALIGNMENT,
    check_alignment,
    check_byte_size,
    check_name,
    check_shape,
    element_size,
    element_type,
    low_precision_bytes,
)

GRAPH_FORMAT = "optima-v2-native-graph"
GRAPH_FORMAT_VERSION = 1
WEIGHTS_FILE = "weights.bin"


@dataclass(frozen=True)
class TensorSpec:
    """A tensor of a graph. Constants have ``data`` (C-contiguous, little-endian) or, declared with
    :meth:`Graph.add_lazy_constant`, a ``loader`` called when the graph is written."""

    name: str
    type: str
    shape: tuple[int, ...]
    alignment: int = 64
    data: Optional[np.ndarray] = None
    loader: Optional[Callable[[], Any]] = field(default=None, compare=False, repr=False)

    @property
    def nbytes(self) -> int:
        return element_size(self.type) * math.prod(self.shape)

    @property
    def is_constant(self) -> bool:
        return self.data is not None or self.loader is not None

    def constant_data(self) -> np.ndarray:
        """The constant's bytes as stored (``data``, or what ``loader`` returns, checked)."""
        if self.data is not None:
            return self.data
        if self.loader is None:
            raise ValueError(f"tensor {self.name!r} is not a constant")
        where = f"constant {self.name!r}"
        array = self.loader()
        if not isinstance(array, np.ndarray):
            raise ValueError(f"{where}: the loader returned {type(array).__name__}, not a numpy.ndarray")
        if tuple(array.shape) != self.shape:
            raise ValueError(f"{where}: the loader returned shape {list(array.shape)}, declared {list(self.shape)}")
        return _constant_data(where, array, self.type, copy=False)

    def to_json(self) -> dict[str, Any]:
        """The *tensor* object of model.meta (name, type, shape, alignment)."""
        return {"name": self.name, "type": self.type, "shape": list(self.shape), "alignment": self.alignment}


@dataclass(frozen=True)
class Node:
    name: str
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attributes: dict[str, dict[str, Any]]


def _attribute(key: str, value: Any, where: str) -> tuple[str, Any]:
    """(type, JSON value) of a node attribute; np.ndarray values are handled by the caller."""
    if isinstance(value, Mapping):
        if set(value) != {"type", "value"}:
            raise ValueError(f"{where}: an explicit attribute must be {{'type': T, 'value': V}}, got {value!r}")
        kind, raw = value["type"], value["value"]
        expected = {"int": "ints", "float": "floats", "string": "strings"}
        if kind in expected:
            got, _ = _attribute(key, raw, where)
            if got != kind and not (kind == "float" and got == "int"):
                raise ValueError(f"{where}: value {raw!r} is not of attribute type {kind!r}")
            return kind, float(raw) if kind == "float" else raw
        if kind in expected.values():
            if not isinstance(raw, (list, tuple)):
                raise ValueError(f"{where}: attribute type {kind!r} needs a list, got {raw!r}")
            item_kind = kind[:-1]
            return kind, [_attribute(key, {"type": item_kind, "value": item}, where)[1] for item in raw]
        raise ValueError(f"{where}: unknown attribute type {kind!r}")
    if isinstance(value, (bool, np.bool_)):
        return "int", int(value)
    if isinstance(value, (int, np.integer)):
        return "int", int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise ValueError(f"{where}: float attribute {value!r} is not finite (JSON cannot hold it)")
        return "float", float(value)
    if isinstance(value, str):
        return "string", value
    if isinstance(value, (list, tuple)):
        kinds = [_attribute(key, item, where)[0] for item in value]
        if all(kind == "int" for kind in kinds):  # includes the empty list
            return "ints", [int(item) for item in value]
        if all(kind in ("int", "float") for kind in kinds):
            return "floats", [_attribute(key, float(item), where)[1] for item in value]
        if all(kind == "string" for kind in kinds):
            return "strings", list(value)
        raise ValueError(f"{where}: list attribute mixes types or holds unsupported items: {value!r}")
    raise ValueError(f"{where}: unsupported attribute value of type {type(value).__name__}")


def _constant_data(where: str, array: np.ndarray, type_name: str, *, copy: bool) -> np.ndarray:
    """``array`` as stored in the weights file: C-contiguous, little-endian, read-only.

    Without ``copy``, an array already in that layout is used as it is (a read-only view).
    """
    storage = ELEMENT_TYPES[type_name][1]
    if type_name in LOW_PRECISION_TYPES:  # one byte per element, as ml_dtypes stores it
        data = np.array(low_precision_bytes(array, type_name, where), order="C", copy=copy or None)
    else:
        if array.dtype.newbyteorder("=") != storage and not (
            array.dtype.itemsize == storage.itemsize and array.dtype.kind == storage.kind
        ):
            raise ValueError(f"{where}: array dtype {array.dtype} cannot hold element type {type_name}")
        target = storage.newbyteorder("<")
        if not copy and array.flags.c_contiguous and array.dtype == target:
            data = array.view()
        else:
            data = np.array(array, dtype=target, order="C", copy=True)
    data = data.view()  # read-only view: never the caller's own array object
    data.setflags(write=False)
    return data


class Graph:
    """One subgraph in the native graph format.

    Declare tensors (inputs, constants, intermediates with explicit type and shape), add nodes in
    topological order, mark the outputs, then give it to :class:`~optima_v2.model_folder.ModelFolder`.
    Types are names (``"F32"``), numpy dtypes or ``rt.ElementType`` values. Errors are ValueErrors
    naming the tensor, node or attribute.
    """

    def __init__(self) -> None:
        self._tensors: dict[str, TensorSpec] = {}
        self._inputs: list[str] = []
        self._outputs: list[str] = []
        self._nodes: list[Node] = []
        self._node_names: set[str] = set()

    # --- declaration ---------------------------------------------------------------------------
    def add_input(self, name: str, dtype: Any, shape: Iterable[int], *, alignment: int = 64) -> str:
        """Declare a graph input; returns its name."""
        self._add_tensor(name, dtype, shape, alignment, None)
        self._inputs.append(name)
        return name

    def add_tensor(self, name: str, dtype: Any, shape: Iterable[int], *, alignment: int = 64) -> str:
        """Declare a tensor computed by a node (an intermediate or an output); returns its name."""
        self._add_tensor(name, dtype, shape, alignment, None)
        return name

    def add_constant(self, name: str, array: Any, dtype: Any = None, *, copy: bool = True) -> str:
        """Declare a constant holding a copy of ``array``; returns its name.

        ``dtype`` defaults to the array's; give it for types numpy lacks (``"BF16"`` with uint16 bit
        patterns, ``"Q8"`` with int8, ``"Q16"`` with int16). Low-precision types (``"F8E4M3FN"``,
        ``"I4"``, ...) take their ml_dtypes array (its dtype implies the type) or uint8 codes.
        With ``copy`` false, an array already C-contiguous and little-endian in the storage type is
        kept as it is (the caller must not modify it afterwards).
        """
        if not isinstance(array, np.ndarray):
            raise ValueError(f"constant {name!r}: expected a numpy.ndarray, got {type(array).__name__}")
        type_name = element_type(array.dtype if dtype is None else dtype)
        data = _constant_data(f"constant {name!r}", array, type_name, copy=copy)
        self._add_tensor(name, type_name, array.shape, 64, data)
        return name

    def add_lazy_constant(self, name: str, dtype: Any, shape: Iterable[int], loader: Callable[[], Any]) -> str:
        """Declare a constant of ``dtype`` and ``shape`` whose value ``loader()`` returns when the graph
        is written (an array as :meth:`add_constant` takes it, kept without a copy when it can be):
        constants are then held in memory one at a time. Returns the name."""
        if not callable(loader):
            raise ValueError(f"constant {name!r}: loader must be callable")
        self._add_tensor(name, dtype, shape, 64, None, loader)
        return name

    def add_node(
        self,
        op: str,
        inputs: Sequence[str],
        outputs: Sequence[str],
        *,
        name: Optional[str] = None,
        attributes: Optional[Mapping[str, Any]] = None,
    ) -> str:
        """Add a node (ONNX op type and semantics); returns its name.

        ``inputs`` may contain ``""`` for an omitted optional input; every other name must be a
        graph input, a constant or the output of an earlier node. ``outputs`` must be tensors
        declared with :meth:`add_tensor`. Attribute values map to types as: int/bool -> ``int``,
        float -> ``float``, str -> ``string``, list of ints -> ``ints`` (also the empty list),
        list of numbers -> ``floats``, list of str -> ``strings``, np.ndarray -> ``tensor`` (stored
        as a constant named ``<node>.<attribute>``); ``{"type": T, "value": V}`` states the type.
        """
        if not isinstance(op, str) or not op:
            raise ValueError(f"node {name!r}: op must be a non-empty str")
        node_name = check_name(name if name is not None else f"{op}_{len(self._nodes)}", "node")
        if node_name in self._node_names:
            raise ValueError(f"node {node_name!r}: duplicate node name")
        where = f"node {node_name!r} ({op})"
        if isinstance(inputs, str) or isinstance(outputs, str):
            raise ValueError(f"{where}: inputs and outputs must be lists of names, not a str")
        available = set(self._inputs) | {t.name for t in self._tensors.values() if t.is_constant}
        for node in self._nodes:
            available.update(node.outputs)
        for tensor in inputs:
            if tensor == "":
                continue
            if tensor not in self._tensors:
                raise ValueError(f"{where}: input {tensor!r} is not a declared tensor")
            if tensor not in available:
                raise ValueError(
                    f"{where}: input {tensor!r} is not computed before this node (nodes go in topological order)"
                )
        if not outputs:
            raise ValueError(f"{where}: a node needs at least one output")
        for tensor in outputs:
            if tensor not in self._tensors:
                raise ValueError(
                    f"{where}: output {tensor!r} is not declared; declare it with add_tensor(name, dtype, shape)"
                )
            if tensor in available:
                raise ValueError(f"{where}: output {tensor!r} is already an input, a constant or another node's output")
        if len(set(outputs)) != len(outputs):
            raise ValueError(f"{where}: an output is listed twice")
        encoded: dict[str, dict[str, Any]] = {}
        for key, value in (attributes or {}).items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"{where}: attribute names must be non-empty str")
            attr_where = f"{where}: attribute {key!r}"
            if isinstance(value, np.ndarray):
                constant = self.add_constant(f"{node_name}.{key}", value)
                encoded[key] = {"type": "tensor", "value": constant}
            else:
                kind, json_value = _attribute(key, value, attr_where)
                encoded[key] = {"type": kind, "value": json_value}
        self._nodes.append(Node(node_name, op, tuple(inputs), tuple(outputs), encoded))
        self._node_names.add(node_name)
        return node_name

    def add_output(self, name: str) -> str:
        """Mark a node's output tensor as a graph output (in call order); returns its name."""
        if name not in self._tensors:
            raise ValueError(f"graph output {name!r} is not a declared tensor")
        if name in self._outputs:
            raise ValueError(f"graph output {name!r} is listed twice")
        self._outputs.append(name)
        return name

    # --- queries -------------------------------------------------------------------------------
    @property
    def inputs(self) -> list[str]:
        return list(self._inputs)

    @property
    def outputs(self) -> list[str]:
        return list(self._outputs)

    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes)

    def tensor(self, name: str) -> TensorSpec:
        try:
            return self._tensors[name]
        except KeyError:
            raise ValueError(f"no tensor named {name!r}") from None

    # --- validation and output -----------------------------------------------------------------
    def validate(self, where: str = "graph") -> None:
        """Check the graph is complete: outputs computed by nodes, every node output declared."""
        if not self._outputs:
            raise ValueError(f"{where}: the graph has no outputs (use add_output)")
        produced = {tensor for node in self._nodes for tensor in node.outputs}
        for name in self._outputs:
            if name not in produced:
                raise ValueError(f"{where}: output {name!r} is not computed by any node")

    def to_json(self, weights_file: str = WEIGHTS_FILE) -> tuple[dict[str, Any], list[tuple[int, TensorSpec]]]:
        """graph.json content and the (offset, constant) blobs of the weights file."""
        blobs: list[tuple[int, TensorSpec]] = []
        offset = 0
        tensors = []
        for spec in self._tensors.values():
            entry: dict[str, Any] = {"name": spec.name, "type": spec.type, "shape": list(spec.shape)}
            if spec.is_constant:
                offset = -(-offset // WEIGHT_ALIGNMENT) * WEIGHT_ALIGNMENT
                entry["data"] = {"offset": offset, "size": spec.nbytes}
                blobs.append((offset, spec))
                offset += spec.nbytes
            tensors.append(entry)
        graph: dict[str, Any] = {"format": GRAPH_FORMAT, "format_version": GRAPH_FORMAT_VERSION}
        if blobs:
            graph["weights"] = weights_file
        graph.update(
            tensors=tensors,
            inputs=list(self._inputs),
            outputs=list(self._outputs),
            nodes=[
                {
                    "name": node.name,
                    "op": node.op,
                    "inputs": list(node.inputs),
                    "outputs": list(node.outputs),
                    **({"attributes": node.attributes} if node.attributes else {}),
                }
                for node in self._nodes
            ],
        )
        return graph, blobs

    def write(self, folder: Path, where: str = "graph") -> None:
        """Write graph.json (and weights.bin when there are constants) into an existing folder."""
        self.validate(where)
        graph, blobs = self.to_json()
        with open(folder / "graph.json", "w", encoding="utf-8") as out:
            out.write(dumps(graph))
            out.write("\n")
        if blobs:
            with open(folder / WEIGHTS_FILE, "wb") as out:
                for offset, spec in blobs:  # one constant in memory at a time (lazy ones)
                    data = spec.constant_data()
                    out.write(b"\0" * (offset - out.tell()))
                    out.write(data.reshape(-1).view(np.uint8).data)  # no copy: C-contiguous
                    del data

    # --- internals -----------------------------------------------------------------------------
    def _add_tensor(
        self, name: str, dtype: Any, shape: Iterable[int], alignment: int, data: Any, loader: Any = None
    ) -> None:
        check_name(name, "tensor")
        where = f"tensor {name!r}"
        if name in self._tensors:
            raise ValueError(f"{where}: duplicate tensor name")
        type_name = element_type(dtype)
        dims = check_shape(shape, where)
        check_byte_size(type_name, dims, where)
        self._tensors[name] = TensorSpec(name, type_name, dims, check_alignment(alignment, where), data, loader)
