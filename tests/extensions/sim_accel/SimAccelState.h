// Objects behind the simulated accelerator's opaque ABI handles.
#pragma once

#include "FaultPlan.h"

#include <OptimaV2/Extension/Extension.h>
#include <OptimaV2/Native/NativeGraph.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace optima_v2::test_accel {

struct Subgraph;

// One extension instance (one per optimaV2ExtensionInit call, i.e. per Context).
struct Extension {
  explicit Extension(const OptimaHostApi *Host) : Host(Host) {}

  const OptimaHostApi *Host;
  OptimaExtension Table{};
  OptimaExtDeviceDesc Device{};

  std::mutex Mutex; // guards the members below
  std::map<std::string, uint64_t> LoadCalls; // folder -> loads tried (for "fail_at": "load")
  std::vector<Subgraph *> Loaded;            // alloc/map faults of these subgraphs are armed

  void log(OptimaLogLevel Level, const std::string &Message) const;
  // Runs the alloc/map fault sites of the loaded subgraphs; OK when no fault fires.
  OptimaStatus checkBufferFaults(FaultPoint Point, std::string &Error);
};

struct Subgraph {
  Subgraph(Extension &Owner, std::string Folder, FaultPlan Plan,
           std::shared_ptr<const native::NativeGraph> Graph);
  ~Subgraph();

  Extension &Owner;
  std::string Folder;
  FaultPlan Plan;
  FaultSite CreateStateSite{Plan, FaultPoint::CreateState};
  FaultSite ExecuteSite{Plan, FaultPoint::Execute};
  FaultSite AllocSite{Plan, FaultPoint::Alloc};
  FaultSite MapSite{Plan, FaultPoint::Map};
  std::shared_ptr<const native::NativeGraph> Graph;
};

struct RequestState {
  static constexpr uint32_t MagicValue = 0x51AC0001u;

  explicit RequestState(Subgraph &Owner);
  ~RequestState();

  uint32_t Magic = MagicValue;
  Subgraph &Owner;
  native::GraphInstance Instance;
  // Device views of the handles of the current execute(): sized once, so execute allocates nothing.
  std::vector<void *> InputViews, OutputViews;
};

// Live objects of every instance in the process, for the test probes.
struct LiveCounters {
  std::atomic<uint64_t> Extensions{0}, Subgraphs{0}, States{0};
};
LiveCounters &liveCounters();

} // namespace optima_v2::test_accel
