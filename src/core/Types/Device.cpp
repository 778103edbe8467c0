#include <OptimaV2/Runtime/Device.h>

namespace optima_v2::runtime {

bool isDeviceCPU(DeviceKind Kind) noexcept {
  return Kind == DeviceKind::x86 || Kind == DeviceKind::x64 || Kind == DeviceKind::ARM ||
         Kind == DeviceKind::ARM64;
}

bool isDeviceGPU(DeviceKind Kind) noexcept {
  return Kind == DeviceKind::NVIDIA || Kind == DeviceKind::AMDGPU || Kind == DeviceKind::IntelGPU ||
         Kind == DeviceKind::Mali || Kind == DeviceKind::Adreno;
}

// DSPs and accelerators: Hexagon, Myriad, ARA1, EdgeTPU, CV22.
bool isDeviceNPU(DeviceKind Kind) noexcept {
  return Kind == DeviceKind::Hexagon || Kind == DeviceKind::Myriad || Kind == DeviceKind::ARA1 ||
         Kind == DeviceKind::EdgeTPU || Kind == DeviceKind::CV22;
}

} // namespace optima_v2::runtime
