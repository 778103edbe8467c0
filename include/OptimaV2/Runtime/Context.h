#pragma once

#include <OptimaV2/Runtime/ContextOptions.h>
#include <OptimaV2/Runtime/Device.h>
#include <OptimaV2/Runtime/Logging/LogLevel.h>
#include <OptimaV2/Runtime/Model.h>
#include <OptimaV2/Runtime/Version.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace optima_v2::runtime {

namespace detail {
class ContextImpl;
} // namespace detail

// Owns extensions, devices, logging and the thread pool. A cheap shared handle; models and
// requests keep what they need alive, so destroying a Context while they run is safe.
class Context {
public:
  // Loads the extensions installed next to the runtime library (its `extensions/` folder) and
  // those listed in OPTIMA_V2_EXTENSION_PATH (':'-separated files or folders).
  explicit Context(const ContextOptions &Options = ContextOptions());

  // Path not an existing folder -> std::invalid_argument; corrupt model ->
  // InvalidModelException; unknown framework/device -> UnsupportedModelException.
  Model loadModel(const std::filesystem::path &Path, bool Fallback = false);

  // Empty, missing or not a regular file -> std::invalid_argument; not a valid extension ->
  // InvalidExtensionException (with the dlerror or version text).
  void loadExtension(const std::filesystem::path &Path);

  LogLevel getVerbosity() const;
  LogLevel setVerbosity(LogLevel Level); // returns the previous level

  std::vector<DeviceInfo> getAvailableDevices();
  // Names and versions of the loaded extensions ("native 0.1.0 (Native) at /path/lib.so").
  std::vector<std::string> getLoadedExtensions() const;
  uint32_t getThreadCount() const;

  static VersionTuple getVersion();

private:
  std::shared_ptr<detail::ContextImpl> Impl;
};

} // namespace optima_v2::runtime
