"""The sample model folder, its generator and the guide's sample script."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO, SAMPLE_MODEL, sample_weights


def test_committed_sample_model_matches_the_generator(tmp_path):
    out = tmp_path / "sample_model"
    subprocess.run([sys.executable, str(REPO / "examples" / "make_sample_model.py"), str(out)], check=True)
    for name in ["model.meta", "Subgraph_0/graph.json", "Subgraph_0/weights.bin"]:
        assert filecmp.cmp(out / name, SAMPLE_MODEL / name, shallow=False), name


def test_sample_model_weights_are_the_documented_ones():
    graph = json.loads((SAMPLE_MODEL / "Subgraph_0" / "graph.json").read_text())
    (weight,) = [t for t in graph["tensors"] if "data" in t]
    raw = (SAMPLE_MODEL / "Subgraph_0" / "weights.bin").read_bytes()
    data = np.frombuffer(raw, "<f4", offset=weight["data"]["offset"], count=27).reshape(1, 3, 3, 3)
    assert np.array_equal(data, sample_weights())


def test_sample_script_runs_and_checks_against_numpy():
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "sample.py"), str(SAMPLE_MODEL)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: all outputs match numpy" in result.stdout
    assert "LayerExecute conv" in result.stdout


def test_sample_script_fails_on_a_wrong_model(tmp_path):
    """The script's check can fail: a model with other weights must make it exit non-zero."""
    wrong = tmp_path / "wrong"
    subprocess.run([sys.executable, str(REPO / "examples" / "make_sample_model.py"), str(wrong)], check=True)
    graph = json.loads((wrong / "Subgraph_0" / "graph.json").read_text())
    graph["nodes"][1]["op"] = "Sub"  # conv - input_2 instead of conv + input_2
    (wrong / "Subgraph_0" / "graph.json").write_text(json.dumps(graph))
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "python" / "sample.py"), str(wrong)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "MISMATCH" in result.stdout + result.stderr


# --- every example in examples/python runs (with its default arguments) -------------------------
EXAMPLES = sorted((REPO / "examples" / "python").glob("*.py"))


def run_example(path, *args):
    return subprocess.run(
        [sys.executable, str(path), *map(str, args)], capture_output=True, text=True, timeout=600, cwd=REPO
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_python_example_runs(example):
    result = run_example(example)
    assert result.returncode == 0, result.stdout + result.stderr


def test_request_queue_example_checks_results():
    result = run_example(REPO / "examples" / "python" / "request_queue.py", "--runs", "64", "--jobs", "3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "64 inferences with 3 jobs" in result.stdout
    assert "OK: all 64 results match numpy" in result.stdout


def test_request_queue_example_fails_on_a_wrong_model(tmp_path):
    wrong = tmp_path / "wrong"
    subprocess.run([sys.executable, str(REPO / "examples" / "make_sample_model.py"), str(wrong)], check=True)
    graph = json.loads((wrong / "Subgraph_0" / "graph.json").read_text())
    graph["nodes"][1]["op"] = "Sub"
    (wrong / "Subgraph_0" / "graph.json").write_text(json.dumps(graph))
    for name in ["request_queue.py", "asyncio_infer.py"]:
        result = run_example(REPO / "examples" / "python" / name, wrong)
        assert result.returncode == 1, name + result.stdout + result.stderr
        assert "MISMATCH" in result.stdout


def test_asyncio_example_shows_concurrency_and_errors():
    result = run_example(REPO / "examples" / "python" / "asyncio_infer.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 inferences awaited concurrently" in result.stdout
    assert "as expected: ValueError: input 'input_1': array shape (1, 1, 32, 32) does not match" in result.stdout
    assert "OK: all outputs match numpy" in result.stdout
