#include "core/Extension/HostEnvironment.h"

namespace optima_v2::runtime::detail {
namespace {

void hostLog(void *HostContext, int32_t Level, const char *Message) {
  if (!HostContext || !Message)
    return;
  if (Level < static_cast<int32_t>(LogLevel::Debug))
    Level = static_cast<int32_t>(LogLevel::Debug);
  if (Level > static_cast<int32_t>(LogLevel::Error))
    Level = static_cast<int32_t>(LogLevel::Error);
  static_cast<HostEnvironment *>(HostContext)->logger().log(static_cast<LogLevel>(Level), Message);
}

void hostParallelFor(void *HostContext, size_t Count, size_t Grain, OptimaParallelFn Fn, void *UserData) {
  if (!Fn)
    return;
  if (!HostContext) { // be forgiving: run serially rather than crash
    Fn(UserData, 0, Count);
    return;
  }
  static_cast<HostEnvironment *>(HostContext)->pool().parallelFor(Count, Grain, Fn, UserData);
}

uint32_t hostGetThreadCount(void *HostContext) {
  return HostContext ? static_cast<HostEnvironment *>(HostContext)->pool().getShareCount() : 1u;
}

} // namespace

HostEnvironment::HostEnvironment(std::shared_ptr<Logger> LogIn, std::shared_ptr<ThreadPool> PoolIn)
    : Log(std::move(LogIn)), Pool(std::move(PoolIn)) {
  Api.StructSize = sizeof(OptimaHostApi);
  Api.AbiVersion = OPTIMA_EXT_ABI_VERSION;
  Api.HostContext = this;
  Api.log = hostLog;
  Api.parallelFor = hostParallelFor;
  Api.getThreadCount = hostGetThreadCount;
}

} // namespace optima_v2::runtime::detail
