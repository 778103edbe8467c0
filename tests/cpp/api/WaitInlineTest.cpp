// wait() runs a run's still-queued work on the caller's thread (no worker hand-off), keeps the
// bound of a timed wait, and leaves runs with a callback on the pool.
#include "ApiTestUtil.h"

#include <atomic>

namespace optima_v2::test {
namespace {

using namespace std::chrono_literals;

// A one-thread context whose only worker is held inside a callback until release().
class BusyWorker : public ::testing::Test {
protected:
  void SetUp() override {
    ModelPath = Dir.path() / "sample_model";
    writeSampleModel(ModelPath);
    rt::ContextOptions Options;
    Options.ThreadCount = 1;
    Context = rt::Context(Options);
    Model = Context.loadModel(ModelPath);
    Holder = Model.createRequest();
    setInputs(Holder, makeSampleCase(1));
    Holder.setCallback([this](rt::InferRequest &, std::exception_ptr) {
      Entered.store(true);
      std::unique_lock<std::mutex> Lock(GateMutex);
      Gate.wait(Lock, [&] { return Open; });
    });
    Holder.infer();
    while (!Entered.load())
      std::this_thread::sleep_for(1ms);
  }
  void release() {
    {
      std::lock_guard<std::mutex> Lock(GateMutex);
      Open = true;
    }
    Gate.notify_all();
    Holder.wait();
  }
  void TearDown() override {
    if (!Open)
      release();
  }

  TempDir Dir{"optima_v2_wait_inline"};
  std::filesystem::path ModelPath;
  rt::Context Context;
  rt::Model Model;
  rt::InferRequest Holder;
  std::atomic<bool> Entered{false};
  std::mutex GateMutex;
  std::condition_variable Gate;
  bool Open = false;
};

TEST_F(BusyWorker, UntimedWaitRunsTheWorkOnTheCaller) {
  Watchdog Dog(60s, "untimed wait with the only worker busy");
  auto Req = Model.createRequest();
  for (uint32_t Variant = 0; Variant < 3; ++Variant) {
    auto Case = makeSampleCase(100 + Variant);
    setInputs(Req, Case);
    Req.infer();
    EXPECT_FALSE(Req.wait()); // would hang until release() if it only slept
    EXPECT_LE(maxAbsDiff(output(Req), Case.Expected), 1e-4f);
  }
  EXPECT_FALSE(Open); // all of it while the worker was still held
}

TEST_F(BusyWorker, TimedWaitKeepsItsBoundOnTheFirstRun) {
  Watchdog Dog(60s, "timed wait with the only worker busy");
  auto Req = Model.createRequest();
  auto Case = makeSampleCase(5);
  setInputs(Req, Case);
  Req.infer();
  // No earlier run tells how long this one takes: a timed wait must not take it on.
  auto Start = std::chrono::steady_clock::now();
  EXPECT_TRUE(Req.wait(30ms));
  EXPECT_LT(std::chrono::steady_clock::now() - Start, 5s);
  EXPECT_FALSE(Req.wait());
  EXPECT_LE(maxAbsDiff(output(Req), Case.Expected), 1e-4f);
  // Now the run time is known (microseconds): a generous timed wait runs the next one here.
  Case = makeSampleCase(6);
  setInputs(Req, Case);
  Req.infer();
  EXPECT_FALSE(Req.wait(10000ms));
  EXPECT_LE(maxAbsDiff(output(Req), Case.Expected), 1e-4f);
  EXPECT_FALSE(Open);
}

TEST_F(BusyWorker, RunsWithACallbackStayOnThePool) {
  Watchdog Dog(60s, "callback run with the only worker busy");
  auto Req = Model.createRequest();
  auto Case = makeSampleCase(9);
  setInputs(Req, Case);
  std::atomic<bool> Called{false};
  std::thread::id CallbackThread;
  Req.setCallback([&](rt::InferRequest &, std::exception_ptr Error) {
    CallbackThread = std::this_thread::get_id();
    Called.store(Error == nullptr);
  });
  Req.infer();
  EXPECT_TRUE(Req.wait(50ms)); // queued behind the held worker, not taken by the waiter
  release();
  EXPECT_FALSE(Req.wait());
  EXPECT_TRUE(Called.load());
  EXPECT_NE(CallbackThread, std::this_thread::get_id());
  EXPECT_LE(maxAbsDiff(output(Req), Case.Expected), 1e-4f);
}

} // namespace
} // namespace optima_v2::test
