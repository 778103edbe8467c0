#include "core/Request/RequestImpl.h"

#include "core/Extension/ExtensionCall.h"

#include <algorithm>
#include <stdexcept>
#include <thread>

namespace optima_v2::runtime::detail {
namespace {

std::atomic<uint32_t> NextRequestID{0};

// Layer events a request keeps per run before counting more as dropped; grown after a run
// that overflowed, up to the cap.
constexpr size_t MinLayerEvents = 256;
constexpr size_t MaxLayerEvents = size_t(1) << 20;

} // namespace

RequestImpl::RequestImpl(std::shared_ptr<const ModelImpl> ModelIn)
    : Model(std::move(ModelIn)), Pool(&Model->context().pool()),
      ID(NextRequestID.fetch_add(1, std::memory_order_relaxed) % InferRequest::InvalidRequestID) {}

std::shared_ptr<RequestImpl> RequestImpl::create(std::shared_ptr<const ModelImpl> Model) {
  auto Start = std::chrono::steady_clock::now();
  std::shared_ptr<RequestImpl> R(new RequestImpl(std::move(Model)));
  R->allocate();
  R->InitTime = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - Start);
  return R;
}

void RequestImpl::allocate() {
  const ModelImpl &M = *Model;
  Arena = std::make_shared<HostArena>(M.arenaSize(), M.arenaAlignment());
  auto MakeTensor = [&](uint32_t Id) {
    const MetaTensor &T = M.tensor(Id);
    return std::make_shared<TensorImpl>(Model, Arena, T.Info, Arena->data() + M.plan(Id).HostOffset, T.Bytes);
  };
  for (uint32_t I = 0; I < M.inputCount(); ++I)
    Inputs.push_back(MakeTensor(M.inputTensorId(I)));
  for (uint32_t I = 0; I < M.outputCount(); ++I)
    Outputs.push_back(MakeTensor(M.outputTensorId(I)));

  SlotCount = M.subgraphCount();
  Slots.reset(new Slot[SlotCount]);
  size_t CoreCapacity = 1; // ModelExecute
  for (uint32_t I = 0; I < SlotCount; ++I) {
    const LoadedSubgraph &G = M.subgraph(I);
    const ExtensionLibrary &Ext = *G.Extension;
    const OptimaExtension &T = Ext.table();
    Slot &S = Slots[I];
    S.Request = this;
    S.Index = I;
    S.Exec.StructSize = sizeof(OptimaExecContext);
    S.Exec.Sink = &S;
    S.Exec.ProfilingEnabled = M.profilingEnabled() ? 1 : 0;
    S.Exec.profileEvent = &RequestImpl::onProfileEvent;
    S.Exec.isCancelled = &RequestImpl::onIsCancelled;
    CoreCapacity += 2 + G.Inputs.size() + G.Outputs.size(); // Wait, SubgraphExecute, transfers

    OptimaExtRequestState *State = nullptr;
    callExtension(Ext.name(), "createRequestState", G.Path + "/", [&](OptimaExtError *E) {
      return T.createRequestState(T.Self, G.Handle, &State, E);
    });
    if (!State)
      throw BackendException(Ext.name() + ": createRequestState returned OK without a state", Ext.name());
    S.ExtState = State;

    if (G.Device.hostMemory()) {
      for (uint32_t Id : G.Inputs)
        S.Inputs.push_back(Arena->data() + M.plan(Id).HostOffset);
      for (uint32_t Id : G.Outputs)
        S.Outputs.push_back(Arena->data() + M.plan(Id).HostOffset);
      continue;
    }
    auto Alloc = [&](uint32_t Id) {
      OptimaExtBuffer *Buffer = nullptr;
      size_t Bytes = std::max<size_t>(M.tensor(Id).Bytes, 1);
      S.Buffers.push_back(nullptr); // reserve the slot first so a failure frees what exists
      callExtension(Ext.name(), "allocBuffer", G.Path + "/", [&](OptimaExtError *E) {
        return T.allocBuffer(T.Self, G.Device.Ordinal, Bytes, &Buffer, E);
      });
      if (!Buffer)
        throw BackendException(Ext.name() + ": allocBuffer returned OK without a buffer", Ext.name());
      S.Buffers.back() = Buffer;
      return static_cast<void *>(Buffer);
    };
    for (uint32_t Id : G.Inputs)
      S.Inputs.push_back(Alloc(Id));
    for (uint32_t Id : G.Outputs)
      S.Outputs.push_back(Alloc(Id));
  }
  CoreEvents.reset(CoreCapacity, CoreCapacity);
  size_t LayerCapacity = std::clamp(M.layerEventHint(), MinLayerEvents, MaxLayerEvents);
  LayerEvents.reset(LayerCapacity, MaxLayerEvents);
}

