// Tensor: copy_from / to_numpy with strict checks, and the buffer protocol (zero-copy view).
#include "bindings.h"

#include <OptimaV2/Runtime/Utils/ToString.h>

#include <sstream>

namespace optima_v2::python {

namespace {

// ml_dtypes' numpy dtype of a low-precision element type; nullptr for the other types.
const char *mlDtypesName(rt::ElementType Type) {
  switch (Type) {
  case rt::ElementType::F8E4M3FN: return "float8_e4m3fn";
  case rt::ElementType::F8E4M3FNUZ: return "float8_e4m3fnuz";
  case rt::ElementType::F8E5M2: return "float8_e5m2";
  case rt::ElementType::F8E5M2FNUZ: return "float8_e5m2fnuz";
  case rt::ElementType::F8E8M0: return "float8_e8m0fnu";
  case rt::ElementType::I4: return "int4";
  case rt::ElementType::U4: return "uint4";
  case rt::ElementType::F4E2M1: return "float4_e2m1fn";
  case rt::ElementType::I2: return "int2";
  case rt::ElementType::U2: return "uint2";
  default: return nullptr;
  }
}

// The buffer protocol cannot name ml_dtypes' types: low-precision tensors expose their raw bytes
// (one per element) as uint8.
std::string bufferFormat(rt::ElementType Type) {
  if (mlDtypesName(Type))
    return py::format_descriptor<uint8_t>::format();
  switch (Type) {
  case rt::ElementType::I8:
  case rt::ElementType::Q8:
    return py::format_descriptor<int8_t>::format();
  case rt::ElementType::U8:
    return py::format_descriptor<uint8_t>::format();
  case rt::ElementType::I16:
  case rt::ElementType::Q16:
    return py::format_descriptor<int16_t>::format();
  case rt::ElementType::U16:
  case rt::ElementType::BF16:
    return py::format_descriptor<uint16_t>::format();
  case rt::ElementType::I32:
    return py::format_descriptor<int32_t>::format();
  case rt::ElementType::U32:
    return py::format_descriptor<uint32_t>::format();
  case rt::ElementType::I64:
    return py::format_descriptor<int64_t>::format();
  case rt::ElementType::U64:
    return py::format_descriptor<uint64_t>::format();
  case rt::ElementType::F16:
    return "e";
  case rt::ElementType::F32:
    return py::format_descriptor<float>::format();
  case rt::ElementType::F64:
    return py::format_descriptor<double>::format();
  case rt::ElementType::Bool:
    return "?";
  default:
    break;
  }
  throw py::value_error("unknown element type " + std::to_string(static_cast<int>(Type)));
}

std::string shapeText(const rt::Shape &Shape) { return py::repr(shapeToTuple(Shape)).cast<std::string>(); }

std::vector<py::ssize_t> dims(const rt::Shape &Shape) { return {Shape.begin(), Shape.end()}; }

std::vector<py::ssize_t> byteStrides(const rt::Shape &Shape, size_t ElementSize) {
  std::vector<py::ssize_t> Strides(Shape.getDimensionSize());
  for (size_t I = 0; I < Strides.size(); ++I)
    Strides[I] = static_cast<py::ssize_t>(Shape.getStride(I) * ElementSize);
  return Strides;
}

std::string tensorRepr(const rt::Tensor &T) {
  std::ostringstream Out;
  Out << "Tensor(name=" << py::repr(py::str(T.getName())).cast<std::string>()
      << ", shape=" << shapeText(T.getShape()) << ", type=ElementType." << rt::toString(T.getType())
      << ", size=" << T.getTensorSize() << ")";
  return Out.str();
}

} // namespace

py::dtype toDtype(rt::ElementType Type) {
  const char *Name = mlDtypesName(Type);
  if (!Name)
    return py::dtype(bufferFormat(Type));
  // Imported lazily: only low-precision tensors need ml_dtypes (onnx depends on it).
  py::object Module;
  try {
    Module = py::module_::import("ml_dtypes");
  } catch (py::error_already_set &E) {
    if (!E.matches(PyExc_ImportError))
      throw;
    throw py::type_error("element type " + std::string(rt::toString(Type)) +
                         " needs the ml_dtypes package for its numpy dtype (ml_dtypes." + Name +
                         "); install it with 'pip install ml_dtypes'");
  }
  return py::dtype::from_args(Module.attr(Name));
}

namespace {

// "Role 'name'" naming a tensor in messages, built only for one.
struct TensorLabel {
  const char *Role;
  const rt::Tensor &Tensor;
  std::string str() const { return std::string(Role) + " '" + Tensor.getName() + "'"; }
};

// Copies smaller than this keep the GIL: handing it over costs more than the copy.
constexpr size_t CopyWithGilBytes = size_t(64) << 10;

// toDtype's answer, made once per element type and kept for the process: set_inputs checks a
// dtype on every call, and building one from its format string costs more than the check.
py::dtype cachedDtype(rt::ElementType Type) {
  static PyObject *Cache[256] = {}; // written with the GIL held; never released (process life)
  const auto Index = static_cast<size_t>(Type);
  if (Index >= sizeof(Cache) / sizeof(Cache[0]))
    return toDtype(Type);
  if (!Cache[Index])
    Cache[Index] = toDtype(Type).release().ptr();
  return py::reinterpret_borrow<py::dtype>(Cache[Index]);
}

py::array asArray(const py::handle &Object, const TensorLabel &Label) {
  if (py::isinstance<py::array>(Object))
    return py::reinterpret_borrow<py::array>(Object);
  const std::string What = Label.str();
  // Our own tensors: the typed view (the buffer protocol shows low-precision types as uint8).
  if (py::isinstance<rt::Tensor>(Object))
    return Object.attr("__array__")();
  py::module_ Numpy = py::module_::import("numpy");
  if (PyObject_CheckBuffer(Object.ptr())) {
    // Through a memoryview so the buffer's own format decides the dtype (bytes -> uint8, not |S).
    // A view: numpy keeps the memoryview, and it the exporter, alive.
    auto View = py::reinterpret_steal<py::object>(PyMemoryView_FromObject(Object.ptr()));
    if (!View)
      throw py::error_already_set();
    return Numpy.attr("asarray")(View);
  }
  if (py::hasattr(Object, "__dlpack__")) {
    try {
      return Numpy.attr("from_dlpack")(Object);
    } catch (py::error_already_set &E) {
      throw py::type_error(What + ": cannot view the " + typeName(Object) + " through DLPack: " + E.what());
    }
  }
  throw py::type_error(What + ": expected a numpy.ndarray or an object supporting the buffer protocol or "
                       "DLPack, got " + typeName(Object));
}

} // namespace

py::array checkArrayForTensor(const rt::Tensor &Tensor, const py::handle &Object, const char *Role) {
  // Messages (label, shapes as text) are built only on a mismatch: this runs on every set_inputs.
  const TensorLabel Label{Role, Tensor};
  py::array Array = asArray(Object, Label);
  const rt::Shape &Shape = Tensor.getShape();
  if (Array.ndim() > static_cast<py::ssize_t>(rt::Shape::MaxDimensions))
    throw py::value_error(Label.str() + ": array has " + std::to_string(Array.ndim()) +
                          " dimensions, at most " + std::to_string(rt::Shape::MaxDimensions) +
                          " are supported");
  py::dtype Expected = cachedDtype(Tensor.getType());
  if (!Array.dtype().equal(Expected))
    throw py::type_error(Label.str() + ": array dtype " + std::string(py::str(Array.dtype())) +
                         " does not match the tensor type " + std::string(rt::toString(Tensor.getType())) +
                         " (numpy " + std::string(py::str(Expected)) + ")");
  if (!(Array.flags() & py::array::c_style))
    throw py::value_error(Label.str() + ": array is not C-contiguous (row-major); use numpy.ascontiguousarray");
  bool SameShape = static_cast<size_t>(Array.ndim()) == Shape.getDimensionSize();
  for (size_t I = 0; SameShape && I < Shape.getDimensionSize(); ++I)
    SameShape = static_cast<size_t>(Array.shape(static_cast<py::ssize_t>(I))) == Shape[I];
  if (!SameShape)
    throw py::value_error(Label.str() + ": array shape " +
                          py::repr(py::tuple(Array.attr("shape"))).cast<std::string>() +
                          " does not match the tensor shape " + shapeText(Shape));
  return Array;
}

void copyCheckedArray(rt::Tensor &Tensor, const py::array &Array) {
  const void *Source = Array.data();
  size_t Bytes = static_cast<size_t>(Array.nbytes());
  // Large copies let other Python threads run (the caller keeps the array referenced meanwhile).
  if (Bytes < CopyWithGilBytes) {
    Tensor.copyFrom(Source, Bytes);
    return;
  }
  py::gil_scoped_release NoGil;
  Tensor.copyFrom(Source, Bytes);
}

py::array tensorToNumpy(rt::Tensor &Tensor) {
  const rt::Shape &Shape = Tensor.getShape();
  py::array Result(toDtype(Tensor.getType()), dims(Shape));
  void *Destination = Result.mutable_data();
  size_t Bytes = Tensor.getTensorSize();
  {
    py::gil_scoped_release NoGil;
    Tensor.copyTo(Destination, Bytes);
  }
  return Result;
}

void registerTensor(py::module_ &M) {
  py::class_<rt::Tensor>(M, "Tensor", py::buffer_protocol(),
                         "An input or output tensor of an InferRequest (host memory owned by the "
                         "request). Obtained from a request, never constructed.\n\n"
                         "Supports the buffer protocol: ``numpy.asarray(tensor)`` is a writable, "
                         "zero-copy view of the tensor's memory, valid while the tensor object lives. "
                         "Low-precision types (F8*, F4E2M1, I4, U4, I2, U2) are viewed as their raw "
                         "bytes (uint8): ``numpy.asarray(tensor).view(tensor.dtype)`` gives the "
                         "ml_dtypes view.")
      .def("copy_from",
           [](rt::Tensor &T, const py::handle &Object) {
             copyCheckedArray(T, checkArrayForTensor(T, Object, "tensor"));
           },
           py::arg("array"),
           "Copy a C-contiguous array of exactly the tensor's shape and dtype into the tensor: an "
           "ndarray, any buffer-protocol object (memoryview, bytearray, array.array, another Tensor) "
           "or a DLPack producer (torch tensor), viewed through numpy without an intermediate copy. "
           "Other types or a wrong dtype -> TypeError; wrong shape, > 8 dims or non-contiguous -> "
           "ValueError.")
      .def("to_numpy", &tensorToNumpy, "A new ndarray holding a copy of the tensor's data.")
      .def("__array__", &tensorArray, py::arg("dtype") = py::none(), py::kw_only(), py::arg("copy") = py::none(),
           "numpy array protocol: a zero-copy view of the tensor with its numpy dtype (ml_dtypes' for "
           "low-precision types). copy=True returns a copy; a different dtype converts (a copy), "
           "which copy=False refuses with ValueError.")
      .def("__dlpack__", &tensorDlpack, py::kw_only(), py::arg("stream") = py::none(),
           py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(), py::arg("copy") = py::none(),
           "DLPack export (numpy.from_dlpack, torch.from_dlpack): a capsule viewing the tensor's host "
           "memory without a copy (copy=True exports a copy). The capsule keeps the tensor and its "
           "request alive. stream must be None; dl_device, when given, must be (1, 0) (kDLCPU). "
           "Low-precision types (F8*, F4E2M1, I4, U4, I2, U2) raise BufferError. BF16 exports as "
           "DLPack bfloat16 (torch.bfloat16; numpy cannot import it).")
      .def("__dlpack_device__", [](const rt::Tensor &) { return tensorDlpackDevice(); },
           "(1, 0): kDLCPU, device 0 (model I/O tensors are host memory).")
      .def_property_readonly("name", &rt::Tensor::getName)
      .def_property_readonly("shape", [](const rt::Tensor &T) { return shapeToTuple(T.getShape()); })
      .def_property_readonly("type", &rt::Tensor::getType)
      .def_property_readonly("dtype", [](const rt::Tensor &T) { return toDtype(T.getType()); })
      .def_property_readonly("size", &rt::Tensor::getTensorSize, "Size in bytes.")
      .def_property_readonly("info", &rt::Tensor::getInfo)
      .def("__repr__", &tensorRepr)
      .def_buffer([](rt::Tensor &T) {
        // Model I/O tensors are host memory owned by the request, so the pointer stays valid after
        // the mapping guard is released; the view keeps this Tensor (and through it the request)
        // alive.
        void *Data = nullptr;
        {
          auto Buffer = T.getBuffer();
          Data = Buffer.data();
        }
        size_t ElementSize = rt::getSizeOfElement(T.getType());
        return py::buffer_info(Data, static_cast<py::ssize_t>(ElementSize), bufferFormat(T.getType()),
                               static_cast<py::ssize_t>(T.getShape().getDimensionSize()), dims(T.getShape()),
                               byteStrides(T.getShape(), ElementSize));
      });
}

} // namespace optima_v2::python
