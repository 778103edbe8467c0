// Enums (ElementType, DeviceKind, FrameworkKind, LogLevel, ProfileKind) and the free functions
// about them.
#include "bindings.h"

#include <OptimaV2/Runtime/Utils/ToString.h>

namespace optima_v2::python {

void registerEnums(py::module_ &M) {
  py::enum_<rt::ElementType>(M, "ElementType", "Element type of a tensor.")
      .value("I8", rt::ElementType::I8)
      .value("U8", rt::ElementType::U8)
      .value("I16", rt::ElementType::I16)
      .value("U16", rt::ElementType::U16)
      .value("I32", rt::ElementType::I32)
      .value("U32", rt::ElementType::U32)
      .value("I64", rt::ElementType::I64)
      .value("U64", rt::ElementType::U64)
      .value("F16", rt::ElementType::F16)
      .value("F32", rt::ElementType::F32)
      .value("F64", rt::ElementType::F64)
      .value("Q8", rt::ElementType::Q8)
      .value("Q16", rt::ElementType::Q16)
      .value("BF16", rt::ElementType::BF16)
      .value("Bool", rt::ElementType::Bool)
      .value("F8E4M3FN", rt::ElementType::F8E4M3FN)
      .value("F8E4M3FNUZ", rt::ElementType::F8E4M3FNUZ)
      .value("F8E5M2", rt::ElementType::F8E5M2)
      .value("F8E5M2FNUZ", rt::ElementType::F8E5M2FNUZ)
      .value("F8E8M0", rt::ElementType::F8E8M0)
      .value("I4", rt::ElementType::I4)
      .value("U4", rt::ElementType::U4)
      .value("F4E2M1", rt::ElementType::F4E2M1)
      .value("I2", rt::ElementType::I2)
      .value("U2", rt::ElementType::U2)
      .def("to_dtype", &toDtype,
           "The numpy dtype of this element type. Types numpy lacks map to their storage: "
           "BF16 -> uint16 (bit patterns), Q8 -> int8, Q16 -> int16. The low-precision types "
           "(F8*, F4E2M1, I4, U4, I2, U2) map to ml_dtypes' dtypes (one byte per element); "
           "TypeError when ml_dtypes is not installed.")
      .def_property_readonly("size", [](rt::ElementType T) { return rt::getSizeOfElement(T); },
                             "Bytes per element.");

  py::enum_<rt::DeviceKind>(M, "DeviceKind", "Kind of device a subgraph runs on.")
      .value("x86", rt::DeviceKind::x86)
      .value("x64", rt::DeviceKind::x64)
      .value("ARM", rt::DeviceKind::ARM)
      .value("ARM64", rt::DeviceKind::ARM64)
      .value("NVIDIA", rt::DeviceKind::NVIDIA)
      .value("AMDGPU", rt::DeviceKind::AMDGPU)
      .value("IntelGPU", rt::DeviceKind::IntelGPU)
      .value("Mali", rt::DeviceKind::Mali)
      .value("Adreno", rt::DeviceKind::Adreno)
      .value("Hexagon", rt::DeviceKind::Hexagon)
      .value("Myriad", rt::DeviceKind::Myriad)
      .value("ARA1", rt::DeviceKind::ARA1)
      .value("EdgeTPU", rt::DeviceKind::EdgeTPU)
      .value("CV22", rt::DeviceKind::CV22);

  py::enum_<rt::FrameworkKind>(M, "FrameworkKind", "Framework (extension) that runs a subgraph.")
      .value("TFLite", rt::FrameworkKind::TFLite)
      .value("OpenVINO", rt::FrameworkKind::OpenVINO)
      .value("SNPE", rt::FrameworkKind::SNPE)
      .value("DVAPI", rt::FrameworkKind::DVAPI)
      .value("Vulkan", rt::FrameworkKind::Vulkan)
      .value("OpenCL", rt::FrameworkKind::OpenCL)
      .value("Native", rt::FrameworkKind::Native);

  py::enum_<rt::LogLevel>(M, "LogLevel", "Minimum level of the messages a Context logs.")
      .value("Debug", rt::LogLevel::Debug)
      .value("Verbose", rt::LogLevel::Verbose)
      .value("Info", rt::LogLevel::Info)
      .value("Warning", rt::LogLevel::Warning)
      .value("Error", rt::LogLevel::Error);

  py::enum_<rt::ProfileKind>(M, "ProfileKind", "What a ProfileData entry measures.")
      .value("ModelInit", rt::ProfileKind::ModelInit, "loading the whole model")
      .value("SubgraphInit", rt::ProfileKind::SubgraphInit, "loading one subgraph")
      .value("RequestInit", rt::ProfileKind::RequestInit, "creating a request")
      .value("TransferFromInput", rt::ProfileKind::TransferFromInput, "input tensor -> device memory")
      .value("TransferToOutput", rt::ProfileKind::TransferToOutput, "device memory -> output tensor")
      .value("LayerExecute", rt::ProfileKind::LayerExecute, "one kernel")
      .value("Wait", rt::ProfileKind::Wait, "waiting in a queue or on dependencies")
      .value("BufferCopy", rt::ProfileKind::BufferCopy, "copy between subgraphs on different devices")
      .value("ModelExecute", rt::ProfileKind::ModelExecute, "whole model")
      .value("SubgraphExecute", rt::ProfileKind::SubgraphExecute, "one subgraph");

  M.def("get_element_size", &rt::getSizeOfElement, py::arg("type"), "Bytes per element of `type`.");
  M.def("is_device_cpu", &rt::isDeviceCPU, py::arg("kind"));
  M.def("is_device_gpu", &rt::isDeviceGPU, py::arg("kind"));
  M.def("is_device_npu", &rt::isDeviceNPU, py::arg("kind"));
}

} // namespace optima_v2::python