RequestImpl::~RequestImpl() { releaseResources(); }

void RequestImpl::releaseResources() noexcept {
  if (!Slots)
    return;
  for (size_t I = 0; I < SlotCount; ++I) {
    Slot &S = Slots[I];
    const LoadedSubgraph &G = Model->subgraph(I);
    const ExtensionLibrary &Ext = *G.Extension;
    const OptimaExtension &T = Ext.table();
    for (OptimaExtBuffer *B : S.Buffers)
      if (B)
        callExtensionNoThrow(&Ext.logger(), Ext.name(), "freeBuffer", [&] { T.freeBuffer(T.Self, B); });
    if (S.ExtState)
      callExtensionNoThrow(&Ext.logger(), Ext.name(), "destroyRequestState",
                           [&] { T.destroyRequestState(T.Self, S.ExtState); });
  }
  Slots.reset();
}

const std::shared_ptr<TensorImpl> &RequestImpl::input(uint32_t Index) const {
  if (Index >= Inputs.size())
    throw std::out_of_range(format("input index {} out of range (model \"{}\" has {} inputs)", Index,
                                   Model->name(), Inputs.size()));
  return Inputs[Index];
}

const std::shared_ptr<TensorImpl> &RequestImpl::output(uint32_t Index) const {
  if (Index >= Outputs.size())
    throw std::out_of_range(format("output index {} out of range (model \"{}\" has {} outputs)", Index,
                                   Model->name(), Outputs.size()));
  return Outputs[Index];
}

bool RequestImpl::onOwnCallbackThread() const noexcept {
  return InsideCallback && CallbackThread == std::this_thread::get_id();
}

void RequestImpl::setCallback(InferRequestCallback NewCallback) {
  InferRequestCallback Old;
  std::lock_guard<std::mutex> Lock(Mutex);
  bool Own = onOwnCallbackThread();
  if (Current != State::Idle && !Own)
    throw InvalidOperationException(
        format("setCallback: request {} is running; set the callback before infer() or after wait()", ID));
  Old = std::move(Callback); // destroyed after the lock is released (declared before Lock)
  Callback = std::move(NewCallback);
  if (Own)
    CallbackReplaced = true;
}

void RequestImpl::infer() {
  std::unique_lock<std::mutex> Lock(Mutex);
  if (Abandoned)
    throw InvalidOperationException(format("infer: request {} is being destroyed", ID));
  bool FromCallback = onOwnCallbackThread();
  if (Current == State::Running)
    throw InvalidOperationException(format("infer: request {} is already running", ID));
  if (Current == State::InCallback && !FromCallback)
    throw InvalidOperationException(format("infer: request {} is still running its callback", ID));
  try {
    prepareRun();
  } catch (const std::exception &E) {
    throw InferException(format("infer: cannot start request {}: {}", ID, E.what()));
  }
  Current = State::Running;
  EverStarted = true;
  HasResult = false;
  LastError = nullptr;
  Self = shared_from_this();
  if (FromCallback) {
    RestartPending = true; // started when the callback returns (one callback at a time)
    return;
  }
  // Without a callback, the caller usually waits next and then runs the work itself.
  const bool CallerMayWait = !Callback && !Pool->isWorkerThread();
  Lock.unlock();
  submitRoots(CallerMayWait);
}

bool RequestImpl::wait(std::chrono::milliseconds Timeout) {
  if (Timeout.count() < 0)
    throw std::invalid_argument(format("wait: negative timeout {} ms", Timeout.count()));
  std::unique_lock<std::mutex> Lock(Mutex);
  if (!EverStarted)
    throw InferException(format("wait: request {} was never started (call infer() first)", ID));
  if (onOwnCallbackThread()) {
    // Waiting for ourselves would deadlock: report the run whose callback this is.
    if (Current == State::InCallback && LastError)
      std::rethrow_exception(LastError);
    return false;
  }
  auto Done = [&] { return Current == State::Idle; };
  // A timed wait runs the work itself only when this request's previous run took well under
  // the timeout, so the bound still holds (Python waits in 100 ms slices to notice Ctrl-C).
  if (Timeout.count() == 0 ||
      (LastRunNs >= 0 && LastRunNs < std::chrono::nanoseconds(Timeout).count() / 4))
    runQueuedHere(Lock);
  spinUntilIdle(Lock);
  if (Timeout.count() == 0)
    Finished.wait(Lock, Done);
  else if (!Finished.wait_for(Lock, Timeout, Done))
    return true;
  if (LastError)
    std::rethrow_exception(LastError);
  return false;
}

