// Plain data: TensorInfo, DeviceInfo, ProfileData, SubgraphInfo (read-only, readable repr/str).
#include "bindings.h"

#include <OptimaV2/Runtime/Utils/ToString.h>

#include <pybind11/stl.h>

#include <sstream>

namespace optima_v2::python {

py::tuple shapeToTuple(const rt::Shape &Shape) {
  py::tuple Result(Shape.getDimensionSize());
  for (size_t I = 0; I < Shape.getDimensionSize(); ++I)
    Result[I] = py::int_(Shape[I]);
  return Result;
}

namespace {

std::string quoted(const std::string &Text) { return py::repr(py::str(Text)).cast<std::string>(); }

std::string shapeText(const rt::Shape &Shape) { return py::repr(shapeToTuple(Shape)).cast<std::string>(); }

template <class E> std::string enumText(const char *Enum, E Value) {
  return std::string(Enum) + "." + std::string(rt::toString(Value));
}

std::string tensorInfoRepr(const rt::TensorInfo &I) {
  std::ostringstream Out;
  Out << "TensorInfo(name=" << quoted(I.TensorName) << ", shape=" << shapeText(I.TensorShape)
      << ", type=" << enumText("ElementType", I.TensorType) << ", alignment=" << I.Alignment << ")";
  return Out.str();
}

std::string deviceInfoRepr(const rt::DeviceInfo &D) {
  std::ostringstream Out;
  Out << "DeviceInfo(framework=" << enumText("FrameworkKind", D.Framework)
      << ", kind=" << enumText("DeviceKind", D.Kind) << ", index=" << D.Index
      << ", name=" << quoted(D.Name) << ", id=" << quoted(D.ID) << ")";
  return Out.str();
}

std::string profileRepr(const rt::ProfileData &P) {
  std::ostringstream Out;
  Out << "ProfileData(kind=" << enumText("ProfileKind", P.Kind) << ", name=" << quoted(P.Name)
      << ", time=" << P.Time.count() << ", start=" << P.Start.count()
      << ", subgraph=" << quoted(P.Subgraph) << ")";
  return Out.str();
}

std::string profileStr(const rt::ProfileData &P) {
  std::ostringstream Out;
  Out << rt::toString(P.Kind) << " " << P.Name;
  if (!P.Subgraph.empty() && P.Subgraph != P.Name)
    Out << " [" << P.Subgraph << "]";
  Out << ": " << P.Time.count() << " us";
  return Out.str();
}

std::string subgraphRepr(const rt::SubgraphInfo &S) {
  std::ostringstream Out;
  Out << "SubgraphInfo(name=" << quoted(S.Name) << ", framework=" << enumText("FrameworkKind", S.Framework)
      << ", device=" << enumText("DeviceKind", S.Device) << ", device_index=" << S.DeviceIndex
      << ", device_name=" << quoted(S.DeviceName) << ", fell_back=" << (S.FellBack ? "True" : "False")
      << ", inputs=" << py::repr(py::cast(S.Inputs)).cast<std::string>()
      << ", outputs=" << py::repr(py::cast(S.Outputs)).cast<std::string>() << ")";
  return Out.str();
}

} // namespace

void registerStructs(py::module_ &M) {
  py::class_<rt::TensorInfo>(M, "TensorInfo", "Name, shape, element type and alignment of a tensor.")
      .def_property_readonly("name", [](const rt::TensorInfo &I) { return I.TensorName; })
      .def_property_readonly("shape", [](const rt::TensorInfo &I) { return shapeToTuple(I.TensorShape); },
                             "Dimensions as a tuple of ints (() for a scalar).")
      .def_property_readonly("type", [](const rt::TensorInfo &I) { return I.TensorType; })
      .def_property_readonly("alignment", [](const rt::TensorInfo &I) { return I.Alignment; },
                             "Byte alignment of the tensor's buffer.")
      .def_property_readonly("dtype", [](const rt::TensorInfo &I) { return toDtype(I.TensorType); },
                             "numpy dtype matching `type` (see ElementType.to_dtype).")
      .def_property_readonly(
          "size",
          [](const rt::TensorInfo &I) {
            return I.TensorShape.getTotalElementCount() * rt::getSizeOfElement(I.TensorType);
          },
          "Size in bytes.")
      .def("__eq__",
           [](const rt::TensorInfo &A, const rt::TensorInfo &B) {
             return A.TensorName == B.TensorName && A.TensorShape == B.TensorShape &&
                    A.TensorType == B.TensorType && A.Alignment == B.Alignment;
           })
      .def("__repr__", &tensorInfoRepr)
      .def("__str__", &tensorInfoRepr);

  py::class_<rt::DeviceInfo>(M, "DeviceInfo", "A device offered by a loaded extension.")
      .def_property_readonly("framework", [](const rt::DeviceInfo &D) { return D.Framework; })
      .def_property_readonly("kind", [](const rt::DeviceInfo &D) { return D.Kind; })
      .def_property_readonly("name", [](const rt::DeviceInfo &D) { return D.Name; })
      .def_property_readonly("id", [](const rt::DeviceInfo &D) { return D.ID; }, "May be empty.")
      .def_property_readonly("index", [](const rt::DeviceInfo &D) { return D.Index; },
                             "The N of 'KIND:N' in model.meta.")
      .def("__repr__", &deviceInfoRepr)
      .def("__str__", &deviceInfoRepr);

  py::class_<rt::ProfileData>(M, "ProfileData", "One profile entry; times in microseconds.")
      .def_property_readonly("kind", [](const rt::ProfileData &P) { return P.Kind; })
      .def_property_readonly("name", [](const rt::ProfileData &P) { return P.Name; },
                             "Layer, subgraph or model name.")
      .def_property_readonly("time", [](const rt::ProfileData &P) { return P.Time.count(); },
                             "Duration in microseconds.")
      .def_property_readonly("start", [](const rt::ProfileData &P) { return P.Start.count(); },
                             "Start in microseconds from the beginning of the infer() (or load).")
      .def_property_readonly("subgraph", [](const rt::ProfileData &P) { return P.Subgraph; },
                             "Subgraph the entry belongs to ('' for model-level entries).")
      .def("__repr__", &profileRepr)
      .def("__str__", &profileStr);

  py::class_<rt::SubgraphInfo>(M, "SubgraphInfo", "Where a subgraph of a loaded model runs.")
      .def_property_readonly("name", [](const rt::SubgraphInfo &S) { return S.Name; })
      .def_property_readonly("framework", [](const rt::SubgraphInfo &S) { return S.Framework; })
      .def_property_readonly("device", [](const rt::SubgraphInfo &S) { return S.Device; })
      .def_property_readonly("device_index", [](const rt::SubgraphInfo &S) { return S.DeviceIndex; })
      .def_property_readonly("device_name", [](const rt::SubgraphInfo &S) { return S.DeviceName; })
      .def_property_readonly("fell_back", [](const rt::SubgraphInfo &S) { return S.FellBack; },
                             "True when fallback moved it off the device model.meta asked for.")
      .def_property_readonly("inputs", [](const rt::SubgraphInfo &S) { return S.Inputs; })
      .def_property_readonly("outputs", [](const rt::SubgraphInfo &S) { return S.Outputs; })
      .def("__repr__", &subgraphRepr)
      .def("__str__", &subgraphRepr);
}

} // namespace optima_v2::python
