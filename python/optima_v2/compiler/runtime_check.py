"""The runtime is the authority on what runs: the written folder is loaded before it is delivered.

The model folder is written next to its target, loaded with :mod:`optima_v2.runtime` (a Context
with the extensions installed with the runtime, ``fallback=True`` so subgraphs for devices absent
here are judged by the native CPU backend) and only then renamed into place. The native backend
refuses a subgraph with one message listing every node it cannot run (op and reason) or, for a
node it considers invalid, a message naming that node; the runtime stops at the first failing
subgraph, so when a model has several, each is loaded alone to collect every refusal. All of them
become one :class:`CompileError`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from ..model_folder import Graph, ModelFolder
from .errors import CompileError

META_FILE = "model.meta"
_UNSUPPORTED_MARK = "not supported by the native backend: "
_NODE_NAME = re.compile(r'node "((?:[^"\\]|\\.)*)" \(op ')
_NODE_INDEX = re.compile(r"graph\.json: nodes\[(\d+)\](?:\.attributes\.([^:]+)| \([^)]*\))?: (.*)", re.S)

_context_lock = threading.Lock()
_context: Any = None


@dataclass(frozen=True)
class ExportedSubgraph:
    graph: Graph
    framework: str
    device: str


def write_checked(folder: ModelFolder, subgraphs: list[ExportedSubgraph], output_dir: Path) -> Path:
    """Write ``folder`` to ``output_dir`` once the runtime has loaded it; CompileError otherwise.

    An existing non-empty ``output_dir`` is replaced only when it holds a model.meta; a refused
    model leaves ``output_dir`` as it was.
    """
    target = Path(output_dir)
    if target.exists():
        if not target.is_dir():
            raise CompileError(f"cannot write the model folder: {target} exists and is not a folder")
        if any(target.iterdir()) and not (target / META_FILE).is_file():
            raise CompileError(f"refusing to overwrite {target}: it is not a model folder (no {META_FILE})")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.compile.", dir=target.parent))
    except OSError as error:
        raise CompileError(f"cannot write the model folder {target}: {error}") from None
    try:
        written = _write(folder, staging / "model")
        check_loadable(written, subgraphs, staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(written, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def check_loadable(path: Path, subgraphs: list[ExportedSubgraph], scratch: Path) -> None:
    """Load the model folder at ``path``; one CompileError lists everything the backends refuse."""
    rt = _runtime()
    try:
        _load(path)
        return
    except (rt.UnsupportedModelException, rt.InvalidModelException) as error:
        first = error
    except rt.Exception as error:
        raise CompileError(f"the runtime cannot load the compiled model: {_strip(str(error), path)}") from None
    if len(subgraphs) == 1:
        problems = _problems(str(first), subgraphs[0].graph, path)
    else:
        problems = []
        for index, sub in enumerate(subgraphs):
            alone = ModelFolder(f"subgraph_{index}")
            alone.add_subgraph(sub.graph, framework=sub.framework, device=sub.device)
            single = _write(alone, scratch / f"subgraph_{index}")
            try:
                _load(single)
            except (rt.UnsupportedModelException, rt.InvalidModelException) as error:
                problems.extend(_problems(str(error), sub.graph, single))
            except rt.Exception as error:
                problems.append(f"subgraph {index}: {_strip(str(error), single)}")
        if not problems:  # each loads alone: report what failed together
            problems = [_strip(str(first), path)]
    raise CompileError("not supported by the native backend: " + ", ".join(problems))


def _runtime() -> Any:
    try:
        import optima_v2.runtime as rt
    except ImportError as error:
        raise CompileError(
            f"the compiler checks the model with optima_v2.runtime, which cannot be imported: {error}"
        ) from None
    return rt


def runtime_context() -> Any:
    """The process-wide optima_v2.runtime Context the compiler loads models with (created once)."""
    global _context
    rt = _runtime()
    with _context_lock:
        if _context is None:
            # Falling back is expected here (devices absent on this machine): no warning per compile.
            _context = rt.Context(verbosity=rt.LogLevel.Error)
        return _context


def _load(path: Path) -> None:
    model = runtime_context().load_model(str(path), fallback=True)
    del model


def _write(folder: ModelFolder, path: Path) -> Path:
    try:
        return folder.write(path)
    except CompileError:
        raise
    except (ValueError, OSError) as error:
        raise CompileError(f"writing the model folder: {error}") from None


def _strip(message: str, path: Path) -> str:
    """The message without the temporary folder's path."""
    for prefix in (str(path) + "/", str(path)):
        message = message.replace(prefix, "")
    return message.strip()


def _problems(message: str, graph: Graph, path: Path) -> list[str]:
    """``node 'name' (op Op: reason)`` items out of a native backend refusal."""
    message = _strip(message, path)
    at = message.find(_UNSUPPORTED_MARK)
    if at >= 0:
        items = message[at + len(_UNSUPPORTED_MARK) :]
        return [_NODE_NAME.sub(lambda m: f"node {_unescape(m.group(1))!r} (op ", items)]
    located = _NODE_INDEX.search(message)
    nodes = graph.nodes
    if located and int(located.group(1)) < len(nodes):
        node = nodes[int(located.group(1))]
        attribute: Optional[str] = located.group(2)
        what = f"attribute {attribute!r}: " if attribute else ""
        return [f"node {node.name!r} (op {node.op}: invalid: {what}{located.group(3).strip()})"]
    return [message]


def _unescape(name: str) -> str:
    return name.replace('\\"', '"').replace("\\\\", "\\")
