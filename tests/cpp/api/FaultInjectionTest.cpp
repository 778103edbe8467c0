// Failures injected into the simulated accelerator (sim_accel.json in a subgraph folder) surface
// as the documented exceptions, at the documented call, naming what failed; afterwards the
// Context, its other models and the same request keep working, and nothing leaks.
#include "SimAccelTesting.h"
#include "TestModels.h"

#include <functional>
#include <future>

namespace optima_v2::test {
namespace {

using FaultInjectionTest = SimAccelTest;

// Chain x -> stage_0 (native) -> stage_1 (accelerator) -> y; the plan goes to Subgraph_1.
void writeFaultyChain(const std::filesystem::path &Folder, const std::string &PlanJson) {
  writeChainModel(Folder, {{"Native", HostDevice}, {AccelFramework, AccelDevice}});
  writeFaultPlan(Folder / "Subgraph_1", PlanJson);
}

// The guide's sample model entirely on the accelerator, with a plan.
void writeFaultySample(const std::filesystem::path &Folder, const std::string &PlanJson) {
  writeSampleModel(Folder, AccelFramework, AccelDevice);
  writeFaultPlan(Folder / "Subgraph_0", PlanJson);
}

// Runs a chain request once; the output must be the reference.
void expectChainWorks(rt::InferRequest &Req, uint32_t Seed) {
  auto X = randomFloats(4 * 8 * 8, Seed);
  setInput(Req, 0, X);
  Req.infer();
  EXPECT_FALSE(Req.wait());
  EXPECT_TRUE(allClose(getOutput(Req), referenceChainModel(X, 2), 1e-4f, 1e-4f));
}

void expectSampleWorks(rt::InferRequest &Req, uint32_t Seed) {
  auto In1 = randomFloats(3 * 32 * 32, Seed), In2 = randomFloats(32 * 32, Seed + 1);
  setInput(Req, 0, In1);
  setInput(Req, 1, In2);
  Req.infer();
  EXPECT_FALSE(Req.wait());
  EXPECT_TRUE(allClose(getOutput(Req), referenceSampleModel(In1, In2), 1e-4f, 1e-4f));
}

// The Context still loads and runs healthy models on both devices.
void expectContextHealthy(rt::Context &Ctx) {
  TempDir Dir;
  writeChainModel(Dir.path(), {{AccelFramework, AccelDevice}, {"Native", HostDevice}});
  rt::Model Model = Ctx.loadModel(Dir.path());
  rt::InferRequest Req = Model.createRequest();
  expectChainWorks(Req, 99);
}

// --- load ----------------------------------------------------------------------------------------

template <class E> void expectLoadThrows(const std::string &PlanJson, const std::string &Expect) {
  TempDir Dir;
  writeFaultyChain(Dir.path(), PlanJson);
  rt::Context Ctx = makeAccelContext();
  try {
    Ctx.loadModel(Dir.path());
    ADD_FAILURE() << "loadModel succeeded despite " << PlanJson;
  } catch (const E &Ex) {
    std::string M = Ex.what();
    EXPECT_TRUE(containsText(M, "stage_1") || containsText(M, "Subgraph_1"))
        << "the message does not name the failing subgraph: " << M;
    EXPECT_TRUE(containsText(M, Expect)) << M;
  } catch (const std::exception &Ex) {
    ADD_FAILURE() << "wrong exception type for " << PlanJson << ": " << Ex.what();
  }
  EXPECT_EQ(simAccelLive().Subgraphs, 0u) << "a failed load left a subgraph loaded";
  expectContextHealthy(Ctx);
}

TEST_F(FaultInjectionTest, LoadFailureMapsEachStatus) {
  const std::string Msg = "injected failure at load";
  expectLoadThrows<rt::InvalidModelException>(R"({"fail_at":"load"})", Msg);
  expectLoadThrows<rt::InvalidArgumentException>(R"({"fail_at":"load","status":1})", Msg);
  expectLoadThrows<rt::InvalidModelException>(R"({"fail_at":"load","status":2})", Msg);
  expectLoadThrows<rt::UnsupportedModelException>(R"({"fail_at":"load","status":3})", Msg);
  expectLoadThrows<rt::OutOfResourceException>(R"({"fail_at":"load","status":4})", Msg);
  expectLoadThrows<rt::BackendException>(R"({"fail_at":"load","status":6})", Msg);
  expectLoadThrows<rt::BackendException>(R"({"fail_at":"load","status":1234})", Msg);
}

TEST_F(FaultInjectionTest, LoadThrowingExtensionBecomesBackendException) {
  TempDir Dir;
  writeFaultyChain(Dir.path(), R"({"fail_at":"load","throw":true})");
  rt::Context Ctx = makeAccelContext();
  try {
    Ctx.loadModel(Dir.path());
    FAIL() << "loadModel succeeded";
  } catch (const rt::BackendException &E) {
    std::string M = E.what();
    EXPECT_TRUE(containsText(M, "stage_1") || containsText(M, "Subgraph_1"))
        << "the message does not name the failing subgraph: " << M;
    EXPECT_EQ(E.getBackendName(), "sim_accel");
    ASSERT_NE(E.getUncaughtException(), nullptr);
    EXPECT_TRUE(containsText(std::string(rt::getCause(E.getUncaughtException())), "injected failure at load"));
  }
  EXPECT_EQ(simAccelLive().Subgraphs, 0u);
  expectContextHealthy(Ctx);
}

TEST_F(FaultInjectionTest, LoadFailsOnlyOnTheCountedCall) {
  TempDir Dir;
  writeFaultyChain(Dir.path(), R"({"fail_at":"load","after":1})");
  rt::Context Ctx = makeAccelContext();
  rt::Model First = Ctx.loadModel(Dir.path());
  EXPECT_THROW(Ctx.loadModel(Dir.path()), rt::InvalidModelException);
  rt::Model Third = Ctx.loadModel(Dir.path());
  // The model loaded before the failure is unaffected by it.
  rt::InferRequest A = First.createRequest(), B = Third.createRequest();
  expectChainWorks(A, 7);
  expectChainWorks(B, 8);
}

// --- execute -------------------------------------------------------------------------------------

// Infers once with a callback; returns what wait() threw (nullptr if nothing) and checks the
// callback saw an error of the same type and message.
template <class E> void expectInferFails(rt::InferRequest &Req, const std::string &Expect) {
  std::promise<std::exception_ptr> FromCallback;
  auto Future = FromCallback.get_future();
  Req.setCallback([&FromCallback](rt::InferRequest &, std::exception_ptr Error) {
    FromCallback.set_value(Error);
  });
  Req.infer();
  std::string WaitMessage;
  try {
    Req.wait();
    ADD_FAILURE() << "wait() did not throw";
  } catch (const E &Ex) {
    WaitMessage = Ex.what();
    EXPECT_TRUE(containsText(WaitMessage, Expect)) << WaitMessage;
  } catch (const std::exception &Ex) {
    ADD_FAILURE() << "wait() threw the wrong type: " << Ex.what();
  }
  ASSERT_EQ(Future.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the callback was not called";
  std::exception_ptr Error = Future.get();
  ASSERT_NE(Error, nullptr) << "the callback got no error";
  try {
    std::rethrow_exception(Error);
  } catch (const E &Ex) {
    EXPECT_EQ(std::string(Ex.what()), WaitMessage) << "callback and wait() disagree";
  } catch (const std::exception &Ex) {
    ADD_FAILURE() << "the callback got the wrong type: " << Ex.what();
  }
  Req.setCallback(rt::InferRequestCallback());
}

TEST_F(FaultInjectionTest, ExecuteFailureReachesWaitAndCallbackThenRequestRecovers) {
  TempDir Dir;
  writeFaultyChain(Dir.path() / "faulty", R"({"fail_at":"execute","after":1})");
  writeChainModel(Dir.path() / "other", {{AccelFramework, AccelDevice}, {"Native", HostDevice}});
  rt::Context Ctx = makeAccelContext();
  rt::Model Faulty = Ctx.loadModel(Dir.path() / "faulty");
  rt::Model Other = Ctx.loadModel(Dir.path() / "other");
  rt::InferRequest Req = Faulty.createRequest(), OtherReq = Other.createRequest();

  expectChainWorks(Req, 1); // call 1 passes
  expectInferFails<rt::InferException>(Req, "injected failure at execute (call 2)");
  expectChainWorks(Req, 2); // call 3 passes again: the same request recovers
  expectChainWorks(OtherReq, 3);
  expectContextHealthy(Ctx);
}

TEST_F(FaultInjectionTest, ExecuteUnknownStatusIsBackendException) {
  TempDir Dir;
  writeFaultyChain(Dir.path(), R"({"fail_at":"execute","status":1234})");
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path());
  rt::InferRequest Req = Model.createRequest();
  expectInferFails<rt::BackendException>(Req, "");
  Req.infer();
  try {
    Req.wait(); // call 2 passes
  } catch (const std::exception &E) {
    ADD_FAILURE() << E.what();
  }
  expectChainWorks(Req, 4);
  expectContextHealthy(Ctx);
}

TEST_F(FaultInjectionTest, ExecuteThrowingExtensionBecomesBackendException) {
  TempDir Dir;
  writeFaultyChain(Dir.path(), R"({"fail_at":"execute","throw":true})");
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path());
  rt::InferRequest Req = Model.createRequest();
  Req.infer();
  try {
    Req.wait();
    FAIL() << "wait() did not throw";
  } catch (const rt::BackendException &E) {
    EXPECT_EQ(E.getBackendName(), "sim_accel");
    ASSERT_NE(E.getUncaughtException(), nullptr);
    EXPECT_TRUE(containsText(std::string(rt::getCause(E.getUncaughtException())),
                             "injected failure at execute"));
  }
  expectChainWorks(Req, 5);
  expectContextHealthy(Ctx);
}

TEST_F(FaultInjectionTest, RepeatedExecuteFailuresLeaveOtherModelsWorking) {
  TempDir Dir;
  writeFaultyChain(Dir.path() / "faulty", R"({"fail_at":"execute","repeat":true})");
  writeSampleModel(Dir.path() / "sample", AccelFramework, AccelDevice);
  rt::Context Ctx = makeAccelContext();
  rt::Model Faulty = Ctx.loadModel(Dir.path() / "faulty");
  rt::Model Sample = Ctx.loadModel(Dir.path() / "sample");
  rt::InferRequest Bad = Faulty.createRequest(), Good = Sample.createRequest();
  for (uint32_t I = 0; I < 3; ++I) {
    expectInferFails<rt::InferException>(Bad, "injected failure at execute");
    expectSampleWorks(Good, 50 + I);
  }
}

// --- device memory -------------------------------------------------------------------------------

TEST_F(FaultInjectionTest, AllocFailureAtCreateRequestFreesWhatWasAllocated) {
  TempDir Dir;
  // Call 2 fails: the request's first device buffer was allocated and must be freed again.
  writeFaultySample(Dir.path(), R"({"fail_at":"alloc","after":1})");
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path());
  const uint64_t Base = simAccelLive().Buffers;
  try {
    Model.createRequest();
    FAIL() << "createRequest succeeded";
  } catch (const rt::OutOfResourceException &E) {
    EXPECT_TRUE(containsText(E.what(), "injected failure at alloc")) << E.what();
  }
  EXPECT_EQ(simAccelLive().Buffers, Base) << "buffers of the failed request leaked";
  EXPECT_EQ(simAccelLive().States, 0u);
  rt::InferRequest Req = Model.createRequest(); // later allocations pass
  expectSampleWorks(Req, 60);
  expectContextHealthy(Ctx);
}

