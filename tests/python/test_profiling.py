"""optima_v2.profiling: statistics against numpy on real profiles, Chrome trace schema, PNG plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_MODEL, random_sample_inputs

import optima_v2.runtime as rt
from optima_v2 import profiling
from optima_v2.model_folder import Graph, ModelFolder

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_split_model(folder: Path) -> Path:
    """Native MatMul+Relu -> accelerator MatMul -> native Relu: waits, copies on every boundary."""
    rng = np.random.default_rng(3)
    model = ModelFolder("split")
    g = Graph()
    g.add_input("x", "F32", (16, 16))
    g.add_constant("w0", rng.standard_normal((16, 16)).astype(np.float32))
    g.add_tensor("t", "F32", (16, 16))
    g.add_node("MatMul", ["x", "w0"], ["t"], name="mm0")
    g.add_tensor("t2", "F32", (16, 16))
    g.add_node("Relu", ["t"], ["t2"], name="relu0")
    g.add_output("t2")
    model.add_subgraph(g)
    g = Graph()
    g.add_input("t2", "F32", (16, 16))
    g.add_constant("w1", rng.standard_normal((16, 16)).astype(np.float32))
    g.add_tensor("u", "F32", (16, 16))
    g.add_node("MatMul", ["t2", "w1"], ["u"], name="mm1")
    g.add_output("u")
    model.add_subgraph(g, framework="OpenCL", device="NVIDIA:0")
    g = Graph()
    g.add_input("u", "F32", (16, 16))
    g.add_tensor("y", "F32", (16, 16))
    g.add_node("Relu", ["u"], ["y"], name="relu2")
    g.add_output("y")
    model.add_subgraph(g)
    return model.write(folder / "split")


@pytest.fixture(scope="module")
def sample_runs():
    context = rt.Context(enable_profile=True)
    model = context.load_model(str(SAMPLE_MODEL))
    return profiling.collect(model, 30, random_sample_inputs(np.random.default_rng(1)))


@pytest.fixture
def split_runs(tmp_path, accel_path):
    context = rt.Context(enable_profile=True)
    context.load_extension(str(accel_path))
    model = context.load_model(str(write_split_model(tmp_path)))
    x = np.random.default_rng(2).standard_normal((16, 16)).astype(np.float32)
    return profiling.collect(model, 25, {"x": x}, warmup=2)


def raw(runs) -> list[list[tuple[str, str, str, int]]]:
    """The runs as plain tuples (kind, subgraph, name, time), independent of the stats code."""
    return [[(e.kind, e.subgraph, e.name, e.time) for e in run.entries] for run in runs]


def check_against_numpy(stats: profiling.ProfileStats, runs) -> None:
    data = raw(runs)
    model_total = sum(t for run in data for k, _s, _n, t in run if k == "ModelExecute")
    assert model_total > 0
    keys = {(k, s, n) for run in data for k, s, n, _t in run}
    rows = {(r.kind, r.subgraph, r.name): r for r in stats.entries}
    assert set(rows) == keys
    for key, row in rows.items():
        samples = np.array([t for run in data for k, s, n, t in run if (k, s, n) == key], dtype=np.float64)
        assert row.count == samples.size
        assert row.mean == pytest.approx(samples.mean())
        assert row.p50 == pytest.approx(np.percentile(samples, 50))
        assert row.p90 == pytest.approx(np.percentile(samples, 90))
        assert row.total == pytest.approx(samples.sum())
        if key[0] in ("RequestInit", "ModelInit", "SubgraphInit"):
            assert row.share is None
        else:
            assert row.share == pytest.approx(100 * samples.sum() / model_total)
    kinds = {r.kind: r for r in stats.kinds}
    assert set(kinds) == {k for run in data for k, _s, _n, _t in run}
    for kind, row in kinds.items():
        per_run = np.array([sum(t for k, _s, _n, t in run if k == kind) for run in data], dtype=np.float64)
        assert row.count == sum(1 for run in data for k, *_ in run if k == kind)
        assert row.mean == pytest.approx(per_run.mean())
        assert row.p50 == pytest.approx(np.percentile(per_run, 50))
        assert row.p90 == pytest.approx(np.percentile(per_run, 90))
    assert kinds["ModelExecute"].share == pytest.approx(100.0)


def test_sample_model_statistics_match_numpy(sample_runs):
    stats = profiling.ProfileStats(sample_runs)
    assert stats.run_count == 30
    check_against_numpy(stats, sample_runs)
    assert {r.name for r in stats.layers()} == {"conv", "add"}
    # The model's layers run inside ModelExecute: their share is at most 100 %.
    assert 0 <= sum(r.share for r in stats.layers()) <= 100.0 + 1e-9


def test_split_model_statistics_match_numpy(split_runs):
    stats = profiling.ProfileStats(split_runs)
    check_against_numpy(stats, split_runs)
    kinds = {r.kind for r in stats.kinds}
    assert {"ModelExecute", "SubgraphExecute", "LayerExecute", "Wait", "BufferCopy"} <= kinds
    assert {r.subgraph for r in stats.layers()} == {"Subgraph_0", "Subgraph_1", "Subgraph_2"}
    subgraphs = [r for r in stats.entries if r.kind == "SubgraphExecute"]
    assert len(subgraphs) == 3 and all(r.count == 25 for r in subgraphs)


def test_table_and_dicts(sample_runs):
    stats = profiling.ProfileStats(sample_runs)
    table = stats.format_table()
    assert "Subgraph_0/conv" in table and "ModelExecute" in table and "p90" in table
    as_dicts = json.loads(json.dumps(stats.to_dicts()))  # plain JSON-able data
    assert as_dicts["runs"] == 30
    assert {d["name"] for d in as_dicts["entries"] if d["kind"] == "LayerExecute"} == {"conv", "add"}
    assert len(stats.format_table(top=2).splitlines()) < len(table.splitlines())


def test_percentile_matches_numpy():
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 100):
        values = rng.standard_normal(n).tolist()
        for q in (0, 10, 50, 90, 99, 100):
            assert profiling.percentile(values, q) == pytest.approx(np.percentile(values, q))
    with pytest.raises(ValueError, match="no values"):
        profiling.percentile([], 50)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        profiling.percentile([1.0], 101)


def test_bad_inputs_are_clear_errors(sample_runs):
    with pytest.raises(ValueError, match="at least one run"):
        profiling.ProfileStats([])
    with pytest.raises(ValueError, match="runs must be at least 1"):
        profiling.collect(None, 0)
    context = rt.Context(enable_profile=False)
    model = context.load_model(str(SAMPLE_MODEL))
    # Without enable_profile the runtime records model-level entries only: no layers to plot.
    stats = profiling.ProfileStats(profiling.collect(model, 2, random_sample_inputs(np.random.default_rng(1))))
    assert stats.layers() == []
    with pytest.raises(ValueError, match="no LayerExecute"):
        profiling.plot_layers(stats, "unused.png")


def check_chrome_trace(trace: dict) -> list[dict]:
    """Schema of the Chrome trace event format as we use it; returns the X events."""
    assert isinstance(trace, dict) and isinstance(trace["traceEvents"], list)
    complete = []
    for event in trace["traceEvents"]:
        for field in ("ph", "ts", "pid", "tid", "name"):
            assert field in event, f"{event} lacks {field}"
        assert isinstance(event["ts"], (int, float)) and event["ts"] >= 0
        assert isinstance(event["pid"], int) and isinstance(event["tid"], int)
        assert event["ph"] in ("X", "M")
        if event["ph"] == "M":
            assert event["name"] in ("process_name", "thread_name", "thread_sort_index")
            assert isinstance(event["args"], dict)
        else:
            assert isinstance(event["dur"], (int, float)) and event["dur"] > 0
            complete.append(event)
    named = {e["tid"] for e in trace["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {e["tid"] for e in complete} <= named
    by_track: dict[tuple[int, int], list[dict]] = {}
    for e in complete:
        by_track.setdefault((e["pid"], e["tid"]), []).append(e)
    for events in by_track.values():  # proper nesting: any two intervals are disjoint or contained
        spans = sorted(((e["ts"], e["ts"] + e["dur"]) for e in events), key=lambda s: (s[0], -s[1]))
        stack: list[tuple[float, float]] = []
        for start, end in spans:
            while stack and stack[-1][1] <= start + 1e-9:
                stack.pop()
            if stack:
                assert end <= stack[-1][1] + 1e-9, f"[{start}, {end}] partially overlaps {stack[-1]}"
            stack.append((start, end))
    return complete


def test_trace_of_split_model_follows_the_format(tmp_path, split_runs):
    path = tmp_path / "trace.json"
    profiling.write_trace(path, split_runs, model_name="split")
    trace = json.loads(path.read_text())
    events = check_chrome_trace(trace)
    names = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert {"model", "Subgraph_0", "Subgraph_1", "Subgraph_2", "Subgraph_1 wait/copy"} <= names
    kinds = {e["cat"] for e in events}
    assert {"Wait", "BufferCopy", "LayerExecute", "SubgraphExecute", "ModelExecute"} <= kinds
    assert sum(1 for e in events if e["cat"] == "ModelExecute") == len(split_runs)
    # Layers sit on their subgraph's track, inside that run's SubgraphExecute span.
    tid_of = {e["args"]["name"]: e["tid"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    for layer in (e for e in events if e["cat"] == "LayerExecute"):
        assert layer["tid"] == tid_of[layer["args"]["subgraph"]]
        (span,) = [
            e for e in events
            if e["cat"] == "SubgraphExecute" and e["tid"] == layer["tid"] and e["args"]["run"] == layer["args"]["run"]
        ]  # fmt: skip
        assert span["ts"] <= layer["ts"] and layer["ts"] + layer["dur"] <= span["ts"] + span["dur"] + 1e-9
    # Runs do not overlap: every run's events come after the previous run's.
    ends = {}
    for e in events:
        run = e["args"]["run"]
        ends[run] = max(ends.get(run, 0), e["ts"] + e["dur"])
        assert run == 0 or e["ts"] >= ends.get(run - 1, 0)


def test_trace_of_sample_model_keeps_measured_times(sample_runs):
    trace = profiling.chrome_trace(sample_runs[:3])
    events = check_chrome_trace(trace)
    assert len(events) == sum(len(run.entries) for run in sample_runs[:3])
    for e in events:
        time_us = e["args"]["time_us"]
        if e["cat"] in ("ModelExecute", "SubgraphExecute"):
            # Spans are only widened to cover their leaves: by the truncation of the leaves' start
            # and time (under 1 µs each) plus the minimum width of a sub-microsecond leaf.
            assert time_us <= e["dur"] <= time_us + 2 + profiling.trace.MIN_DURATION_US
        else:  # leaves keep their measured time; sub-microsecond ones get the minimum width
            assert e["dur"] == (time_us if time_us > 0 else profiling.trace.MIN_DURATION_US)


def test_plots_write_png_files(tmp_path, sample_runs):
    pytest.importorskip("matplotlib")
    stats = profiling.ProfileStats(sample_runs)
    bars, histogram = tmp_path / "layers.png", tmp_path / "latency.png"
    profiling.plot_layers(stats, bars)
    profiling.plot_latency_histogram([run.latency * 1e3 for run in sample_runs], histogram)
    for path in (bars, histogram):
        data = path.read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_SIGNATURE)


def test_plot_without_matplotlib_names_it(tmp_path, sample_runs, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        profiling.plot_layers(profiling.ProfileStats(sample_runs), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