void RequestImpl::runQueuedHere(std::unique_lock<std::mutex> &Lock) {
  // An untimed wait would sleep until a worker woke up, ran the work and woke us again: two
  // thread hand-offs that cost more than a small model's whole run. Subgraph tasks of this run
  // that no worker has taken yet run on this thread instead (as ONNX Runtime's run() does).
  // With a callback set the work stays on the pool, where callbacks are documented to run.
  while (Current == State::Running && !Callback) {
    Lock.unlock();
    void *Task = Pool->takeTask(&RequestImpl::runTask, &Slots[0], &Slots[0] + SlotCount);
    if (Task)
      runTask(Task); // may finish the run and call the callback here: Mutex must not be held
    Lock.lock();
    if (!Task)
      return;
  }
}

void RequestImpl::spinUntilIdle(std::unique_lock<std::mutex> &Lock) {
  // Sleeping costs a futex wake-up (~5 us here) when the run ends; a run known to take a few
  // microseconds is cheaper to poll for. Bounded by twice the last run, at most 50 us.
  if (Current == State::Idle || LastRunNs < 0 || LastRunNs > 25000 ||
      std::thread::hardware_concurrency() < 2)
    return;
  const uint64_t Seen = IdleCount.load(std::memory_order_relaxed);
  const auto Limit = std::chrono::nanoseconds(2 * LastRunNs + 2000);
  Lock.unlock();
  auto Start = std::chrono::steady_clock::now();
  for (unsigned I = 1; IdleCount.load(std::memory_order_acquire) == Seen; ++I) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (I % 32 == 0 && std::chrono::steady_clock::now() - Start > Limit)
      break;
  }
  Lock.lock();
}

void RequestImpl::abandon() noexcept {
  std::unique_lock<std::mutex> Lock(Mutex);
  Abandoned = true;
  if (onOwnCallbackThread() || Pool->isWorkerThread()) {
    if (Current != State::Idle)
      Cancelled.store(true, std::memory_order_relaxed);
    return; // Self keeps this alive until the run ends
  }
  if (Current != State::Idle) {
    Cancelled.store(true, std::memory_order_relaxed);
    Finished.wait(Lock, [&] { return Current == State::Idle; });
  }
  Lock.unlock();
  // The finishing worker drops its reference right after it signalled Idle; wait for that
  // (a few instructions) so the last release happens here.
  while (WorkerHolds->load(std::memory_order_acquire) != 0)
    std::this_thread::yield();
}

std::vector<ProfileData> RequestImpl::getProfileData() const {
  std::lock_guard<std::mutex> Lock(Mutex);
  std::vector<ProfileData> Result;
  if (!HasResult || Current == State::Running)
    return Result;
  const ModelImpl &M = *Model;
  auto Convert = [&](const RawEvent &E) {
    ProfileData P;
    P.Kind = static_cast<ProfileKind>(E.Kind);
    P.Name = E.Name ? E.Name : "";
    P.Time = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(E.DurationNs));
    P.Start = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::nanoseconds(E.StartNs));
    if (E.Subgraph != UINT32_MAX)
      P.Subgraph = M.subgraph(E.Subgraph).Name;
    return P;
  };
  std::vector<RawEvent> Events;
  Events.reserve(CoreEvents.size() + LayerEvents.size());
  for (size_t I = 0; I < CoreEvents.size(); ++I)
    if (static_cast<ProfileKind>(CoreEvents[I].Kind) != ProfileKind::ModelExecute)
      Events.push_back(CoreEvents[I]);
  for (size_t I = 0; I < LayerEvents.size(); ++I)
    Events.push_back(LayerEvents[I]);
  std::stable_sort(Events.begin(), Events.end(),
                   [](const RawEvent &A, const RawEvent &B) { return A.StartNs < B.StartNs; });

  Result.reserve(Events.size() + 2);
  ProfileData Init;
  Init.Kind = ProfileKind::RequestInit;
  Init.Name = M.name();
  Init.Time = InitTime;
  Result.push_back(std::move(Init));
  for (const RawEvent &E : Events)
    Result.push_back(Convert(E));
  for (size_t I = 0; I < CoreEvents.size(); ++I)
    if (static_cast<ProfileKind>(CoreEvents[I].Kind) == ProfileKind::ModelExecute)
      Result.push_back(Convert(CoreEvents[I]));
  return Result;
}

} // namespace optima_v2::runtime::detail
