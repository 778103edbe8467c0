#pragma once

#include <OptimaV2/Runtime/Logging/LogLevel.h>

#include <cstdint>
#include <filesystem>

namespace optima_v2::runtime {

struct ContextOptions {
  // Minimum level written to the log. The user's guide spells it `Options.LogLevel`; both names
  // are the same storage (an anonymous union of one type, a layout GCC, Clang and MSVC define).
  union {
    ::optima_v2::runtime::LogLevel Verbosity = ::optima_v2::runtime::LogLevel::Warning;
    ::optima_v2::runtime::LogLevel LogLevel;
  };
  // Log file; empty = the console (stderr).
  std::filesystem::path LogPath;
  // Record per-layer profile data (model- and subgraph-level entries are always recorded).
  bool EnableProfile = true;
  // Threads of the Context's pool shared by requests and intra-op loops; 0 = the
  // OPTIMA_V2_NUM_THREADS environment variable if set, else the number of physical cores.
  uint32_t ThreadCount = 0;
  // Load the extensions installed with the runtime and those in OPTIMA_V2_EXTENSION_PATH.
  bool LoadDefaultExtensions = true;
};

} // namespace optima_v2::runtime
