"""Graph constants: copies where the caller may still change the array, lazy ones read at write."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import assert_close

import optima_v2.runtime as rt
from optima_v2.model_folder import Graph, ModelFolder


def _add_graph(constant) -> Graph:
    """y = x + c for x, c of shape [2, 3] F32; ``constant(g)`` declares "c"."""
    g = Graph()
    g.add_input("x", "F32", (2, 3))
    constant(g)
    g.add_tensor("y", "F32", (2, 3))
    g.add_node("Add", ["x", "c"], ["y"])
    g.add_output("y")
    return g


def _run(folder, x: np.ndarray) -> np.ndarray:
    model = rt.Context().load_model(str(folder))
    request = model.create_request()
    request.set_inputs([x])
    request.infer()
    assert request.wait() is False
    return np.array(request.get_outputs()[0])


def test_add_constant_copies_by_default(tmp_path):
    c = np.arange(6, dtype=np.float32).reshape(2, 3)
    g = _add_graph(lambda g: g.add_constant("c", c))
    want = c.copy()
    c[:] = -100  # the caller changes its array after declaring it
    folder = tmp_path / "m"
    model = ModelFolder("m")
    model.add_subgraph(g)
    model.write(folder)
    x = np.ones((2, 3), np.float32)
    assert_close(_run(folder, x), x + want)


def test_add_constant_without_copy_keeps_a_read_only_view(tmp_path):
    c = np.arange(6, dtype=np.float32).reshape(2, 3)
    g = _add_graph(lambda g: g.add_constant("c", c, copy=False))
    data = g.tensor("c").data
    assert np.shares_memory(data, c) and not data.flags.writeable
    assert c.flags.writeable  # the caller's own array is left as it was
    big_endian = np.arange(6, dtype=">f4").reshape(2, 3)
    g2 = _add_graph(lambda g: g.add_constant("c", big_endian, copy=False))
    stored = g2.tensor("c").data
    assert not np.shares_memory(stored, big_endian) and stored.dtype == np.dtype("<f4")
    np.testing.assert_array_equal(stored, big_endian)


def test_lazy_constant_is_read_when_written(tmp_path):
    calls = []
    c = (np.arange(6, dtype=np.float32) * 0.5).reshape(2, 3)

    def load():
        calls.append(1)
        return c

    g = _add_graph(lambda g: g.add_lazy_constant("c", "F32", (2, 3), load))
    assert g.tensor("c").is_constant and not calls
    model = ModelFolder("m")
    model.add_subgraph(g)
    model.write(tmp_path / "m")
    assert len(calls) == 1
    graph = json.loads((tmp_path / "m" / "Subgraph_0" / "graph.json").read_text())
    assert next(t for t in graph["tensors"] if t["name"] == "c")["data"] == {"offset": 0, "size": 24}
    assert (tmp_path / "m" / "Subgraph_0" / "weights.bin").read_bytes() == c.tobytes()
    x = np.full((2, 3), 2.0, np.float32)
    assert_close(_run(tmp_path / "m", x), x + c)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (lambda: np.zeros((3, 2), np.float32), r"returned shape \[3, 2\], declared \[2, 3\]"),
        (lambda: np.zeros((2, 3), np.float64), "cannot hold element type F32"),
        (lambda: [[0.0] * 3] * 2, "not a numpy.ndarray"),
    ],
)
def test_lazy_constant_mismatch_is_a_clear_error(tmp_path, value, message):
    g = _add_graph(lambda g: g.add_lazy_constant("c", "F32", (2, 3), value))
    model = ModelFolder("m")
    model.add_subgraph(g)
    with pytest.raises(ValueError, match=message):
        model.write(tmp_path / "m")
    assert not (tmp_path / "m").exists()
