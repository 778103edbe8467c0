#include "core/Context/ContextImpl.h"

#include "core/Threading/CpuCount.h"

namespace optima_v2::runtime::detail {

ContextImpl::ContextImpl(const ContextOptions &OptionsIn)
    : Options(OptionsIn), Log(std::make_shared<Logger>(Options.Verbosity, Options.LogPath)),
      Pool(std::make_shared<ThreadPool>(resolveThreadCount(Options.ThreadCount),
                                        ThreadPool::pollTimesFromEnvironment())),
      Host(std::make_shared<HostEnvironment>(Log, Pool)), Registry(Host) {
  Log->logf(LogLevel::Verbose, "context: {} threads", Pool->getThreadCount());
  if (Options.LoadDefaultExtensions)
    Registry.loadDefaults();
}

} // namespace optima_v2::runtime::detail
