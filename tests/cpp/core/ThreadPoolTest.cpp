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

// Running tasks share the threads out: each plans its loops for its share, at least one.
TEST(ThreadPool, ShareCountDividesThreadsAmongActiveTasks) {
  ThreadPool Pool(4);
  EXPECT_EQ(Pool.getShareCount(), 4u); // nothing running: all of them
  {
    ThreadPool::ActiveTask A(Pool);
    EXPECT_EQ(Pool.getShareCount(), 4u);
    ThreadPool::ActiveTask B(Pool);
    EXPECT_EQ(Pool.getShareCount(), 2u);
    ThreadPool::ActiveTask C(Pool);
    EXPECT_EQ(Pool.getShareCount(), 1u);
    {
      ThreadPool::ActiveTask D(Pool), E(Pool);
      EXPECT_EQ(Pool.getShareCount(), 1u); // never 0
    }
    EXPECT_EQ(Pool.getShareCount(), 1u);
  }
  EXPECT_EQ(Pool.getShareCount(), 4u);
  EXPECT_EQ(Pool.getThreadCount(), 4u); // parallelFor itself may still use them all
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

namespace {
void setFlag(void *P) { static_cast<std::atomic<int> *>(P)->fetch_add(1); }

// Polls (no sleeping: the next step must follow while the worker still polls), 10 s at most.
bool waitForFlag(const std::atomic<int> &Flag, int Value) {
  auto Until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Flag.load() < Value && std::chrono::steady_clock::now() < Until)
    std::this_thread::yield();
  return Flag.load() >= Value;
}
} // namespace

// A deferrable task (submitted by a thread that will wait for it) is left queued by a worker
// that is awake and polling, so its submitter can take it back and run it itself; without the
// grace period the polling worker would take it within a microsecond. Stretched times make the
// outcome independent of scheduling.
TEST(ThreadPool, PollingWorkerLeavesDeferrableTaskToItsSubmitter) {
  if (std::thread::hardware_concurrency() < 2)
    GTEST_SKIP() << "workers never poll on one core";
  ThreadPool::PollTimes Times;
  Times.Poll = std::chrono::seconds(1);
  Times.Grace = std::chrono::seconds(5);
  ThreadPool Pool(1, Times);
  std::atomic<int> Ran{0};
  int TakenBack = 0;
  const int Trials = 20;
  for (int T = 0; T < Trials; ++T) {
    std::atomic<int> Warm{0};
    Pool.submit(setFlag, &Warm); // the worker runs it, then polls for more work
    ASSERT_TRUE(waitForFlag(Warm, 1));
    Pool.submit(setFlag, &Ran, /*Deferrable=*/true);
    // What a caller does between infer() and wait().
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (Pool.takeTask(setFlag, &Ran, &Ran + 1) == &Ran)
      ++TakenBack;
  }
  EXPECT_EQ(TakenBack, Trials);
  EXPECT_EQ(Ran.load(), 0);
}

// Nobody takes a deferrable task back: a worker still runs it, polling or asleep.
TEST(ThreadPool, DeferrableTaskRunsWithoutItsSubmitter) {
  ThreadPool Pool(2);
  std::atomic<int> Ran{0};
  Pool.submit(setFlag, &Ran, /*Deferrable=*/true); // workers polling since they started
  ASSERT_TRUE(waitForFlag(Ran, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50)); // now asleep
  Pool.submit(setFlag, &Ran, /*Deferrable=*/true);
  EXPECT_TRUE(waitForFlag(Ran, 2));
}

// OPTIMA_V2_POLL_US sets how long idle workers poll; 0 turns polling off; junk keeps the default.
TEST(ThreadPool, PollTimeFromEnvironment) {
  const auto Default = ThreadPool::PollTimes().Poll;
  setenv("OPTIMA_V2_POLL_US", "0", 1);
  EXPECT_EQ(ThreadPool::pollTimesFromEnvironment().Poll.count(), 0);
  setenv("OPTIMA_V2_POLL_US", "250", 1);
  EXPECT_EQ(ThreadPool::pollTimesFromEnvironment().Poll.count(), 250);
  for (const char *Junk : {"-1", "abc", "12us", "1000001", ""}) {
    setenv("OPTIMA_V2_POLL_US", Junk, 1);
    EXPECT_EQ(ThreadPool::pollTimesFromEnvironment().Poll, Default) << Junk;
  }
  unsetenv("OPTIMA_V2_POLL_US");
  EXPECT_EQ(ThreadPool::pollTimesFromEnvironment().Poll, Default);
}

// With polling off, an idle worker sleeps at once: with tasks coming 200 us apart it uses far
// less CPU than a worker that polls through every gap (a 10 ms bound here, so that the polling
// side's CPU is the loop's whole wall time even where sanitizers slow each wake-up).
TEST(ThreadPool, NoPollingWhenTurnedOff) {
  if (std::thread::hardware_concurrency() < 2)
    GTEST_SKIP() << "workers never poll on one core";
  auto CpuFor = [](std::chrono::microseconds Poll) {
    ThreadPool::PollTimes Times;
    Times.Poll = Poll;
    ThreadPool Pool(2, Times);
    std::atomic<int> Ran{0};
    double Before = cpuSeconds();
    for (int I = 0; I < 500; ++I) {
      Pool.submit(setFlag, &Ran);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    EXPECT_TRUE(waitForFlag(Ran, 500));
    return cpuSeconds() - Before;
  };
  const double Off = CpuFor(std::chrono::microseconds(0));
  const double On = CpuFor(std::chrono::milliseconds(10));
  EXPECT_LT(Off, 0.5 * On) << "CPU seconds: polling off " << Off << ", on " << On;
}
