#pragma once

#include <cstdint>

namespace optima_v2::runtime::detail {

// Physical cores this process may run on: distinct (package, core) pairs of the CPUs in its
// affinity mask, read from /sys/devices/system/cpu/cpuN/topology; falls back to
// std::thread::hardware_concurrency(). Always >= 1.
uint32_t getPhysicalCoreCount() noexcept;

// ThreadCount option if non-zero, else OPTIMA_V2_NUM_THREADS if it is a positive integer, else
// getPhysicalCoreCount(). Capped at 1024.
uint32_t resolveThreadCount(uint32_t Requested) noexcept;

} // namespace optima_v2::runtime::detail
