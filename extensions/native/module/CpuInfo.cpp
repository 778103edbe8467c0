#include "CpuInfo.h"

#include <fstream>

namespace optima_v2::native {

int32_t hostDeviceKind() noexcept {
#if defined(__aarch64__) || defined(_M_ARM64)
  return OPTIMA_DEVICE_ARM64;
#else
  return OPTIMA_DEVICE_X64;
#endif
}

std::string hostDeviceName(uint32_t Threads) {
  std::string Model;
  std::ifstream In("/proc/cpuinfo");
  std::string Line;
  while (Model.empty() && std::getline(In, Line)) {
    if (Line.compare(0, 10, "model name") != 0)
      continue;
    size_t Colon = Line.find(':');
    if (Colon == std::string::npos)
      continue;
    size_t Begin = Line.find_first_not_of(" \t", Colon + 1);
    size_t End = Line.find_last_not_of(" \t\r");
    if (Begin != std::string::npos && End >= Begin)
      Model = Line.substr(Begin, End - Begin + 1);
  }
  if (Model.empty())
    Model = "CPU";
  const char *Arch = hostDeviceKind() == OPTIMA_DEVICE_ARM64 ? "ARM64" : "x64";
  return Model + " (" + Arch + ", " + std::to_string(Threads) +
         (Threads == 1 ? " thread)" : " threads)");
}

} // namespace optima_v2::native
