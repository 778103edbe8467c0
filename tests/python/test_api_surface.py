"""optima_v2.runtime against the contract (shared/spec/API.md, Python section) and its type stubs.

Two independent oracles: the list of names written out below from API.md, and the hand-written stub
``optima_v2/runtime/_runtime.pyi`` (parsed with ``ast``), which must declare exactly what the compiled
module exposes, with the same parameter names and overloads, and a docstring on everything.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Union

import numpy as np
import pytest
from conftest import SAMPLE_MODEL

import optima_v2
import optima_v2.runtime as rt
from optima_v2.runtime import _runtime

STUB = Path(_runtime.__file__).with_name("_runtime.pyi")

# ---------------------------------------------------------------------------------------------
# API.md, written out by hand: (methods, properties) per class.
# ---------------------------------------------------------------------------------------------

API_CLASSES: dict[str, tuple[set[str], set[str]]] = {
    "Context": ({"load_model", "load_extension", "get_version"}, {"verbosity", "available_devices"}),
    "Model": (
        {"create_request", "get_input_tensor_info", "get_output_tensor_info"},
        {"input_tensor_count", "input_tensors_info", "output_tensor_count", "output_tensors_info", "subgraph_info"},
    ),
    "InferRequest": (
        {"get_input_tensor", "get_output_tensor", "set_inputs", "get_outputs", "set_callback", "infer", "wait"},
        {"input_tensor_count", "input_tensors", "output_tensor_count", "output_tensors", "profile_data"},
    ),
    "Tensor": ({"copy_from", "to_numpy"}, {"name", "shape", "type", "size"}),
    "TensorInfo": (set(), {"shape", "alignment", "type", "name"}),
    "DeviceInfo": (set(), {"framework", "kind", "name", "id"}),
    "ProfileData": (set(), {"kind", "name", "time"}),
}

API_ENUMS: dict[str, list[str]] = {
    "ElementType": "I8 U8 I16 U16 I32 U32 I64 U64 F16 F32 F64 Q8 Q16 BF16".split(),
    "DeviceKind": "x86 x64 ARM ARM64 NVIDIA AMDGPU IntelGPU Mali Adreno Hexagon Myriad ARA1 EdgeTPU CV22".split(),
    "FrameworkKind": "TFLite OpenVINO SNPE DVAPI Vulkan OpenCL Native".split(),
    "LogLevel": "Debug Verbose Info Warning Error".split(),
    "ProfileKind": (
        "ModelInit SubgraphInit RequestInit TransferFromInput TransferToOutput LayerExecute Wait BufferCopy "
        "ModelExecute SubgraphExecute"
    ).split(),
}
# Additions documented in docs/python.md: Bool and the ONNX low-precision types (ml_dtypes).
EXTRA_ELEMENT_TYPES = "Bool F8E4M3FN F8E4M3FNUZ F8E5M2 F8E5M2FNUZ F8E8M0 I4 U4 F4E2M1 I2 U2".split()

API_EXCEPTIONS = [
    "BackendException",
    "InferException",
    "InitializationFailedException",
    "InvalidArgumentException",
    "InvalidExtensionException",
    "InvalidModelException",
    "InvalidOperationException",
    "OutOfResourceException",
    "UnsupportedModelException",
]
API_FUNCTIONS = ["get_element_size", "is_device_cpu", "is_device_gpu", "is_device_npu"]


@pytest.mark.parametrize("cls_name", sorted(API_CLASSES))
def test_api_classes_have_their_members(cls_name):
    cls = getattr(rt, cls_name)
    methods, properties = API_CLASSES[cls_name]
    for name in methods:
        assert callable(getattr(cls, name, None)), f"{cls_name}.{name} is not a method"
    for name in properties:
        assert isinstance(inspect.getattr_static(cls, name, None), property), f"{cls_name}.{name} is not a property"


@pytest.mark.parametrize("enum_name", sorted(API_ENUMS))
def test_api_enums_have_their_members(enum_name):
    enum = getattr(rt, enum_name)
    expected = API_ENUMS[enum_name] + (EXTRA_ELEMENT_TYPES if enum_name == "ElementType" else [])
    assert list(enum.__members__) == expected
    values = [int(member) for member in enum.__members__.values()]
    assert len(set(values)) == len(values)
    for name in expected:
        member = getattr(enum, name)
        assert member.name == name and enum(int(member)) == member


def test_api_exceptions_and_functions():
    assert issubclass(rt.Exception, RuntimeError) and rt.Exception is not RuntimeError
    for name in API_EXCEPTIONS:
        assert issubclass(getattr(rt, name), rt.Exception), name
    for name in API_FUNCTIONS:
        assert callable(getattr(rt, name)), name
    assert rt.get_element_size(rt.ElementType.F32) == 4 and rt.get_element_size(rt.ElementType.BF16) == 2
    assert rt.is_device_cpu(rt.DeviceKind.x64) and not rt.is_device_cpu(rt.DeviceKind.NVIDIA)
    assert rt.is_device_gpu(rt.DeviceKind.Mali) and not rt.is_device_gpu(rt.DeviceKind.ARM64)
    assert rt.is_device_npu(rt.DeviceKind.EdgeTPU) and not rt.is_device_npu(rt.DeviceKind.AMDGPU)


def test_element_type_to_dtype_and_size():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    numpy_types = {
        "I8": np.int8, "U8": np.uint8, "I16": np.int16, "U16": np.uint16, "I32": np.int32,
        "U32": np.uint32, "I64": np.int64, "U64": np.uint64, "F16": np.float16, "F32": np.float32,
        "F64": np.float64, "Q8": np.int8, "Q16": np.int16, "BF16": np.uint16, "Bool": np.bool_,
        "F8E4M3FN": ml_dtypes.float8_e4m3fn, "F8E4M3FNUZ": ml_dtypes.float8_e4m3fnuz,
        "F8E5M2": ml_dtypes.float8_e5m2, "F8E5M2FNUZ": ml_dtypes.float8_e5m2fnuz,
        "F8E8M0": ml_dtypes.float8_e8m0fnu, "I4": ml_dtypes.int4, "U4": ml_dtypes.uint4,
        "F4E2M1": ml_dtypes.float4_e2m1fn, "I2": ml_dtypes.int2, "U2": ml_dtypes.uint2,
    }  # fmt: skip
    assert set(numpy_types) == set(rt.ElementType.__members__)
    for name, scalar in numpy_types.items():
        member = rt.ElementType.__members__[name]
        assert member.to_dtype() == np.dtype(scalar), name
        assert member.size == rt.get_element_size(member) == np.dtype(scalar).itemsize, name


def test_guide_usage_end_to_end(tmp_path):
    """The guide's spellings (loglevel=, callback(req, ex)) and API.md's return types, on the sample model."""
    context = rt.Context(loglevel=rt.LogLevel.Verbose, log_path=str(tmp_path / "runtime.log"))
    assert context.verbosity == rt.LogLevel.Verbose
    assert rt.Context.version == rt.Context.get_version() and len(rt.Context.version) == 3
    assert all(isinstance(part, int) for part in rt.Context.version)
    assert all(isinstance(device, rt.DeviceInfo) for device in context.available_devices)
    with pytest.raises(ValueError):
        context.load_model(str(tmp_path / "missing"))
    model = context.load_model(SAMPLE_MODEL)  # os.PathLike accepted too
    assert model.get_input_tensor_info() == model.get_input_tensor_info(0) == model.input_tensors_info[0]
    info = model.get_input_tensor_info(model.input_tensors_info[1].name)
    assert isinstance(info.shape, tuple) and info.type == rt.ElementType.F32 and info.alignment > 0
    assert model.input_tensor_count == 2 and model.output_tensor_count == 1
    assert [s.framework for s in model.subgraph_info] == [rt.FrameworkKind.Native] * len(model.subgraph_info)
    for text in (repr(info), str(info), repr(context.available_devices[0])):
        assert "(" in text and "=" in text
    with pytest.raises(IndexError):
        model.get_output_tensor_info(1)
    with pytest.raises(ValueError):
        model.get_output_tensor_info("no such output")

    req = model.create_request()
    rng = np.random.default_rng(3)
    inputs = {t.name: rng.standard_normal(t.shape).astype(t.dtype) for t in req.input_tensors}
    req.set_inputs(inputs)
    seen: list[tuple[object, object]] = []
    req.set_callback(lambda r, ex: seen.append((r, ex)))
    req.infer()
    assert req.wait(timeout_ms=0) is False
    assert seen == [(req, None)]
    outputs = req.get_outputs()
    assert isinstance(outputs, list) and isinstance(outputs[0], np.ndarray)
    view = np.asarray(req.get_output_tensor(0))  # buffer protocol: zero-copy
    assert np.shares_memory(view, np.asarray(req.output_tensors[0]))
    np.testing.assert_array_equal(view, outputs[0])
    assert req.get_output_tensor(0).size == outputs[0].nbytes
    kinds = {p.kind for p in req.profile_data}
    assert rt.ProfileKind.ModelExecute in kinds and all(p.time >= 0 for p in req.profile_data)
    assert str(req.profile_data[0])  # readable str


# ---------------------------------------------------------------------------------------------
# The stub against the compiled module.
# ---------------------------------------------------------------------------------------------

StubDef = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.AnnAssign]
FunctionDef = (ast.FunctionDef, ast.AsyncFunctionDef)

# Class attributes every pybind11 class has, which a stub does not restate.
PYBIND_INTERNALS = {"__doc__", "__module__", "__dict__", "__weakref__", "__repr__", "__str__", "__entries",
                    "_pybind11_conduit_v1_"}  # fmt: skip
MODULE_INTERNALS = {"__doc__", "__file__", "__loader__", "__name__", "__package__", "__spec__"}


def _body(nodes: list[ast.stmt]) -> list[ast.stmt]:
    """Statements of a stub body, with ``if sys.version_info ...`` blocks resolved for this interpreter."""
    result: list[ast.stmt] = []
    for node in nodes:
        if isinstance(node, ast.If):
            condition = ast.unparse(node.test)
            assert condition.startswith("sys.version_info"), condition
            taken = eval(condition, {"sys": sys})  # a version comparison from our own stub
            result += _body(node.body if taken else node.orelse)
        else:
            result.append(node)
    return result


def _stub_members(nodes: list[ast.stmt]) -> dict[str, list[StubDef]]:
    members: dict[str, list[StubDef]] = {}
    for node in _body(nodes):
        if isinstance(node, (*FunctionDef, ast.ClassDef)):
            members.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            members.setdefault(node.target.id, []).append(node)
    return members


@pytest.fixture(scope="module")
def stub() -> ast.Module:
    assert STUB.is_file(), f"{STUB} is missing (not copied into the build tree or not in the wheel)"
    assert (Path(optima_v2.__file__).parent / "py.typed").is_file()
    return ast.parse(STUB.read_text(encoding="utf-8"))


def _stub_classes(stub: ast.Module) -> dict[str, ast.ClassDef]:
    """The stub's classes that exist at run time (``_``-prefixed ones are typing helpers)."""
    return {n.name: n for n in stub.body if isinstance(n, ast.ClassDef) and not n.name.startswith("_")}


