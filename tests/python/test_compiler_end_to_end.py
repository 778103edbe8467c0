"""compile_onnx end to end: compile, load with optima_v2.runtime, compare against ONNX Runtime."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from compiler_models import assert_matches, cnn, mlp, onnxruntime_outputs, run_folder, shape_chain

import optima_v2.runtime as rt
from optima_v2.cli import main
from optima_v2.compiler import compile_onnx


def _graph_ops(folder, index=0):
    graph = json.loads((folder / f"Subgraph_{index}" / "graph.json").read_text())
    return [node["op"] for node in graph["nodes"]]


def test_mlp_matches_onnxruntime(tmp_path, rng):
    model = mlp(rng)
    folder = compile_onnx(model, tmp_path / "mlp", input_shapes={"x": [3, 8]})
    assert _graph_ops(folder) == ["Gemm", "Gemm"]  # Dropout and Identity removed, Relus fused
    x = rng.standard_normal((3, 8)).astype(np.float32)
    (got,) = run_folder(folder, [x])
    assert_matches(got, onnxruntime_outputs(model, {"x": x})[0])


def test_mlp_from_a_file_without_optimization(tmp_path, rng):
    model = mlp(rng)
    onnx = pytest.importorskip("onnx")
    onnx.save(model, tmp_path / "mlp.onnx")
    folder = compile_onnx(tmp_path / "mlp.onnx", tmp_path / "out", input_shapes={"x": (1, 8)}, optimize=False)
    assert _graph_ops(folder) == ["Gemm", "Relu", "Identity", "Gemm", "Relu", "Identity"]
    x = rng.standard_normal((1, 8)).astype(np.float32)
    (got,) = run_folder(folder, [x])
    assert_matches(got, onnxruntime_outputs(model, {"x": x})[0])


def test_residual_cnn_matches_onnxruntime(tmp_path, rng):
    model = cnn(rng)
    folder = compile_onnx(model, tmp_path / "cnn")
    x = rng.standard_normal((1, 3, 16, 16)).astype(np.float32)
    (got,) = run_folder(folder, [x])
    assert_matches(got, onnxruntime_outputs(model, {"x": x})[0])


def test_shape_chain_folds_once_shapes_are_static(tmp_path, rng):
    model = shape_chain(rng)
    folder = compile_onnx(model, tmp_path / "chain", input_shapes={"x": [2, 4, 6]})
    assert _graph_ops(folder) == ["Reshape", "MatMul"]  # Tanh fused into the MatMul
    graph = json.loads((folder / "Subgraph_0" / "graph.json").read_text())
    reshape = graph["nodes"][0]
    target = next(t for t in graph["tensors"] if t["name"] == reshape["inputs"][1])
    assert target["type"] == "I64" and "data" in target
    x = rng.standard_normal((2, 4, 6)).astype(np.float32)
    (got,) = run_folder(folder, [x])
    assert_matches(got, onnxruntime_outputs(model, {"x": x})[0])


def test_device_map_splits_into_alternating_subgraphs(tmp_path, rng, accel_path):
    model = cnn(rng)
    single = compile_onnx(model, tmp_path / "single")
    device_map = {"conv2": "nvidia:0", "add": "NVIDIA:0", "relu2": "Nvidia:0"}
    map_file = tmp_path / "map.json"
    map_file.write_text(json.dumps(device_map))
    split = compile_onnx(model, tmp_path / "split", device_map=map_file, default_device="X64:0")
    meta = json.loads((split / "model.meta").read_text())
    assert [(s["framework"], s["device"]) for s in meta["subgraphs"]] == [
        ("Native", "x64:0"),
        ("OpenCL", "NVIDIA:0"),
        ("Native", "x64:0"),
    ]
    # conv1's output feeds both conv2 (through relu1, on the CPU) and add (on the accelerator).
    assert sorted(meta["subgraphs"][1]["inputs"]) == ["c1", "r1"]
    assert {t["name"] for t in meta["tensors"]} == {"c1", "r1", "r2"}
    context = rt.Context()
    context.load_extension(str(accel_path))
    loaded = context.load_model(str(split))
    assert [str(s.framework).split(".")[-1] for s in loaded.subgraph_info] == ["Native", "OpenCL", "Native"]
    x = rng.standard_normal((1, 3, 16, 16)).astype(np.float32)
    (got_split,) = run_folder(split, [x], context)
    (got_single,) = run_folder(single, [x])
    np.testing.assert_array_equal(got_split, got_single)
    assert_matches(got_split, onnxruntime_outputs(model, {"x": x})[0])


def test_model_output_read_by_another_subgraph_gets_a_copy(tmp_path, rng, accel_path):
    onnx = pytest.importorskip("onnx")
    model = cnn(rng)
    model.graph.output.append(onnx.helper.make_tensor_value_info("c1", onnx.TensorProto.FLOAT, [1, 8, 16, 16]))
    folder = compile_onnx(model, tmp_path / "m", device_map={"relu1": "nvidia:0", "add": "nvidia:0"})
    context = rt.Context()
    context.load_extension(str(accel_path))
    x = rng.standard_normal((1, 3, 16, 16)).astype(np.float32)
    got = run_folder(folder, [x], context)
    want = onnxruntime_outputs(model, {"x": x})
    for g, w in zip(got, want):
        assert_matches(g, w)


def test_cli_compile_then_info(tmp_path, rng, capsys):
    onnx = pytest.importorskip("onnx")
    onnx.save(shape_chain(rng), tmp_path / "chain.onnx")
    out = tmp_path / "out"
    assert main(["compile", str(tmp_path / "chain.onnx"), "-o", str(out), "--input-shape", "x=3x4x6"]) == 0
    captured = capsys.readouterr()
    assert "shape inference" in captured.err and str(out) in captured.out
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "x: F32 [3x4x6]" in text and "y: F32 [3x5]" in text
    assert "Subgraph_0: framework Native, device x64:0" in text
    assert "MatMul x1, Reshape x1" in text and "Tanh" not in text  # fused
    assert f"weights: {24 * 5 * 4 + 2 * 8} bytes" in text  # w (24x5 F32) and the folded target [3, -1] (I64)


def test_cli_errors(tmp_path, rng, capsys):
    onnx = pytest.importorskip("onnx")
    onnx.save(shape_chain(rng), tmp_path / "chain.onnx")
    assert main(["compile", str(tmp_path / "chain.onnx"), "-o", str(tmp_path / "out")]) == 1
    assert "'x' dim 0 (batch)" in capsys.readouterr().err
    assert main(["info", str(tmp_path)]) == 1
    assert "not a readable model folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["compile", "m.onnx", "-o", "o", "--input-shape", "x=1xq"])
