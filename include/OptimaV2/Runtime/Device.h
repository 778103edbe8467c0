#pragma once

#include <OptimaV2/Runtime/FrameworkKind.h>

#include <cstdint>
#include <string>

namespace optima_v2::runtime {

// Values match OptimaDeviceKind in the extension ABI.
enum class DeviceKind : int32_t {
  x86 = 0, x64 = 1, ARM = 2, ARM64 = 3, NVIDIA = 4, AMDGPU = 5, IntelGPU = 6, Mali = 7,
  Adreno = 8, Hexagon = 9, Myriad = 10, ARA1 = 11, EdgeTPU = 12, CV22 = 13
};

bool isDeviceCPU(DeviceKind Kind) noexcept;
bool isDeviceGPU(DeviceKind Kind) noexcept;
bool isDeviceNPU(DeviceKind Kind) noexcept;

struct DeviceInfo {
  FrameworkKind Framework = FrameworkKind::Native;
  DeviceKind Kind = DeviceKind::x64;
  std::string Name;
  std::string ID; // may be empty
  uint32_t Index = 0; // the N in "X64:N" as written in model.meta (addition)
};

} // namespace optima_v2::runtime
