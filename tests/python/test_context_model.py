"""Context, Model, enums, structs and the exception classes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SAMPLE_MODEL, write_add_model, write_unary_model

import optima_v2.runtime as rt

EXCEPTIONS = [
    rt.BackendException,
    rt.InferException,
    rt.InitializationFailedException,
    rt.InvalidArgumentException,
    rt.InvalidExtensionException,
    rt.InvalidModelException,
    rt.InvalidOperationException,
    rt.OutOfResourceException,
    rt.UnsupportedModelException,
]


def test_exception_hierarchy():
    assert issubclass(rt.Exception, RuntimeError)
    for cls in EXCEPTIONS:
        assert issubclass(cls, rt.Exception), cls
        assert cls.__module__ == "optima_v2.runtime"
    assert issubclass(rt.InvalidArgumentException, ValueError)


def test_version():
    assert rt.Context.version == (0, 1, 0)
    assert rt.Context.get_version() == (0, 1, 0)
    assert rt.__version__ == "0.1.0"


def test_context_options(tmp_path):
    log = tmp_path / "runtime.log"
    context = rt.Context(loglevel=rt.LogLevel.Verbose, log_path=str(log))
    assert context.verbosity == rt.LogLevel.Verbose
    context.load_model(str(SAMPLE_MODEL))
    del context
    assert log.is_file() and log.stat().st_size > 0  # verbose messages went to the file
    context = rt.Context(rt.LogLevel.Error)
    assert context.verbosity == rt.LogLevel.Error
    context.verbosity = rt.LogLevel.Info
    assert context.verbosity == rt.LogLevel.Info
    assert context.set_verbosity(rt.LogLevel.Debug) == rt.LogLevel.Info
    assert rt.Context(verbosity=rt.LogLevel.Info, log_path=tmp_path / "b.log").verbosity == rt.LogLevel.Info
    assert rt.Context().verbosity == rt.LogLevel.Warning
    assert rt.Context(thread_count=1, enable_profile=False).thread_count == 1
    with pytest.raises(ValueError):
        rt.Context(verbosity=rt.LogLevel.Info, loglevel=rt.LogLevel.Error)
    with pytest.raises(ValueError):
        rt.Context(thread_count=-1)
    with pytest.raises(TypeError):
        rt.Context(verbosity="loud")
    with pytest.raises(rt.InvalidArgumentException):
        rt.Context(log_path=str(tmp_path))  # a folder is not a log file


def test_available_devices(context):
    devices = context.available_devices
    assert devices, "the bundled native extension offers a CPU device"
    cpu = [d for d in devices if d.framework == rt.FrameworkKind.Native]
    assert cpu and rt.is_device_cpu(cpu[0].kind)
    assert isinstance(cpu[0].name, str) and isinstance(cpu[0].id, str)
    assert "DeviceInfo(" in repr(cpu[0])
    assert any("Native" in text for text in context.loaded_extensions)


def test_load_model_path_errors(context, tmp_path):
    with pytest.raises(ValueError):
        context.load_model(str(tmp_path / "missing"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError):
        context.load_model(str(tmp_path / "file"))
    with pytest.raises(rt.InvalidModelException):
        context.load_model(str(tmp_path))  # a folder without model.meta
    (tmp_path / "model.meta").write_text("{not json")
    with pytest.raises(rt.InvalidModelException, match=r"model\.meta"):
        context.load_model(tmp_path)  # os.PathLike works too


def test_invalid_and_unsupported_models(context, tmp_path):
    path = write_add_model(tmp_path / "bad_graph", "F32", (3,))
    (path / "Subgraph_0" / "graph.json").write_text('{"format": "optima-v2-native-graph"}')
    with pytest.raises(rt.InvalidModelException):
        context.load_model(str(path))
    path = write_unary_model(tmp_path / "unknown_op", "NoSuchOp", "F32", (3,))
    with pytest.raises(rt.UnsupportedModelException, match="NoSuchOp"):
        context.load_model(str(path))
    path = write_add_model(tmp_path / "no_device", "F32", (3,), framework="SNPE", device="Hexagon:0")
    with pytest.raises(rt.UnsupportedModelException):
        context.load_model(str(path))
    meta = json.loads((path / "model.meta").read_text())
    meta["format_version"] = 2
    (path / "model.meta").write_text(json.dumps(meta))
    with pytest.raises(rt.InvalidModelException):
        context.load_model(str(path))


def test_fallback_runs_on_the_cpu(context, tmp_path):
    path = write_add_model(tmp_path / "m", "F32", (3,), framework="OpenCL", device="NVIDIA:0")
    model = context.load_model(str(path), fallback=True)
    info = model.subgraph_info[0]
    assert info.fell_back and rt.is_device_cpu(info.device)
    req = model.create_request()
    a, b = np.arange(3, dtype=np.float32), np.full(3, 0.5, np.float32)
    req.set_inputs([a, b])
    req.infer()
    req.wait()
    assert np.array_equal(req.get_outputs()[0], a + b)


def test_load_extension_errors(context, tmp_path):
    with pytest.raises(ValueError):
        context.load_extension(str(tmp_path / "missing.so"))
    with pytest.raises(ValueError):
        context.load_extension("")
    bogus = tmp_path / "libbogus.so"
    bogus.write_bytes(b"not an ELF file")
    with pytest.raises(rt.InvalidExtensionException):
        context.load_extension(str(bogus))


def test_accelerator_extension(accel_path, tmp_path):
    context = rt.Context()
    context.load_extension(str(accel_path))
    assert any(d.kind == rt.DeviceKind.NVIDIA and rt.is_device_gpu(d.kind) for d in context.available_devices)
    path = write_add_model(tmp_path / "m", "F32", (3,), framework="OpenCL", device="NVIDIA:0")
    (path / "Subgraph_0" / "sim_accel.json").write_text('{"fail_at": "alloc", "repeat": true}')
    model = context.load_model(str(path))
    with pytest.raises(rt.OutOfResourceException):
        model.create_request()


def test_model_info(model):
    assert model.name == "SampleModel"
    assert model.input_tensor_count == 2
    assert model.output_tensor_count == 1
    info = model.get_input_tensor_info()
    assert info.name == "input_1"
    assert info.shape == (1, 3, 32, 32)
    assert info.type == rt.ElementType.F32
    assert info.alignment == 64
    assert info.dtype == np.float32
    assert info.size == 3 * 32 * 32 * 4
    assert repr(info) == "TensorInfo(name='input_1', shape=(1, 3, 32, 32), type=ElementType.F32, alignment=64)"
    assert str(info) == repr(info)
    assert model.get_input_tensor_info(1) == model.get_input_tensor_info("input_2")
    assert [i.name for i in model.input_tensors_info] == ["input_1", "input_2"]
    assert [i.name for i in model.output_tensors_info] == ["output_1"]
    assert model.get_output_tensor_info("output_1").shape == (1, 1, 32, 32)
    assert model.get_input_index("input_2") == 1 and model.get_input_index("zzz") is None
    assert model.get_output_index("output_1") == 0
    subgraphs = model.subgraph_info
    assert len(subgraphs) == 1
    assert subgraphs[0].name == "Subgraph_0" and subgraphs[0].framework == rt.FrameworkKind.Native
    assert subgraphs[0].inputs == ["input_1", "input_2"] and subgraphs[0].outputs == ["output_1"]
    assert not subgraphs[0].fell_back
    assert "SubgraphInfo(" in repr(subgraphs[0])
    kinds = [p.kind for p in model.load_profile_data]
    assert rt.ProfileKind.ModelInit in kinds and rt.ProfileKind.SubgraphInit in kinds


def test_model_info_errors(model):
    with pytest.raises(IndexError):
        model.get_input_tensor_info(2)
    with pytest.raises(IndexError):
        model.get_input_tensor_info(-1)
    with pytest.raises(IndexError):
        model.get_output_tensor_info(1)
    with pytest.raises(ValueError, match="input_9"):
        model.get_input_tensor_info("input_9")
    with pytest.raises(ValueError):
        model.get_output_tensor_info("input_1")


def test_element_types():
    expected = {
        rt.ElementType.I8: np.int8,
        rt.ElementType.U8: np.uint8,
        rt.ElementType.I16: np.int16,
        rt.ElementType.U16: np.uint16,
        rt.ElementType.I32: np.int32,
        rt.ElementType.U32: np.uint32,
        rt.ElementType.I64: np.int64,
        rt.ElementType.U64: np.uint64,
        rt.ElementType.F16: np.float16,
        rt.ElementType.F32: np.float32,
        rt.ElementType.F64: np.float64,
        rt.ElementType.Q8: np.int8,
        rt.ElementType.Q16: np.int16,
        rt.ElementType.BF16: np.uint16,
        rt.ElementType.Bool: np.bool_,
    }
    try:
        import ml_dtypes
    except ImportError:  # the low-precision types need it (tests/python/test_element_types.py)
        ml_dtypes = None
    if ml_dtypes is not None:
        expected.update(
            {
                rt.ElementType.F8E4M3FN: ml_dtypes.float8_e4m3fn,
                rt.ElementType.F8E4M3FNUZ: ml_dtypes.float8_e4m3fnuz,
                rt.ElementType.F8E5M2: ml_dtypes.float8_e5m2,
                rt.ElementType.F8E5M2FNUZ: ml_dtypes.float8_e5m2fnuz,
                rt.ElementType.F8E8M0: ml_dtypes.float8_e8m0fnu,
                rt.ElementType.I4: ml_dtypes.int4,
                rt.ElementType.U4: ml_dtypes.uint4,
                rt.ElementType.F4E2M1: ml_dtypes.float4_e2m1fn,
                rt.ElementType.I2: ml_dtypes.int2,
                rt.ElementType.U2: ml_dtypes.uint2,
            }
        )
        assert set(expected) == set(rt.ElementType.__members__.values())
    for element, dtype in expected.items():
        assert element.to_dtype() == np.dtype(dtype)
        assert rt.get_element_size(element) == np.dtype(dtype).itemsize == element.size


def test_device_kinds():
    cpus = {rt.DeviceKind.x86, rt.DeviceKind.x64, rt.DeviceKind.ARM, rt.DeviceKind.ARM64}
    gpus = {
        rt.DeviceKind.NVIDIA,
        rt.DeviceKind.AMDGPU,
        rt.DeviceKind.IntelGPU,
        rt.DeviceKind.Mali,
        rt.DeviceKind.Adreno,
    }
    for kind in rt.DeviceKind.__members__.values():
        assert rt.is_device_cpu(kind) == (kind in cpus)
        assert rt.is_device_gpu(kind) == (kind in gpus)
        assert rt.is_device_npu(kind) == (kind not in cpus | gpus)
    assert set(rt.FrameworkKind.__members__) == {"TFLite", "OpenVINO", "SNPE", "DVAPI", "Vulkan", "OpenCL", "Native"}
    assert list(rt.LogLevel.__members__) == ["Debug", "Verbose", "Info", "Warning", "Error"]
    assert len(rt.ProfileKind.__members__) == 10
