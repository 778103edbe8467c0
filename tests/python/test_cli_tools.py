"""The ``optima-v2`` tools (devices, run, benchmark, profile, demo) run as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SAMPLE_MODEL, random_sample_inputs, sample_reference, write_add_model
from test_profiling import PNG_SIGNATURE, check_chrome_trace, write_split_model

LATENCY_KEYS = ("min", "median", "p90", "p99", "max")


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "optima_v2.cli", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def ok(*args: str) -> subprocess.CompletedProcess:
    result = cli(*args)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    return result


def test_devices_lists_the_cpu_and_the_extensions(accel_path):
    out = ok("devices").stdout
    assert "x64:0" in out and "Native" in out and "liboptima_v2_native" in out
    out = ok("devices", "--extension", accel_path).stdout
    assert "NVIDIA:0" in out and "SimAccel (test)" in out and "x64:0" in out


def test_run_writes_outputs_equal_to_numpy(tmp_path):
    x1, x2 = random_sample_inputs(np.random.default_rng(7))
    np.save(tmp_path / "a.npy", x1)
    np.save(tmp_path / "b.npy", x2)
    out = tmp_path / "out.npz"
    result = ok("run", SAMPLE_MODEL, "--input", f"input_1={tmp_path / 'a.npy'}",
                "--input", f"input_2={tmp_path / 'b.npy'}", "-o", out)  # fmt: skip
    assert "output_1: float32 [1x1x32x32]" in result.stdout
    with np.load(out) as saved:
        assert list(saved.keys()) == ["output_1"]
        np.testing.assert_allclose(saved["output_1"], sample_reference(x1, x2), rtol=0, atol=1e-5)


def test_run_fills_missing_inputs_with_random_data(tmp_path):
    x1 = np.ones((1, 3, 32, 32), np.float32)
    np.save(tmp_path / "a.npy", x1)
    result = ok("run", SAMPLE_MODEL, "--input", f"input_1={tmp_path / 'a.npy'}", "-o", tmp_path / "o.npz")
    assert "input_2: float32 [1x1x32x32]" in result.stdout and "(random)" in result.stdout
    # The random input_2 is unknown here, but output - conv(input_1) must be it: standard normal data.
    with np.load(tmp_path / "o.npz") as saved:
        noise = saved["output_1"] - sample_reference(x1, np.zeros((1, 1, 32, 32), np.float32))
    assert 0.5 < noise.std() < 1.5 and abs(noise.mean()) < 0.3


def test_run_errors_name_the_problem(tmp_path):
    result = cli("run", SAMPLE_MODEL, "--input", f"nope={tmp_path / 'a.npy'}")
    assert result.returncode == 1 and "nope" in result.stderr
    np.save(tmp_path / "a.npy", np.zeros(3, np.float32))
    result = cli("run", SAMPLE_MODEL, "--input", f"nope={tmp_path / 'a.npy'}")
    assert result.returncode == 1 and "unknown input(s) nope" in result.stderr
    result = cli("run", SAMPLE_MODEL, "--input", f"input_1={tmp_path / 'a.npy'}")
    assert result.returncode == 1 and "error:" in result.stderr  # wrong shape, named by the runtime
    result = cli("run", tmp_path / "missing")
    assert result.returncode == 1 and "missing" in result.stderr


def check_report(report: dict, mode: str, requests: int) -> None:
    assert report["mode"] == mode and report["requests"] == requests
    latency = report["latency_ms"]
    values = [latency[key] for key in LATENCY_KEYS]
    assert all(v > 0 for v in values)
    assert values == sorted(values), latency  # min <= median <= p90 <= p99 <= max
    assert latency["min"] <= latency["mean"] <= latency["max"]
    assert report["iterations"] >= 1
    assert report["throughput_fps"] == pytest.approx(report["iterations"] / report["duration_s"])
    for key in ("load_time_ms", "first_inference_ms", "duration_s", "peak_rss_mib"):
        assert report[key] > 0, key
    assert 1 < report["peak_rss_mib"] < 64 * 1024


def test_benchmark_sample_model_text_and_json():
    result = ok("benchmark", SAMPLE_MODEL, "-t", "0.5")
    assert "100%" in result.stderr  # the progress bar
    for label in ("load time:", "first inference:", "median", "p99", "throughput:", "peak RSS:"):
        assert label in result.stdout
    report = json.loads(ok("benchmark", SAMPLE_MODEL, "-t", "0.5", "--json", "--no-progress").stdout)
    check_report(report, "latency", 1)
    assert report["devices"] == ["x64:0"]
    # Latency mode runs back to back: the run takes at least the sum of its latencies.
    assert report["iterations"] * report["latency_ms"]["min"] / 1e3 <= report["duration_s"]


@pytest.fixture(scope="module")
def resnet_folder(tmp_path_factory) -> Path:
    pytest.importorskip("onnx")
    import onnx
    from test_compiler_models import resnet_model

    tmp = tmp_path_factory.mktemp("resnet")
    onnx.save(resnet_model(), tmp / "resnet.onnx")
    ok("compile", tmp / "resnet.onnx", "-o", tmp / "resnet")
    return tmp / "resnet"


def test_benchmark_resnet_latency_and_throughput(resnet_folder):
    report = json.loads(ok("benchmark", resnet_folder, "-t", "0.5", "--json").stdout)
    check_report(report, "latency", 1)
    report = json.loads(ok("benchmark", resnet_folder, "-t", "0.5", "--mode", "throughput",
                           "--requests", "3", "--json").stdout)  # fmt: skip
    check_report(report, "throughput", 3)


def test_benchmark_throughput_over_native_and_accelerator(tmp_path, accel_path):
    folder = write_split_model(tmp_path)
    report = json.loads(ok("benchmark", folder, "-t", "0.3", "--mode", "throughput", "--requests", "2",
                           "--json", "--extension", accel_path).stdout)  # fmt: skip
    check_report(report, "throughput", 2)
    assert report["devices"] == ["NVIDIA:0", "x64:0"]


def test_benchmark_rejects_bad_options():
    result = cli("benchmark", SAMPLE_MODEL, "--requests", "2")
    assert result.returncode == 1 and "--requests applies to --mode throughput" in result.stderr
    result = cli("benchmark", SAMPLE_MODEL, "-t", "0")
    assert result.returncode == 1 and "-t/--time must be positive" in result.stderr
    result = cli("benchmark", SAMPLE_MODEL, "--mode", "throughput", "--requests", "0")
    assert result.returncode == 1 and "at least 1" in result.stderr


def test_profile_table_plot_and_trace(tmp_path):
    pytest.importorskip("matplotlib")
    png, histogram, trace = tmp_path / "layers.png", tmp_path / "latency.png", tmp_path / "trace.json"
    result = ok("profile", SAMPLE_MODEL, "-n", "20", "--plot", png, "--histogram", histogram, "--trace", trace)
    assert "profile of 20 run(s)" in result.stdout and "Subgraph_0/conv" in result.stdout
    for path in (png, histogram):
        data = path.read_bytes()
        assert len(data) > 1000 and data.startswith(PNG_SIGNATURE)
    events = check_chrome_trace(json.loads(trace.read_text()))
    assert sum(1 for e in events if e["cat"] == "ModelExecute") == 20


def test_profile_json_of_split_model(tmp_path, accel_path):
    folder = write_split_model(tmp_path)
    stats = json.loads(ok("profile", folder, "-n", "10", "--json", "--extension", accel_path).stdout)
    assert stats["runs"] == 10
    layers = {(e["subgraph"], e["name"]) for e in stats["entries"] if e["kind"] == "LayerExecute"}
    assert layers == {("Subgraph_0", "mm0"), ("Subgraph_0", "relu0"), ("Subgraph_1", "mm1"), ("Subgraph_2", "relu2")}
    assert all(e["count"] == 10 for e in stats["entries"])


def test_demo_runs_end_to_end():
    result = ok("demo")
    assert "demo OK" in result.stdout and "max |runtime - numpy|" in result.stdout


@pytest.mark.parametrize("mode", ["latency", "throughput"])
def test_benchmark_reports_a_failing_inference(tmp_path, accel_path, mode):
    """The simulated accelerator fails from its 20th execution on: a clear error, no hang."""
    folder = write_add_model(tmp_path / "m", "F32", (4,), framework="OpenCL", device="NVIDIA:0")
    (folder / "Subgraph_0" / "sim_accel.json").write_text(
        json.dumps({"fail_at": "execute", "after": 20, "repeat": True})
    )
    result = cli("benchmark", folder, "-t", "5", "--mode", mode, "--extension", accel_path, timeout=60)
    assert result.returncode == 1
    assert "error: InferException" in result.stderr
