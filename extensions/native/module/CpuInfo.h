// Describes the host CPU for the native device.
#pragma once

#include "OptimaV2/Extension/Extension.h"

#include <cstdint>
#include <string>

namespace optima_v2::native {

// OPTIMA_DEVICE_X64 on x86-64, OPTIMA_DEVICE_ARM64 on aarch64 (the two supported hosts).
int32_t hostDeviceKind() noexcept;
// e.g. "AMD EPYC 7B13 (x64, 8 threads)": /proc/cpuinfo "model name" plus the thread count.
std::string hostDeviceName(uint32_t Threads);

} // namespace optima_v2::native