def _constructible(cls: type) -> bool:
    # pybind11 classes without py::init get object's __init__ docstring and refuse construction.
    return not (cls.__init__.__doc__ or "").startswith("Initialize self")


def _runtime_class_members(cls: type) -> set[str]:
    names = set(vars(cls)) - PYBIND_INTERNALS
    if not _constructible(cls):
        names.discard("__init__")
    # Added to the class by the pure-Python package (optima_v2.runtime), declared in the stub too.
    return names | {n for n in ("infer_async",) if n in vars(cls)}


def _stub_class_members(cls_def: ast.ClassDef, stub: ast.Module) -> set[str]:
    names = set(_stub_members(cls_def.body))
    helpers = {n.name: n for n in stub.body if isinstance(n, ast.ClassDef) and n.name.startswith("_")}
    for base in cls_def.bases:
        if ast.unparse(base) in helpers:
            names |= _stub_class_members(helpers[ast.unparse(base)], stub)
    return names


def test_stub_declares_exactly_the_module(stub):
    stub_names = {name for name in _stub_members(stub.body) if not name.startswith("_") or name == "__version__"}
    runtime_names = set(vars(_runtime)) - MODULE_INTERNALS
    assert stub_names == runtime_names
    # The public package re-exports every name of the binding.
    assert runtime_names <= set(rt.__all__)


