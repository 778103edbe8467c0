// One pool per Context: runs request tasks (subgraphs) and the intra-op parallelFor that
// extensions reach through the host API. Idle workers sleep on a condition variable.
#pragma once

#include "core/Threading/TaskQueue.h"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace optima_v2::runtime::detail {

class ThreadPool {
public:
  using ParallelFn = void (*)(void *UserData, size_t Begin, size_t End);

  // Starts ThreadCount (>= 1) workers.
  explicit ThreadPool(uint32_t ThreadCount);
  // Safe to run on one of the pool's own workers (the last reference dropped inside a task):
  // that worker is detached instead of joined and leaves once its task returns.
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  // Threads parallelFor may use, the caller included.
  uint32_t getThreadCount() const noexcept { return static_cast<uint32_t>(Workers.size()); }

  // Queues Fn(Arg) to run on a worker. Allocates only when the queue must grow.
  void submit(void (*Fn)(void *), void *Arg);

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
    bool Stop = false;
    // Queue.size(), written under Mutex, read without it by workers spinning before they sleep.
    std::atomic<size_t> Queued{0};
  };
  struct Job;
  static void workerMain(std::shared_ptr<State> S);
  // After a parallelFor helper task, a worker polls the queue briefly before sleeping:
  // an inference issues parallel loops microseconds apart, and a futex wake-up per loop would
  // cost more than a small loop itself. Bounded, so an idle pool still sleeps.
  static bool spinForWork(State &S) noexcept;
  static void runChunks(Job &J) noexcept;
  static void helperEntry(void *Arg);

  // Shared with the workers so a detached worker can still touch it after the pool is gone.
  std::shared_ptr<State> Shared;
  std::vector<std::thread> Workers;
};

} // namespace optima_v2::runtime::detail
