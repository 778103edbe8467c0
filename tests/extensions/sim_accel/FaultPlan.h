// Fault injection for the simulated accelerator, read from an optional `sim_accel.json` in the
// subgraph folder:
//   {"fail_at": "none"|"load"|"create_state"|"execute"|"alloc"|"map",
//    "after": N        fail on call N+1 (default 0: the first call),
//    "repeat": bool    fail on every call after the N-th, not only on call N+1 (default false),
//    "status": S       return this raw status value instead of the point's default,
//    "throw": bool     throw a C++ exception out of the entry point instead (breaks the ABI rule
//                      on purpose, to test the host's guard),
//    "stall_ms": N     sleep N ms in every execute() of the subgraph, polling isCancelled}
// Counting: "load" counts loads of the folder by one extension instance (Context); "execute" and
// "create_state" count calls on the loaded subgraph; "alloc" and "map" count allocBuffer/mapBuffer
// calls of the extension instance while the subgraph is loaded (the buffer calls carry no subgraph).
#pragma once

#include <OptimaV2/Extension/Extension.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace optima_v2::test_accel {

// The exception a plan with "throw": true raises; the entry-point guard lets it escape on purpose.
class InjectedException : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

enum class FaultPoint { None, Load, CreateState, Execute, Alloc, Map };

const char *toString(FaultPoint Point);

struct FaultPlan {
  FaultPoint Point = FaultPoint::None;
  uint64_t After = 0;
  bool Repeat = false;
  bool HasStatus = false;
  int32_t Status = 0;
  bool Throw = false;
  uint32_t StallMs = 0;

  // True when call number Call (1-based) of Point must fail.
  bool failsOnCall(uint64_t Call) const { return Repeat ? Call > After : Call == After + 1; }
};

// Reads Folder/sim_accel.json; a missing file is the empty plan. A malformed file throws
// std::runtime_error naming the file and field.
FaultPlan readFaultPlan(const std::filesystem::path &Folder);

// Counts calls of one fault point and produces the injected failure when the plan says so:
// returns OK when the call must go on; else fills Error and returns the status, or throws.
class FaultSite {
public:
  FaultSite(const FaultPlan &Plan, FaultPoint Point) : Plan(Plan), Point(Point) {}
  OptimaStatus check(std::string &Error);

private:
  const FaultPlan &Plan;
  FaultPoint Point;
  std::atomic<uint64_t> Calls{0};
};

// The failure of call number Call at Point under Plan (status or thrown exception).
OptimaStatus injectFailure(const FaultPlan &Plan, FaultPoint Point, uint64_t Call,
                           std::string &Error);

} // namespace optima_v2::test_accel
