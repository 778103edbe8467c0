// State behind an InferRequest: per-request memory (host arena, extension request states and
// device buffers, all made at creation) and the run state machine Idle -> Running ->
// InCallback -> Idle. The executor part (RequestRun.cpp) runs subgraphs on the Context's pool
// as their producers finish; everything it touches is preallocated here.
#pragma once

#include "core/Model/ModelImpl.h"
#include "core/Request/EventBuffer.h"
#include "core/Tensor/TensorImpl.h"

#include <OptimaV2/Runtime/InferRequest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace optima_v2::runtime::detail {

class RequestImpl : public std::enable_shared_from_this<RequestImpl> {
public:
  // Allocates everything a run needs. Records RequestInit.
  static std::shared_ptr<RequestImpl> create(std::shared_ptr<const ModelImpl> Model);
  ~RequestImpl();
  RequestImpl(const RequestImpl &) = delete;
  RequestImpl &operator=(const RequestImpl &) = delete;

  const ModelImpl &model() const noexcept { return *Model; }
  uint32_t id() const noexcept { return ID; }
  const std::shared_ptr<TensorImpl> &input(uint32_t Index) const;  // std::out_of_range
  const std::shared_ptr<TensorImpl> &output(uint32_t Index) const; // std::out_of_range

  void setCallback(InferRequestCallback Callback);
  void infer();
  bool wait(std::chrono::milliseconds Timeout);
  std::vector<ProfileData> getProfileData() const;

  // The owning handle is going away: cancel what has not started and wait for the run to end,
  // except on this request's own callback thread or another worker of the pool (which could be
  // the one the remaining tasks need).
  void abandon() noexcept;

private:
  enum class State { Idle, Running, InCallback };

  // Per subgraph, preallocated: what execute() receives and the run's bookkeeping.
  struct Slot {
    RequestImpl *Request = nullptr;
    uint32_t Index = 0;
    OptimaExtRequestState *ExtState = nullptr;
    std::vector<OptimaExtBuffer *> Buffers; // inputs then outputs; non-host devices only
    std::vector<void *> Inputs, Outputs;    // pointers handed to execute()
    OptimaExecContext Exec{};
    std::atomic<uint32_t> Pending{0};
    int64_t ReadyNs = 0; // when the last producer finished (relative to the run start)
  };

  explicit RequestImpl(std::shared_ptr<const ModelImpl> Model);
  void allocate();
  void releaseResources() noexcept;
  bool onOwnCallbackThread() const noexcept;
  // wait() without a timeout: runs this run's still-queued subgraph tasks on the caller.
  void runQueuedHere(std::unique_lock<std::mutex> &Lock);
  // A worker has the run and it is short: poll for its end briefly instead of sleeping.
  void spinUntilIdle(std::unique_lock<std::mutex> &Lock);

  // Executor (RequestRun.cpp).
  void prepareRun();
  // CallerMayWait: queue the roots as deferrable (ThreadPool::submit), for wait() to take.
  void submitRoots(bool CallerMayWait = false);
  static void runTask(void *SlotPtr);
  void runSubgraph(uint32_t Index);
  void executeSubgraph(uint32_t Index);
  void recordError(std::exception_ptr Error) noexcept;
  void finishRun();
  int64_t nowNs() const noexcept;
  void recordCore(ProfileKind Kind, uint32_t Subgraph, const char *Name, int64_t StartNs, int64_t EndNs) noexcept;
  static void onProfileEvent(void *Sink, int32_t Kind, const char *Name, uint64_t DurationNs);
  static int32_t onIsCancelled(void *Sink);

  // Declared first so it is destroyed last: slots and buffers need the extensions.
  std::shared_ptr<const ModelImpl> Model;
  ThreadPool *Pool = nullptr;
  uint32_t ID = 0;
  std::shared_ptr<HostArena> Arena;
  std::vector<std::shared_ptr<TensorImpl>> Inputs, Outputs;
  std::unique_ptr<Slot[]> Slots;
  size_t SlotCount = 0;
  std::chrono::microseconds InitTime{0};

  // Run data (written by the executor; read after the run under Mutex).
  std::chrono::steady_clock::time_point RunStart;
  std::atomic<uint32_t> Remaining{0};
  std::atomic<bool> Failed{false};
  std::atomic<bool> Cancelled{false};
  std::exception_ptr RunError; // written by the first failing task only
  EventBuffer CoreEvents;
  EventBuffer LayerEvents;

  // State machine, guarded by Mutex.
  mutable std::mutex Mutex;
  std::condition_variable Finished;
  State Current = State::Idle;
  bool EverStarted = false;
  bool HasResult = false;      // a run finished and no new one started
  bool Abandoned = false;      // the owning handle is gone
  // Runs whose finishing worker still holds its reference to this request. Separate from the
  // request so the worker can count down after dropping that reference; the owning handle waits
  // for zero so the final release (and any Model/Context/extension teardown it triggers) happens
  // on the owner's thread, not on a pool thread racing process exit.
  std::shared_ptr<std::atomic<uint32_t>> WorkerHolds = std::make_shared<std::atomic<uint32_t>>(0);
  int64_t LastRunNs = -1;       // how long the latest finished run took; -1 before the first
  std::atomic<uint64_t> IdleCount{0}; // bumped under Mutex each time Current becomes Idle
  bool InsideCallback = false; // the callback is executing on CallbackThread
  bool RestartPending = false; // infer() was called inside the callback
  bool CallbackReplaced = false;
  std::thread::id CallbackThread;
  std::exception_ptr LastError;
  InferRequestCallback Callback;
  InferRequestCallback ActiveCallback; // the one executing now
  std::shared_ptr<RequestImpl> Self;   // keeps this alive while a run is in flight
};

} // namespace optima_v2::runtime::detail
