// One loaded extension: the dlopen handle, its validated function table and its devices.
// Held by shared_ptr: every subgraph, request state and buffer it made holds a reference, so
// release() and dlclose happen only after the last of them is gone.
#pragma once

#include "core/Extension/HostEnvironment.h"

#include <OptimaV2/Extension/Extension.h>
#include <OptimaV2/Runtime/Device.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace optima_v2::runtime::detail {

struct ExtensionDevice {
  DeviceInfo Info;
  uint32_t Ordinal = 0; // argument for getDevice/loadSubgraph/allocBuffer
  uint32_t Flags = 0;
  uint32_t Alignment = 1;
  bool hostMemory() const noexcept { return (Flags & OPTIMA_EXT_DEVICE_HOST_MEMORY) != 0; }
};

class ExtensionLibrary {
public:
  // dlopen + init + validation. Any failure -> InvalidExtensionException with a message naming
  // Path and the step; the library is closed again.
  static std::shared_ptr<ExtensionLibrary> open(const std::filesystem::path &Path,
                                                std::shared_ptr<HostEnvironment> Host);
  ~ExtensionLibrary();
  ExtensionLibrary(const ExtensionLibrary &) = delete;
  ExtensionLibrary &operator=(const ExtensionLibrary &) = delete;

  const OptimaExtension &table() const noexcept { return *Table; }
  void *self() const noexcept { return Table->Self; }
  const std::string &name() const noexcept { return Name; }
  const std::string &version() const noexcept { return Version; }
  FrameworkKind framework() const noexcept { return Framework; }
  const std::filesystem::path &path() const noexcept { return Path; }
  const std::vector<ExtensionDevice> &devices() const noexcept { return Devices; }
  Logger &logger() const noexcept { return Host->logger(); }
  // "native 0.1.0 (Native) at /path/libx.so"
  std::string describe() const;

  // The device of Kind:Index, or nullptr.
  const ExtensionDevice *findDevice(DeviceKind Kind, uint32_t Index) const noexcept;
  // The first CPU device, or nullptr.
  const ExtensionDevice *findCpuDevice() const noexcept;

private:
  ExtensionLibrary() = default;
  void validateTable();
  void enumerateDevices();

  std::shared_ptr<HostEnvironment> Host; // outlives release()
  std::filesystem::path Path;
  void *Handle = nullptr;
  OptimaExtension *Table = nullptr;
  bool Initialized = false; // release() is due
  std::string Name, Version;
  FrameworkKind Framework = FrameworkKind::Native;
  std::vector<ExtensionDevice> Devices;
};

} // namespace optima_v2::runtime::detail
