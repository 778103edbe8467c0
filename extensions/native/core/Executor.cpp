// Per-request state and the node loop. The arena is allocated once per request; execute() only
// binds the caller's pointers and runs kernels.
#include "GraphData.h"
#include "MemoryPlan.h"

#include <chrono>
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

struct GraphInstance::State {
  std::byte *Arena = nullptr;
  std::vector<void *> Tensors; // by tensor id

  ~State() { std::free(Arena); }
};

GraphInstance::GraphInstance(std::shared_ptr<const NativeGraph> G)
    : Graph(std::move(G)), S(std::make_unique<State>()) {
  const GraphData &D = Graph->data();
  if (D.ArenaBytes) {
    S->Arena = static_cast<std::byte *>(std::aligned_alloc(ArenaAlignment, D.ArenaBytes));
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
  const OptimaExecContext *Exec = Hooks.Exec;
  bool Profile = Exec && Exec->ProfilingEnabled && Exec->profileEvent;
  for (const LoadedNode &N : D.Nodes) {
    if (Exec && Exec->isCancelled && Exec->isCancelled(Exec->Sink))
      return OPTIMA_STATUS_CANCELLED;
    if (!Profile) {
      N.Impl->run(Ctx);
      continue;
    }
    auto Start = std::chrono::steady_clock::now();
    N.Impl->run(Ctx);
    auto Ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now() - Start)
                  .count();
    Exec->profileEvent(Exec->Sink, OPTIMA_PROFILE_LAYER_EXECUTE, N.Desc.Name.c_str(),
                       uint64_t(Ns));
  }
  return OPTIMA_STATUS_OK;
}

} // namespace optima_v2::native
