#include "core/Threading/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <chrono>

namespace optima_v2::runtime::detail {
namespace {
// The pool state whose worker this thread is (nullptr elsewhere).
thread_local const void *CurrentPoolState = nullptr;
} // namespace

struct ThreadPool::Job {
  ParallelFn Fn;
  void *UserData;
  size_t Count;
  size_t ChunkSize;
  size_t ChunkCount;
  std::atomic<size_t> NextChunk{0};
  int Running = 0; // helpers taken by a worker and not finished; guarded by State::Mutex
  State *Pool;
};

ThreadPool::ThreadPool(uint32_t ThreadCount) : Shared(std::make_shared<State>()) {
  ThreadCount = std::max(1u, ThreadCount);
  Workers.reserve(ThreadCount);
  try {
    for (uint32_t I = 0; I < ThreadCount; ++I)
      Workers.emplace_back(workerMain, Shared);
  } catch (...) {
    // Could not start them all: stop those that did start, then report.
    {
      std::lock_guard<std::mutex> Lock(Shared->Mutex);
      Shared->Stop = true;
    }
    Shared->WorkReady.notify_all();
    for (auto &T : Workers)
      T.join();
    throw;
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> Lock(Shared->Mutex);
    Shared->Stop = true;
  }
  Shared->WorkReady.notify_all();
  auto Self = std::this_thread::get_id();
  for (auto &T : Workers) {
    if (T.get_id() == Self)
      T.detach(); // never join ourselves; this worker exits when its current task returns
    else
      T.join();
  }
}

bool ThreadPool::spinForWork(State &S) noexcept {
  constexpr auto Limit = std::chrono::microseconds(50);
  auto Start = std::chrono::steady_clock::now();
  for (unsigned I = 1;; ++I) {
    if (S.Queued.load(std::memory_order_relaxed) != 0)
      return true;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
    if (I % 64 == 0 && std::chrono::steady_clock::now() - Start > Limit)
      return false;
  }
}

void ThreadPool::workerMain(std::shared_ptr<State> S) {
  CurrentPoolState = S.get();
  std::unique_lock<std::mutex> Lock(S->Mutex);
  bool JustWorked = false;
  for (;;) {
    if (JustWorked && S->Queue.empty() && !S->Stop) {
      Lock.unlock();
      spinForWork(*S);
      Lock.lock();
    }
    S->WorkReady.wait(Lock, [&] { return S->Stop || !S->Queue.empty(); });
    if (S->Stop)
      return;
    PoolTask T = S->Queue.popFront();
    S->Queued.store(S->Queue.size(), std::memory_order_relaxed);
    // Only a parallelFor helper predicts another loop soon; after a whole subgraph task the
    // thread sleeps at once (polling there only slowed the thread that waits for the request).
    JustWorked = T.Running != nullptr;
    if (T.Running)
      ++*T.Running;
    Lock.unlock();
    T.Fn(T.Arg);
    Lock.lock();
  }
}

bool ThreadPool::isWorkerThread() const noexcept { return CurrentPoolState == Shared.get(); }

void *ThreadPool::takeTask(void (*Fn)(void *), const void *ArgBegin, const void *ArgEnd) noexcept {
  std::lock_guard<std::mutex> Lock(Shared->Mutex);
  void *Arg = Shared->Queue.takeFirst(Fn, ArgBegin, ArgEnd);
  Shared->Queued.store(Shared->Queue.size(), std::memory_order_relaxed);
  return Arg;
}

void ThreadPool::submit(void (*Fn)(void *), void *Arg) {
  // Notify before unlocking: once the lock is released the task may run and drop the last
  // reference to this pool (and then its State), so neither may be touched afterwards.
  std::lock_guard<std::mutex> Lock(Shared->Mutex);
  Shared->Queue.pushBack(PoolTask{Fn, Arg, nullptr});
  Shared->Queued.store(Shared->Queue.size(), std::memory_order_relaxed);
  Shared->WorkReady.notify_one();
}

void ThreadPool::runChunks(Job &J) noexcept {
  for (;;) {
    size_t Chunk = J.NextChunk.fetch_add(1, std::memory_order_relaxed);
    if (Chunk >= J.ChunkCount)
      return;
    size_t Begin = Chunk * J.ChunkSize;
    size_t End = std::min(J.Count, Begin + J.ChunkSize);
    J.Fn(J.UserData, Begin, End);
  }
}

void ThreadPool::helperEntry(void *Arg) {
  auto &J = *static_cast<Job *>(Arg);
  runChunks(J);
  State *S = J.Pool;
  std::lock_guard<std::mutex> Lock(S->Mutex);
  // After this decrement the caller may return and free J: touch only the pool state below.
  if (--J.Running == 0)
    S->HelperDone.notify_all();
}

void ThreadPool::parallelFor(size_t Count, size_t Grain, ParallelFn Fn, void *UserData) {
  if (Count == 0 || !Fn)
    return;
  size_t Threads = Workers.size();
  Grain = std::max<size_t>(Grain, 1);
  // About four chunks per thread balances uneven chunks without much claiming overhead.
  size_t Target = Threads * 4;
  size_t ChunkSize = std::max(Grain, (Count + Target - 1) / Target);
  size_t ChunkCount = (Count - 1) / ChunkSize + 1;
  if (Threads <= 1 || ChunkCount <= 1) {
    Fn(UserData, 0, Count);
    return;
  }

  Job J{Fn, UserData, Count, ChunkSize, ChunkCount, {}, 0, Shared.get()};
  size_t Helpers = std::min(ChunkCount - 1, Threads - 1);
  size_t Queued = 0;
  {
    std::lock_guard<std::mutex> Lock(Shared->Mutex);
    try {
      for (; Queued < Helpers; ++Queued)
        Shared->Queue.pushFront(PoolTask{helperEntry, &J, &J.Running});
    } catch (...) {
      // Out of memory growing the queue: the caller does the remaining work itself.
    }
    Shared->Queued.store(Shared->Queue.size(), std::memory_order_relaxed);
  }
  for (size_t I = 0; I < Queued; ++I)
    Shared->WorkReady.notify_one();

  runChunks(J);

  // Every chunk is claimed. Withdraw helpers no worker has taken yet, then wait for the ones
  // still finishing a chunk.
  std::unique_lock<std::mutex> Lock(Shared->Mutex);
  Shared->Queue.removeArg(&J);
  Shared->Queued.store(Shared->Queue.size(), std::memory_order_relaxed);
  Shared->HelperDone.wait(Lock, [&] { return J.Running == 0; });
}

} // namespace optima_v2::runtime::detail
