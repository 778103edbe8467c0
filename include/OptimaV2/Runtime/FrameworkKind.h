#pragma once

#include <cstdint>

namespace optima_v2::runtime {

// The framework that owns a subgraph. Values match OptimaFrameworkKind in the extension ABI.
enum class FrameworkKind : int32_t {
  TFLite = 0, OpenVINO = 1, SNPE = 2, DVAPI = 3, Vulkan = 4, OpenCL = 5, Native = 6
};

} // namespace optima_v2::runtime