TEST_F(FaultInjectionTest, AllocFailureOnFirstBuffer) {
  TempDir Dir;
  writeFaultySample(Dir.path(), R"({"fail_at":"alloc"})");
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path());
  EXPECT_THROW(Model.createRequest(), rt::OutOfResourceException);
  rt::InferRequest Req = Model.createRequest();
  expectSampleWorks(Req, 61);
}

TEST_F(FaultInjectionTest, RequestStateFailureAtCreateRequest) {
  TempDir Dir;
  writeFaultySample(Dir.path(), R"({"fail_at":"create_state"})");
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path());
  EXPECT_THROW(Model.createRequest(), rt::OutOfResourceException);
  EXPECT_EQ(simAccelLive().Buffers, 0u) << "buffers of the failed request leaked";
  rt::InferRequest Req = Model.createRequest();
  expectSampleWorks(Req, 62);
}

TEST_F(FaultInjectionTest, MapFailureDuringTransfersFailsTheInference) {
  // The sample model maps 3 buffers per inference: input_1, input_2 (upload), output_1
  // (download). "after": 2 fails the download of the first inference, "after": 0 the first upload.
  for (const char *Plan : {R"({"fail_at":"map"})", R"({"fail_at":"map","after":2})"}) {
    SCOPED_TRACE(Plan);
    TempDir Dir;
    writeFaultySample(Dir.path(), Plan);
    rt::Context Ctx = makeAccelContext();
    rt::Model Model = Ctx.loadModel(Dir.path());
    rt::InferRequest Req = Model.createRequest();
    expectInferFails<rt::InferException>(Req, "injected failure at map");
    EXPECT_EQ(simAccelLive().Mapped, 0u) << "a buffer stayed mapped after the failure";
    expectSampleWorks(Req, 63);
    expectContextHealthy(Ctx);
  }
}

