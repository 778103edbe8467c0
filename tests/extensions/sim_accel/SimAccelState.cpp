#include "SimAccelState.h"

namespace optima_v2::test_accel {

LiveCounters &liveCounters() {
  static LiveCounters Counters;
  return Counters;
}

void Extension::log(OptimaLogLevel Level, const std::string &Message) const {
  if (Host && Host->log)
    Host->log(Host->HostContext, Level, Message.c_str());
}

OptimaStatus Extension::checkBufferFaults(FaultPoint Point, std::string &Error) {
  std::lock_guard<std::mutex> Lock(Mutex);
  for (Subgraph *S : Loaded) {
    FaultSite &Site = Point == FaultPoint::Alloc ? S->AllocSite : S->MapSite;
    if (OptimaStatus Status = Site.check(Error); Status != OPTIMA_STATUS_OK)
      return Status;
  }
  return OPTIMA_STATUS_OK;
}

Subgraph::Subgraph(Extension &Owner, std::string Folder, FaultPlan Plan,
                   std::shared_ptr<const native::NativeGraph> Graph)
    : Owner(Owner), Folder(std::move(Folder)), Plan(Plan), Graph(std::move(Graph)) {
  ++liveCounters().Subgraphs;
}

Subgraph::~Subgraph() { --liveCounters().Subgraphs; }

RequestState::RequestState(Subgraph &Owner)
    : Owner(Owner), Instance(Owner.Graph), InputViews(Owner.Graph->inputCount()),
      OutputViews(Owner.Graph->outputCount()) {
  ++liveCounters().States;
}

RequestState::~RequestState() {
  Magic = 0;
  --liveCounters().States;
}

} // namespace optima_v2::test_accel
