#include "SimAccelProbe.h"

#include <dlfcn.h>

#include <fstream>
#include <stdexcept>

namespace optima_v2::test {

std::filesystem::path simAccelPath() { return OPTIMA_V2_TEST_ACCEL_PATH; }
std::filesystem::path badAbiExtensionPath() { return OPTIMA_V2_TEST_BAD_EXT_PATH; }
std::filesystem::path smallTableExtensionPath() { return OPTIMA_V2_TEST_BAD_EXT_SMALL_PATH; }

namespace {
using LiveCountFn = uint64_t (*)(const char *);

LiveCountFn liveCountFn() {
  static LiveCountFn Fn = [] {
    // Same path as Context::loadExtension gets, so the dynamic loader returns the same instance.
    void *Handle = dlopen(simAccelPath().c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!Handle)
      throw std::runtime_error(std::string("cannot load the test accelerator: ") + dlerror());
    auto *Sym = dlsym(Handle, "optimaV2TestAccelLiveCount");
    if (!Sym)
      throw std::runtime_error("optimaV2TestAccelLiveCount not exported");
    return reinterpret_cast<LiveCountFn>(Sym);
  }();
  return Fn;
}
} // namespace

SimAccelLive simAccelLive() {
  LiveCountFn Fn = liveCountFn();
  SimAccelLive L;
  L.Buffers = Fn("buffers");
  L.Mapped = Fn("mapped");
  L.Subgraphs = Fn("subgraphs");
  L.States = Fn("states");
  L.Extensions = Fn("extensions");
  return L;
}

std::string SimAccelLive::toString() const {
  return "buffers=" + std::to_string(Buffers) + " mapped=" + std::to_string(Mapped) +
         " subgraphs=" + std::to_string(Subgraphs) + " states=" + std::to_string(States) +
         " extensions=" + std::to_string(Extensions);
}

void writeFaultPlan(const std::filesystem::path &SubgraphFolder, const std::string &Json) {
  std::ofstream Out(SubgraphFolder / "sim_accel.json", std::ios::binary);
  Out << Json;
  if (!Out)
    throw std::runtime_error("cannot write " + (SubgraphFolder / "sim_accel.json").string());
}

} // namespace optima_v2::test
