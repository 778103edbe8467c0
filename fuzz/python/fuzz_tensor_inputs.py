"""Atheris fuzz target for the Python input path (issue #9 item 3).

Arbitrary objects, dtypes, shapes and strides go into ``Tensor.copy_from``, ``InferRequest.set_inputs``
and the input lookups of a model whose outputs are Identity copies of its inputs, one input per
element type. A finding is anything other than:

- the documented rejection: ``TypeError``, ``ValueError``, ``IndexError`` (or an ``rt.Exception``),
  with the request's inputs left unchanged, or
- acceptance, after which the tensor holds exactly the array's values and an inference returns them.

Usage (see fuzz/README.md)::

    python fuzz/python/fuzz_tensor_inputs.py -atheris_runs=200000            # against the installed wheel
    PYTHONPATH=build/asan-ubsan/python LD_PRELOAD=$(gcc -print-file-name=libasan.so) \\
        ASAN_OPTIONS=detect_leaks=0 python fuzz/python/fuzz_tensor_inputs.py -max_total_time=60
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

import atheris

with atheris.instrument_imports(include=["optima_v2"]):
    import optima_v2.runtime as rt
    from optima_v2.model_folder import Graph, ModelFolder

import numpy as np

# (element type, numpy dtype, shape) of the model's inputs: every byte width, a bool, a rank-0 one.
INPUTS: list[tuple[str, Any, tuple[int, ...]]] = [
    ("F32", np.float32, (2, 3)),
    ("F16", np.float16, (4,)),
    ("F64", np.float64, ()),
    ("I8", np.int8, (1, 2, 1, 2)),
    ("U8", np.uint8, (5,)),
    ("I16", np.int16, (2, 2)),
    ("I32", np.int32, (3, 1)),
    ("I64", np.int64, (2,)),
    ("Bool", np.bool_, (2, 2)),
]

CANDIDATE_DTYPES: list[Any] = [
    np.float32, np.float16, np.float64, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
    np.int64, np.uint64, np.bool_, np.complex64, np.object_, "U3", "S2", "M8[s]", ">f4", ">i8",
    [("a", np.int32), ("b", np.float32)],
]

ALLOWED = (TypeError, ValueError, IndexError, rt.Exception)


def build_model(folder: Path) -> Path:
    graph = Graph()
    for i, (type_name, _dtype, shape) in enumerate(INPUTS):
        graph.add_input(f"x{i}", type_name, shape)
        graph.add_tensor(f"y{i}", type_name, shape)
        graph.add_node("Identity", [f"x{i}"], [f"y{i}"], name=f"identity{i}")
        graph.add_output(f"y{i}")
    model = ModelFolder("fuzz_identity")
    model.add_subgraph(graph)
    return model.write(folder / "fuzz_identity")


class Target:
    def __init__(self, folder: Path) -> None:
        self.context = rt.Context()
        self.model = self.context.load_model(str(build_model(folder)))
        self.request = self.model.create_request()

    def snapshot(self) -> list[np.ndarray]:
        return [self.request.get_input_tensor(i).to_numpy() for i in range(len(INPUTS))]


@atheris.instrument_func
def make_array(fdp: atheris.FuzzedDataProvider) -> Any:
    """An ndarray of any dtype, rank (0..10), size and layout (strided, transposed, broadcast, 0-d)."""
    dtype = np.dtype(CANDIDATE_DTYPES[fdp.ConsumeIntInRange(0, len(CANDIDATE_DTYPES) - 1)])
    rank = fdp.ConsumeIntInRange(0, 10)
    shape = tuple(fdp.ConsumeIntInRange(0, 6) for _ in range(rank))
    # Ten dims of 6 would be 60 M elements: keep the harness itself small (huge extents come from
    # the zero-stride layout below, which costs no memory).
    while int(np.prod(shape, dtype=np.int64)) > 4096:
        shape = shape[:-1]
    rank = len(shape)
    count = int(np.prod(shape)) if shape else 1
    raw = fdp.ConsumeBytes(count * dtype.itemsize)
    raw += b"\0" * (count * dtype.itemsize - len(raw))
    if dtype.hasobject:
        array = np.array([fdp.ConsumeInt(4) for _ in range(count)], dtype=object).reshape(shape)
    else:
        array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    layout = fdp.ConsumeIntInRange(0, 5)
    if layout == 1 and rank >= 2:
        array = array.T
    elif layout == 2 and rank >= 1:
        array = array[::2]
    elif layout == 3 and rank >= 1:
        # A zero-stride view claiming a huge extent without owning the memory.
        array = np.lib.stride_tricks.as_strided(array, shape=(2**40, *shape[1:]), strides=(0, *array.strides[1:]))
    elif layout == 4:
        array = array[np.newaxis]
    elif layout == 5:
        array.flags.writeable = False
    return array


@atheris.instrument_func
def make_matching(fdp: atheris.FuzzedDataProvider, index: int) -> np.ndarray:
    """A valid array for input `index`, filled from the fuzz data (any bit pattern, NaNs included)."""
    _type_name, dtype, shape = INPUTS[index]
    count = int(np.prod(shape)) if shape else 1
    width = np.dtype(dtype).itemsize
    raw = fdp.ConsumeBytes(count * width)
    raw += b"\0" * (count * width - len(raw))
    if dtype is np.bool_:
        return (np.frombuffer(raw, dtype=np.uint8) & 1).astype(np.bool_).reshape(shape)
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


@atheris.instrument_func
def make_object(fdp: atheris.FuzzedDataProvider) -> Any:
    choice = fdp.ConsumeIntInRange(0, 9)
    makers: list[Callable[[], Any]] = [
        lambda: make_array(fdp),
        lambda: make_matching(fdp, fdp.ConsumeIntInRange(0, len(INPUTS) - 1)),
        lambda: None,
        lambda: fdp.ConsumeInt(8),
        lambda: fdp.ConsumeFloat(),
        lambda: fdp.ConsumeUnicode(8),
        lambda: fdp.ConsumeBytes(16),
        lambda: bytearray(fdp.ConsumeBytes(16)),
        lambda: [fdp.ConsumeFloat() for _ in range(fdp.ConsumeIntInRange(0, 6))],
        lambda: memoryview(fdp.ConsumeBytes(24)),
    ]
    return makers[choice]()


@atheris.instrument_func
def make_key(fdp: atheris.FuzzedDataProvider) -> Any:
    kind = fdp.ConsumeIntInRange(0, 4)
    if kind == 0:
        return f"x{fdp.ConsumeIntInRange(-1, len(INPUTS))}"
    if kind == 1:
        return fdp.ConsumeUnicode(6)
    if kind == 2:
        return fdp.ConsumeInt(10) if fdp.ConsumeBool() else fdp.ConsumeIntInRange(-2, 12)
    if kind == 3:
        return fdp.ConsumeBool()
    return fdp.ConsumeFloat()


@atheris.instrument_func
def expect_unchanged(target: Target, before: list[np.ndarray]) -> None:
    for i, (old, new) in enumerate(zip(before, target.snapshot())):
        if old.tobytes() != new.tobytes():
            raise AssertionError(f"input x{i} changed although the call was rejected")


@atheris.instrument_func
def check_round_trip(target: Target, expected: dict[int, np.ndarray]) -> None:
    for i, array in expected.items():
        got = target.request.get_input_tensor(i).to_numpy()
        if got.tobytes() != np.ascontiguousarray(array).tobytes():
            raise AssertionError(f"input x{i} does not hold the accepted array's bytes")
    target.request.infer()
    target.request.wait()
    outputs = target.request.get_outputs()
    for i, array in expected.items():
        if outputs[i].tobytes() != np.ascontiguousarray(array).tobytes():
            raise AssertionError(f"output y{i} differs from the input it copies")


@atheris.instrument_func
def one_input(target: Target, fdp: atheris.FuzzedDataProvider) -> None:
    mode = fdp.ConsumeIntInRange(0, 3)
    before = target.snapshot()
    try:
        if mode == 0:
            key = make_key(fdp)
            tensor = target.request.get_input_tensor(key)
            index = int(key[1:]) if isinstance(key, str) else int(key)
            value = make_object(fdp)
            tensor.copy_from(value)
            accepted = {index: value}
        elif mode == 1:
            values = [make_object(fdp) if fdp.ConsumeProbability() < 0.2 else make_matching(fdp, i)
                      for i in range(fdp.ConsumeIntInRange(len(INPUTS) - 1, len(INPUTS) + 1))]
            if fdp.ConsumeBool():
                values = tuple(values)  # type: ignore[assignment]
            target.request.set_inputs(values)
            accepted = dict(enumerate(values))
        elif mode == 2:
            mapping = {make_key(fdp): make_object(fdp) for _ in range(fdp.ConsumeIntInRange(0, 4))}
            target.request.set_inputs(mapping)
            accepted = {int(k[1:]) if isinstance(k, str) else int(k): v for k, v in mapping.items()}
        else:
            target.request.set_inputs(make_object(fdp))
            accepted = {}
    except ALLOWED:
        expect_unchanged(target, before)
        return
    check_round_trip(target, accepted)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="optima-fuzz-") as tmp:
        target = Target(Path(tmp))

        def test_one_input(data: bytes) -> None:
            one_input(target, atheris.FuzzedDataProvider(data))

        atheris.Setup(sys.argv, test_one_input)
        atheris.Fuzz()


if __name__ == "__main__":
    main()
