// Context: options, extensions, model loading, devices, version.
#include "bindings.h"

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

namespace optima_v2::python {

namespace {

rt::LogLevel toLevel(const py::object &Value, const char *Name) {
  if (!py::isinstance<rt::LogLevel>(Value))
    throw py::type_error(std::string("Context: ") + Name + " must be an optima_v2.runtime.LogLevel, got " +
                         typeName(Value));
  return Value.cast<rt::LogLevel>();
}

std::unique_ptr<PyContext> makeContext(const py::object &Verbosity, const py::object &LogPath,
                                       const py::object &LogLevel, bool EnableProfile, int64_t ThreadCount,
                                       bool LoadDefaultExtensions) {
  rt::ContextOptions Options;
  if (!Verbosity.is_none() && !LogLevel.is_none() &&
      toLevel(Verbosity, "verbosity") != toLevel(LogLevel, "loglevel"))
    throw py::value_error("Context: verbosity and loglevel are the same option; give one of them");
  if (!LogLevel.is_none())
    Options.Verbosity = toLevel(LogLevel, "loglevel");
  else if (!Verbosity.is_none())
    Options.Verbosity = toLevel(Verbosity, "verbosity");
  if (ThreadCount < 0 || ThreadCount > 4096)
    throw py::value_error("Context: thread_count must be in 0..4096 (0 = automatic)");
  // "" (the default) and None mean the console; pathlib.Path("") would read as ".".
  if (!LogPath.is_none() && !(py::isinstance<py::str>(LogPath) && py::len(LogPath) == 0))
    Options.LogPath = LogPath.cast<std::filesystem::path>();
  Options.EnableProfile = EnableProfile;
  Options.ThreadCount = static_cast<uint32_t>(ThreadCount);
  Options.LoadDefaultExtensions = LoadDefaultExtensions;
  py::gil_scoped_release NoGil;
  return std::make_unique<PyContext>(rt::Context(Options));
}

rt::Context &ctx(PyContext &S) { return *S.Ctx; }

} // namespace

PyContext::~PyContext() {
  if (PyGILState_Check()) {
    py::gil_scoped_release NoGil;
    Ctx.reset();
  }
}

void registerContext(py::module_ &M) {
  auto Version = rt::Context::getVersion();
  py::class_<PyContext>(M, "Context",
                        "Owns the extensions, devices, logging and thread pool. Loads the extensions "
                        "installed with the runtime and those in OPTIMA_V2_EXTENSION_PATH.")
      .def(py::init(&makeContext), py::arg("verbosity") = py::none(), py::arg("log_path") = "",
           py::kw_only(), py::arg("loglevel") = py::none(), py::arg("enable_profile") = true,
           py::arg("thread_count") = 0, py::arg("load_default_extensions") = true,
           "verbosity (alias loglevel, the user's guide spelling): minimum LogLevel logged, default "
           "Warning. log_path: log file ('' = stderr). enable_profile: record per-layer profile data. "
           "thread_count: threads of the pool (0 = OPTIMA_V2_NUM_THREADS or the physical cores). "
           "load_default_extensions: load the bundled extensions.")
      .def("load_model",
           [](PyContext &S, const std::filesystem::path &Path, bool Fallback) {
             rt::Model Model;
             {
               py::gil_scoped_release NoGil;
               Model = ctx(S).loadModel(Path, Fallback);
             }
             return std::make_unique<PyModel>(std::move(Model), ctx(S).getThreadCount());
           },
           py::arg("model_path"), py::arg("fallback") = false,
           "Load a model folder (GIL released). Not an existing folder -> ValueError; corrupt -> "
           "InvalidModelException; unknown framework/device -> UnsupportedModelException. fallback: "
           "run subgraphs whose device is unavailable on a CPU.")
      .def("load_extension",
           [](PyContext &S, const std::filesystem::path &Path) {
             py::gil_scoped_release NoGil;
             ctx(S).loadExtension(Path);
           },
           py::arg("extension_path"),
           "Load an extension library. Missing/not a file -> ValueError; not a valid extension -> "
           "InvalidExtensionException.")
      .def_property(
          "verbosity", [](PyContext &S) { return ctx(S).getVerbosity(); },
          [](PyContext &S, rt::LogLevel Level) { ctx(S).setVerbosity(Level); }, "The LogLevel (get/set).")
      .def("set_verbosity", [](PyContext &S, rt::LogLevel Level) { return ctx(S).setVerbosity(Level); },
           py::arg("level"), "Set the LogLevel; returns the previous one.")
      .def_property_readonly("available_devices",
                             [](PyContext &S) {
                               py::gil_scoped_release NoGil;
                               return ctx(S).getAvailableDevices();
                             },
                             "DeviceInfo of every device the loaded extensions offer.")
      .def_property_readonly("loaded_extensions", [](PyContext &S) { return ctx(S).getLoadedExtensions(); },
                             "Descriptions of the loaded extensions.")
      .def_property_readonly("thread_count", [](PyContext &S) { return ctx(S).getThreadCount(); })
      .def_static("get_version", [] {
        auto V = rt::Context::getVersion();
        return py::make_tuple(V.Major, V.Minor, V.Patch);
      }, "The library's version as (major, minor, patch).")
      .attr("version") = py::make_tuple(Version.Major, Version.Minor, Version.Patch);
}

} // namespace optima_v2::python
