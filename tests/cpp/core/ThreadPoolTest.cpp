#include "core/Threading/CpuCount.h"
#include "core/Threading/ThreadPool.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

using optima_v2::runtime::detail::ThreadPool;

namespace {

struct Coverage {
  std::vector<std::atomic<int>> Hits;
  std::atomic<size_t> MinChunk{SIZE_MAX};
  explicit Coverage(size_t N) : Hits(N) {}
};

void countRange(void *User, size_t Begin, size_t End) {
  auto &C = *static_cast<Coverage *>(User);
  size_t Seen = C.MinChunk.load();
  while (End - Begin < Seen && !C.MinChunk.compare_exchange_weak(Seen, End - Begin)) {
  }
  for (size_t I = Begin; I < End; ++I)
    C.Hits[I].fetch_add(1);
}

// Every item exactly once, chunks of at least Grain except the last one.
void expectCovered(ThreadPool &Pool, size_t Count, size_t Grain) {
  Coverage C(Count);
  Pool.parallelFor(Count, Grain, countRange, &C);
  for (size_t I = 0; I < Count; ++I)
    ASSERT_EQ(C.Hits[I].load(), 1) << "item " << I << " of " << Count << " grain " << Grain;
  if (Count > Grain && Grain > 0) {
    EXPECT_GE(C.MinChunk.load(), std::min(Grain, Count % Grain == 0 ? Grain : Count % Grain));
  }
}

double cpuSeconds() {
  rusage U{};
  getrusage(RUSAGE_SELF, &U);
  return U.ru_utime.tv_sec + U.ru_stime.tv_sec + (U.ru_utime.tv_usec + U.ru_stime.tv_usec) / 1e6;
}

// Holds Count of the pool's workers inside a task until release() (or destruction).
class HeldWorkers {
public:
  HeldWorkers(ThreadPool &Pool, int Count) {
    for (int I = 0; I < Count; ++I)
      Pool.submit(&HeldWorkers::hold, this);
    while (Held.load() < Count)
      std::this_thread::yield();
  }
  ~HeldWorkers() { release(); }
  void release() {
    {
      std::lock_guard<std::mutex> L(M);
      Released = true;
    }
    CV.notify_all();
  }

private:
  static void hold(void *P) {
    auto &H = *static_cast<HeldWorkers *>(P);
    H.Held.fetch_add(1);
    std::unique_lock<std::mutex> L(H.M);
    H.CV.wait(L, [&] { return H.Released; });
  }
  std::mutex M;
  std::condition_variable CV;
  bool Released = false;
  std::atomic<int> Held{0};
};

} // namespace

TEST(ThreadPool, ParallelForCoversEveryItemOnce) {
  ThreadPool Pool(4);
  EXPECT_EQ(Pool.getThreadCount(), 4u);
  for (size_t Count : {0, 1, 2, 7, 64, 1000, 4097})
    for (size_t Grain : {0, 1, 3, 64, 5000})
      expectCovered(Pool, Count, Grain);
}

TEST(ThreadPool, SingleThreadRunsInline) {
  ThreadPool Pool(1);
  auto Caller = std::this_thread::get_id();
  struct Data {
    std::thread::id Caller;
    std::atomic<bool> Other{false};
  } D{Caller};
  Pool.parallelFor(
      1000, 1,
      [](void *U, size_t, size_t) {
        auto &X = *static_cast<Data *>(U);
        if (std::this_thread::get_id() != X.Caller)
          X.Other = true;
      },
      &D);
  EXPECT_FALSE(D.Other.load());
}

