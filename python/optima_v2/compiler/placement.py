"""Placement: each node gets a device; nodes are grouped into per-device subgraphs.

Device strings are ``KIND:INDEX`` (case-insensitive). The framework a subgraph is written for
follows from its device kind (``FRAMEWORK_BY_DEVICE_KIND``): CPUs run the ``Native`` backend;
GPU kinds get ``OpenCL``, the framework the test accelerator (a simulated NVIDIA:0) serves. The
subgraph folders are in the native graph format either way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from onnx import GraphProto, NodeProto

from ..model_folder._types import check_device
from .errors import CompileError

FRAMEWORK_BY_DEVICE_KIND: Mapping[str, str] = {
    "x86": "Native",
    "x64": "Native",
    "ARM": "Native",
    "ARM64": "Native",
    "NVIDIA": "OpenCL",
    "AMDGPU": "OpenCL",
    "IntelGPU": "OpenCL",
    "Mali": "OpenCL",
    "Adreno": "OpenCL",
}

DeviceMap = Union[Mapping[str, str], str, "os.PathLike[str]", None]


def normalize_device(device: Any, where: str = "device") -> str:
    """Canonical ``Kind:index`` of a device string; CompileError when malformed or without framework."""
    try:
        canonical = check_device(device)
    except ValueError as error:
        raise CompileError(f"{where}: {error}") from None
    if canonical.split(":")[0] not in FRAMEWORK_BY_DEVICE_KIND:
        raise CompileError(
            f"{where}: no framework writes subgraphs for device {canonical!r} "
            f"(supported kinds: {', '.join(FRAMEWORK_BY_DEVICE_KIND)})"
        )
    return canonical


def framework_for(device: str) -> str:
    return FRAMEWORK_BY_DEVICE_KIND[device.split(":")[0]]


def read_device_map(device_map: DeviceMap) -> dict[str, str]:
    """A device map from a dict or a JSON file ``{"node name": "X64:0", ...}``."""
    if device_map is None:
        return {}
    if isinstance(device_map, (str, os.PathLike)):
        path = Path(device_map)
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise CompileError(f"device map {path}: cannot read it ({error.strerror})") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise CompileError(f"device map {path}: not valid JSON ({error})") from None
        where = f"device map {path}"
    else:
        loaded, where = device_map, "device map"
    if not isinstance(loaded, Mapping):
        raise CompileError(f"{where}: expected an object mapping node names to devices")
    result = {}
    for node, device in loaded.items():
        if not isinstance(node, str):
            raise CompileError(f"{where}: node names must be strings, got {node!r}")
        result[node] = normalize_device(device, f"{where}[{node!r}]")
    return result


def check_device_map_names(device_map: Mapping[str, str], node_names: Sequence[str]) -> None:
    unknown = sorted(set(device_map) - set(node_names))
    if unknown:
        raise CompileError(f"device map names nodes the model does not have: {unknown}")


@dataclass
class Partition:
    device: str
    nodes: list[NodeProto] = field(default_factory=list)

    @property
    def framework(self) -> str:
        return framework_for(self.device)


def partition(graph: GraphProto, device_map: Mapping[str, str], default_device: str) -> list[Partition]:
    """Group nodes into subgraphs by device, in a topological order that keeps devices together.

    Kahn's algorithm, always preferring a ready node on the current subgraph's device (in model
    order) before switching device: each switch is one more subgraph and more boundary tensors.
    Consecutive groups of a topological order never depend on a later group, so the subgraph
    dependency graph is acyclic.
    """
    nodes = list(graph.node)
    device = [device_map.get(n.name, default_device) for n in nodes]
    producer = {out: i for i, n in enumerate(nodes) for out in n.output if out}
    users: list[list[int]] = [[] for _ in nodes]
    pending = [0] * len(nodes)
    for i, node in enumerate(nodes):
        deps = {producer[name] for name in node.input if name in producer}
        pending[i] = len(deps)
        for dep in deps:
            users[dep].append(i)
    ready = sorted(i for i in range(len(nodes)) if pending[i] == 0)
    partitions: list[Partition] = []
    current: Optional[str] = None
    while ready:
        same = [i for i in ready if device[i] == current]
        pick = same[0] if same else ready[0]
        ready.remove(pick)
        if device[pick] != current:
            current = device[pick]
            partitions.append(Partition(current))
        partitions[-1].nodes.append(nodes[pick])
        for user in users[pick]:
            pending[user] -= 1
            if pending[user] == 0:
                ready.append(user)
        ready.sort()
    return partitions


def device_map_template(node_names: Sequence[str], device: str = "X64:0") -> dict[str, str]:
    """``{node: device}`` for every node: a one-device map to edit (like the OptimaV2 flow writes)."""
    canonical = normalize_device(device)
    return dict.fromkeys(node_names, canonical)
