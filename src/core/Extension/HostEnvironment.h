// The services offered to extensions (OptimaHostApi): logging into the Context's logger and the
// Context's thread pool. Shared by the Context and every extension it loaded, so the table stays
// valid until the last extension's release() has returned.
#pragma once

#include "core/Logging/Logger.h"
#include "core/Threading/ThreadPool.h"

#include <OptimaV2/Extension/Extension.h>

#include <memory>

namespace optima_v2::runtime::detail {

class HostEnvironment {
public:
  HostEnvironment(std::shared_ptr<Logger> Log, std::shared_ptr<ThreadPool> Pool);
  HostEnvironment(const HostEnvironment &) = delete;
  HostEnvironment &operator=(const HostEnvironment &) = delete;

  const OptimaHostApi *api() const noexcept { return &Api; }
  Logger &logger() const noexcept { return *Log; }
  ThreadPool &pool() const noexcept { return *Pool; }

private:
  OptimaHostApi Api{};
  std::shared_ptr<Logger> Log;
  std::shared_ptr<ThreadPool> Pool;
};

} // namespace optima_v2::runtime::detail