def test_stub_classes_declare_exactly_the_runtime_members(stub):
    for name, cls_def in _stub_classes(stub).items():
        cls = getattr(_runtime, name)
        stub_members = _stub_class_members(cls_def, stub)
        if issubclass(cls, BaseException):
            # Python exception classes: only the documented instance attribute.
            assert stub_members <= {"backend_name"}, name
            continue
        assert stub_members == _runtime_class_members(cls), name


def test_stub_member_kinds_match(stub):
    """Properties are properties, methods are callables, static methods are static, in both."""
    for name, cls_def in _stub_classes(stub).items():
        cls = getattr(_runtime, name)
        if issubclass(cls, BaseException):
            continue  # backend_name is an instance attribute
        for member, defs in _stub_members(cls_def.body).items():
            static = inspect.getattr_static(cls, member)
            decorators = {ast.unparse(d) for d in getattr(defs[0], "decorator_list", [])}
            if "property" in decorators:
                assert isinstance(static, property), f"{name}.{member}"
                has_setter = any(ast.unparse(d) == f"{member}.setter" for f in defs for d in f.decorator_list)
                assert has_setter == (static.fset is not None), f"{name}.{member}: setter"
            elif "staticmethod" in decorators:
                assert isinstance(static, staticmethod), f"{name}.{member}"
            elif isinstance(defs[0], FunctionDef):
                assert callable(static) and not isinstance(static, (property, staticmethod)), f"{name}.{member}"
            elif isinstance(static, property) and member != "__members__":  # pybind11: a static property
                pytest.fail(f"{name}.{member} is a property at run time but an attribute in the stub")


