// One pool per Context: runs request tasks (subgraphs) and the intra-op parallelFor that
// extensions reach through the host API. Idle workers sleep on a condition variable.
#pragma once

#include "core/Threading/TaskQueue.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace optima_v2::runtime::detail {

// How long an idle worker polls the queue before it sleeps, and how long a polling worker
// leaves a deferrable task to its submitter (see ThreadPool::submit). Tests stretch them.
struct PoolPollTimes {
  // Bridges the gap between two inferences of a small model run back to back; short enough
  // that an idle pool is asleep a moment after the application stops.
  std::chrono::microseconds Poll{100};
  // What a thread needs between infer() and wait(), Python included, to take its task back.
  std::chrono::microseconds Grace{20};
};

class ThreadPool {
public:
  using ParallelFn = void (*)(void *UserData, size_t Begin, size_t End);

  using PollTimes = PoolPollTimes;
  // Starts ThreadCount (>= 1) workers. Times.Poll == 0: workers never poll, they sleep at once.
  explicit ThreadPool(uint32_t ThreadCount, PollTimes Times = PollTimes());
  // The defaults, with Poll taken from OPTIMA_V2_POLL_US when that is an integer in
  // [0, 100000] (0 turns polling off: no core is ever kept busy waiting for work).
  static PollTimes pollTimesFromEnvironment() noexcept;
  // Safe to run on one of the pool's own workers (the last reference dropped inside a task):
  // that worker is detached instead of joined and leaves once its task returns.
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  // Threads parallelFor may use, the caller included.
  uint32_t getThreadCount() const noexcept { return static_cast<uint32_t>(Workers.size()); }

  // Marks one task (a subgraph's execution) as running for as long as it lives; see
  // getShareCount().
  class ActiveTask {
  public:
    explicit ActiveTask(ThreadPool &P) noexcept : Pool(P) {
      Pool.Active.fetch_add(1, std::memory_order_relaxed);
    }
    ~ActiveTask() { Pool.Active.fetch_sub(1, std::memory_order_relaxed); }
    ActiveTask(const ActiveTask &) = delete;
    ActiveTask &operator=(const ActiveTask &) = delete;

  private:
    ThreadPool &Pool;
  };

  // The threads a running task should plan its parallel loops for: the pool's, shared out
  // among the ActiveTasks alive now (at least 1). With as many requests running as threads,
  // each runs its loops serially instead of splitting them for threads that are all busy
  // (whose chunks its own thread would then run one after the other, with the splitting's
  // overheads: MobileNetV2 with 2 requests on 2 threads, 8.2 -> 7.4 ms per inference).
  uint32_t getShareCount() const noexcept {
    const uint32_t Running = std::max(1u, Active.load(std::memory_order_relaxed));
    return std::max(1u, getThreadCount() / Running);
  }

  // Queues Fn(Arg) to run on a worker. Allocates only when the queue must grow. Deferrable:
  // the caller will probably wait for the task soon and take it back (takeTask), so a worker
  // that is awake leaves it queued for a few microseconds first; a sleeping one is woken as usual.
  void submit(void (*Fn)(void *), void *Arg, bool Deferrable = false);

  // Runs Fn over [0, Count) in chunks of at least Grain items; the caller takes part and the
  // call returns when every item is done. Never deadlocks, even from a worker while all others
  // are busy: chunks are claimed through an atomic counter, so the caller can do them all.
  void parallelFor(size_t Count, size_t Grain, ParallelFn Fn, void *UserData);

  // True on one of this pool's workers.
  bool isWorkerThread() const noexcept;

  // Withdraws the oldest queued task that runs Fn on an argument inside [ArgBegin, ArgEnd) and
  // returns that argument, or nullptr when no worker-free one is queued. Lets a thread that is
  // about to block on that work run it itself instead of paying for a worker's wake-up.
  void *takeTask(void (*Fn)(void *), const void *ArgBegin, const void *ArgEnd) noexcept;

private:
  struct State {
    std::mutex Mutex;
    std::condition_variable WorkReady;
    std::condition_variable HelperDone; // a parallelFor helper finished
    TaskQueue Queue;
    std::atomic<bool> Stop{false}; // written under Mutex; polling workers read it without
    // Queue.size() and its tasks that are not deferrable, written under Mutex (publish), read
    // without it by workers polling before they sleep.
    std::atomic<size_t> Queued{0};
    std::atomic<size_t> Urgent{0};
    std::atomic<uint64_t> Changes{0}; // bumped by each publish
    uint32_t Spinners = 0;            // workers in spinForWork; guarded by Mutex
    uint32_t MaxSpinners = 0;
    PollTimes Times;
  };
  struct Job;
  static void workerMain(std::shared_ptr<State> S);
  // Before sleeping, a worker polls the queue for a bounded time: an inference issues parallel
  // loops microseconds apart, a small model's inferences come microseconds apart, and a futex
  // wake-up per task would cost more than a small task itself (several microseconds here, on
  // the thread that submits). Deferrable tasks are left alone for a grace period. Returns true
  // when there is work to take; bounded, so an idle pool still sleeps.
  static bool spinForWork(State &S) noexcept;
  static void publish(State &S) noexcept; // stores Queued and Urgent, bumps Changes; Mutex held
  static void runChunks(Job &J) noexcept;
  static void helperEntry(void *Arg);

  // Shared with the workers so a detached worker can still touch it after the pool is gone.
  std::shared_ptr<State> Shared;
  std::vector<std::thread> Workers;
  std::atomic<uint32_t> Active{0}; // ActiveTasks alive
};

} // namespace optima_v2::runtime::detail
