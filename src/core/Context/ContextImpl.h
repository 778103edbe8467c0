// State behind a Context handle: options, logger, thread pool and extensions. Models hold a
// shared_ptr to it, so it lives until the last model (and thus every request) is gone.
#pragma once

#include "core/Extension/ExtensionRegistry.h"
#include "core/Extension/HostEnvironment.h"
#include "core/Logging/Logger.h"
#include "core/Threading/ThreadPool.h"

#include <OptimaV2/Runtime/ContextOptions.h>

#include <memory>

namespace optima_v2::runtime::detail {

class ContextImpl {
public:
  explicit ContextImpl(const ContextOptions &Options);
  ContextImpl(const ContextImpl &) = delete;
  ContextImpl &operator=(const ContextImpl &) = delete;

  const ContextOptions &options() const noexcept { return Options; }
  Logger &logger() const noexcept { return *Log; }
  ThreadPool &pool() const noexcept { return *Pool; }
  ExtensionRegistry &registry() noexcept { return Registry; }
  const ExtensionRegistry &registry() const noexcept { return Registry; }

private:
  ContextOptions Options;
  std::shared_ptr<Logger> Log;
  std::shared_ptr<ThreadPool> Pool;
  std::shared_ptr<HostEnvironment> Host;
  ExtensionRegistry Registry; // declared last: its extensions are released first
};

} // namespace optima_v2::runtime::detail
