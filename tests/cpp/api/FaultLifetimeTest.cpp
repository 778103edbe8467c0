// Handles dying while the (stalling) accelerator is still executing: no crash, no hang, and every
// device object released in the end. A watchdog turns a hang into a failure.
#include "SimAccelTesting.h"
#include "TestModels.h"

#include <atomic>
#include <optional>

namespace optima_v2::test {
namespace {

using FaultLifetimeTest = SimAccelTest;
using Clock = std::chrono::steady_clock;

constexpr auto LongStall = std::chrono::milliseconds(3000);

void writeStallingSample(const std::filesystem::path &Folder, std::chrono::milliseconds Stall) {
  writeSampleModel(Folder, AccelFramework, AccelDevice);
  writeFaultPlan(Folder / "Subgraph_0", "{\"stall_ms\":" + std::to_string(Stall.count()) + "}");
}

// Waits until the accelerator is inside execute() (its request state exists and time passes).
void letItStart() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

TEST_F(FaultLifetimeTest, DestroyingModelContextAndRequestInFlightCancelsPromptly) {
  Watchdog Guard(std::chrono::seconds(30), "DestroyingModelContextAndRequestInFlight");
  TempDir Dir;
  writeStallingSample(Dir.path(), LongStall);
  std::optional<rt::Context> Ctx(makeAccelContext());
  std::optional<rt::Model> Model(Ctx->loadModel(Dir.path()));
  std::optional<rt::InferRequest> Req(Model->createRequest());
  std::atomic<int> Callbacks{0};
  Req->setCallback([&Callbacks](rt::InferRequest &, std::exception_ptr) { ++Callbacks; });
  Req->infer();
  letItStart();
  auto Start = Clock::now();
  Model.reset();
  Ctx.reset();
  EXPECT_LT(Clock::now() - Start, std::chrono::milliseconds(500))
      << "dropping the Model and Context handles must not wait for the request";
  Req.reset(); // cancels: the accelerator polls isCancelled while stalling
  auto Took = Clock::now() - Start;
  EXPECT_LT(Took, LongStall - std::chrono::milliseconds(500))
      << "destroying the running request did not cancel the stalled execute()";
  EXPECT_LE(Callbacks.load(), 1);
}

TEST_F(FaultLifetimeTest, RequestOutlivesModelAndContextAndCompletes) {
  Watchdog Guard(std::chrono::seconds(30), "RequestOutlivesModelAndContext");
  TempDir Dir;
  writeStallingSample(Dir.path(), std::chrono::milliseconds(200));
  std::optional<rt::Context> Ctx(makeAccelContext());
  std::optional<rt::Model> Model(Ctx->loadModel(Dir.path()));
  rt::InferRequest Req = Model->createRequest();
  auto In1 = randomFloats(3 * 32 * 32, 80), In2 = randomFloats(32 * 32, 81);
  setInput(Req, 0, In1);
  setInput(Req, 1, In2);
  Req.infer();
  Model.reset();
  Ctx.reset();
  EXPECT_FALSE(Req.wait());
  EXPECT_TRUE(allClose(getOutput(Req), referenceSampleModel(In1, In2), 1e-4f, 1e-4f));
  EXPECT_EQ(simAccelLive().Extensions, Before.Extensions + 1) << "the request keeps the extension";
  // And it can run again with nothing else alive.
  Req.infer();
  EXPECT_FALSE(Req.wait());
  EXPECT_TRUE(allClose(getOutput(Req), referenceSampleModel(In1, In2), 1e-4f, 1e-4f));
}

TEST_F(FaultLifetimeTest, ManyRequestsDestroyedInFlightInAnyOrder) {
  Watchdog Guard(std::chrono::seconds(60), "ManyRequestsDestroyedInFlight");
  TempDir Dir;
  writeStallingSample(Dir.path() / "stall", std::chrono::milliseconds(1000));
  writeChainModel(Dir.path() / "split", {{"Native", HostDevice}, {AccelFramework, AccelDevice},
                                         {"Native", HostDevice}});
  writeFaultPlan(Dir.path() / "split" / "Subgraph_1", R"({"stall_ms":1000})");
  for (int Order = 0; Order < 3; ++Order) {
    SCOPED_TRACE(Order);
    auto Start = Clock::now();
    {
      std::optional<rt::Context> Ctx(makeAccelContext());
      std::optional<rt::Model> Stall(Ctx->loadModel(Dir.path() / "stall"));
      std::optional<rt::Model> Split(Ctx->loadModel(Dir.path() / "split"));
      std::vector<rt::InferRequest> Reqs;
      for (int I = 0; I < 3; ++I) {
        Reqs.push_back(Stall->createRequest());
        Reqs.push_back(Split->createRequest());
      }
      for (auto &R : Reqs)
        R.infer();
      letItStart();
      if (Order == 0) { // requests first, then models, then context
        Reqs.clear();
        Stall.reset();
        Split.reset();
        Ctx.reset();
      } else if (Order == 1) { // context first, requests last (reverse order)
        Ctx.reset();
        Split.reset();
        Stall.reset();
        while (!Reqs.empty())
          Reqs.pop_back();
      } else { // moved-from and reassigned handles
        rt::InferRequest Moved = std::move(Reqs[0]);
        Reqs[1] = std::move(Reqs[2]);
        Ctx.reset();
      }
    }
    // Bounded, not prompt: a request whose task still waits in the pool queue is released only
    // when a worker reaches that task, and the workers may first finish the stalls of requests
    // destroyed later (6 requests of 1 s each on at least one worker: at most 6 s).
    EXPECT_LT(Clock::now() - Start, std::chrono::milliseconds(6500));
    SimAccelLive After = waitForRelease(Before);
    EXPECT_TRUE(sameCounts(After, Before)) << After.toString();
  }
}

TEST_F(FaultLifetimeTest, WaitTimeoutThenDestroyDoesNotHang) {
  Watchdog Guard(std::chrono::seconds(30), "WaitTimeoutThenDestroy");
  TempDir Dir;
  writeStallingSample(Dir.path(), LongStall);
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path());
  auto Start = Clock::now();
  {
    rt::InferRequest Req = Model.createRequest();
    Req.infer();
    EXPECT_TRUE(Req.wait(std::chrono::milliseconds(50)));
    EXPECT_TRUE(Req.wait(std::chrono::milliseconds(20)));
  }
  EXPECT_LT(Clock::now() - Start, LongStall - std::chrono::milliseconds(500));
  // The model still serves new requests after the cancelled one (stall applies to every call,
  // so only check that it starts and can be abandoned again).
  rt::InferRequest Next = Model.createRequest();
  Next.infer();
  EXPECT_TRUE(Next.wait(std::chrono::milliseconds(20)));
}

} // namespace
} // namespace optima_v2::test
