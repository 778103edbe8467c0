"""Shared fixtures: the sample model, a numpy oracle for it, helpers writing small models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np
import pytest

import optima_v2.runtime as rt
from optima_v2.model_folder import Graph, ModelFolder

REPO = Path(__file__).resolve().parents[2]
SAMPLE_MODEL = REPO / "examples" / "sample_model"


def sample_weights() -> np.ndarray:
    """The sample model's Conv weights as its generator documents them (default_rng(0))."""
    return np.random.default_rng(0).standard_normal((1, 3, 3, 3)).astype(np.float32)


def conv2d(x: np.ndarray, w: np.ndarray, pad: int = 1) -> np.ndarray:
    """Naive NCHW convolution (stride 1, symmetric zero padding, no bias) in float64."""
    n, _c, h, wd = x.shape
    o, _, kh, kw = w.shape
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, o, h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1))
    for i in range(kh):
        for j in range(kw):
            patch = padded[:, :, i : i + out.shape[2], j : j + out.shape[3]]  # N,C,H,W
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j].astype(np.float64))
    return out


def sample_reference(input_1: np.ndarray, input_2: np.ndarray) -> np.ndarray:
    return conv2d(input_1, sample_weights()) + input_2


def random_sample_inputs(rng: np.random.Generator) -> list[np.ndarray]:
    return [
        rng.standard_normal((1, 3, 32, 32)).astype(np.float32),
        rng.standard_normal((1, 1, 32, 32)).astype(np.float32),
    ]


def assert_close(got: np.ndarray, want: np.ndarray, tol: float = 1e-5) -> None:
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=tol)


def find_test_accel() -> Optional[Path]:
    """The simulated accelerator extension of a C++ build with tests (OPTIMA_V2_TEST_ACCEL overrides)."""
    if os.environ.get("OPTIMA_V2_TEST_ACCEL"):
        return Path(os.environ["OPTIMA_V2_TEST_ACCEL"])
    pattern = "tests/extensions/liboptima_v2_test_accel.so"
    for candidate in sorted(REPO.glob(f"build*/{pattern}")) + sorted(REPO.glob(f"build/*/{pattern}")):
        # Sanitizer builds need their runtime preloaded: loading one here would crash Python.
        if not any(tag in part for part in candidate.parts for tag in ("asan", "tsan", "fuzz")):
            return candidate
    return None


@pytest.fixture(scope="session")
def context() -> rt.Context:
    return rt.Context()


@pytest.fixture(scope="session")
def model(context: rt.Context) -> rt.Model:
    return context.load_model(str(SAMPLE_MODEL))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


@pytest.fixture
def accel_path() -> Path:
    path = find_test_accel()
    if path is None or not path.is_file():
        pytest.skip("the test accelerator extension is not built (set OPTIMA_V2_TEST_ACCEL)")
    return path


def write_unary_model(folder: Path, op: str, dtype: str, shape: tuple[int, ...], **node_kwargs) -> Path:
    """A one-node model y = op(x)."""
    g = Graph()
    g.add_input("x", dtype, shape)
    g.add_tensor("y", dtype, shape)
    g.add_node(op, ["x"], ["y"], **node_kwargs)
    g.add_output("y")
    return _write(g, folder, f"{op}_model")


def _write(graph: Graph, folder: Path, name: str, **subgraph_kwargs) -> Path:
    model = ModelFolder(name)
    model.add_subgraph(graph, **subgraph_kwargs)
    return model.write(folder)


def write_add_model(folder: Path, dtype: str, shape: tuple[int, ...], **subgraph_kwargs) -> Path:
    """z = a + b."""
    g = Graph()
    g.add_input("a", dtype, shape)
    g.add_input("b", dtype, shape)
    g.add_tensor("z", dtype, shape)
    g.add_node("Add", ["a", "b"], ["z"], name="add")
    g.add_output("z")
    return _write(g, folder, "add_model", **subgraph_kwargs)


def write_slow_model(folder: Path, size: int = 384, depth: int = 8, **subgraph_kwargs) -> tuple[Path, np.ndarray]:
    """y = x @ W @ W ... (depth MatMuls of size x size): slow enough to observe a running request."""
    w = (np.random.default_rng(5).standard_normal((size, size)) / np.sqrt(size)).astype(np.float32)
    g = Graph()
    g.add_input("x", "F32", (size, size))
    g.add_constant("w", w)
    previous = "x"
    for i in range(depth):
        out = "y" if i == depth - 1 else f"t{i}"
        g.add_tensor(out, "F32", (size, size))
        g.add_node("MatMul", [previous, "w"], [out], name=f"matmul{i}")
        previous = out
    g.add_output("y")
    return _write(g, folder, "slow_model", **subgraph_kwargs), w
