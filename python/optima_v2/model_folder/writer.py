"""ModelFolder: several graphs plus the model interface -> a model folder (model.meta + Subgraph_i/)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from ._json import dumps
from ._types import MAX_SUBGRAPHS, check_device, check_framework, check_name
from .graph import Graph, TensorSpec

MODEL_FORMAT = "optima-v2-model"
MODEL_FORMAT_VERSION = 1
META_FILE = "model.meta"


@dataclass(frozen=True)
class Subgraph:
    name: str
    path: str
    framework: str
    device: str
    graph: Graph


class ModelFolder:
    """Writer of a model folder (format version 1, ``docs/model-format.md``).

    Add one or more :class:`Graph` objects as subgraphs, each with its framework and device. The
    model's inputs are the subgraph inputs no subgraph computes, its outputs the subgraph outputs
    no other subgraph reads (both in order of appearance) unless set explicitly with
    :meth:`set_inputs` / :meth:`set_outputs`; the remaining tensors passed between subgraphs are the
    boundary tensors. Everything is validated by :meth:`write` (ValueError naming what is wrong).

    Example::

        g = Graph()
        g.add_input("x", "F32", (1, 4))
        g.add_tensor("y", "F32", (1, 4))
        g.add_node("Relu", ["x"], ["y"])
        g.add_output("y")
        ModelFolder("relu").add_subgraph(g).write("relu_model")
    """

    def __init__(self, name: str = "model") -> None:
        self.name = check_name(name, "model")
        self._subgraphs: list[Subgraph] = []
        self._inputs: Optional[list[str]] = None
        self._outputs: Optional[list[str]] = None

    def add_subgraph(
        self, graph: Graph, *, framework: Any = "Native", device: str = "X64:0", name: Optional[str] = None
    ) -> str:
        """Add ``graph`` as the next subgraph (folder ``Subgraph_<i>``); returns the subgraph name."""
        if not isinstance(graph, Graph):
            raise ValueError(f"add_subgraph: expected a Graph, got {type(graph).__name__}")
        if len(self._subgraphs) >= MAX_SUBGRAPHS:
            raise ValueError(f"a model holds at most {MAX_SUBGRAPHS} subgraphs")
        index = len(self._subgraphs)
        path = f"Subgraph_{index}"
        sub_name = check_name(name if name is not None else path, "subgraph")
        if any(s.name == sub_name for s in self._subgraphs):
            raise ValueError(f"subgraph {sub_name!r}: duplicate subgraph name")
        self._subgraphs.append(Subgraph(sub_name, path, check_framework(framework), check_device(device), graph))
        return sub_name

    def set_inputs(self, names: Sequence[str]) -> None:
        """Model inputs in index order (default: derived from the subgraphs)."""
        self._inputs = self._name_list(names, "model inputs")

    def set_outputs(self, names: Sequence[str]) -> None:
        """Model outputs in index order (default: derived from the subgraphs)."""
        self._outputs = self._name_list(names, "model outputs")

    # --- validation ----------------------------------------------------------------------------
    def to_meta(self) -> dict[str, Any]:
        """Validate and return the content of model.meta."""
        if not self._subgraphs:
            raise ValueError(f"model {self.name!r}: no subgraphs (use add_subgraph)")
        specs: dict[str, TensorSpec] = {}  # every tensor crossing a subgraph boundary
        producer: dict[str, str] = {}
        readers: dict[str, list[str]] = {}
        for sub in self._subgraphs:
            where = f"subgraph {sub.name!r}"
            sub.graph.validate(where)
            for name in sub.graph.inputs + sub.graph.outputs:
                spec = sub.graph.tensor(name)
                known = specs.setdefault(name, spec)
                if (known.type, known.shape) != (spec.type, spec.shape):
                    raise ValueError(
                        f"{where}: tensor {name!r} is {spec.type}{list(spec.shape)} here but "
                        f"{known.type}{list(known.shape)} in another subgraph"
                    )
            for name in sub.graph.outputs:
                if name in producer:
                    raise ValueError(f"{where}: tensor {name!r} is also computed by subgraph {producer[name]!r}")
                producer[name] = sub.name
            for name in sub.graph.inputs:
                readers.setdefault(name, []).append(sub.name)

        derived_inputs = [n for n in readers if n not in producer]
        derived_outputs = [n for n in producer if n not in readers]
        inputs = derived_inputs if self._inputs is None else self._inputs
        outputs = derived_outputs if self._outputs is None else self._outputs
        # No inputs is valid: a model whose outputs are computed from constants only.
        if not outputs:
            raise ValueError(f"model {self.name!r}: no model outputs")
        for name in inputs:
            if name not in readers:
                raise ValueError(f"model input {name!r} is not read by any subgraph")
            if name in producer:
                raise ValueError(f"model input {name!r} is computed by subgraph {producer[name]!r}")
        if set(derived_inputs) - set(inputs):
            missing = sorted(set(derived_inputs) - set(inputs))
            raise ValueError(f"tensors {missing} are read by subgraphs but neither model inputs nor computed by one")
        for name in outputs:
            if name not in producer:
                raise ValueError(f"model output {name!r} is not computed by any subgraph")
            if name in readers:
                raise ValueError(
                    f"model output {name!r} is also read by subgraph {readers[name][0]!r}; a tensor passed "
                    "between subgraphs cannot be a model output (add an Identity node for a copy)"
                )
        if set(derived_outputs) - set(outputs):
            missing = sorted(set(derived_outputs) - set(outputs))
            raise ValueError(f"subgraph outputs {missing} are neither model outputs nor read by another subgraph")
        boundary = [n for n in producer if n in readers]
        self._check_acyclic(producer)
        return {
            "format": MODEL_FORMAT,
            "format_version": MODEL_FORMAT_VERSION,
            "name": self.name,
            "inputs": [specs[n].to_json() for n in inputs],
            "outputs": [specs[n].to_json() for n in outputs],
            "tensors": [specs[n].to_json() for n in boundary],
            "subgraphs": [
                {
                    "name": s.name,
                    "path": s.path,
                    "framework": s.framework,
                    "device": s.device,
                    "inputs": s.graph.inputs,
                    "outputs": s.graph.outputs,
                }
                for s in self._subgraphs
            ],
        }

    # --- output --------------------------------------------------------------------------------
    def write(self, path: Union[str, os.PathLike[str]], *, overwrite: bool = False) -> Path:
        """Validate and write the folder; returns its path.

        An existing non-empty folder is an error unless ``overwrite`` is true, and even then only a
        folder holding a model.meta is replaced. The folder is assembled next to the target and
        renamed into place, so a failed write leaves no half-written model.
        """
        target = Path(path)
        meta = self.to_meta()
        if target.exists():
            if not target.is_dir():
                raise FileExistsError(f"{target} exists and is not a folder")
            if any(target.iterdir()):
                if not overwrite:
                    raise FileExistsError(f"{target} is not empty (pass overwrite=True to replace a model folder)")
                if not (target / META_FILE).is_file():
                    raise ValueError(f"refusing to overwrite {target}: it is not a model folder (no {META_FILE})")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            for sub in self._subgraphs:
                folder = staging / sub.path
                folder.mkdir()
                sub.graph.write(folder, f"subgraph {sub.name!r}")
            with open(staging / META_FILE, "w", encoding="utf-8") as out:
                out.write(dumps(meta))
                out.write("\n")
            os.chmod(staging, 0o755)
            if target.exists():
                shutil.rmtree(target)
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    # --- internals -----------------------------------------------------------------------------
    @staticmethod
    def _name_list(names: Sequence[str], what: str) -> list[str]:
        if isinstance(names, str):
            raise ValueError(f"{what}: expected a list of names, not a str")
        result = [check_name(n, what) for n in names]
        if len(set(result)) != len(result):
            raise ValueError(f"{what}: a name is listed twice: {result}")
        return result

    def _check_acyclic(self, producer: dict[str, str]) -> None:
        deps = {s.name: {producer[n] for n in s.graph.inputs if n in producer} for s in self._subgraphs}
        state: dict[str, int] = {}  # 1 = on the stack, 2 = done

        def visit(name: str, chain: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = [*chain[chain.index(name) :], name]
                raise ValueError(f"subgraphs depend on each other in a cycle: {' -> '.join(cycle)}")
            state[name] = 1
            for dep in sorted(deps[name]):
                visit(dep, [*chain, name])
            state[name] = 2

        for sub in self._subgraphs:
            visit(sub.name, [])
