"""The benchmark suite's model builders (benchmarks/models.py): valid ONNX, the published
architectures' layer counts, and optima-v2's outputs equal ONNX Runtime's (the oracle) on the
small models and on reduced-size variants of the big ones."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from conftest import REPO

import optima_v2.runtime as rt

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _load_models() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_models", REPO / "benchmarks" / "models.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is made
    spec.loader.exec_module(module)
    return module


models = _load_models()

#: Reduced variants of the big models (a few ms each) and the small ones at full size.
SMALL_VARIANTS: dict[str, tuple[Any, dict[str, Any]]] = {
    "mlp": (models.build_mlp, {}),
    "lenet": (models.build_lenet, {}),
    "resnet18_small": (models.build_resnet18, {"width": 8, "resolution": 40, "blocks": (1, 2, 1, 1), "classes": 17}),
    "mobilenetv2_small": (models.build_mobilenetv2, {"width_mult": 0.25, "resolution": 48, "classes": 11}),
    "bert_small": (models.build_bert, {"layers": 2, "hidden": 48, "heads": 4, "seq": 12, "ffn": 96}),
    "matmul_odd": (models.build_matmul, {"m": 67, "k": 45, "n": 83}),
}


def _count(model: Any, op: str, **attrs: int) -> int:
    """Nodes of type ``op`` whose integer attributes equal ``attrs``."""
    found = 0
    for node in model.graph.node:
        if node.op_type != op:
            continue
        values = {a.name: a.i for a in node.attribute}
        if all(values.get(k) == v for k, v in attrs.items()):
            found += 1
    return found


def _ort_output(model: Any, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    result: np.ndarray = sess.run(None, {"input": x})[0]
    return result


@pytest.mark.parametrize("name", list(models.MODELS))
def test_full_size_model_is_valid_onnx(name: str) -> None:
    spec = models.MODELS[name]
    model = spec.make()
    onnx.checker.check_model(model, full_check=True)  # full_check: shape inference passes too
    assert model.opset_import[0].version == models.OPSET
    inputs = model.graph.input
    assert len(inputs) == 1
    assert [d.dim_value for d in inputs[0].type.tensor_type.shape.dim] == list(spec.input_shape)


def test_full_size_architectures_match_the_published_ones() -> None:
    resnet = models.MODELS["resnet18"].make()
    # 1 stem conv + 8 BasicBlocks x 2 convs + 3 downsample convs; one BatchNorm each; 1 FC.
    assert _count(resnet, "Conv") == 20
    assert _count(resnet, "BatchNormalization") == 20
    assert _count(resnet, "Gemm") == 1
    params = sum(int(np.prod(t.dims)) for t in resnet.graph.initializer if t.name.startswith(("conv_w", "fc_")))
    assert abs(params - 11_689_512) < 10_000  # torchvision resnet18 (BN parameters aside: ~9.6k)

    mobilenet = models.MODELS["mobilenetv2"].make()
    depthwise = [
        n
        for n in mobilenet.graph.node
        if n.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in n.attribute)
    ]
    assert len(depthwise) == 17  # one per inverted-residual block
    assert _count(mobilenet, "Conv") == 52
    assert _count(mobilenet, "Clip") == 35
    assert _count(mobilenet, "Add") == 10  # residual connections

    bert = models.MODELS["bert"].make()
    assert _count(bert, "LayerNormalization") == 12
    assert _count(bert, "Erf") == 6
    assert _count(bert, "Softmax") == 6
    assert _count(bert, "MatMul") == 6 * 8  # Q, K, V, scores, context, output, FFN in, FFN out
    assert not _count(bert, "Gather")


@pytest.mark.parametrize("name", list(SMALL_VARIANTS))
def test_optima_matches_onnx_runtime(name: str, tmp_path: Path) -> None:
    from optima_v2.compiler import compile_onnx

    build, kwargs = SMALL_VARIANTS[name]
    model = build(**kwargs)
    onnx.checker.check_model(model, full_check=True)
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    x = models.make_input(shape, seed=7)
    want = _ort_output(model, x)

    folder = compile_onnx(model, tmp_path / name)
    request = rt.Context(thread_count=1).load_model(str(folder)).create_request()
    request.set_inputs(x)
    request.infer()
    request.wait()
    got = request.get_outputs()[0]

    assert got.shape == want.shape
    scale = float(np.abs(want).max())
    assert scale > 1e-3  # a model whose output is ~0 would compare nothing
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4 * scale)


def test_builders_are_deterministic() -> None:
    a = models.build_bert(layers=1, hidden=16, heads=2, seq=4, ffn=32)
    b = models.build_bert(layers=1, hidden=16, heads=2, seq=4, ffn=32)
    assert a.SerializeToString() == b.SerializeToString()
    assert np.array_equal(models.make_input((2, 3)), models.make_input((2, 3)))


def _load_benchmark_module(name: str) -> ModuleType:
    """benchmarks/<name>.py under a private name: tests/conformance has a report.py too, and
    whichever is imported first as "report" would otherwise shadow the other."""
    sys.path.insert(0, str(REPO / "benchmarks"))  # for its own imports (call_overhead)
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "benchmarks" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(REPO / "benchmarks"))


def test_report_states_ratios_and_verdicts() -> None:
    """docs/performance.md's generator on made-up numbers: ratios and verdicts as computed here."""
    report = _load_benchmark_module("report")

    def latency(p50: float) -> dict[str, Any]:
        return {
            "p50_ms": p50,
            "p90_ms": p50 * 1.5,
            "iterations": 20,
            "load_s": 0.1,
            "first_inference_s": 0.01,
            "peak_rss_mib": 100.0,
            "baseline_rss_mib": 40.0,
        }

    def throughput(rate: float) -> dict[str, Any]:
        return {"per_s": rate, "requests": 2, "peak_rss_mib": 100.0, "baseline_rss_mib": 40.0}

    runs = {
        "optima": {"latency_1t": latency(3.0), "latency_all": latency(0.5), "throughput": throughput(30.0)},
        "ort": {"latency_1t": latency(2.0), "latency_all": latency(1.0), "throughput": throughput(20.0)},
        "openvino": {"latency_1t": latency(4.0), "latency_all": {"error": "exit 1"}, "throughput": throughput(40.0)},
    }
    results = {
        "date": "2026-01-01T00:00:00",
        "command": "run_suite.py",
        "complete": True,
        "wall_s": 600.0,
        "machine": {"cpu": "test", "loadavg_start": [1.0, 1.0, 1.0], "loadavg_end": [2.0, 2.0, 2.0]},
        "versions": {},
        "settings": {
            "all_cores": 2,
            "min_iters": 20,
            "min_time": 1.5,
            "max_time": 12.0,
            "duration": 3.0,
            "agreement_tolerance": 1e-3,
        },
        "models": {"resnet18": {"description": "d", "nodes": 1, "onnx_mib": 1.0, "compile_s": 1.0, "runs": runs}},
        "rss_resnet18": {
            "optima": {"peak_rss_mib": 150.0, "baseline_rss_mib": 40.0, "requests": 4, "threads": 2},
            "ort": {"peak_rss_mib": 100.0, "baseline_rss_mib": 40.0, "runs": 4},
        },
    }
    text = report.render(results, "## Analysis\n\nhand-written text\n")
    assert "| resnet18 | 3.00 | 2.00 | 4.00 | 1.50x | 0.75x |" in text  # 1 thread: 3 / 2 and 3 / 4
    assert "| resnet18 | 0.500 | 1.00 | error | 0.50x | - |" in text  # all cores: OpenVINO failed
    assert "| resnet18 | 30.0 | 20.0 | 40.0 | 1.50x | 0.75x |" in text  # throughput
    assert "worst resnet18 1.50x" in text and "**missed** (worst by 1.5x)" in text
    assert "30.00 vs 40.00 inf/s = 0.75x | **missed** (at 75% of it)" in text
    assert "150 vs 100 MiB = 1.50x | **missed** (by 1.50x)" in text
    assert text.rstrip().endswith("hand-written text")
