// The executor: runs a request's subgraphs on the Context's pool as their producers finish.
// Hot path: no allocation, no lock except the pool queue and the final state change.
#include "core/Request/BufferTransfer.h"
#include "core/Request/RequestImpl.h"

#include "core/Extension/ExtensionCall.h"

namespace optima_v2::runtime::detail {
namespace {
constexpr size_t MaxLayerEvents = size_t(1) << 20;
} // namespace

int64_t RequestImpl::nowNs() const noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - RunStart).count();
}

void RequestImpl::recordCore(ProfileKind Kind, uint32_t Subgraph, const char *Name, int64_t StartNs,
                             int64_t EndNs) noexcept {
  CoreEvents.record(RawEvent{static_cast<int32_t>(Kind), Subgraph, Name, StartNs, EndNs - StartNs});
}

void RequestImpl::onProfileEvent(void *Sink, int32_t Kind, const char *Name, uint64_t DurationNs) {
  auto *S = static_cast<Slot *>(Sink);
  if (!S || Kind < 0 || Kind > static_cast<int32_t>(ProfileKind::SubgraphExecute))
    return;
  RequestImpl &R = *S->Request;
  // The extension reports when the layer ended; its start is that minus its duration.
  auto Duration = static_cast<int64_t>(std::min<uint64_t>(DurationNs, INT64_MAX / 2));
  int64_t End = R.nowNs();
  R.LayerEvents.record(RawEvent{Kind, S->Index, Name, End - Duration, Duration});
}

int32_t RequestImpl::onIsCancelled(void *Sink) {
  auto *S = static_cast<Slot *>(Sink);
  return S && S->Request->Cancelled.load(std::memory_order_relaxed) ? 1 : 0;
}

// Under Mutex, between runs: the only place a run may allocate (growing the layer event buffer
// after a run that overflowed it).
void RequestImpl::prepareRun() {
  size_t Wanted = LayerEvents.attempted();
  LayerEvents.reset(Wanted > LayerEvents.capacity() ? Wanted : 0, MaxLayerEvents);
  CoreEvents.reset(0, 0);
  for (size_t I = 0; I < SlotCount; ++I) {
    Slots[I].Pending.store(Model->subgraph(I).ProducerCount, std::memory_order_relaxed);
    Slots[I].ReadyNs = 0;
  }
  RunError = nullptr;
  Failed.store(false, std::memory_order_relaxed);
  Cancelled.store(false, std::memory_order_relaxed);
  Remaining.store(static_cast<uint32_t>(SlotCount), std::memory_order_relaxed);
  RunStart = std::chrono::steady_clock::now();
}

void RequestImpl::submitRoots(bool CallerMayWait) {
  const auto &Roots = Model->roots();
  for (uint32_t Root : Roots) {
    try {
      Pool->submit(&RequestImpl::runTask, &Slots[Root], CallerMayWait);
    } catch (...) {
      // Could not queue (out of memory): fail the run; the subgraph still passes through the
      // bookkeeping (skipping its work) so the run completes and reports.
      recordError(std::make_exception_ptr(InferException("infer: cannot queue a subgraph task")));
      runSubgraph(Root);
    }
  }
}

void RequestImpl::runTask(void *SlotPtr) {
  auto *S = static_cast<Slot *>(SlotPtr);
  S->Request->runSubgraph(S->Index);
}

void RequestImpl::recordError(std::exception_ptr Error) noexcept {
  if (!Failed.exchange(true, std::memory_order_acq_rel))
    RunError = std::move(Error);
}

void RequestImpl::runSubgraph(uint32_t Index) {
  for (;;) {
    Slot &S = Slots[Index];
    int64_t Start = nowNs();
    const LoadedSubgraph &G = Model->subgraph(Index);
    recordCore(ProfileKind::Wait, Index, G.Name.c_str(), S.ReadyNs, Start);
    // After an error or a cancel, later subgraphs are skipped but still counted down.
    if (!Failed.load(std::memory_order_acquire) && !Cancelled.load(std::memory_order_relaxed)) {
      try {
        executeSubgraph(Index);
      } catch (...) {
        recordError(std::current_exception());
      }
    }
    // Release dependents; run the first ready one on this thread, queue the others.
    uint32_t Next = UINT32_MAX;
    for (uint32_t D : G.Dependents) {
      if (Slots[D].Pending.fetch_sub(1, std::memory_order_acq_rel) != 1)
        continue;
      Slots[D].ReadyNs = nowNs();
      if (Next == UINT32_MAX) {
        Next = D;
        continue;
      }
      try {
        Pool->submit(&RequestImpl::runTask, &Slots[D]);
      } catch (...) {
        recordError(std::make_exception_ptr(InferException("infer: cannot queue a subgraph task")));
        runSubgraph(D);
      }
    }
    if (Remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      finishRun(); // may destroy *this: nothing may follow
      return;
    }
    if (Next == UINT32_MAX)
      return;
    Index = Next;
  }
}

