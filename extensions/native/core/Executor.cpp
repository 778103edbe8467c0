// Per-request state and the node loop. The arena is allocated once per request; execute() only
// binds the caller's pointers and runs kernels.
#include "GraphData.h"
#include "LargeAlloc.h"
#include "MemoryPlan.h"

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

namespace optima_v2::native {

ExecHooks ExecHooks::fromHost(const OptimaHostApi *Host, const OptimaExecContext *Exec) {
  ExecHooks H;
  if (Host) {
    H.HostContext = Host->HostContext;
    H.ParallelFor = Host->parallelFor;
    H.ThreadCount = Host->getThreadCount ? Host->getThreadCount(Host->HostContext) : 1;
    if (H.ThreadCount == 0)
      H.ThreadCount = 1;
  }
  H.Exec = Exec;
  return H;
}

void KernelContext::fail(const char *Format, ...) const {
  if (!Failure)
    return;
  bool Expected = false;
  if (!Failure->Set.compare_exchange_strong(Expected, true))
    return; // another chunk reported first
  va_list Args;
  va_start(Args, Format);
  std::vsnprintf(Failure->Message, sizeof Failure->Message, Format, Args);
  va_end(Args);
}

struct GraphInstance::State {
  std::byte *Arena = nullptr;
  size_t ArenaBytes = 0;
  std::vector<void *> Tensors; // by tensor id
  KernelFailure Failure;
  char FailureText[512] = {}; // "node \"<name>\": <message>" of the last failed execute()

  ~State() {
    if (Arena)
      freeLarge(Arena, ArenaBytes);
  }
};

GraphInstance::GraphInstance(std::shared_ptr<const NativeGraph> G)
    : Graph(std::move(G)), S(std::make_unique<State>()) {
  const GraphData &D = Graph->data();
  if (D.ArenaBytes) {
    static_assert(ArenaAlignment <= 64, "allocateLarge aligns to 64");
    S->Arena = static_cast<std::byte *>(allocateLarge(D.ArenaBytes));
    S->ArenaBytes = D.ArenaBytes;
    if (!S->Arena)
      throw NativeError(OPTIMA_STATUS_OUT_OF_RESOURCE,
                        "cannot allocate the request arena (" + std::to_string(D.ArenaBytes) +
                            " bytes)");
  }
  S->Tensors.assign(D.Tensors.size(), nullptr);
  for (size_t I = 0; I < D.Tensors.size(); ++I) {
    const TensorInfo &T = D.Tensors[I];
    if (T.Where == Storage::Constant)
      S->Tensors[I] = const_cast<void *>(T.Data); // kernels never write inputs
    else if (T.Where == Storage::Intermediate)
      S->Tensors[I] = S->Arena + T.ArenaOffset;
  }
}

GraphInstance::~GraphInstance() = default;

OptimaStatus GraphInstance::execute(void *const *Inputs, void *const *Outputs,
                                    const ExecHooks &Hooks) {
  const GraphData &D = Graph->data();
  for (size_t I = 0; I < D.InputIds.size(); ++I)
    S->Tensors[size_t(D.InputIds[I])] = Inputs[I];
  for (size_t I = 0; I < D.OutputIds.size(); ++I)
    S->Tensors[size_t(D.OutputIds[I])] = Outputs[I];

  KernelContext Ctx;
  Ctx.Tensors = S->Tensors.data();
  Ctx.Scratch = S->Arena ? S->Arena + D.ScratchOffset : nullptr;
  Ctx.Hooks = &Hooks;
  Ctx.Failure = &S->Failure;
  S->Failure.Set.store(false, std::memory_order_relaxed);
  S->FailureText[0] = '\0';
  const OptimaExecContext *Exec = Hooks.Exec;
  bool Profile = Exec && Exec->ProfilingEnabled && Exec->profileEvent;
  for (const LoadedNode &N : D.Nodes) {
    if (Exec && Exec->isCancelled && Exec->isCancelled(Exec->Sink))
      return OPTIMA_STATUS_CANCELLED;
    if (!Profile) {
      N.Impl->run(Ctx);
    } else {
      auto Start = std::chrono::steady_clock::now();
      N.Impl->run(Ctx);
      auto Ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now() - Start)
                    .count();
      Exec->profileEvent(Exec->Sink, OPTIMA_PROFILE_LAYER_EXECUTE, N.Desc.Name.c_str(),
                         uint64_t(Ns));
    }
    if (S->Failure.Set.load(std::memory_order_relaxed)) {
      std::snprintf(S->FailureText, sizeof S->FailureText, "node \"%s\" (%s): %s",
                    N.Desc.Name.c_str(), N.Desc.Op.c_str(), S->Failure.Message);
      return OPTIMA_STATUS_EXECUTION_FAILED;
    }
  }
  return OPTIMA_STATUS_OK;
}

const char *GraphInstance::failureMessage() const noexcept { return S->FailureText; }

} // namespace optima_v2::native