def test_stub_class_bases_match(stub):
    for name, cls_def in _stub_classes(stub).items():
        cls = getattr(_runtime, name)
        for base in cls_def.bases:
            base_name = ast.unparse(base)
            if base_name.startswith("_"):
                continue  # stub-only helper base (the shared pybind11 enum surface)
            base_cls = getattr(_runtime, base_name, None) or getattr(builtins, base_name.split(".")[-1])
            assert issubclass(cls, base_cls), f"{name} is not a {base_name}"


def _split_params(text: str) -> list[str]:
    params, depth, current = [], 0, ""
    for char in text + ",":
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        if char == "," and depth == 0:
            param = current.strip().split(":")[0].split("=")[0].strip()
            params.append("<positional>" if re.fullmatch(r"arg\d+", param) else param)
            current = ""
        else:
            current += char
    return [p for p in params if p and p not in {"self", "/"}]


def _runtime_signatures(func: object, name: str) -> list[list[str]]:
    """Parameter names of each overload: from pybind11's generated docstring, or inspect for Python code."""
    if inspect.isfunction(func):
        params = list(inspect.signature(func).parameters.values())[1:]
        names = []
        for p in params:
            if p.kind is p.KEYWORD_ONLY and "*" not in names:
                names.append("*")
            names.append(p.name)
        return [names]
    doc = getattr(func, "__doc__", None) or ""
    pattern = rf"^(?:\d+\. )?{re.escape(name)}\((.*)\) -> "
    return [_split_params(m.group(1)) for m in re.finditer(pattern, doc, flags=re.MULTILINE)]


