"""Which onnx node test cases the conformance run counts, and which op each one is about.

``load_node_model_tests()`` (1,884 cases in onnx 1.23) is filtered by the rules of issue #3: a
case is *excluded* when any node or value of its graph matches one of these, checked in order
(the first rule matching names the reason):

1. ``training``  — a node in the ``ai.onnx.preview.training`` domain (Adagrad, Adam, Momentum,
   Gradient);
2. ``domain``    — a node in any other domain than ai.onnx (``ai.onnx.ml``, ``ai.onnx.preview``);
3. ``control flow`` — an If, Loop or Scan node, or any node with a graph attribute;
4. ``sequence/optional`` — a graph input, output or value_info of sequence, optional or map type,
   or a Sequence*/Optional*/SplitToSequence/ConcatFromSequence node;
5. ``string``    — a graph input, output, value_info or initializer of element type STRING, or a
   string op (StringNormalizer, StringConcat, StringSplit, RegexFullMatch).

Every other case is *counted*. Its op (the row of the report) is the op type of its node when the
graph has one node; an ``_expanded`` case (the op's function body) counts for the op of the case
it expands; otherwise the first node's op.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Optional

from onnx import AttributeProto, GraphProto, TensorProto, TypeProto

TRAINING_DOMAIN = "ai.onnx.preview.training"
CONTROL_FLOW = frozenset({"If", "Loop", "Scan"})
STRING_OPS = frozenset({"StringNormalizer", "StringConcat", "StringSplit", "RegexFullMatch"})
SEQUENCE_OPS = frozenset({"SplitToSequence", "ConcatFromSequence"})
_EXPANDED = re.compile(r"_expanded(_ver\d+)?$")


@dataclass(frozen=True)
class CaseInfo:
    name: str  # test_abs
    op: str  # the report row
    ops: frozenset[str]  # every op type of the graph
    excluded: Optional[str]  # reason, or None when counted
    kind: str = "node"  # the suite (cases.KINDS)


def _graph_nodes(graph: GraphProto):
    for node in graph.node:
        yield node
        for attribute in node.attribute:
            if attribute.type == AttributeProto.GRAPH:
                yield from _graph_nodes(attribute.g)
            elif attribute.type == AttributeProto.GRAPHS:
                for sub in attribute.graphs:
                    yield from _graph_nodes(sub)


def _is_sequence_like(value_type: TypeProto) -> bool:
    return value_type.WhichOneof("value") in ("sequence_type", "optional_type", "map_type")


def _exclusion(model: Any) -> Optional[str]:
    graph = model.graph
    nodes = list(_graph_nodes(graph))
    domains = {n.domain for n in nodes}
    if TRAINING_DOMAIN in domains:
        return "training"
    if domains - {"", "ai.onnx"}:
        return "domain"
    if any(n.op_type in CONTROL_FLOW for n in nodes) or any(
        a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS) for n in nodes for a in n.attribute
    ):
        return "control flow"
    values = [*graph.input, *graph.output, *graph.value_info]
    if any(_is_sequence_like(v.type) for v in values) or any(
        n.op_type.startswith(("Sequence", "Optional")) or n.op_type in SEQUENCE_OPS for n in nodes
    ):
        return "sequence/optional"
    if (
        any(v.type.tensor_type.elem_type == TensorProto.STRING for v in values if v.type.HasField("tensor_type"))
        or any(t.data_type == TensorProto.STRING for t in graph.initializer)
        or any(n.op_type in STRING_OPS for n in nodes)
    ):
        return "string"
    return None


def _cache_file() -> Path:
    import numpy
    import onnx

    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "optima_v2_conformance" / f"node_cases-onnx{onnx.__version__}-numpy{numpy.__version__}.pickle"


@lru_cache(maxsize=1)
def node_cases() -> dict[str, Any]:
    """name -> onnx TestCase of every node case.

    ``load_node_model_tests()`` runs every case generator of onnx (seconds of CPU); its result is
    cached as a pickle per onnx and numpy version (``~/.cache/optima_v2_conformance``), so each
    worker process starts in a fraction of a second. ``OPTIMA_V2_CONFORMANCE_NO_CACHE=1`` skips it.
    """
    use_cache = not os.environ.get("OPTIMA_V2_CONFORMANCE_NO_CACHE")
    cache = _cache_file()
    if use_cache and cache.is_file():
        try:
            with open(cache, "rb") as f:
                loaded = pickle.load(f)
            if isinstance(loaded, dict) and loaded:
                return loaded
        except Exception:
            pass
    from onnx.backend.test.loader import load_node_model_tests

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = {case.name: case for case in load_node_model_tests()}
    if use_cache:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=cache.parent, delete=False) as f:
                pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(f.name, cache)
        except OSError:
            pass
    return result


#: Test suites of onnx this runner knows: the node cases (the acceptance metric) and the model
#: cases shipped on disk with onnx (``real`` needs downloads and is left out).
KINDS = ("node", "pytorch-converted", "pytorch-operator", "simple")


@cache
def all_cases(kind: str = "node") -> dict[str, Any]:
    """name -> onnx TestCase of one suite (``node`` cases carry their model; others a model_dir)."""
    if kind == "node":
        return node_cases()
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    from onnx.backend.test.loader import load_model_tests

    return {case.name: case for case in sorted(load_model_tests(kind=kind), key=lambda c: c.name)}


def case_model(case: Any) -> Any:
    if case.model is not None:
        return case.model
    import onnx

    return onnx.load(os.path.join(case.model_dir, "model.onnx"))


@cache
def case_infos(kind: str = "node") -> dict[str, CaseInfo]:
    """name -> CaseInfo for every case of a suite, in onnx's order. Model suites are one row each."""
    cases = {name: case_model(case) for name, case in all_cases(kind).items()}
    single: dict[str, str] = {}
    for name, model in cases.items():
        if len(model.graph.node) == 1:
            single[name] = model.graph.node[0].op_type
    infos = {}
    for name, model in cases.items():
        nodes = list(_graph_nodes(model.graph))
        ops = frozenset(n.op_type for n in nodes)
        base = _EXPANDED.sub("", name)
        if kind != "node":
            op = f"[{kind} models]"
        elif name in single:
            op = single[name]
        elif base != name and base in single:
            op = single[base]
        else:
            op = nodes[0].op_type if nodes else "?"
        infos[name] = CaseInfo(name, op, ops, _exclusion(model), kind)
    return infos


def select(
    ops: Optional[set[str]] = None, names: Optional[list[str]] = None, kinds: tuple[str, ...] = ("node",)
) -> list[CaseInfo]:
    """Counted cases of the given suites; with ``ops``, those whose graph contains one of them (any
    node, case-insensitive); with ``names`` (regular expressions), those whose name matches one."""
    chosen = [info for kind in kinds for info in case_infos(kind).values() if info.excluded is None]
    if ops:
        wanted = {o.lower() for o in ops}
        chosen = [i for i in chosen if wanted & {o.lower() for o in i.ops}]
    if names:
        patterns = [re.compile(p) for p in names]
        chosen = [i for i in chosen if any(p.search(i.name) for p in patterns)]
    return chosen
