// InferRequest: tensors, set_inputs/get_outputs, infer/wait, callbacks.
//
// Callbacks. The Python callable and its userdata live in the request object's __dict__ (the
// class has py::dynamic_attr, so the garbage collector traverses it): a callback that refers to
// its own request forms an ordinary, collectable cycle. The C++ callback only holds a
// CallbackTarget (a borrowed pointer plus an Alive flag) and looks the callable up at call time
// with the GIL held.
//
// GIL. Released around every call that may block or take a runtime lock (infer, wait,
// set_callback, profile data, copies, destruction), so a runtime thread waiting for the GIL to run
// a callback can always make progress.
#include "bindings.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <vector>

namespace optima_v2::python {

namespace {

constexpr const char *CallbackKey = "_callback";
constexpr const char *CallbackArgsKey = "_callback_args";
// One-shot completion hook of _infer_notify (asyncio): hook(ex), called after the user's callback.
constexpr const char *NotifyKey = "_notify";

// wait() blocks in slices so Ctrl-C (and other signals) are noticed while waiting.
constexpr std::chrono::milliseconds WaitSlice(100);

int decrefPending(void *Object) {
  Py_DECREF(static_cast<PyObject *>(Object));
  return 0;
}

// Drops the reference the callback held. When it is the last one, the request would be destroyed
// on the runtime thread, inside its own callback; hand that to the main thread instead.
void releaseSelf(PyObject *Self) {
  if (Py_REFCNT(Self) == 1 && Py_AddPendingCall(&decrefPending, Self) == 0)
    return;
  Py_DECREF(Self);
}

void runPythonCallback(const std::shared_ptr<CallbackTarget> &Target, std::exception_ptr Error) {
  PythonEntry Entry; // outlives Gil below
  if (!Entry.allowed() || !Target->Alive.load(std::memory_order_acquire))
    return;
  py::gil_scoped_acquire Gil;
  if (!Target->Alive.load(std::memory_order_acquire) || interpreterFinalizing())
    return;
  PyObject *Self = Target->Self;
  Py_INCREF(Self);
  py::object Callable;
  py::object Notify;
  try {
    py::dict Dict = py::getattr(Self, "__dict__");
    // Taken before the user's callback runs: a restart from inside it must not fire the hook again.
    if (Dict.contains(NotifyKey)) {
      Notify = Dict[NotifyKey];
      PyDict_DelItemString(Dict.ptr(), NotifyKey);
    }
    if (Dict.contains(CallbackKey)) {
      Callable = Dict[CallbackKey];
      py::tuple Extra = Dict.contains(CallbackArgsKey) ? py::tuple(Dict[CallbackArgsKey]) : py::tuple();
      if (!Callable.is_none()) {
        py::object Ex = Error ? makePyException(Error) : py::none();
        py::tuple Args(2 + Extra.size());
        Args[0] = py::handle(Self);
        Args[1] = Ex;
        for (size_t I = 0; I < Extra.size(); ++I)
          Args[2 + I] = Extra[I];
        Callable(*Args);
      }
    }
  } catch (py::error_already_set &E) {
    // Reported through sys.unraisablehook; the runtime thread carries on.
    E.discard_as_unraisable(Callable ? Callable : py::reinterpret_borrow<py::object>(Self));
  } catch (const std::exception &E) {
    PyErr_SetString(PyExc_RuntimeError, E.what());
    PyErr_WriteUnraisable(Self);
  }
  Callable = py::object();
  if (Notify && !Notify.is_none()) {
    try {
      Notify(Error ? makePyException(Error) : py::none());
    } catch (py::error_already_set &E) {
      E.discard_as_unraisable(Notify);
    }
  }
  Notify = py::object();
  releaseSelf(Self);
}

int64_t checkedIndex(int64_t Index, uint32_t Count, const char *What) {
  if (Index < 0 || Index >= static_cast<int64_t>(Count))
    throw py::index_error(std::string(What) + " index " + std::to_string(Index) + " out of range (" +
                          std::to_string(Count) + " " + What + (Count == 1 ? "" : "s") + ")");
  return Index;
}

rt::Tensor inputByName(rt::InferRequest &Req, const std::string &Name) {
  for (auto &T : Req.getInputTensors())
    if (T.getName() == Name)
      return T;
  throw py::value_error("no input tensor named '" + Name + "'");
}

rt::Tensor outputByName(rt::InferRequest &Req, const std::string &Name) {
  for (auto &T : Req.getOutputTensors())
    if (T.getName() == Name)
      return T;
  throw py::value_error("no output tensor named '" + Name + "'");
}

// A Python Tensor that keeps its request's Python object alive (zero-copy views stay valid).
py::object tensorOf(rt::Tensor T, const py::handle &Owner) {
  py::object Obj = py::cast(std::move(T));
  py::detail::keep_alive_impl(Obj, Owner);
  return Obj;
}

py::list tensorList(std::vector<rt::Tensor> Tensors, const py::handle &Owner) {
  py::list Result;
  for (auto &T : Tensors)
    Result.append(tensorOf(std::move(T), Owner));
  return Result;
}

void setInputs(PyInferRequest &Self, const py::handle &Inputs) {
  rt::InferRequest &Req = Self.Req;
  uint32_t Count = Req.getInputTensorCount();
  // Resolve and check everything before copying anything, so a bad argument changes nothing.
  std::vector<std::pair<rt::Tensor, py::array>> Work;
  if (py::isinstance<py::array>(Inputs)) {
    if (Count != 1)
      throw py::value_error("set_inputs: a single array was given but the model has " +
                            std::to_string(Count) + " inputs; pass a sequence or a dict");
    rt::Tensor T = Req.getInputTensor(0u);
    Work.emplace_back(T, checkArrayForTensor(T, Inputs, "input"));
  } else if (py::isinstance<py::dict>(Inputs)) {
    for (auto Item : py::reinterpret_borrow<py::dict>(Inputs)) {
      rt::Tensor T;
      if (py::isinstance<py::str>(Item.first)) {
        T = inputByName(Req, nameArgument(Item.first, "set_inputs: input name"));
      } else if (py::isinstance<py::int_>(Item.first) && !py::isinstance<py::bool_>(Item.first)) {
        T = Req.getInputTensor(static_cast<uint32_t>(checkedIndex(indexArgument(Item.first), Count, "input")));
      } else {
        throw py::type_error("set_inputs: dict keys must be input names (str) or indices (int), got " +
                             typeName(Item.first));
      }
      Work.emplace_back(T, checkArrayForTensor(T, Item.second, "input"));
    }
  } else if (py::isinstance<py::sequence>(Inputs) && !py::isinstance<py::str>(Inputs) &&
             !py::isinstance<py::bytes>(Inputs)) {
    auto Seq = py::reinterpret_borrow<py::sequence>(Inputs);
    if (Seq.size() != Count)
      throw py::value_error("set_inputs: " + std::to_string(Seq.size()) + " arrays given, the model has " +
                            std::to_string(Count) + " inputs");
    for (uint32_t I = 0; I < Count; ++I) {
      rt::Tensor T = Req.getInputTensor(I);
      Work.emplace_back(T, checkArrayForTensor(T, Seq[I], "input"));
    }
  } else {
    throw py::type_error("set_inputs: expected a numpy.ndarray, a sequence of them or a dict, got " +
                         typeName(Inputs));
  }
  for (auto &[T, Array] : Work)
    copyCheckedArray(T, Array);
}

rt::InferRequestCallback nativeCallback(const std::shared_ptr<CallbackTarget> &Target) {
  return [Target](rt::InferRequest &, std::exception_ptr Error) { runPythonCallback(Target, Error); };
}

std::shared_ptr<CallbackTarget> &targetOf(const py::object &SelfObj) {
  auto &Self = SelfObj.cast<PyInferRequest &>();
  if (!Self.Target) {
    Self.Target = std::make_shared<CallbackTarget>();
    Self.Target->Self = SelfObj.ptr();
  }
  return Self.Target;
}

// Starts the inference and calls Hook(ex) once on completion, after the user's callback (if any),
// which stays installed. The native callback is (re)installed first: that raises
// InvalidOperationException while the request is running, before the hook is stored, so a hook is
// never attached to somebody else's run.
void inferNotify(const py::object &SelfObj, const py::object &Hook) {
  if (!PyCallable_Check(Hook.ptr()))
    throw py::type_error("_infer_notify: hook must be callable");
  auto &Self = SelfObj.cast<PyInferRequest &>();
  rt::InferRequestCallback Native = nativeCallback(targetOf(SelfObj));
  {
    py::gil_scoped_release NoGil;
    Self.Req.setCallback(std::move(Native));
  }
  py::dict Dict = py::getattr(SelfObj, "__dict__");
  Dict[NotifyKey] = Hook;
  try {
    py::gil_scoped_release NoGil;
    Self.Req.infer();
  } catch (...) {
    if (Dict.contains(NotifyKey))
      PyDict_DelItemString(Dict.ptr(), NotifyKey);
    throw;
  }
}

void setCallback(const py::object &SelfObj, const py::object &Callback, const py::object &UserData) {
  auto &Self = SelfObj.cast<PyInferRequest &>();
  if (!Callback.is_none() && !PyCallable_Check(Callback.ptr()))
    throw py::type_error("set_callback: callback must be callable or None");
  py::dict Dict = py::getattr(SelfObj, "__dict__");
  // Install the new callable first and restore the old one if the runtime refuses the change
  // (request running): the runtime thread reads it from __dict__ at call time.
  py::object OldCallback = Dict.contains(CallbackKey) ? py::object(Dict[CallbackKey]) : py::object();
  py::object OldArgs = Dict.contains(CallbackArgsKey) ? py::object(Dict[CallbackArgsKey]) : py::object();
  auto Restore = [&] {
    if (OldCallback)
      Dict[CallbackKey] = OldCallback;
    else if (Dict.contains(CallbackKey))
      PyDict_DelItemString(Dict.ptr(), CallbackKey);
    if (OldArgs)
      Dict[CallbackArgsKey] = OldArgs;
    else if (Dict.contains(CallbackArgsKey))
      PyDict_DelItemString(Dict.ptr(), CallbackArgsKey);
  };
  if (Callback.is_none()) {
    if (Dict.contains(CallbackKey))
      PyDict_DelItemString(Dict.ptr(), CallbackKey);
    if (Dict.contains(CallbackArgsKey))
      PyDict_DelItemString(Dict.ptr(), CallbackArgsKey);
  } else {
    Dict[CallbackKey] = Callback;
    Dict[CallbackArgsKey] = UserData.is_none() ? py::tuple() : py::make_tuple(UserData);
  }
  targetOf(SelfObj);
  rt::InferRequestCallback Native;
  if (!Callback.is_none())
    Native = nativeCallback(Self.Target);
  try {
    py::gil_scoped_release NoGil;
    Self.Req.setCallback(std::move(Native));
  } catch (...) {
    Restore();
    throw;
  }
}

bool waitFor(PyInferRequest &Self, int64_t TimeoutMs) {
  if (TimeoutMs < 0)
    throw py::value_error("wait: timeout_ms must be >= 0 (0 waits until done)");
  using Clock = std::chrono::steady_clock;
  const bool Forever = TimeoutMs == 0;
  const auto Deadline = Clock::now() + std::chrono::milliseconds(TimeoutMs);
  for (;;) {
    auto Slice = WaitSlice;
    if (!Forever) {
      auto Left = std::chrono::ceil<std::chrono::milliseconds>(Deadline - Clock::now());
      Slice = std::max(std::chrono::milliseconds(1), std::min(Slice, Left));
    }
    bool TimedOut;
    {
      py::gil_scoped_release NoGil;
      TimedOut = Self.Req.wait(Slice);
    }
    if (!TimedOut)
      return false;
    if (!Forever && Clock::now() >= Deadline)
      return true;
    if (PyErr_CheckSignals() != 0)
      throw py::error_already_set();
  }
}

} // namespace

PyInferRequest::~PyInferRequest() {
  if (Target)
    Target->Alive.store(false, std::memory_order_release);
  // Destroying a running request waits for it, possibly for a callback that needs the GIL.
  if (PyGILState_Check()) {
    py::gil_scoped_release NoGil;
    Req = rt::InferRequest();
  }
}

void registerInferRequest(py::module_ &M) {
  py::class_<PyInferRequest>(M, "InferRequest", py::dynamic_attr(),
                             "One inference of a model, independent of its other requests. Made by "
                             "Model.create_request().")
      .def("get_input_tensor",
           [](py::object Self, int64_t Index) {
             auto &R = Self.cast<PyInferRequest &>().Req;
             auto I = checkedIndex(Index, R.getInputTensorCount(), "input");
             return tensorOf(R.getInputTensor(static_cast<uint32_t>(I)), Self);
           },
           py::arg("index") = 0, "Input tensor by index (bad index -> IndexError).")
      .def("get_input_tensor",
           [](py::object Self, const std::string &Name) {
             return tensorOf(inputByName(Self.cast<PyInferRequest &>().Req, Name), Self);
           },
           py::arg("name"), "Input tensor by name (unknown name -> ValueError).")
      .def_property_readonly("input_tensor_count",
                             [](const PyInferRequest &S) { return S.Req.getInputTensorCount(); })
      .def_property_readonly(
          "input_tensors",
          [](py::object Self) { return tensorList(Self.cast<PyInferRequest &>().Req.getInputTensors(), Self); })
      .def("get_output_tensor",
           [](py::object Self, int64_t Index) {
             auto &R = Self.cast<PyInferRequest &>().Req;
             auto I = checkedIndex(Index, R.getOutputTensorCount(), "output");
             return tensorOf(R.getOutputTensor(static_cast<uint32_t>(I)), Self);
           },
           py::arg("index") = 0, "Output tensor by index (bad index -> IndexError).")
      .def("get_output_tensor",
           [](py::object Self, const std::string &Name) {
             return tensorOf(outputByName(Self.cast<PyInferRequest &>().Req, Name), Self);
           },
           py::arg("name"), "Output tensor by name (unknown name -> ValueError).")
      .def_property_readonly("output_tensor_count",
                             [](const PyInferRequest &S) { return S.Req.getOutputTensorCount(); })
      .def_property_readonly(
          "output_tensors",
          [](py::object Self) { return tensorList(Self.cast<PyInferRequest &>().Req.getOutputTensors(), Self); })
      .def("set_inputs", &setInputs, py::arg("inputs"),
           "Copy inputs into the request: one ndarray (models with one input), a sequence with one "
           "ndarray per input in index order, or a dict keyed by input name (str) or index (int); a "
           "dict may set a subset. Every array is checked before anything is copied: wrong container, "
           "key or dtype -> TypeError; wrong shape, count, > 8 dims or non-C-contiguous -> ValueError; "
           "bad index -> IndexError.")
      .def("get_outputs",
           [](PyInferRequest &S) {
             py::list Result;
             for (auto &T : S.Req.getOutputTensors())
               Result.append(tensorToNumpy(T));
             return Result;
           },
           "Copies of all outputs as ndarrays, in index order.")
      .def("set_callback", &setCallback, py::arg("callback"), py::arg("userdata") = py::none(),
           "Call `callback(req, ex)` on a runtime thread (holding the GIL) when an inference "
           "finishes; `ex` is None on success or the rt.Exception describing the failure. With "
           "`userdata` (not None) it is called as `callback(req, ex, userdata)`. Calling "
           "req.infer() inside is safe. Replaces the previous callback; None removes it. An "
           "exception raised by the callback goes to sys.unraisablehook. While running -> "
           "InvalidOperationException. The callable is kept in the request's __dict__, so "
           "callbacks referring to their request do not leak.")
      .def("infer",
           [](PyInferRequest &S) {
             py::gil_scoped_release NoGil;
             S.Req.infer();
           },
           "Start the inference and return at once (GIL released). Already running -> "
           "InvalidOperationException; failure to start -> InferException.")
      .def("_infer_notify", &inferNotify, py::arg("hook"),
           "Internal (used by infer_async): start the inference and call hook(ex) once when it "
           "finishes, on the runtime thread after the request's callback (which stays installed).")
      .def("wait", &waitFor, py::arg("timeout_ms") = 0,
           "Block until the inference finishes (GIL released), at most timeout_ms milliseconds "
           "(0 = no limit). Returns True when the timeout expired first, False when finished. "
           "Raises the error of a failed inference; never started -> InferException.")
      .def_property_readonly("profile_data",
                             [](const PyInferRequest &S) {
                               py::gil_scoped_release NoGil;
                               return S.Req.getProfileData();
                             },
                             "ProfileData list of the latest finished infer() (empty if none).")
      .def_property_readonly("id", [](const PyInferRequest &S) { return S.Req.getID(); },
                             "Identifier unique within the process.")
      .def("__repr__", [](const PyInferRequest &S) {
        return "<InferRequest id=" + std::to_string(S.Req.getID()) + " inputs=" +
               std::to_string(S.Req.getInputTensorCount()) + " outputs=" +
               std::to_string(S.Req.getOutputTensorCount()) + ">";
      });
}

} // namespace optima_v2::python
