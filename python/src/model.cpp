// Model: tensor infos, subgraph info, request creation.
#include "bindings.h"

#include <pybind11/stl.h>

namespace optima_v2::python {

namespace {

const rt::TensorInfo &infoAt(const rt::Model &M, int64_t Index, bool Input) {
  uint32_t Count = Input ? M.getInputTensorCount() : M.getOutputTensorCount();
  const char *What = Input ? "input" : "output";
  if (Index < 0 || Index >= static_cast<int64_t>(Count))
    throw py::index_error(std::string(What) + " index " + std::to_string(Index) + " out of range (" +
                          std::to_string(Count) + " " + What + (Count == 1 ? "" : "s") + ")");
  return Input ? M.getInputTensorInfo(static_cast<uint32_t>(Index))
               : M.getOutputTensorInfo(static_cast<uint32_t>(Index));
}

const rt::TensorInfo &infoNamed(const rt::Model &M, const std::string &Name, bool Input) {
  uint32_t Index = Input ? M.getInputIndexByName(Name) : M.getOutputIndexByName(Name);
  if (Index == rt::Model::IndexNotFound)
    throw py::value_error(std::string("no ") + (Input ? "input" : "output") + " tensor named '" + Name + "'");
  return Input ? M.getInputTensorInfo(Index) : M.getOutputTensorInfo(Index);
}

std::vector<rt::TensorInfo> allInfos(const rt::Model &M, bool Input) {
  std::vector<rt::TensorInfo> Result;
  uint32_t Count = Input ? M.getInputTensorCount() : M.getOutputTensorCount();
  for (uint32_t I = 0; I < Count; ++I)
    Result.push_back(Input ? M.getInputTensorInfo(I) : M.getOutputTensorInfo(I));
  return Result;
}

} // namespace

PyModel::~PyModel() {
  if (PyGILState_Check()) {
    py::gil_scoped_release NoGil;
    M = rt::Model();
  }
}

void registerModel(py::module_ &Mod) {
  py::class_<PyModel>(Mod, "Model", "A loaded model. Made by Context.load_model().")
      .def("create_request",
           [](PyModel &S) {
             rt::InferRequest Req;
             {
               py::gil_scoped_release NoGil;
               Req = S.M.createRequest();
             }
             return std::make_unique<PyInferRequest>(std::move(Req));
           },
           "A new, independent InferRequest (GIL released while it is created).")
      .def("get_input_tensor_info", [](const PyModel &S, int64_t I) { return infoAt(S.M, I, true); },
           py::arg("index") = 0, "Bad index -> IndexError.")
      .def("get_input_tensor_info",
           [](const PyModel &S, const std::string &Name) { return infoNamed(S.M, Name, true); },
           py::arg("name"), "Unknown name -> ValueError.")
      .def_property_readonly("input_tensor_count", [](const PyModel &S) { return S.M.getInputTensorCount(); })
      .def_property_readonly("input_tensors_info", [](const PyModel &S) { return allInfos(S.M, true); })
      .def("get_input_index", [](const PyModel &S, const std::string &Name) -> py::object {
             uint32_t I = S.M.getInputIndexByName(Name);
             return I == rt::Model::IndexNotFound ? py::object(py::none()) : py::object(py::int_(I));
           },
           py::arg("name"), "Index of the input named `name`, or None.")
      .def("get_output_tensor_info", [](const PyModel &S, int64_t I) { return infoAt(S.M, I, false); },
           py::arg("index") = 0, "Bad index -> IndexError.")
      .def("get_output_tensor_info",
           [](const PyModel &S, const std::string &Name) { return infoNamed(S.M, Name, false); },
           py::arg("name"), "Unknown name -> ValueError.")
      .def_property_readonly("output_tensor_count", [](const PyModel &S) { return S.M.getOutputTensorCount(); })
      .def_property_readonly("output_tensors_info", [](const PyModel &S) { return allInfos(S.M, false); })
      .def("get_output_index", [](const PyModel &S, const std::string &Name) -> py::object {
             uint32_t I = S.M.getOutputIndexByName(Name);
             return I == rt::Model::IndexNotFound ? py::object(py::none()) : py::object(py::int_(I));
           },
           py::arg("name"), "Index of the output named `name`, or None.")
      .def_property_readonly("subgraph_info", [](const PyModel &S) { return S.M.getSubgraphInfo(); },
                             "SubgraphInfo of each subgraph: where it runs as decided at load.")
      .def_property_readonly("name", [](const PyModel &S) { return S.M.getName(); })
      .def_property_readonly("_context_thread_count", [](const PyModel &S) { return S.ContextThreads; },
                             "Internal: threads of the pool of the Context that loaded the model.")
      .def_property_readonly("load_profile_data", [](const PyModel &S) { return S.M.getLoadProfileData(); },
                             "ModelInit and SubgraphInit entries of the load.")
      .def("__repr__", [](const PyModel &S) {
        return "<Model " + py::repr(py::str(S.M.getName())).cast<std::string>() + " inputs=" +
               std::to_string(S.M.getInputTensorCount()) + " outputs=" +
               std::to_string(S.M.getOutputTensorCount()) + ">";
      });
}

} // namespace optima_v2::python
