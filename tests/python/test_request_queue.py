"""rt.RequestQueue: 1,000 checked inferences, default job count, errors, callbacks, iteration."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from conftest import SAMPLE_MODEL, assert_close, random_sample_inputs, sample_reference, write_add_model

import optima_v2.runtime as rt

RUNS = 1000
JOBS = 8


def test_thousand_inferences_with_eight_jobs_all_checked(model):
    """Every job gets distinct inputs; every result is checked against the numpy oracle."""
    rng = np.random.default_rng(1234)
    # A small pool of distinct inputs (the oracle is float64 numpy, slow): input k for run i is
    # picked so that consecutive runs on different jobs always differ.
    pool = [
        (rng.standard_normal((1, 3, 32, 32)).astype(np.float32), rng.standard_normal((1, 1, 32, 32)).astype(np.float32))
        for _ in range(37)
    ]
    want = [sample_reference(a, b) for a, b in pool]
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []
    users: list[int] = []
    lock = threading.Lock()

    def on_done(request, userdata, exception):
        run, key = userdata
        with lock:
            users.append(id(request))
            if exception is not None:
                errors.append(exception)
            else:
                results[run] = (key, request.get_outputs()[0])

    queue = rt.RequestQueue(model, jobs=JOBS)
    assert len(queue) == JOBS and queue.jobs == JOBS
    queue.set_callback(on_done)
    for run in range(RUNS):
        key = (run * 7) % len(pool)
        queue.start(list(pool[key]), userdata=(run, key))
    queue.wait_all()
    assert not errors
    assert sorted(results) == list(range(RUNS))
    for run, (key, got) in results.items():
        assert key == (run * 7) % len(pool)
        assert_close(got, want[key])
    assert len(set(users)) == JOBS  # all eight requests did work
    assert queue.is_ready()


def test_default_job_count_follows_the_context_pool():
    for threads, expected in [(1, 2), (2, 2), (3, 3), (6, 6)]:
        context = rt.Context(thread_count=threads)
        model = context.load_model(str(SAMPLE_MODEL))
        assert context.thread_count == threads
        assert len(rt.RequestQueue(model)) == expected
        assert len(rt.RequestQueue(model, jobs=0)) == expected


def test_bad_job_counts(model):
    for jobs in [-1, 1.5, True, "2"]:
        with pytest.raises(ValueError, match="jobs must be an int >= 0"):
            rt.RequestQueue(model, jobs=jobs)


def test_iteration_and_indexing(model):
    queue = rt.RequestQueue(model, jobs=3)
    requests = list(queue)
    assert len(requests) == 3 and all(isinstance(r, rt.InferRequest) for r in requests)
    assert queue[1] is requests[1]
    assert len({r.id for r in requests}) == 3
    assert "jobs=3" in repr(queue)


def test_without_callback_results_stay_in_the_requests(model):
    rng = np.random.default_rng(5)
    queue = rt.RequestQueue(model, jobs=2)
    a = [rng.standard_normal((1, 3, 32, 32)).astype(np.float32), rng.standard_normal((1, 1, 32, 32)).astype(np.float32)]
    req = queue.start(a)
    queue.wait_all()
    assert_close(req.get_outputs()[0], sample_reference(*a))


def test_bad_inputs_raise_at_start_and_free_the_request(model):
    queue = rt.RequestQueue(model, jobs=1)
    with pytest.raises(ValueError, match="2 inputs"):
        queue.start(np.zeros((1, 3, 32, 32), np.float32))
    assert queue.is_ready()
    queue.wait_all()  # nothing started, nothing to raise


def failing_model(accel_path, tmp_path, plan):
    context = rt.Context()
    context.load_extension(str(accel_path))
    path = write_add_model(tmp_path / "m", "F32", (4,), framework="OpenCL", device="NVIDIA:0")
    (path / "Subgraph_0" / "sim_accel.json").write_text(json.dumps(plan))
    return context.load_model(str(path))


ONES = [np.ones(4, np.float32), np.ones(4, np.float32)]


def test_errors_go_to_the_callback(accel_path, tmp_path):
    model = failing_model(accel_path, tmp_path, {"fail_at": "execute"})
    queue = rt.RequestQueue(model, jobs=1)
    got = []
    queue.set_callback(lambda req, userdata, ex: got.append((userdata, ex, None if ex else req.get_outputs()[0])))
    queue.start(ONES, "first")
    queue.start(ONES, "second")
    queue.wait_all()  # handled by the callback: nothing raised
    assert got[0][0] == "first" and isinstance(got[0][1], rt.InferException)
    assert got[1][0] == "second" and got[1][1] is None and np.array_equal(got[1][2], np.full(4, 2, np.float32))


def test_unhandled_errors_are_raised_by_wait_all(accel_path, tmp_path):
    model = failing_model(accel_path, tmp_path, {"fail_at": "execute"})
    queue = rt.RequestQueue(model, jobs=2)
    queue.start(ONES)
    with pytest.raises(rt.InferException):
        queue.wait_all()
    queue.start(ONES)  # the next execute succeeds
    queue.wait_all()  # errors were cleared


def test_callback_exceptions_are_raised_by_wait_all(model):
    queue = rt.RequestQueue(model, jobs=2)
    rng = np.random.default_rng(0)
    inputs = random_sample_inputs(rng)

    def boom(req, userdata, ex):
        raise KeyError(userdata)

    queue.set_callback(boom)
    for i in range(3):
        queue.start(inputs, i)
    with pytest.raises(KeyError) as info:
        queue.wait_all()
    assert any("2 more error(s)" in note for note in getattr(info.value, "__notes__", [])) or not hasattr(
        info.value, "add_note"
    )
    with pytest.raises(TypeError, match="callable"):
        queue.set_callback(3)
