#include <OptimaV2/Runtime/Context.h>

#include "core/Context/ContextImpl.h"
#include "core/Model/ModelLoader.h"

#include <new>

namespace optima_v2::runtime {

Context::Context(const ContextOptions &Options) : Impl(std::make_shared<detail::ContextImpl>(Options)) {}

Model Context::loadModel(const std::filesystem::path &Path, bool Fallback) {
  try {
    return Model(detail::ModelLoader::load(Impl, Path, Fallback));
  } catch (const std::bad_alloc &) {
    // Parsing and validation allocate in proportion to the (bounded) file sizes; under memory
    // pressure that still fails, and callers expect the documented exception type.
    throwFormat<OutOfResourceException>("loadModel: out of memory while loading \"{}\"", Path.string());
  }
}

void Context::loadExtension(const std::filesystem::path &Path) { Impl->registry().load(Path); }

LogLevel Context::getVerbosity() const { return Impl->logger().getLevel(); }

LogLevel Context::setVerbosity(LogLevel Level) {
  if (static_cast<int32_t>(Level) < 0 || static_cast<int32_t>(Level) > static_cast<int32_t>(LogLevel::Error))
    throwFormat<InvalidArgumentException>("setVerbosity: invalid log level {}", static_cast<int32_t>(Level));
  return Impl->logger().setLevel(Level);
}

std::vector<DeviceInfo> Context::getAvailableDevices() {
  std::vector<DeviceInfo> Devices;
  for (const auto &Ext : Impl->registry().all())
    for (const auto &D : Ext->devices())
      Devices.push_back(D.Info);
  return Devices;
}

std::vector<std::string> Context::getLoadedExtensions() const {
  std::vector<std::string> Names;
  for (const auto &Ext : Impl->registry().all())
    Names.push_back(Ext->describe());
  return Names;
}

uint32_t Context::getThreadCount() const { return Impl->pool().getThreadCount(); }

} // namespace optima_v2::runtime
