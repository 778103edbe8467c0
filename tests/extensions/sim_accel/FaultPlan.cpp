#include "FaultPlan.h"

#include "support/Json.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace optima_v2::test_accel {

namespace json = optima_v2::support::json;

const char *toString(FaultPoint Point) {
  switch (Point) {
  case FaultPoint::None: return "none";
  case FaultPoint::Load: return "load";
  case FaultPoint::CreateState: return "create_state";
  case FaultPoint::Execute: return "execute";
  case FaultPoint::Alloc: return "alloc";
  case FaultPoint::Map: return "map";
  }
  return "?";
}

namespace {
FaultPoint parsePoint(const json::Cursor &C) {
  const std::string &S = C.getString();
  for (FaultPoint P : {FaultPoint::None, FaultPoint::Load, FaultPoint::CreateState,
                       FaultPoint::Execute, FaultPoint::Alloc, FaultPoint::Map})
    if (S == toString(P))
      return P;
  C.fail("unknown fault point \"" + S + "\"");
}

// The status a point reports unless the plan names one: what a real device would say.
OptimaStatus defaultStatus(FaultPoint Point) {
  switch (Point) {
  case FaultPoint::Load: return OPTIMA_STATUS_INVALID_MODEL;
  case FaultPoint::CreateState:
  case FaultPoint::Alloc: return OPTIMA_STATUS_OUT_OF_RESOURCE;
  default: return OPTIMA_STATUS_EXECUTION_FAILED;
  }
}
} // namespace

FaultPlan readFaultPlan(const std::filesystem::path &Folder) {
  FaultPlan Plan;
  std::filesystem::path File = Folder / "sim_accel.json";
  std::error_code Ec;
  if (!std::filesystem::exists(File, Ec))
    return Plan;
  std::ifstream In(File, std::ios::binary);
  std::ostringstream Text;
  Text << In.rdbuf();
  if (!In)
    throw std::runtime_error("sim_accel.json: cannot read " + File.string());
  try {
    json::Value Doc = json::parse(Text.str());
    json::Cursor Root(Doc);
    for (const auto &[Key, Unused] : Root.getObject()) {
      (void)Unused;
      json::Cursor C = Root.field(Key);
      if (Key == "fail_at")
        Plan.Point = parsePoint(C);
      else if (Key == "after")
        Plan.After = C.getUInt(UINT32_MAX);
      else if (Key == "repeat")
        Plan.Repeat = C.getBool();
      else if (Key == "status") {
        Plan.HasStatus = true;
        Plan.Status = static_cast<int32_t>(C.getInt(INT32_MIN, INT32_MAX));
      } else if (Key == "throw")
        Plan.Throw = C.getBool();
      else if (Key == "stall_ms")
        Plan.StallMs = static_cast<uint32_t>(C.getUInt(600000));
      else
        C.fail("unknown key"); // strict, so a typo in a test does not silently disable a fault
    }
  } catch (const json::ParseError &E) {
    throw std::runtime_error(std::string("sim_accel.json: ") + E.what());
  } catch (const json::SchemaError &E) {
    throw std::runtime_error(std::string("sim_accel.json: ") + E.what());
  }
  return Plan;
}

OptimaStatus injectFailure(const FaultPlan &Plan, FaultPoint Point, uint64_t Call,
                           std::string &Error) {
  std::string What = std::string("sim_accel: injected failure at ") + toString(Point) +
                     " (call " + std::to_string(Call) + ")";
  if (Plan.Throw)
    throw InjectedException(What + " thrown as a C++ exception");
  Error = What;
  return Plan.HasStatus ? static_cast<OptimaStatus>(Plan.Status) : defaultStatus(Point);
}

OptimaStatus FaultSite::check(std::string &Error) {
  if (Plan.Point != Point)
    return OPTIMA_STATUS_OK;
  uint64_t Call = ++Calls;
  if (!Plan.failsOnCall(Call))
    return OPTIMA_STATUS_OK;
  return injectFailure(Plan, Point, Call, Error);
}

} // namespace optima_v2::test_accel
