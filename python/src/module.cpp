// Module optima_v2.runtime._runtime; the public face is optima_v2.runtime, which re-exports it.
#include "bindings.h"

namespace optima_v2::python {
namespace {
void initModule(py::module_ &M) {
  M.doc() = "OptimaV2 Runtime binding (use `import optima_v2.runtime as rt`).";
  registerInterpreterExit(M);
  registerExceptions(M);
  registerEnums(M);
  registerStructs(M);
  registerTensor(M);
  registerInferRequest(M);
  registerModel(M);
  registerContext(M);
  auto V = OPTIMA_RT_CURRENT_VERSION;
  M.attr("__version__") = std::to_string(V.Major) + "." + std::to_string(V.Minor) + "." + std::to_string(V.Patch);
}
} // namespace
} // namespace optima_v2::python

PYBIND11_MODULE(_runtime, M) { optima_v2::python::initModule(M); }
