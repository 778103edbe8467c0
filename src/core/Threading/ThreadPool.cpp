#include "core/Threading/ThreadPool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>

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
  // Helpers taken by a worker and not finished: changed under State::Mutex, polled without it.
  std::atomic<int> Running{0};
  State *Pool;
};

ThreadPool::ThreadPool(uint32_t ThreadCount, PollTimes Times)
    : Shared(std::make_shared<State>()) {
  ThreadCount = std::max(1u, ThreadCount);
  Shared->Times = Times;
  // A thread in wait() runs its request's work itself: with every worker polling as well, there
  // would be one busy thread more than the pool's count. One poller at least, but none where
  // polling would take the only core from the thread doing the work.
  Shared->MaxSpinners = std::thread::hardware_concurrency() < 2 || Times.Poll.count() <= 0
                            ? 0
                            : std::max(1u, ThreadCount - 1);
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

ThreadPool::PollTimes ThreadPool::pollTimesFromEnvironment() noexcept {
  PollTimes Times;
  if (const char *Env = std::getenv("OPTIMA_V2_POLL_US")) {
    char *End = nullptr;
    long Value = std::strtol(Env, &End, 10);
    if (End != Env && *End == '\0' && Value >= 0 && Value <= 100000)
      Times.Poll = std::chrono::microseconds(Value);
  }
  return Times;
}

void ThreadPool::publish(State &S) noexcept {
  S.Queued.store(S.Queue.size(), std::memory_order_relaxed);
  S.Urgent.store(S.Queue.size() - S.Queue.deferrable(), std::memory_order_relaxed);
  S.Changes.store(S.Changes.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

bool ThreadPool::spinForWork(State &S) noexcept {
  using Clock = std::chrono::steady_clock;
  auto Start = Clock::now();
  uint64_t Seen = S.Changes.load(std::memory_order_relaxed);
  bool Pending = S.Queued.load(std::memory_order_relaxed) != 0; // deferrable tasks queued
  for (unsigned I = 1;; ++I) {
    if (S.Urgent.load(std::memory_order_relaxed) != 0 || S.Stop.load(std::memory_order_relaxed))
      return true;
    // Work came or went (perhaps taken back before this loop saw it queued): the grace period
    // (queued) or a fresh poll bound (taken) starts now.
    const uint64_t Now = S.Changes.load(std::memory_order_relaxed);
    if (Now != Seen) {
      Seen = Now;
      Pending = S.Queued.load(std::memory_order_relaxed) != 0;
      Start = Clock::now();
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
    if (I % 64 == 0 && Clock::now() - Start > (Pending ? S.Times.Grace : S.Times.Poll))
      return Pending;
  }
}

void ThreadPool::workerMain(std::shared_ptr<State> S) {
  CurrentPoolState = S.get();
  std::unique_lock<std::mutex> Lock(S->Mutex);
  for (;;) {
    // Poll before sleeping, and give a waiting submitter the chance to run its own task.
    if (!S->Stop && S->Queue.size() == S->Queue.deferrable() && S->Spinners < S->MaxSpinners) {
      ++S->Spinners;
      Lock.unlock();
      spinForWork(*S);
      Lock.lock();
      --S->Spinners;
    }
    if (S->Stop)
      return;
    if (S->Queue.empty()) {
      // Once woken, poll again first, even when the task is gone (its submitter took it back):
      // work is coming in, and the next submit then needs no wake-up.
      S->WorkReady.wait(Lock);
      continue;
    }
    PoolTask T = S->Queue.popFront();
    publish(*S);
    if (T.Running)
      T.Running->fetch_add(1, std::memory_order_relaxed);
    Lock.unlock();
    T.Fn(T.Arg);
    Lock.lock();
  }
}

bool ThreadPool::isWorkerThread() const noexcept { return CurrentPoolState == Shared.get(); }

void *ThreadPool::takeTask(void (*Fn)(void *), const void *ArgBegin, const void *ArgEnd) noexcept {
  std::lock_guard<std::mutex> Lock(Shared->Mutex);
  void *Arg = Shared->Queue.takeFirst(Fn, ArgBegin, ArgEnd);
  publish(*Shared);
  return Arg;
}

void ThreadPool::submit(void (*Fn)(void *), void *Arg, bool Deferrable) {
  // Notify before unlocking: once the lock is released the task may run and drop the last
  // reference to this pool (and then its State), so neither may be touched afterwards.
  std::lock_guard<std::mutex> Lock(Shared->Mutex);
  Shared->Queue.pushBack(PoolTask{Fn, Arg, nullptr, Deferrable});
  publish(*Shared);
  // A polling worker takes it without a wake-up (a futex system call); so does one that stops
  // polling right now (it locks, then looks at the queue before sleeping).
  if (Shared->Queue.size() > Shared->Spinners)
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
  if (J.Running.fetch_sub(1, std::memory_order_release) == 1)
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
  size_t Queued = 0, Wake = 0;
  {
    std::lock_guard<std::mutex> Lock(Shared->Mutex);
    try {
      for (; Queued < Helpers; ++Queued)
        Shared->Queue.pushFront(PoolTask{helperEntry, &J, &J.Running});
    } catch (...) {
      // Out of memory growing the queue: the caller does the remaining work itself.
    }
    publish(*Shared);
    Wake = Queued > Shared->Spinners ? Queued - Shared->Spinners : 0; // see submit
  }
  for (size_t I = 0; I < Wake; ++I)
    Shared->WorkReady.notify_one();

  runChunks(J);

  // Every chunk is claimed. Withdraw helpers no worker has taken yet, then wait for the ones
  // still finishing a chunk.
  std::unique_lock<std::mutex> Lock(Shared->Mutex);
  Shared->Queue.removeArg(&J);
  publish(*Shared);
  if (J.Running.load(std::memory_order_relaxed) != 0) {
    // A helper is finishing its last chunk, typically within microseconds: poll for it rather
    // than sleep and be woken by a futex call, which costs more than that (bounded).
    Lock.unlock();
    const auto Until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
    for (unsigned I = 1; J.Running.load(std::memory_order_acquire) != 0; ++I) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (I % 64 == 0 && std::chrono::steady_clock::now() > Until)
        break;
    }
    Lock.lock();
  }
  Shared->HelperDone.wait(Lock, [&] { return J.Running.load(std::memory_order_acquire) == 0; });
}

} // namespace optima_v2::runtime::detail
