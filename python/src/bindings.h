// Shared declarations of the pybind11 binding (module optima_v2.runtime._runtime).
//
// Every wrapped handle whose destruction may block (a request waits for its running inference,
// a model or context may join threads) is held in a small Py* wrapper whose destructor releases
// the GIL first: a runtime thread that is waiting for the GIL to run a Python callback must be
// able to finish, or destruction would deadlock.
#pragma once

#include <OptimaV2/Runtime.h>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>

namespace optima_v2::python {

namespace py = pybind11;
namespace rt = optima_v2::runtime;

// Name of Object's type, for messages.
inline std::string typeName(const py::handle &Object) {
  return py::str(py::type::handle_of(Object).attr("__name__")).cast<std::string>();
}

// A str argument as UTF-8. Strings that cannot be encoded (lone surrogates) raise ValueError
// naming What instead of pybind11's untyped cast error.
inline std::string nameArgument(const py::handle &Object, const char *What) {
  Py_ssize_t Size = 0;
  const char *Text = PyUnicode_AsUTF8AndSize(Object.ptr(), &Size);
  if (!Text) {
    PyErr_Clear();
    throw py::value_error(std::string(What) + " is not encodable as UTF-8");
  }
  return std::string(Text, static_cast<size_t>(Size));
}

// An int argument used as an index; values beyond int64 saturate so range checks report them
// as out of range (IndexError) rather than as a cast failure.
inline int64_t indexArgument(const py::handle &Object) {
  int Overflow = 0;
  long long Value = PyLong_AsLongLongAndOverflow(Object.ptr(), &Overflow);
  if (Overflow != 0)
    return Overflow > 0 ? INT64_MAX : INT64_MIN;
  if (Value == -1 && PyErr_Occurred())
    throw py::error_already_set();
  return static_cast<int64_t>(Value);
}

// --- registration, one function per file -------------------------------------------------------
void registerExceptions(py::module_ &M);
void registerEnums(py::module_ &M);
void registerStructs(py::module_ &M);
void registerTensor(py::module_ &M);
void registerInferRequest(py::module_ &M);
void registerModel(py::module_ &M);
void registerContext(py::module_ &M);

// --- exceptions.cpp ------------------------------------------------------------------------------
// An instance of the Python exception class mirroring the exception held by Error (rt.Exception
// subclasses for runtime errors, ValueError/IndexError/TypeError/RuntimeError for the standard
// ones). Requires the GIL; never throws (falls back to RuntimeError).
py::object makePyException(std::exception_ptr Error) noexcept;


// --- interpreter_exit.cpp ------------------------------------------------------------------------
// Held by a non-Python thread from before it takes the GIL until after it releases it. allowed()
// is false once the interpreter exits (an atexit handler, registered by registerInterpreterExit,
// closes the entrance and waits for the threads inside): a thread taking the GIL while the
// interpreter finalizes would be terminated inside our code.
class PythonEntry {
public:
  PythonEntry() noexcept;
  ~PythonEntry();
  PythonEntry(const PythonEntry &) = delete;
  PythonEntry &operator=(const PythonEntry &) = delete;
  bool allowed() const noexcept { return Allowed; }

private:
  bool Allowed = false;
};
// True once the exit began (also re-checked with the GIL held, before touching Python objects).
bool interpreterFinalizing() noexcept;
void registerInterpreterExit(py::module_ &M);

// --- tensor.cpp ----------------------------------------------------------------------------------
// numpy dtype used for an element type (BF16 -> uint16 bit patterns, Q8 -> int8, Q16 -> int16,
// low-precision types -> ml_dtypes' dtypes, imported lazily: TypeError without ml_dtypes).
py::dtype toDtype(rt::ElementType Type);
// Checks that Object is an ndarray, a buffer-protocol object or a DLPack producer (else TypeError;
// non-ndarrays are viewed through numpy without a copy) with at most 8 dims, C-contiguous and of the
// tensor's shape (ValueError) and dtype (TypeError). Messages name the destination as Role and the
// tensor's name ("input 'input_1'").
py::array checkArrayForTensor(const rt::Tensor &Tensor, const py::handle &Object, const char *Role);
// Copies a checked array into the tensor (GIL released during copies of 64 KiB and more).
void copyCheckedArray(rt::Tensor &Tensor, const py::array &Array);
// A fresh ndarray holding a copy of the tensor's data.
py::array tensorToNumpy(rt::Tensor &Tensor);

// --- tensor_interop.cpp --------------------------------------------------------------------------
// Tensor.__array__(dtype, copy): a zero-copy ndarray view (numpy 2 semantics for dtype/copy).
py::object tensorArray(const py::object &Self, const py::object &Dtype, const py::object &Copy);
// Tensor.__dlpack__(stream, max_version, dl_device, copy): a DLPack capsule (versioned when the
// consumer's max_version >= 1) viewing the tensor's host memory; it keeps the Tensor alive.
py::capsule tensorDlpack(const py::object &Self, const py::object &Stream, const py::object &MaxVersion,
                         const py::object &DlDevice, const py::object &Copy);
// Tensor.__dlpack_device__(): (kDLCPU, 0).
py::tuple tensorDlpackDevice();

// --- structs.cpp ---------------------------------------------------------------------------------
py::tuple shapeToTuple(const rt::Shape &Shape);

// --- wrappers ------------------------------------------------------------------------------------
struct PyContext {
  std::optional<rt::Context> Ctx;
  explicit PyContext(rt::Context C) : Ctx(std::move(C)) {}
  PyContext(const PyContext &) = delete;
  PyContext &operator=(const PyContext &) = delete;
  ~PyContext();
};

struct PyModel {
  rt::Model M;
  uint32_t ContextThreads = 0; // thread count of the loading Context's pool (RequestQueue's default)
  explicit PyModel(rt::Model Mod, uint32_t Threads = 0) : M(std::move(Mod)), ContextThreads(Threads) {}
  PyModel(const PyModel &) = delete;
  PyModel &operator=(const PyModel &) = delete;
  ~PyModel();
};

// What the C++ callback of a request knows about its Python object: a borrowed pointer that is
// valid while Alive is true. Alive is cleared (under the GIL) before the Python object's C++ part
// is destroyed, so a callback that acquires the GIL afterwards sees it and does nothing. The C++
// side never owns a Python reference: the callable and the userdata live in the request's
// __dict__, where the garbage collector sees them, so cycles through callbacks are collectable.
struct CallbackTarget {
  PyObject *Self = nullptr;
  std::atomic<bool> Alive{true};
};

struct PyInferRequest {
  rt::InferRequest Req;
  std::shared_ptr<CallbackTarget> Target; // set by the first set_callback
  explicit PyInferRequest(rt::InferRequest R) : Req(std::move(R)) {}
  PyInferRequest(const PyInferRequest &) = delete;
  PyInferRequest &operator=(const PyInferRequest &) = delete;
  ~PyInferRequest();
};

} // namespace optima_v2::python
