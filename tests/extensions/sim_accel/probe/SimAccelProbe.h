// Test-side access to the test-only extensions: their paths, and the simulated accelerator's
// live-object counters (read through dlsym on the same loaded library the runtime uses).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace optima_v2::test {

std::filesystem::path simAccelPath();
std::filesystem::path badAbiExtensionPath();   // table reports ABI version 999
std::filesystem::path smallTableExtensionPath(); // table StructSize too small for ABI v1

// Live objects of the simulated accelerator in this process. The first call loads the library
// and keeps it loaded for the life of the process, so counters survive Contexts unloading it.
struct SimAccelLive {
  uint64_t Buffers = 0, Mapped = 0, Subgraphs = 0, States = 0, Extensions = 0;
  bool allZero() const { return !Buffers && !Mapped && !Subgraphs && !States && !Extensions; }
  std::string toString() const;
};
SimAccelLive simAccelLive();

// Writes Folder/sim_accel.json (the accelerator's fault plan, see FaultPlan.h).
void writeFaultPlan(const std::filesystem::path &SubgraphFolder, const std::string &Json);

} // namespace optima_v2::test
