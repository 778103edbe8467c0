"""Requests, tensors and inference on the sample model, checked against a numpy conv + add."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from conftest import (
    assert_close,
    random_sample_inputs,
    sample_reference,
    write_add_model,
    write_slow_model,
)

import optima_v2.runtime as rt


def run(req: rt.InferRequest) -> None:
    req.infer()
    assert req.wait() is False


def test_set_inputs_list_matches_numpy(model, rng):
    req = model.create_request()
    inputs = random_sample_inputs(rng)
    req.set_inputs(inputs)
    run(req)
    outputs = req.get_outputs()
    assert len(outputs) == 1
    assert outputs[0].dtype == np.float32
    assert_close(outputs[0], sample_reference(*inputs))


def test_set_inputs_errors_name_the_input_and_write_nothing(model, rng):
    req = model.create_request()
    a, b = random_sample_inputs(rng)
    req.set_inputs((a, b))
    first, second = (req.get_input_tensor(i).name for i in range(2))
    with pytest.raises(TypeError, match=f"input '{second}': array dtype float64 does not match the tensor type F32"):
        req.set_inputs((a + 1, b.astype(np.float64)))
    with pytest.raises(ValueError, match=rf"input '{first}': array shape \(2, 3\) does not match the tensor shape"):
        req.set_inputs({first: np.zeros((2, 3), np.float32), second: b})
    with pytest.raises(TypeError, match=f"input '{first}': expected a numpy.ndarray .*got list"):
        req.set_inputs([[1.0], b])
    run(req)  # the first, valid call's inputs are intact
    assert_close(req.get_outputs()[0], sample_reference(a, b))


def test_set_inputs_tuple_and_dict_by_name_and_index(model, rng):
    req = model.create_request()
    a, b = random_sample_inputs(rng)
    req.set_inputs((a, b))
    run(req)
    assert_close(req.get_outputs()[0], sample_reference(a, b))
    c, d = random_sample_inputs(rng)
    req.set_inputs({"input_1": c, "input_2": d})
    run(req)
    assert_close(req.get_outputs()[0], sample_reference(c, d))
    e, _ = random_sample_inputs(rng)
    req.set_inputs({0: e})  # a dict may set a subset; input_2 keeps d
    run(req)
    assert_close(req.get_outputs()[0], sample_reference(e, d))


def test_copy_from_per_tensor(model, rng):
    req = model.create_request()
    inputs = random_sample_inputs(rng)
    for tensor, array in zip(req.input_tensors, inputs):
        tensor.copy_from(array)
    run(req)
    assert_close(req.get_output_tensor(0).to_numpy(), sample_reference(*inputs))
    assert_close(req.get_output_tensor("output_1").to_numpy(), sample_reference(*inputs))
    assert_close(req.output_tensors[0].to_numpy(), sample_reference(*inputs))


def test_requests_are_independent(model, rng):
    reqs = [model.create_request() for _ in range(4)]
    inputs = [random_sample_inputs(rng) for _ in reqs]
    for req, arrays in zip(reqs, inputs):
        req.set_inputs(arrays)
    for req in reqs:
        req.infer()
    for req in reqs:
        assert req.wait() is False
    for req, arrays in zip(reqs, inputs):
        assert_close(req.get_outputs()[0], sample_reference(*arrays))
    assert len({req.id for req in reqs}) == 4


def test_tensor_properties(model):
    req = model.create_request()
    assert req.input_tensor_count == 2
    assert req.output_tensor_count == 1
    t = req.get_input_tensor(0)
    assert t.name == "input_1"
    assert t.shape == (1, 3, 32, 32)
    assert t.type == rt.ElementType.F32
    assert t.dtype == np.float32
    assert t.size == 3 * 32 * 32 * 4
    assert t.info == model.get_input_tensor_info(0)
    assert req.get_input_tensor().name == "input_1"
    assert req.get_input_tensor("input_2").shape == (1, 1, 32, 32)
    assert [x.name for x in req.input_tensors] == ["input_1", "input_2"]
    assert [x.name for x in req.output_tensors] == ["output_1"]
    assert "input_1" in repr(t)
    assert "InferRequest" in repr(req)


def test_get_outputs_returns_copies(model, rng):
    req = model.create_request()
    req.set_inputs(random_sample_inputs(rng))
    run(req)
    first = req.get_outputs()[0]
    first[...] = 7.0
    assert not np.array_equal(req.get_outputs()[0], first)
    assert not np.shares_memory(req.get_outputs()[0], req.get_outputs()[0])


def test_buffer_protocol_is_a_zero_copy_view(model, rng):
    req = model.create_request()
    a, b = random_sample_inputs(rng)
    # Write the inputs through views: the inference must see them.
    np.asarray(req.get_input_tensor(0))[...] = a
    view_b = np.asarray(req.get_input_tensor("input_2"))
    assert view_b.shape == (1, 1, 32, 32) and view_b.dtype == np.float32
    assert view_b.flags.c_contiguous and view_b.flags.writeable
    view_b[...] = b
    run(req)
    out = req.get_output_tensor(0)
    view = np.asarray(out)
    assert_close(view, sample_reference(a, b))
    # Writing through the view changes what to_numpy() sees; two views share memory.
    view[0, 0, 0, 0] = 1234.5
    assert out.to_numpy()[0, 0, 0, 0] == np.float32(1234.5)
    assert np.shares_memory(view, np.asarray(req.get_output_tensor(0)))
    # And copy_from is visible through an existing view.
    fresh = np.full((1, 1, 32, 32), 3.0, np.float32)
    out.copy_from(fresh)
    assert np.array_equal(view, fresh)


def test_view_keeps_the_request_alive(model, rng):
    req = model.create_request()
    a, b = random_sample_inputs(rng)
    req.set_inputs([a, b])
    run(req)
    view = np.asarray(req.get_output_tensor(0))
    del req
    gc.collect()
    assert_close(view, sample_reference(a, b))


def test_wait_with_timeout(model, rng):
    req = model.create_request()
    req.set_inputs(random_sample_inputs(rng))
    req.infer()
    while req.wait(100):
        pass
    assert req.wait(100) is False  # finished: returns False at once


def test_wait_timeout_expires_on_a_slow_model(context, tmp_path):
    # 8 products of 768 x 768 (7 GFLOP, tens of ms): still running after a 1 ms wait even when
    # this thread gets no core for several ms (384 x 384, 4 ms on 2 threads, finished first once
    # on a busy 2-core machine).
    path, w = write_slow_model(tmp_path / "slow", size=768)
    slow = context.load_model(str(path))
    req = slow.create_request()
    x = np.random.default_rng(1).standard_normal((768, 768)).astype(np.float32)
    req.set_inputs(x)
    req.infer()
    assert req.wait(1) is True
    with pytest.raises(rt.InvalidOperationException):
        req.infer()  # already running
    with pytest.raises(rt.InvalidOperationException):
        req.set_callback(lambda r, e: None)  # while running
    assert req.wait() is False
    want = x.astype(np.float64)
    for _ in range(8):
        want = want @ w.astype(np.float64)
    np.testing.assert_allclose(req.get_outputs()[0], want, rtol=1e-3, atol=1e-3)


def test_profile_data(model, rng):
    req = model.create_request()
    assert req.profile_data == [] or all(p.kind == rt.ProfileKind.RequestInit for p in req.profile_data)
    req.set_inputs(random_sample_inputs(rng))
    run(req)
    data = req.profile_data
    kinds = {p.kind for p in data}
    assert rt.ProfileKind.ModelExecute in kinds
    assert rt.ProfileKind.LayerExecute in kinds
    layers = {p.name for p in data if p.kind == rt.ProfileKind.LayerExecute}
    assert layers == {"conv", "add"}
    for p in data:
        assert isinstance(p.time, int) and p.time >= 0
        assert "ProfileKind." in repr(p)
        assert p.name in str(p) and "us" in str(p)


def test_other_element_types(context, tmp_path, rng):
    for dtype, np_dtype in [("I32", np.int32), ("I64", np.int64), ("F32", np.float32)]:
        model = context.load_model(str(write_add_model(tmp_path / dtype, dtype, (2, 5))))
        req = model.create_request()
        a = rng.integers(-1000, 1000, (2, 5)).astype(np_dtype)
        b = rng.integers(-1000, 1000, (2, 5)).astype(np_dtype)
        req.set_inputs({"a": a, "b": b})
        run(req)
        out = req.get_outputs()[0]
        assert out.dtype == np_dtype
        assert np.array_equal(out, a + b)
        with pytest.raises(TypeError):
            req.set_inputs({"a": a.astype(np.float64)})


# --- argument errors -------------------------------------------------------------------------------
def test_set_inputs_errors(model):
    req = model.create_request()
    good = [np.zeros((1, 3, 32, 32), np.float32), np.zeros((1, 1, 32, 32), np.float32)]
    with pytest.raises(ValueError, match="shape"):
        req.set_inputs([good[0], np.zeros((1, 1, 32, 31), np.float32)])
    with pytest.raises(TypeError, match="dtype"):
        req.set_inputs([good[0].astype(np.float64), good[1]])
    with pytest.raises(ValueError, match="contiguous"):
        req.set_inputs([np.zeros((1, 3, 32, 64), np.float32)[..., ::2], good[1]])
    with pytest.raises(ValueError, match="contiguous"):
        req.set_inputs([np.asfortranarray(np.zeros((1, 3, 32, 32), np.float32)), good[1]])
    with pytest.raises(ValueError, match="at most 8"):
        req.set_inputs([np.zeros((1,) * 9, np.float32), good[1]])
    with pytest.raises(ValueError, match="2 inputs"):
        req.set_inputs(good[0])  # one array for a two-input model
    with pytest.raises(ValueError):
        req.set_inputs(good[:1])  # too few
    with pytest.raises(TypeError):
        req.set_inputs(5)
    with pytest.raises(TypeError):
        req.set_inputs("input_1")
    with pytest.raises(TypeError):
        req.set_inputs([good[0].tolist(), good[1]])  # not an ndarray
    with pytest.raises(TypeError):
        req.set_inputs({1.5: good[0]})
    with pytest.raises(ValueError, match="nope"):
        req.set_inputs({"nope": good[0]})
    with pytest.raises(IndexError):
        req.set_inputs({2: good[0]})
    with pytest.raises(IndexError):
        req.set_inputs({-1: good[0]})


def test_failed_set_inputs_changes_nothing(model):
    req = model.create_request()
    ones = [np.ones((1, 3, 32, 32), np.float32), np.ones((1, 1, 32, 32), np.float32)]
    req.set_inputs(ones)
    with pytest.raises(TypeError):
        req.set_inputs({"input_1": np.zeros((1, 3, 32, 32), np.float32), "input_2": np.zeros((1, 1, 32, 32))})
    assert np.array_equal(req.get_input_tensor(0).to_numpy(), ones[0])


def test_copy_from_errors(model):
    t = model.create_request().get_input_tensor(0)
    with pytest.raises(ValueError):
        t.copy_from(np.zeros((3, 32, 32), np.float32))
    with pytest.raises(TypeError):
        t.copy_from(np.zeros((1, 3, 32, 32), np.int32))
    with pytest.raises(TypeError):
        t.copy_from([0.0] * 3072)
    with pytest.raises(ValueError):
        t.copy_from(np.zeros((1, 3, 32, 32), np.float32).transpose(0, 1, 3, 2))


def test_tensor_lookup_errors(model):
    req = model.create_request()
    with pytest.raises(IndexError):
        req.get_input_tensor(2)
    with pytest.raises(IndexError):
        req.get_input_tensor(-1)
    with pytest.raises(IndexError):
        req.get_output_tensor(1)
    with pytest.raises(ValueError, match="nope"):
        req.get_input_tensor("nope")
    with pytest.raises(ValueError):
        req.get_output_tensor("input_1")
    with pytest.raises(TypeError):
        req.get_input_tensor(1.0)


def test_wait_errors(model):
    req = model.create_request()
    with pytest.raises(rt.InferException):
        req.wait()  # never started
    with pytest.raises(ValueError):
        req.wait(-1)
