#pragma once

#include <cstdint>

namespace optima_v2::runtime {

// Messages at or above the Context's verbosity are written. Values match the extension ABI.
enum class LogLevel : int32_t { Debug = 0, Verbose = 1, Info = 2, Warning = 3, Error = 4 };

} // namespace optima_v2::runtime
