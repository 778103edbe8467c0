"""Compiling large models: weights are not copied wholesale (issue 4: peak < 2x the model size).

The peak is measured with tracemalloc (Python-level allocations: bytes objects and numpy arrays,
not protobuf's own heap), which is deterministic, unlike resident memory or timings.
"""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from compiler_models import run_folder  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from optima_v2.compiler import CompileError, compile_onnx  # noqa: E402
from optima_v2.compiler._stream import read_binary_model  # noqa: E402

WIDTH = 1024


def _mlp_file(path: Path, layers: int, opset: int = 17) -> tuple[int, list[np.ndarray]]:
    """x[1, WIDTH] -> (Gemm -> Relu) x layers, saved to ``path``; the weight bytes and the weights."""
    rng = np.random.default_rng(7)
    nodes, inits, weights, current = [], [], [], "x"
    for i in range(layers):
        w = (rng.standard_normal((WIDTH, WIDTH), dtype=np.float32) / np.sqrt(WIDTH)).astype(np.float32)
        b = rng.standard_normal(WIDTH, dtype=np.float32)
        weights += [w, b]
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Gemm", [current, f"w{i}", f"b{i}"], [f"g{i}"], name=f"fc{i}"))
        out = "y" if i == layers - 1 else f"r{i}"
        nodes.append(helper.make_node("Relu", [f"g{i}"], [out], name=f"relu{i}"))
        current = out
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, WIDTH])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, WIDTH])],
        inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return sum(w.nbytes for w in weights), weights


def _reference(x: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    for w, b in zip(weights[::2], weights[1::2]):
        x = np.maximum(x.astype(np.float64) @ w.astype(np.float64) + b, 0.0)
    return x


@pytest.mark.parametrize("opset", [17, 13])  # 17: converted to the internal opset; 13: older adapters too
def test_compile_peak_python_memory_is_under_twice_the_weights(tmp_path, opset):
    model = tmp_path / "mlp.onnx"
    weight_bytes, weights = _mlp_file(model, layers=4, opset=opset)  # 4 x 4 MiB
    assert weight_bytes >= 16 * 1024 * 1024
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        out = compile_onnx(model, tmp_path / "out")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base < 2 * weight_bytes, f"peak {(peak - base) / weight_bytes:.2f}x the weights"
    # The weights arrive intact (no copy skipped wrongly): run it against a float64 reference.
    x = np.random.default_rng(1).standard_normal((1, WIDTH), dtype=np.float32)
    (got,) = run_folder(out, [x])
    np.testing.assert_allclose(got, _reference(x, weights), rtol=1e-4, atol=1e-4)


def test_streamed_read_equals_onnx_load(tmp_path):
    model = tmp_path / "mlp.onnx"
    _mlp_file(model, layers=2)
    proto = onnx.load(str(model))
    proto.metadata_props.add(key="k", value="v")
    proto.graph.value_info.append(helper.make_tensor_value_info("g0", TensorProto.FLOAT, [1, WIDTH]))
    onnx.save(proto, str(model))
    assert read_binary_model(model) == onnx.load(str(model))


def test_a_directory_and_an_empty_file_are_named_as_such(tmp_path):
    with pytest.raises(CompileError, match="is a directory, not an ONNX file"):
        compile_onnx(tmp_path, tmp_path / "out")
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(CompileError, match="the file is empty"):
        compile_onnx(empty, tmp_path / "out")
