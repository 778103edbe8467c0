// rt.Exception and its subclasses, mirroring optima_v2::runtime's exception classes, and the
// translation of C++ exceptions into them.
#include "bindings.h"

#include <new>
#include <stdexcept>

namespace optima_v2::python {

namespace {

// Class objects live as long as the process (like the module), so plain new references.
struct ExceptionClasses {
  PyObject *Base = nullptr;
  PyObject *Backend = nullptr;
  PyObject *Infer = nullptr;
  PyObject *InitializationFailed = nullptr;
  PyObject *InvalidArgument = nullptr;
  PyObject *InvalidExtension = nullptr;
  PyObject *InvalidModel = nullptr;
  PyObject *InvalidOperation = nullptr;
  PyObject *OutOfResource = nullptr;
  PyObject *UnsupportedModel = nullptr;
};
ExceptionClasses Classes;

PyObject *makeClass(py::module_ &M, const char *Name, PyObject *Bases, const char *Doc) {
  std::string Qualified = std::string("optima_v2.runtime.") + Name;
  PyObject *Class = PyErr_NewExceptionWithDoc(Qualified.c_str(), Doc, Bases, nullptr);
  if (!Class)
    throw py::error_already_set();
  M.add_object(Name, py::handle(Class)); // add_object steals nothing: it increfs
  return Class;
}

py::object instanceOf(PyObject *Class, const char *Message) {
  return py::reinterpret_borrow<py::object>(Class)(py::str(Message));
}

// The Python exception instance for the exception held by Error.
py::object instanceFor(std::exception_ptr Error) {
  try {
    std::rethrow_exception(Error);
  } catch (const rt::BackendException &E) {
    py::object Obj = instanceOf(Classes.Backend, E.what());
    Obj.attr("backend_name") = py::str(E.getBackendName());
    return Obj;
  } catch (const rt::InferException &E) {
    return instanceOf(Classes.Infer, E.what());
  } catch (const rt::InitializationFailedException &E) {
    return instanceOf(Classes.InitializationFailed, E.what());
  } catch (const rt::InvalidArgumentException &E) {
    return instanceOf(Classes.InvalidArgument, E.what());
  } catch (const rt::InvalidExtensionException &E) {
    return instanceOf(Classes.InvalidExtension, E.what());
  } catch (const rt::InvalidModelException &E) {
    return instanceOf(Classes.InvalidModel, E.what());
  } catch (const rt::InvalidOperationException &E) {
    return instanceOf(Classes.InvalidOperation, E.what());
  } catch (const rt::OutOfResourceException &E) {
    return instanceOf(Classes.OutOfResource, E.what());
  } catch (const rt::UnsupportedModelException &E) {
    return instanceOf(Classes.UnsupportedModel, E.what());
  } catch (const rt::Exception &E) {
    return instanceOf(Classes.Base, E.what());
  } catch (py::error_already_set &E) {
    return E.value();
  } catch (const std::invalid_argument &E) {
    return instanceOf(PyExc_ValueError, E.what());
  } catch (const std::out_of_range &E) {
    return instanceOf(PyExc_IndexError, E.what());
  } catch (const std::bad_alloc &) {
    return instanceOf(PyExc_MemoryError, "out of memory");
  } catch (const std::exception &E) {
    return instanceOf(PyExc_RuntimeError, E.what());
  } catch (const std::string &E) {
    return instanceOf(PyExc_RuntimeError, E.c_str());
  } catch (const char *E) {
    return instanceOf(PyExc_RuntimeError, E);
  } catch (...) {
    return instanceOf(PyExc_RuntimeError, "unknown cause");
  }
}

bool isRuntimeException(std::exception_ptr Error) {
  try {
    std::rethrow_exception(Error);
  } catch (const rt::Exception &) {
    return true;
  } catch (...) {
    return false;
  }
}

} // namespace

py::object makePyException(std::exception_ptr Error) noexcept {
  try {
    return instanceFor(Error);
  } catch (py::error_already_set &E) {
    return E.value(); // building the instance itself failed; report that
  } catch (...) {
    return py::reinterpret_borrow<py::object>(PyExc_RuntimeError);
  }
}

void registerExceptions(py::module_ &M) {
  Classes.Base = makeClass(M, "Exception", PyExc_RuntimeError,
                           "Base of the errors raised by the OptimaV2 Runtime (a RuntimeError).");
  auto Sub = [&](const char *Name, const char *Doc) { return makeClass(M, Name, Classes.Base, Doc); };
  Classes.Backend = Sub("BackendException",
                        "A backend (extension) failed on its own account; `backend_name` names it.");
  Classes.Infer = Sub("InferException", "An inference could not start or failed while running.");
  Classes.InitializationFailed =
      Sub("InitializationFailedException", "The runtime or an extension failed to initialise.");
  // Also a ValueError: it is raised for bad argument values, and `except ValueError` should see it.
  py::tuple ArgBases = py::make_tuple(py::handle(Classes.Base), py::handle(PyExc_ValueError));
  Classes.InvalidArgument = makeClass(M, "InvalidArgumentException", ArgBases.ptr(),
                                      "An argument value was refused by the runtime (also a ValueError).");
  Classes.InvalidExtension =
      Sub("InvalidExtensionException", "A file given as an extension is not a valid extension.");
  Classes.InvalidModel = Sub("InvalidModelException", "A model folder is corrupt or invalid.");
  Classes.InvalidOperation =
      Sub("InvalidOperationException", "The object is not in a state that allows the operation.");
  Classes.OutOfResource = Sub("OutOfResourceException", "Memory or another resource ran out.");
  Classes.UnsupportedModel = Sub("UnsupportedModelException",
                                 "The model needs a framework, device or op that is not available.");

  py::register_exception_translator([](std::exception_ptr Error) {
    // Only the runtime's own classes here; std::invalid_argument -> ValueError and
    // std::out_of_range -> IndexError are pybind11's default translations.
    if (!Error || !isRuntimeException(Error))
      std::rethrow_exception(Error);
    py::object Instance = instanceFor(Error);
    PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(Instance.ptr())), Instance.ptr());
  });
}

} // namespace optima_v2::python
