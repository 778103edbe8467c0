// Tensor interop without copies: the numpy array protocol (__array__) and DLPack (__dlpack__,
// __dlpack_device__). The DLPack structs are declared here from the DLPack specification (v1.0
// ABI, dlpack.h); the layouts are part of that stable C ABI, so no header is vendored.
#include "bindings.h"

#include <OptimaV2/Runtime/Utils/ToString.h>

#include <array>

namespace optima_v2::python {

namespace {

// --- DLPack ABI (https://dmlc.github.io/dlpack/latest/c_api.html) --------------------------------
constexpr int32_t DLDeviceCPU = 1; // kDLCPU
enum DLTypeCode : uint8_t { DLInt = 0, DLUInt = 1, DLFloat = 2, DLBfloat = 4, DLBool = 6 };

struct DLDevice {
  int32_t DeviceType;
  int32_t DeviceId;
};
struct DLDataType {
  uint8_t Code;
  uint8_t Bits;
  uint16_t Lanes;
};
struct DLTensor {
  void *Data;
  DLDevice Device;
  int32_t Ndim;
  DLDataType Dtype;
  int64_t *Shape;
  int64_t *Strides; // in elements
  uint64_t ByteOffset;
};
struct DLManagedTensor {
  DLTensor Tensor;
  void *ManagerCtx;
  void (*Deleter)(DLManagedTensor *Self);
};
struct DLPackVersion {
  uint32_t Major;
  uint32_t Minor;
};
struct DLManagedTensorVersioned {
  DLPackVersion Version;
  void *ManagerCtx;
  void (*Deleter)(DLManagedTensorVersioned *Self);
  uint64_t Flags;
  DLTensor Tensor;
};
constexpr uint64_t DLPackFlagIsCopied = 1u << 1;
constexpr uint32_t DLPackMajor = 1, DLPackMinor = 0;
constexpr const char *LegacyName = "dltensor";
constexpr const char *VersionedName = "dltensor_versioned";

// Owns what the exported DLTensor points into: a strong reference to the exporting object (the
// Tensor, which keeps its request alive, or the ndarray of a copy) plus shape and strides.
struct DLPackHolder {
  PyObject *Owner = nullptr;
  std::array<int64_t, rt::Shape::MaxDimensions> Shape{};
  std::array<int64_t, rt::Shape::MaxDimensions> Strides{};
  DLManagedTensor Legacy{};
  DLManagedTensorVersioned Versioned{};
};

// Consumers may call the deleter from any thread, with or without the GIL.
void releaseHolder(DLPackHolder *Holder) {
  PythonEntry Entry;
  if (Entry.allowed() && Py_IsInitialized()) {
    PyGILState_STATE State = PyGILState_Ensure();
    Py_XDECREF(Holder->Owner);
    PyGILState_Release(State);
  } // else: the interpreter exits; the reference dies with it
  delete Holder;
}

void deleteLegacy(DLManagedTensor *Self) { releaseHolder(static_cast<DLPackHolder *>(Self->ManagerCtx)); }
void deleteVersioned(DLManagedTensorVersioned *Self) {
  releaseHolder(static_cast<DLPackHolder *>(Self->ManagerCtx));
}

// A capsule never consumed (still carrying its original name) frees its tensor itself.
void destroyLegacyCapsule(PyObject *Capsule) {
  if (!PyCapsule_IsValid(Capsule, LegacyName))
    return;
  auto *Managed = static_cast<DLManagedTensor *>(PyCapsule_GetPointer(Capsule, LegacyName));
  if (Managed && Managed->Deleter)
    Managed->Deleter(Managed);
}
void destroyVersionedCapsule(PyObject *Capsule) {
  if (!PyCapsule_IsValid(Capsule, VersionedName))
    return;
  auto *Managed = static_cast<DLManagedTensorVersioned *>(PyCapsule_GetPointer(Capsule, VersionedName));
  if (Managed && Managed->Deleter)
    Managed->Deleter(Managed);
}

DLDataType dlpackType(rt::ElementType Type) {
  switch (Type) {
  case rt::ElementType::I8:
  case rt::ElementType::Q8: return {DLInt, 8, 1};
  case rt::ElementType::U8: return {DLUInt, 8, 1};
  case rt::ElementType::I16:
  case rt::ElementType::Q16: return {DLInt, 16, 1};
  case rt::ElementType::U16: return {DLUInt, 16, 1};
  case rt::ElementType::I32: return {DLInt, 32, 1};
  case rt::ElementType::U32: return {DLUInt, 32, 1};
  case rt::ElementType::I64: return {DLInt, 64, 1};
  case rt::ElementType::U64: return {DLUInt, 64, 1};
  case rt::ElementType::F16: return {DLFloat, 16, 1};
  case rt::ElementType::F32: return {DLFloat, 32, 1};
  case rt::ElementType::F64: return {DLFloat, 64, 1};
  case rt::ElementType::BF16: return {DLBfloat, 16, 1};
  case rt::ElementType::Bool: return {DLBool, 8, 1};
  default: break;
  }
  PyErr_SetString(PyExc_BufferError,
                  ("__dlpack__: element type " + std::string(rt::toString(Type)) +
                   " has no DLPack type code that numpy or torch import; use numpy.asarray(tensor) "
                   "(ml_dtypes view) instead")
                      .c_str());
  throw py::error_already_set();
}

[[noreturn]] void bufferError(const std::string &Message) {
  PyErr_SetString(PyExc_BufferError, Message.c_str());
  throw py::error_already_set();
}

// Host pointer of a model I/O tensor: host memory owned by the request, valid after the mapping
// guard is released as long as the request lives (the exported object keeps it alive).
void *hostData(rt::Tensor &T) {
  auto Buffer = T.getBuffer();
  return Buffer.data();
}

py::array viewOf(const py::object &Self) {
  auto &T = Self.cast<rt::Tensor &>();
  const rt::Shape &Shape = T.getShape();
  size_t ElementSize = rt::getSizeOfElement(T.getType());
  std::vector<py::ssize_t> Dims(Shape.begin(), Shape.end());
  std::vector<py::ssize_t> Strides(Dims.size());
  for (size_t I = 0; I < Strides.size(); ++I)
    Strides[I] = static_cast<py::ssize_t>(Shape.getStride(I) * ElementSize);
  // Base = Self: the view keeps the Tensor (and its request) alive.
  return py::array(toDtype(T.getType()), Dims, Strides, hostData(T), Self);
}

bool isFalse(const py::object &Value) { return py::isinstance<py::bool_>(Value) && !Value.cast<bool>(); }
bool isTrue(const py::object &Value) { return py::isinstance<py::bool_>(Value) && Value.cast<bool>(); }

} // namespace

py::object tensorArray(const py::object &Self, const py::object &Dtype, const py::object &Copy) {
  if (!Copy.is_none() && !py::isinstance<py::bool_>(Copy))
    throw py::type_error("__array__: copy must be True, False or None");
  py::array View = viewOf(Self);
  bool Convert = !Dtype.is_none() && !View.dtype().equal(py::dtype::from_args(Dtype));
  if (Convert) {
    if (isFalse(Copy))
      throw py::value_error("__array__: tensor of dtype " + std::string(py::str(View.dtype())) +
                            " cannot be viewed as " + std::string(py::str(py::dtype::from_args(Dtype))) +
                            " without a copy (copy=False)");
    return View.attr("astype")(py::dtype::from_args(Dtype));
  }
  if (isTrue(Copy))
    return View.attr("copy")();
  return View;
}

py::tuple tensorDlpackDevice() { return py::make_tuple(DLDeviceCPU, 0); }

py::capsule tensorDlpack(const py::object &Self, const py::object &Stream, const py::object &MaxVersion,
                         const py::object &DlDevice, const py::object &Copy) {
  auto &T = Self.cast<rt::Tensor &>();
  // Host memory has no stream: None (or -1, "no synchronisation") only.
  if (!Stream.is_none() && !(py::isinstance<py::int_>(Stream) && Stream.cast<int64_t>() == -1))
    bufferError("__dlpack__: stream must be None for a host (kDLCPU) tensor, got " +
                std::string(py::repr(Stream)));
  if (!DlDevice.is_none()) {
    auto Device = py::reinterpret_borrow<py::sequence>(DlDevice);
    if (Device.size() != 2 || Device[0].cast<int64_t>() != DLDeviceCPU || Device[1].cast<int64_t>() != 0)
      bufferError("__dlpack__: the tensor is host memory (kDLCPU, 0); cannot export it to device " +
                  std::string(py::repr(DlDevice)));
  }
  if (!Copy.is_none() && !py::isinstance<py::bool_>(Copy))
    throw py::type_error("__dlpack__: copy must be True, False or None");
  bool Versioned = false;
  if (!MaxVersion.is_none()) {
    auto Version = py::reinterpret_borrow<py::sequence>(MaxVersion);
    if (Version.size() != 2)
      throw py::type_error("__dlpack__: max_version must be a (major, minor) tuple");
    Versioned = Version[0].cast<int64_t>() >= static_cast<int64_t>(DLPackMajor);
  }
  DLDataType Type = dlpackType(T.getType());
  const rt::Shape &Shape = T.getShape();
  bool Copied = isTrue(Copy);
  py::object Owner = Self;
  void *Data = nullptr;
  if (Copied) {
    py::array Fresh = tensorToNumpy(T);
    Data = Fresh.mutable_data();
    Owner = std::move(Fresh);
  } else {
    Data = hostData(T);
  }

  auto Holder = std::make_unique<DLPackHolder>();
  for (size_t I = 0; I < Shape.getDimensionSize(); ++I) {
    Holder->Shape[I] = static_cast<int64_t>(Shape[I]);
    Holder->Strides[I] = static_cast<int64_t>(Shape.getStride(I));
  }
  DLTensor Tensor{Data,
                  {DLDeviceCPU, 0},
                  static_cast<int32_t>(Shape.getDimensionSize()),
                  Type,
                  Holder->Shape.data(),
                  Holder->Strides.data(),
                  0};
  py::capsule Capsule;
  if (Versioned) {
    Holder->Versioned = {{DLPackMajor, DLPackMinor}, Holder.get(), &deleteVersioned,
                         Copied ? DLPackFlagIsCopied : 0, Tensor};
    DLManagedTensorVersioned *Managed = &Holder->Versioned;
    PyObject *Raw = PyCapsule_New(Managed, VersionedName, &destroyVersionedCapsule);
    if (!Raw)
      throw py::error_already_set();
    Capsule = py::reinterpret_steal<py::capsule>(Raw);
  } else {
    Holder->Legacy = {Tensor, Holder.get(), &deleteLegacy};
    DLManagedTensor *Managed = &Holder->Legacy;
    PyObject *Raw = PyCapsule_New(Managed, LegacyName, &destroyLegacyCapsule);
    if (!Raw)
      throw py::error_already_set();
    Capsule = py::reinterpret_steal<py::capsule>(Raw);
  }
  // The capsule now owns the holder (its destructor or the consumer calls the deleter).
  Holder->Owner = Owner.release().ptr();
  (void)Holder.release();
  return Capsule;
}

} // namespace optima_v2::python
