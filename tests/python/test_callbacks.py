"""Callbacks: arguments, chained inference, errors, garbage collection of cycles, no deadlocks."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import numpy as np
import pytest
from conftest import REPO, assert_close, random_sample_inputs, sample_reference, write_add_model

import optima_v2.runtime as rt


def collect_until_dead(ref: weakref.ref, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        gc.collect()
        if ref() is None:
            return True
        time.sleep(0.01)
    return False


def test_callback_gets_request_and_none(model, rng):
    req = model.create_request()
    inputs = random_sample_inputs(rng)
    req.set_inputs(inputs)
    seen = []
    done = threading.Event()

    def callback(r, ex):
        seen.append((r, ex, r.get_outputs()[0], threading.get_ident()))
        done.set()

    req.set_callback(callback)
    req.infer()
    assert done.wait(10)
    r, ex, output, thread = seen[0]
    assert r is req
    assert ex is None
    assert_close(output, sample_reference(*inputs))
    assert thread != threading.get_ident()  # a runtime thread


def test_callback_with_userdata(model, rng):
    req = model.create_request()
    req.set_inputs(random_sample_inputs(rng))
    got = []
    done = threading.Event()
    token = object()

    def callback(r, ex, userdata):
        got.append(userdata)
        done.set()

    req.set_callback(callback, token)
    req.infer()
    assert done.wait(10)
    assert got == [token]


def test_replace_and_remove_callback(model, rng):
    req = model.create_request()
    req.set_inputs(random_sample_inputs(rng))
    calls = []
    req.set_callback(lambda r, e: calls.append("first"))
    req.set_callback(lambda r, e: calls.append("second"))
    req.infer()
    req.wait()
    deadline = time.monotonic() + 10
    while not calls and time.monotonic() < deadline:
        time.sleep(0.001)
    req.set_callback(None)
    req.infer()
    req.wait()
    time.sleep(0.05)
    assert calls == ["second"]
    with pytest.raises(TypeError):
        req.set_callback(42)


def test_chained_inference_from_callbacks_with_four_requests(model):
    runs_per_request = 5
    reqs = [model.create_request() for _ in range(4)]
    rngs = [np.random.default_rng(100 + i) for i in range(4)]
    errors: list[str] = []
    finished = threading.Semaphore(0)
    state = [{"runs": 0, "inputs": None} for _ in reqs]

    def start(i, r):
        state[i]["inputs"] = random_sample_inputs(rngs[i])
        r.set_inputs(state[i]["inputs"])
        r.infer()  # from the callback for all but the first run

    def callback(r, ex, i):
        try:
            assert ex is None, ex
            assert_close(r.get_outputs()[0], sample_reference(*state[i]["inputs"]))
            state[i]["runs"] += 1
            if state[i]["runs"] < runs_per_request:
                start(i, r)
                return
        except BaseException as error:
            errors.append(f"request {i}: {error!r}")
        finished.release()

    for i, r in enumerate(reqs):
        r.set_callback(callback, i)
    for i, r in enumerate(reqs):
        start(i, r)
    for _ in reqs:
        assert finished.acquire(timeout=30)
    assert errors == []
    assert [s["runs"] for s in state] == [runs_per_request] * 4


def test_exception_in_callback_goes_to_unraisablehook(model, rng, monkeypatch):
    reported = []
    event = threading.Event()

    def hook(unraisable):
        reported.append(unraisable.exc_value)
        event.set()

    monkeypatch.setattr(sys, "unraisablehook", hook)
    req = model.create_request()
    inputs = random_sample_inputs(rng)
    req.set_inputs(inputs)

    def callback(r, ex):
        raise KeyError("boom from callback")

    req.set_callback(callback)
    req.infer()
    assert event.wait(10)
    assert isinstance(reported[0], KeyError)
    # The request is still usable.
    assert req.wait() is False
    req.set_callback(None)
    req.infer()
    assert req.wait() is False
    assert_close(req.get_outputs()[0], sample_reference(*inputs))


def test_callback_cycles_are_collected(model, rng):
    def run_cyclic_request() -> weakref.ref:
        req = model.create_request()
        req.set_callback(lambda r, e: req)  # the closure refers to the request: a cycle
        req.set_inputs(random_sample_inputs(rng))
        req.infer()
        req.wait()
        return weakref.ref(req)

    ref = run_cyclic_request()
    assert collect_until_dead(ref)


def test_userdata_cycles_are_collected(model):
    class Holder:
        pass

    holder = Holder()
    req = model.create_request()
    holder.req = req
    req.set_callback(lambda r, e, h: None, holder)  # userdata -> request -> userdata
    refs = [weakref.ref(req), weakref.ref(holder)]
    del req, holder
    assert all(collect_until_dead(ref) for ref in refs)


def test_callable_is_released_with_its_request(model):
    class Callback:
        def __call__(self, r, e):
            pass

    callback = Callback()
    ref = weakref.ref(callback)
    req = model.create_request()
    req.set_callback(callback)
    del callback
    assert ref() is not None  # the request keeps it
    del req
    assert collect_until_dead(ref)


def test_callback_runs_while_main_thread_runs_python(model, rng):
    """The main thread holds the GIL in a busy Python loop; the callback must still get it."""
    req = model.create_request()
    req.set_inputs(random_sample_inputs(rng))
    done = threading.Event()
    req.set_callback(lambda r, e: done.set())
    req.infer()
    deadline = time.monotonic() + 20
    spins = 0
    while not done.is_set() and time.monotonic() < deadline:
        spins += 1  # pure Python work, no blocking call
    assert done.is_set()
    req.wait()


def test_request_destroyed_while_callbacks_pending_does_not_deadlock(tmp_path):
    """Deleting busy requests whose callbacks need the GIL, and exiting with requests running."""
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(REPO / "tests" / "python")!r})
        import numpy as np
        import optima_v2.runtime as rt
        from conftest import write_slow_model
        from pathlib import Path
        path, _ = write_slow_model(Path({str(tmp_path)!r}) / "slow", size=256, depth=4)
        context = rt.Context()
        model = context.load_model(str(path))
        x = np.ones((256, 256), np.float32)
        for i in range(6):
            req = model.create_request()
            req.set_inputs(x)
            req.set_callback(lambda r, e: time.sleep(0.01))
            req.infer()
            del req  # destroyed while running; its callback wants the GIL
        keep = [model.create_request() for _ in range(3)]
        for r in keep:
            r.set_inputs(x)
            r.set_callback(lambda r, e: r.infer())  # re-infers forever until exit
            r.infer()
        time.sleep(0.2)
        print("done", flush=True)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "done" in result.stdout


def test_exit_while_callbacks_keep_restarting_requests(tmp_path):
    """Callbacks queue for the GIL without pause while the interpreter exits.

    A runtime thread that takes the GIL once finalization began is ended by the interpreter (a
    forced unwind through the runtime: abort). Before the atexit handler waited for the threads on
    their way in, every one of these runs aborted.
    """
    script = textwrap.dedent(
        f"""
        import sys, time
        sys.path.insert(0, {str(REPO / "tests" / "python")!r})
        import numpy as np
        import optima_v2.runtime as rt
        from conftest import write_slow_model
        from pathlib import Path
        path, _ = write_slow_model(Path(sys.argv[1]), size=32, depth=1)
        model = rt.Context().load_model(str(path))
        keep = [model.create_request() for _ in range(8)]
        for r in keep:
            r.set_inputs(np.ones((32, 32), np.float32))
            r.set_callback(lambda r, e: r.infer())
            r.infer()
        time.sleep(0.05)
        print("done", flush=True)
        """
    )
    for run in range(3):
        folder = str(tmp_path / f"small{run}")
        result = subprocess.run([sys.executable, "-c", script, folder], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "done" in result.stdout
        assert "callback threw" not in result.stderr


# --- exceptions delivered to callbacks (simulated accelerator with fault injection) --------------
def write_failing_accel_model(folder, plan):
    path = write_add_model(folder, "F32", (4,), framework="OpenCL", device="NVIDIA:0")
    (path / "Subgraph_0" / "sim_accel.json").write_text(json.dumps(plan))
    return path


def test_inference_error_goes_to_callback_and_wait(accel_path, tmp_path):
    context = rt.Context()
    context.load_extension(str(accel_path))
    model = context.load_model(str(write_failing_accel_model(tmp_path / "m", {"fail_at": "execute"})))
    req = model.create_request()
    req.set_inputs([np.ones(4, np.float32), np.ones(4, np.float32)])
    got = []
    done = threading.Event()

    def callback(r, ex):
        got.append(ex)
        done.set()

    req.set_callback(callback)
    req.infer()
    assert done.wait(10)
    assert isinstance(got[0], rt.InferException)
    assert isinstance(got[0], rt.Exception) and isinstance(got[0], RuntimeError)
    with pytest.raises(rt.InferException):
        req.wait()
    # "after": 0 without repeat fails only the first call: the next inference succeeds.
    req.infer()
    assert req.wait() is False
    assert np.array_equal(req.get_outputs()[0], np.full(4, 2, np.float32))


def test_backend_exception_names_the_backend(accel_path, tmp_path):
    context = rt.Context()
    context.load_extension(str(accel_path))
    path = write_failing_accel_model(tmp_path / "m", {"fail_at": "execute", "throw": True})
    req = context.load_model(str(path)).create_request()
    req.set_inputs([np.ones(4, np.float32), np.ones(4, np.float32)])
    req.infer()
    with pytest.raises(rt.BackendException) as info:
        req.wait()
    assert isinstance(info.value.backend_name, str) and info.value.backend_name
