// The extensions of one Context: discovery of the default ones, explicit loads, and lookup by
// framework. Guarded by a mutex (loadExtension may race with loadModel).
#pragma once

#include "core/Extension/ExtensionLibrary.h"

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

namespace optima_v2::runtime::detail {

class ExtensionRegistry {
public:
  explicit ExtensionRegistry(std::shared_ptr<HostEnvironment> Host) : Host(std::move(Host)) {}

  // The `extensions/` folder next to the runtime library, then OPTIMA_V2_EXTENSION_PATH
  // (':'-separated files or folders). Failures are logged as warnings and skipped.
  void loadDefaults();

  // Empty, missing or not a regular file -> std::invalid_argument; invalid extension or a second
  // extension for an already provided framework -> InvalidExtensionException. Loading the same
  // file again is ignored (returns false).
  bool load(const std::filesystem::path &Path);

  std::shared_ptr<ExtensionLibrary> find(FrameworkKind Framework) const;
  std::vector<std::shared_ptr<ExtensionLibrary>> all() const;

  // Where the runtime library lives + "/extensions" (empty if it cannot be found).
  static std::filesystem::path defaultExtensionDir();

private:
  void loadFolderOrFile(const std::filesystem::path &Path, bool MissingIsQuiet);
  void loadLogged(const std::filesystem::path &Path);

  std::shared_ptr<HostEnvironment> Host;
  mutable std::mutex Mutex;
  std::vector<std::shared_ptr<ExtensionLibrary>> Libraries;
};

} // namespace optima_v2::runtime::detail