// --- slow device -------------------------------------------------------------------------------

TEST_F(FaultInjectionTest, StallExceedingTheTimeoutThenCompletes) {
  Watchdog Guard(std::chrono::seconds(30), "StallExceedingTheTimeoutThenCompletes");
  TempDir Dir;
  writeFaultySample(Dir.path(), R"({"stall_ms":400})");
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path());
  rt::InferRequest Req = Model.createRequest();
  auto In1 = randomFloats(3 * 32 * 32, 70), In2 = randomFloats(32 * 32, 71);
  setInput(Req, 0, In1);
  setInput(Req, 1, In2);
  auto Start = std::chrono::steady_clock::now();
  Req.infer();
  EXPECT_TRUE(Req.wait(std::chrono::milliseconds(50))) << "finished despite a 400 ms stall";
  EXPECT_THROW(Req.infer(), rt::InvalidOperationException) << "infer() while running";
  EXPECT_TRUE(Req.getProfileData().empty()) << "profile data while running";
  EXPECT_FALSE(Req.wait());
  EXPECT_GE(std::chrono::steady_clock::now() - Start, std::chrono::milliseconds(400));
  EXPECT_TRUE(allClose(getOutput(Req), referenceSampleModel(In1, In2), 1e-4f, 1e-4f));
  EXPECT_FALSE(Req.getProfileData().empty());
}

} // namespace
} // namespace optima_v2::test
