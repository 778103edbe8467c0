"""The conformance runner itself: case selection and classification, worker isolation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("onnx")
pytest.importorskip("optima_v2.runtime")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cases
import run


def test_case_counts_and_exclusions():
    infos = cases.case_infos("node")
    assert len(infos) == len(cases.node_cases())
    assert infos["test_adagrad"].excluded == "training"
    assert infos["test_if"].excluded == "control flow"
    assert infos["test_string_concat"].excluded == "string"
    assert infos["test_relu"].excluded is None and infos["test_relu"].op == "Relu"
    assert infos["test_softmax_axis_0_expanded"].op == "Softmax"  # expanded cases count for their op


def test_select_by_op_matches_any_node():
    names = {i.name for i in cases.select({"reducemax"})}
    assert "test_reduce_max_default_axes_keepdim_example" in names
    assert "test_softmax_axis_0_expanded" in names  # its function body uses ReduceMax
    assert "test_relu" not in names


def test_a_dying_worker_fails_one_case_and_is_replaced(tmp_path):
    env = {**run.worker_env(None), "TMPDIR": str(tmp_path)}
    results = run.run_backend("optima", ["test_no_such_case", "test_relu"], 1, 60.0, env, verbose=False)
    assert results["test_no_such_case"]["status"] == "failed"
    assert "worker exited with status 1" in results["test_no_such_case"]["message"]
    assert "KeyError" in results["test_no_such_case"]["message"]
    assert results["test_relu"]["status"] == "passed"


def test_refusals_are_classified(tmp_path):
    env = {**run.worker_env(None), "TMPDIR": str(tmp_path)}
    results = run.run_backend("optima", ["test_nonzero_example"], 1, 60.0, env, verbose=False)
    record = results["test_nonzero_example"]  # output shape depends on the data: never compiled
    assert record["status"] == "refused"
    assert "shapes still unknown" in record["message"]
