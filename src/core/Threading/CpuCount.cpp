#include "core/Threading/CpuCount.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace optima_v2::runtime::detail {
namespace {

bool readInt(const std::string &Path, long &Value) {
  std::ifstream In(Path);
  return static_cast<bool>(In >> Value);
}

} // namespace

uint32_t getPhysicalCoreCount() noexcept {
  try {
    cpu_set_t Mask;
    CPU_ZERO(&Mask);
    bool HaveMask = sched_getaffinity(0, sizeof(Mask), &Mask) == 0;
    std::set<std::pair<long, long>> Cores;
    for (int Cpu = 0; Cpu < CPU_SETSIZE; ++Cpu) {
      if (HaveMask && !CPU_ISSET(Cpu, &Mask))
        continue;
      std::string Base = "/sys/devices/system/cpu/cpu" + std::to_string(Cpu) + "/topology/";
      long Package = 0, Core = 0;
      if (!readInt(Base + "core_id", Core))
        continue;
      readInt(Base + "physical_package_id", Package);
      Cores.emplace(Package, Core);
    }
    if (!Cores.empty())
      return static_cast<uint32_t>(Cores.size());
  } catch (...) {
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

uint32_t resolveThreadCount(uint32_t Requested) noexcept {
  constexpr uint32_t MaxThreads = 1024;
  if (Requested != 0)
    return std::min(Requested, MaxThreads);
  if (const char *Env = std::getenv("OPTIMA_V2_NUM_THREADS")) {
    char *End = nullptr;
    long Value = std::strtol(Env, &End, 10);
    if (End != Env && *End == '\0' && Value > 0)
      return std::min(static_cast<uint32_t>(std::min<long>(Value, MaxThreads)), MaxThreads);
  }
  return std::min(getPhysicalCoreCount(), MaxThreads);
}

} // namespace optima_v2::runtime::detail