void RequestImpl::executeSubgraph(uint32_t Index) {
  Slot &S = Slots[Index];
  const ModelImpl &M = *Model;
  const LoadedSubgraph &G = M.subgraph(Index);
  const ExtensionLibrary &Ext = *G.Extension;
  const OptimaExtension &T = Ext.table();
  std::byte *Host = Arena->data();
  bool OnDevice = !G.Device.hostMemory();

  if (OnDevice) {
    for (size_t K = 0; K < G.Inputs.size(); ++K) {
      uint32_t Id = G.Inputs[K];
      const MetaTensor &Tensor = M.tensor(Id);
      const TensorPlan &Plan = M.plan(Id);
      int64_t From = nowNs();
      ProfileKind Kind = Tensor.Role == TensorRole::Input ? ProfileKind::TransferFromInput : ProfileKind::BufferCopy;
      if (Plan.InHostArena) {
        copyHostToBuffer(Ext, S.Buffers[K], Host + Plan.HostOffset, Tensor.Bytes);
      } else {
        // Device to device: straight from the producer's output buffer.
        auto P = static_cast<uint32_t>(Tensor.Producer);
        const LoadedSubgraph &PG = M.subgraph(P);
        OptimaExtBuffer *Source = Slots[P].Buffers[PG.Inputs.size() + Tensor.ProducerSlot];
        copyBufferToBuffer(*PG.Extension, Source, Ext, S.Buffers[K], Tensor.Bytes);
      }
      recordCore(Kind, Index, Tensor.Info.TensorName.c_str(), From, nowNs());
    }
  }

  int64_t ExecStart = nowNs();
  {
    ThreadPool::ActiveTask Running(*Pool); // see ThreadPool::getShareCount
    callExtension(Ext.name(), "execute", G.Name + ": ", [&](OptimaExtError *E) {
      return T.execute(T.Self, S.ExtState, S.Inputs.data(), S.Outputs.data(), &S.Exec, E);
    });
  }
  recordCore(ProfileKind::SubgraphExecute, Index, G.Name.c_str(), ExecStart, nowNs());

  if (OnDevice) {
    size_t InCount = G.Inputs.size();
    for (size_t K = 0; K < G.Outputs.size(); ++K) {
      uint32_t Id = G.Outputs[K];
      const TensorPlan &Plan = M.plan(Id);
      if (!Plan.InHostArena)
        continue; // consumers on devices copy from our buffer themselves
      const MetaTensor &Tensor = M.tensor(Id);
      int64_t From = nowNs();
      copyBufferToHost(Ext, S.Buffers[InCount + K], Host + Plan.HostOffset, Tensor.Bytes);
      recordCore(Tensor.Role == TensorRole::Output ? ProfileKind::TransferToOutput : ProfileKind::BufferCopy, Index,
                 Tensor.Info.TensorName.c_str(), From, nowNs());
    }
  }
}

void RequestImpl::finishRun() {
  int64_t End = nowNs();
  recordCore(ProfileKind::ModelExecute, UINT32_MAX, Model->name().c_str(), 0, End);
  Model->noteLayerEvents(LayerEvents.attempted());

  // Destroyed last, in this order: the lock, Keep (may be the final reference to *this), then
  // the count the owning handle waits on.
  struct HoldRelease {
    std::shared_ptr<std::atomic<uint32_t>> Holds;
    ~HoldRelease() {
      if (Holds)
        Holds->fetch_sub(1, std::memory_order_release);
    }
  } Release;
  std::shared_ptr<RequestImpl> Keep;
  std::unique_lock<std::mutex> Lock(Mutex);
  Keep = std::move(Self);
  if (Keep) {
    Release.Holds = WorkerHolds;
    WorkerHolds->fetch_add(1, std::memory_order_relaxed);
  }
  bool WasCancelled = Cancelled.load(std::memory_order_relaxed);
  if (RunError)
    LastError = RunError;
  else if (WasCancelled)
    LastError = std::make_exception_ptr(InferException(format("request {} was cancelled", ID)));
  HasResult = true;
  LastRunNs = End;
  if (WasCancelled || !Callback) {
    Current = State::Idle;
    IdleCount.fetch_add(1, std::memory_order_release);
    Finished.notify_all();
    return;
  }

  Current = State::InCallback;
  InsideCallback = true;
  CallbackThread = std::this_thread::get_id();
  CallbackReplaced = false;
  ActiveCallback = std::move(Callback);
  Callback = nullptr;
  std::exception_ptr Error = LastError;
  Lock.unlock();
  {
    InferRequest Handle(Keep, /*Owning=*/false);
    try {
      ActiveCallback(Handle, Error);
    } catch (...) {
      Model->context().logger().logf(LogLevel::Error, "request {}: the callback threw an exception: {}", ID,
                                     getCause(std::current_exception()));
    }
  }
  Lock.lock();
  // Drop our copy under Mutex, before the request can be restarted or reset: the last release
  // of the exception is then ordered by Mutex, not only by exception_ptr's refcount inside the
  // uninstrumented libstdc++, which TSan cannot see (it reported ~Exception racing with what()).
  Error = nullptr;
  InsideCallback = false;
  InferRequestCallback Old = std::move(ActiveCallback);
  ActiveCallback = nullptr;
  if (!CallbackReplaced)
    Callback = std::move(Old);
  bool Restart = RestartPending;
  RestartPending = false;
  if (Restart && Abandoned) {
    // The owner went away while the callback chained a new run: do not start it.
    Self.reset();
    Restart = false;
  }
  if (!Restart) {
    Current = State::Idle;
    IdleCount.fetch_add(1, std::memory_order_release);
    Finished.notify_all();
  }
  Lock.unlock();
  if (Restart)
    submitRoots();
  // Old (a replaced callback) and Keep are released here, outside the lock.
}

} // namespace optima_v2::runtime::detail