def _stub_signature(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = fn.args
    names = [a.arg for a in args.posonlyargs + args.args]
    if names and names[0] == "self":
        names = names[1:]
    # pybind11 names unnamed (positional-only) parameters arg0, arg1, ...
    positional = len(args.posonlyargs) - (1 if args.posonlyargs and args.posonlyargs[0].arg == "self" else 0)
    names = ["<positional>"] * positional + names[positional:]
    if args.kwonlyargs:
        names += ["*", *(a.arg for a in args.kwonlyargs)]
    return names


def _stub_functions(stub: ast.Module):
    """(qualified name, runtime callable, stub overloads) for every function and method in the stub."""
    for name, defs in _stub_members(stub.body).items():
        if isinstance(defs[0], FunctionDef):
            yield name, getattr(_runtime, name), defs
    for cls_name, cls_def in _stub_classes(stub).items():
        cls = getattr(_runtime, cls_name)
        for name, defs in _stub_members(cls_def.body).items():
            decorators = {ast.unparse(d) for d in getattr(defs[0], "decorator_list", [])}
            if isinstance(defs[0], FunctionDef) and "property" not in decorators and name != "__buffer__":
                yield f"{cls_name}.{name}", getattr(cls, name), defs


def test_stub_signatures_match_the_module(stub):
    checked = 0
    for qualified, func, defs in _stub_functions(stub):
        name = qualified.rsplit(".", 1)[-1]
        doc = getattr(func, "__doc__", None) or ""
        if name in {"__eq__", "__ne__", "__hash__"} and "Overloaded" in doc:
            continue  # pybind11 enums' comparison operators: one overload per operand type
        runtime_sigs = _runtime_signatures(func, name)
        stub_sigs = [_stub_signature(d) for d in defs]
        assert runtime_sigs, f"{qualified}: no signature in {doc!r}"
        for sig in runtime_sigs:
            assert sig in stub_sigs, f"{qualified}: module has {sig}, stub has {stub_sigs}"
        for sig in stub_sigs:
            assert sig in runtime_sigs, f"{qualified}: stub has {sig}, module has {runtime_sigs}"
        if "Overloaded function." in doc:
            assert len(defs) == len(runtime_sigs), f"{qualified}: overload count"
        checked += 1
    assert checked >= 25  # the loop really ran over the stub


def test_stub_documents_everything(stub):
    undocumented = []

    def visit(nodes: list[ast.stmt], prefix: str) -> None:
        nodes = _body(nodes)
        for i, node in enumerate(nodes):
            if isinstance(node, (*FunctionDef, ast.ClassDef)):
                name = f"{prefix}{node.name}"
                decorators = {ast.unparse(d) for d in getattr(node, "decorator_list", [])}
                # A property setter shares its getter's docstring; the enums' dunders mirror int's.
                exempt = f"{node.name}.setter" in decorators or (prefix == "_Enum." and node.name.startswith("__"))
                if not ast.get_docstring(node) and not exempt:
                    undocumented.append(name)
                if isinstance(node, ast.ClassDef):
                    visit(node.body, f"{name}.")
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                name = f"{prefix}{node.target.id}"
                following = nodes[i + 1] if i + 1 < len(nodes) else None
                documented = isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                if not documented and node.target.id not in {"__members__", "__hash__"}:
                    undocumented.append(name)

    visit(stub.body, "")
    assert not undocumented


def test_runtime_docstrings():
    """Every public class of the module has its own docstring (pybind11 adds signatures to functions)."""
    for name in dir(_runtime):
        obj = getattr(_runtime, name)
        if isinstance(obj, type):
            assert obj.__doc__ and obj.__doc__.strip(), name


def _mypy_env() -> dict[str, str]:
    """Environment for mypy: an installed wheel is found through site-packages (py.typed), a build
    tree (PYTHONPATH=<build>/python, which mypy ignores) through MYPYPATH."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)  # mypy itself never needs a sanitizer runtime
    package_parent = Path(optima_v2.__file__).resolve().parents[1]
    if package_parent.name not in {"site-packages", "dist-packages"}:
        env["MYPYPATH"] = str(package_parent)
        # The same package at run time (stubtest imports it), even when PYTHONPATH was relative.
        env["PYTHONPATH"] = os.pathsep.join([str(package_parent), env.get("PYTHONPATH", "")])
    return env


def test_mypy_stubtest(tmp_path):
    """mypy's stubtest agrees with the stub (existence, kinds and types of everything it can introspect)."""
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (requirements-test.txt has it)")
    if "san" in os.environ.get("LD_PRELOAD", ""):
        # stubtest imports the module, which is sanitizer-built here; the plain pytest job covers it.
        pytest.skip("static check, not run under a sanitizer preload")
    allowlist = Path(__file__).with_name("stubtest_allowlist.txt")
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "optima_v2.runtime._runtime", "--allowlist", str(allowlist)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=_mypy_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr


GOOD_USAGE = '''
from __future__ import annotations

import asyncio
from typing import Optional

import numpy as np
import numpy.typing as npt

import optima_v2.runtime as rt


def on_done(req: rt.InferRequest, ex: Optional[BaseException]) -> None:
    print(req.id, ex)


def on_done_with(req: rt.InferRequest, ex: Optional[BaseException], tag: str) -> None:
    print(req.id, ex, tag.upper())


async def run_async(req: rt.InferRequest, x: npt.NDArray[np.float32]) -> None:
    await req.infer_async({"x": x})


def main() -> None:
    context = rt.Context(loglevel=rt.LogLevel.Verbose, log_path="runtime.log")
    context.verbosity = rt.LogLevel.Info
    major, minor, patch = rt.Context.version
    devices: list[rt.DeviceInfo] = context.available_devices
    model = context.load_model("sample_model", fallback=True)
    info: rt.TensorInfo = model.get_input_tensor_info(1)
    info = model.get_input_tensor_info("input_1")
    shape: tuple[int, ...] = info.shape
    dtype: np.dtype = info.type.to_dtype()
    req = model.create_request()
    arrays = {i.name: np.zeros(i.shape, i.dtype) for i in model.input_tensors_info}
    req.set_inputs(arrays)
    req.set_inputs([np.zeros(shape, dtype)])
    req.set_inputs({0: np.zeros(shape, dtype)})
    for tensor in req.input_tensors:
        tensor.copy_from(np.zeros(tensor.shape, tensor.dtype))
        tensor.copy_from(memoryview(bytearray(tensor.size)))
    req.set_callback(on_done)
    req.set_callback(on_done_with, "tag")
    req.set_callback(None)
    req.infer()
    timed_out: bool = req.wait(timeout_ms=100)
    outputs: list[npt.NDArray[np.generic]] = req.get_outputs()
    view = np.asarray(req.get_output_tensor(0))
    total: int = sum(p.time for p in req.profile_data if p.kind == rt.ProfileKind.LayerExecute)
    asyncio.run(run_async(req, np.zeros(shape, np.float32)))
    kinds = [s.device for s in model.subgraph_info if rt.is_device_cpu(s.device)]
    size: int = rt.get_element_size(rt.ElementType.F8E4M3FN) + rt.ElementType.I4.size
    try:
        req.infer()
    except rt.InvalidOperationException as error:
        print(error, major, minor, patch, devices, timed_out, outputs, view, total, kinds, size)
    except rt.BackendException as error:
        print(error.backend_name)
'''

BAD_USAGE = {  # line -> what mypy must refuse
    "rt.Context(loglevel='verbose')": "loglevel takes a LogLevel",
    "rt.Context().load_model(3)": "paths are str or PathLike",
    "rt.Context().load_model('m').create_request().wait('1s')": "timeout is an int",
    "rt.Context().load_model('m').input_tensor_count = 2": "read-only property",
    "rt.Context().load_model('m').create_request().set_callback(lambda: None)": "callback takes (req, ex)",
    "rt.ElementType.F128": "no such member",
    "rt.get_element_size(rt.DeviceKind.x64)": "an ElementType",
    "x: str = rt.Context().load_model('m').get_input_tensor_info().shape": "shape is a tuple",
}


def _run_mypy(tmp_path: Path, source: str) -> str:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (requirements-test.txt has it)")
    path = tmp_path / "usage.py"
    path.write_text(source, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=_mypy_env(),
    )
    return result.stdout + result.stderr


def test_stub_types_the_guide_usage(tmp_path):
    """The guide's code, typed, passes mypy --strict against the stub; misuse is reported line by line."""
    prefix = GOOD_USAGE + "\n\ndef misuse() -> None:\n"
    source = prefix + "".join(f"    {line}\n" for line in BAD_USAGE)
    output = _run_mypy(tmp_path, source)
    first_bad = prefix.count("\n") + 1
    errors = {int(m.group(1)) for m in re.finditer(r"usage\.py:(\d+): error:", output)}
    assert errors, output
    assert not {line for line in errors if line < first_bad}, output
    for offset, (line, why) in enumerate(BAD_USAGE.items()):
        assert first_bad + offset in errors, f"mypy accepted {line!r} ({why})\n{output}"


def test_docs_guide_runs(tmp_path, monkeypatch):
    """docs/python.md's guide code runs as written (on the sample model, from a scratch folder)."""
    docs = Path(__file__).resolve().parents[2] / "docs" / "python.md"
    if not docs.is_file():
        pytest.skip("docs/python.md is not in this checkout")
    guide = docs.read_text(encoding="utf-8").split("## Guide", 1)[1]
    code = re.search(r"```python\n(.*?)```", guide, flags=re.DOTALL).group(1)
    (tmp_path / "examples").symlink_to(SAMPLE_MODEL.parent)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(docs), "exec"), {"__name__": "docs_guide"})
    assert (tmp_path / "runtime.log").stat().st_size > 0  # loglevel=Verbose, log_path= took effect