// parallelFor from inside pool tasks (nested), with every worker occupied by such a task.
TEST(ThreadPool, NestedParallelForFromBusyWorkers) {
  ThreadPool Pool(3);
  struct Task {
    ThreadPool *Pool;
    Coverage *C;
    std::atomic<int> *Done;
  };
  constexpr int Tasks = 12;
  std::vector<std::unique_ptr<Coverage>> Cover;
  for (int I = 0; I < Tasks; ++I)
    Cover.push_back(std::make_unique<Coverage>(777));
  std::atomic<int> Done{0};
  std::vector<Task> Args;
  for (int I = 0; I < Tasks; ++I)
    Args.push_back(Task{&Pool, Cover[I].get(), &Done});
  for (auto &A : Args)
    Pool.submit(
        [](void *P) {
          auto &T = *static_cast<Task *>(P);
          EXPECT_TRUE(T.Pool->isWorkerThread());
          T.Pool->parallelFor(777, 5, countRange, T.C);
          T.Done->fetch_add(1);
        },
        &A);
  auto Deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (Done.load() < Tasks && std::chrono::steady_clock::now() < Deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(Done.load(), Tasks) << "nested parallelFor deadlocked";
  for (auto &C : Cover)
    for (size_t I = 0; I < 777; ++I)
      ASSERT_EQ(C->Hits[I].load(), 1);
  EXPECT_FALSE(Pool.isWorkerThread());
}

// All workers blocked: an outside caller still completes alone.
TEST(ThreadPool, CallerFinishesAloneWhenWorkersAreBlocked) {
  ThreadPool Pool(2);
  HeldWorkers Held(Pool, 2);
  expectCovered(Pool, 10000, 10);
}

// The last reference to the pool dropped inside one of its own tasks: no self-join, no crash.
TEST(ThreadPool, DestroyedFromItsOwnWorker) {
  for (int Round = 0; Round < 20; ++Round) {
    auto Pool = std::make_shared<ThreadPool>(3);
    std::promise<void> Destroyed;
    struct Arg {
      std::shared_ptr<ThreadPool> Pool;
      std::promise<void> *Done;
    };
    auto *A = new Arg{Pool, &Destroyed};
    ThreadPool *Raw = Pool.get();
    Pool.reset(); // the task now holds the only reference
    Raw->submit(
        [](void *P) {
          auto *X = static_cast<Arg *>(P);
          std::promise<void> *Done = X->Done;
          X->Pool.reset(); // ~ThreadPool on a worker
          delete X;
          Done->set_value();
        },
        A);
    ASSERT_EQ(Destroyed.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  }
}

TEST(ThreadPool, IdleWorkersDoNotSpin) {
  ThreadPool Pool(4);
  expectCovered(Pool, 1000, 1); // wake everyone once
  double Before = cpuSeconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double Used = cpuSeconds() - Before;
  EXPECT_LT(Used, 0.05) << "idle pool burned " << Used << " s of CPU in 0.3 s";
}

TEST(ThreadPool, ThreadCountResolution) {
  using optima_v2::runtime::detail::resolveThreadCount;
  EXPECT_EQ(resolveThreadCount(3), 3u);
  EXPECT_GE(optima_v2::runtime::detail::getPhysicalCoreCount(), 1u);
  setenv("OPTIMA_V2_NUM_THREADS", "5", 1);
  EXPECT_EQ(resolveThreadCount(0), 5u);
  setenv("OPTIMA_V2_NUM_THREADS", "junk", 1);
  EXPECT_EQ(resolveThreadCount(0), optima_v2::runtime::detail::getPhysicalCoreCount());
  unsetenv("OPTIMA_V2_NUM_THREADS");
  EXPECT_EQ(resolveThreadCount(0), optima_v2::runtime::detail::getPhysicalCoreCount());
}

// takeTask withdraws only a queued task of the given function whose argument lies in the
// range, the oldest first, and leaves the rest in order for the workers.
TEST(ThreadPool, TakeTaskWithdrawsOnlyMatchingQueuedTasks) {
  ThreadPool Pool(1);
  HeldWorkers Held(Pool, 1);

  static std::vector<int> Order;
  static std::mutex OrderMutex;
  Order.clear();
  auto Record = [](void *P) {
    std::lock_guard<std::mutex> L(OrderMutex);
    Order.push_back(*static_cast<int *>(P));
  };
  auto Other = [](void *) {};
  int Items[4] = {0, 1, 2, 3};
  Pool.submit(Record, &Items[0]);
  Pool.submit(Other, &Items[1]); // right argument, wrong function: never taken
  Pool.submit(Record, &Items[2]);
  Pool.submit(Record, &Items[3]);

  EXPECT_EQ(Pool.takeTask(Record, &Items[2], &Items[4]), &Items[2]);
  EXPECT_EQ(Pool.takeTask(Record, &Items[1], &Items[2]), nullptr);
  EXPECT_EQ(Pool.takeTask(Record, &Items[3], &Items[4]), &Items[3]);
  EXPECT_EQ(Pool.takeTask(Record, &Items[3], &Items[4]), nullptr); // already taken

  Held.release();
  // The worker still runs what is left, in order: item 0 only (item 1 ran Other).
  for (int I = 0; I < 1000; ++I) {
    {
      std::lock_guard<std::mutex> L(OrderMutex);
      if (!Order.empty())
        break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::lock_guard<std::mutex> L(OrderMutex);
  EXPECT_EQ(Order, std::vector<int>{0});
}
