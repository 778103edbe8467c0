"""``await req.infer_async()``: concurrency, errors, callbacks kept, cancellation."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import numpy as np
import pytest
from conftest import assert_close, random_sample_inputs, sample_reference, write_add_model, write_slow_model

import optima_v2.runtime as rt


def test_many_requests_awaited_concurrently(model):
    rng = np.random.default_rng(7)
    work = [random_sample_inputs(rng) for _ in range(16)]
    requests = [model.create_request() for _ in work]

    async def one(req, inputs):
        await req.infer_async(inputs)
        return req.get_outputs()[0]

    async def main():
        return await asyncio.gather(*(one(r, x) for r, x in zip(requests, work)))

    results = asyncio.run(main())
    for got, inputs in zip(results, work):
        assert_close(got, sample_reference(*inputs))


def test_the_same_request_can_be_awaited_again_at_once(model):
    rng = np.random.default_rng(8)
    req = model.create_request()

    async def main():
        for _ in range(20):
            inputs = random_sample_inputs(rng)
            await req.infer_async(inputs)
            assert_close(req.get_outputs()[0], sample_reference(*inputs))

    asyncio.run(main())


def test_event_loop_is_not_blocked(tmp_path):
    """While a slow inference runs, other tasks of the loop keep running."""
    path, _w = write_slow_model(tmp_path / "slow")
    req = rt.Context().load_model(str(path)).create_request()
    req.set_inputs(np.ones((384, 384), np.float32))
    ticks = []

    async def ticker(stop):
        while not stop.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0.001)

    async def main():
        stop = asyncio.Event()
        task = asyncio.create_task(ticker(stop))
        await asyncio.sleep(0)
        # Inferences back to back for 100 ms: the loop ticks between them only if infer_async
        # suspends (a blocking one returns a finished future, and awaiting it does not yield).
        # Not one inference: on 2 busy cores the loop's thread may get no time slice in 5 ms.
        start = time.monotonic()
        runs = 0
        while time.monotonic() - start < 0.1:
            await req.infer_async()
            runs += 1
        stop.set()
        await task
        return runs

    runs = asyncio.run(main())
    assert len(ticks) >= 3, (runs, ticks)


def write_failing_accel_model(folder, plan):
    path = write_add_model(folder, "F32", (4,), framework="OpenCL", device="NVIDIA:0")
    (path / "Subgraph_0" / "sim_accel.json").write_text(json.dumps(plan))
    return path


def test_error_raises_in_the_awaiting_task(accel_path, tmp_path):
    context = rt.Context()
    context.load_extension(str(accel_path))
    model = context.load_model(str(write_failing_accel_model(tmp_path / "m", {"fail_at": "execute"})))
    req = model.create_request()
    ones = [np.ones(4, np.float32), np.ones(4, np.float32)]

    async def main():
        with pytest.raises(rt.InferException):
            await req.infer_async(ones)
        # Only the first execute fails: the request is usable again at once.
        await req.infer_async()
        return req.get_outputs()[0]

    assert np.array_equal(asyncio.run(main()), np.full(4, 2, np.float32))


def test_backend_error_type_is_kept(accel_path, tmp_path):
    context = rt.Context()
    context.load_extension(str(accel_path))
    path = write_failing_accel_model(tmp_path / "m", {"fail_at": "execute", "throw": True})
    req = context.load_model(str(path)).create_request()

    async def main():
        await req.infer_async([np.ones(4, np.float32), np.ones(4, np.float32)])

    with pytest.raises(rt.BackendException) as info:
        asyncio.run(main())
    assert info.value.backend_name


def test_user_callback_is_kept_and_called(model):
    rng = np.random.default_rng(9)
    req = model.create_request()
    seen = []
    req.set_callback(lambda r, ex, tag: seen.append((tag, ex)), "mine")

    async def main():
        await req.infer_async(random_sample_inputs(rng))
        await req.infer_async(random_sample_inputs(rng))

    asyncio.run(main())
    assert seen == [("mine", None), ("mine", None)]
    # Still installed for plain infer() afterwards.
    done = threading.Event()
    req.set_callback(lambda r, ex: done.set())
    req.infer()
    assert done.wait(10)
    req.wait()


def test_running_request_is_refused(tmp_path):
    # 768 x 768 products (tens of ms): still running when the loop starts, even on 2 busy cores.
    path, _w = write_slow_model(tmp_path / "slow", size=768)
    req = rt.Context().load_model(str(path)).create_request()
    req.set_inputs(np.ones((768, 768), np.float32))
    req.infer()

    async def main():
        await req.infer_async()

    with pytest.raises(rt.InvalidOperationException):
        asyncio.run(main())
    assert req.wait() is False


def test_cancellation_leaves_the_inference_running(tmp_path):
    """Cancelling the awaiting task raises CancelledError at once; the run still completes."""
    path, w = write_slow_model(tmp_path / "slow", size=256, depth=8)
    req = rt.Context().load_model(str(path)).create_request()
    x = np.random.default_rng(3).standard_normal((256, 256)).astype(np.float32)

    async def main():
        task = asyncio.create_task(req.infer_async(x))
        await asyncio.sleep(0)  # let it start
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert req.wait() is False  # the run finished normally
    want = x.astype(np.float64)
    for _ in range(8):
        want = want @ w.astype(np.float64)
    np.testing.assert_allclose(req.get_outputs()[0], want, rtol=1e-3, atol=1e-3)

    async def again():
        await req.infer_async(x)

    asyncio.run(again())  # usable afterwards
    np.testing.assert_allclose(req.get_outputs()[0], want, rtol=1e-3, atol=1e-3)
