"""optima_v2.testing.onnx_backend: the onnx Backend adapter (numpy is the oracle)."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

from optima_v2.testing import onnx_backend  # noqa: E402
from optima_v2.testing.onnx_backend import BackendRefusal, OptimaBackend  # noqa: E402


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _model(nodes, inputs, outputs, opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _relu_model(dims):
    return _model(
        [helper.make_node("Relu", ["x"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)],
    )


def test_runs_and_compiles_once_per_input_shape(rng):
    rep = OptimaBackend.prepare(_relu_model(["n", 3]), "CPU")
    for rows in (2, 5, 2):
        x = rng.standard_normal((rows, 3)).astype(np.float32)
        (y,) = rep.run([x])
        np.testing.assert_array_equal(y, np.maximum(x, 0))
    assert len(rep._compiled) == 2  # (2, 3) and (5, 3)
    rep.close()


def test_module_level_backend_api(rng):
    x = rng.standard_normal((4,)).astype(np.float32)
    (y,) = onnx_backend.run_model(_relu_model([4]), [x])
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    (y,) = onnx_backend.run_node(helper.make_node("Relu", ["a"], ["b"]), [x])
    np.testing.assert_array_equal(y, np.maximum(x, 0))
    assert onnx_backend.supports_device("CPU") and not onnx_backend.supports_device("CUDA")


def test_shape_deciding_inputs_are_frozen_from_the_run(rng):
    """Reshape's target is a model input: each distinct value compiles its own model."""
    model = _model(
        [helper.make_node("Reshape", ["x", "shape"], ["y"])],
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 6]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b"])],
    )
    rep = OptimaBackend.prepare(model)
    assert rep.frozen == {"shape"}
    x = rng.standard_normal((2, 6)).astype(np.float32)
    for target in ([3, 4], [4, -1], [12, 1]):
        (y,) = rep.run([x, np.array(target, np.int64)])
        np.testing.assert_array_equal(y, x.reshape(target))
    assert len(rep._compiled) == 3


def test_refusals_are_clear_errors(rng):
    model = _model(
        [helper.make_node("Multinomial", ["x"], ["y"], sample_size=2, name="sampler")],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [2, 2])],
    )
    with pytest.raises(BackendRefusal) as error:
        OptimaBackend.prepare(model).run([rng.standard_normal((2, 3)).astype(np.float32)])
    assert "refused by the compiler: not supported by the native backend: node 'sampler' (op Multinomial" in str(
        error.value
    )


def test_bfloat16_inputs_and_outputs_round_trip():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    model = _model(
        [helper.make_node("Identity", ["x"], ["y"]), helper.make_node("Identity", ["y"], ["z"])],
        [helper.make_tensor_value_info("x", TensorProto.BFLOAT16, [5])],
        [helper.make_tensor_value_info("z", TensorProto.BFLOAT16, [5])],
    )
    x = np.array([1.5, -2.0, 0.0, 3.25, 1e30], dtype=ml_dtypes.bfloat16)
    try:
        (z,) = OptimaBackend.run_model(model, [x], optimize=False)
    except BackendRefusal as error:
        pytest.skip(f"the backend refuses bfloat16 Identity: {error}")
    assert z.dtype == x.dtype
    np.testing.assert_array_equal(z.astype(np.float32), x.astype(np.float32))


def test_wrong_inputs_are_errors(rng):
    rep = OptimaBackend.prepare(_relu_model([2]))
    with pytest.raises(ValueError, match="not given"):
        rep.run([])
    with pytest.raises(ValueError, match="2 inputs given"):
        rep.run([np.zeros(2, np.float32)] * 2)
    with pytest.raises(ValueError, match="CUDA"):
        OptimaBackend.prepare(_relu_model([2]), "CUDA")
