// InferRequest: tensors, counts, synchronous use, wait() semantics and state errors.
#include "ApiTestUtil.h"

#include <future>
#include <stdexcept>

namespace optima_v2::test {
namespace {

using namespace std::chrono_literals;
using Request = SampleModelTest;

TEST_F(Request, TensorsByIndexAndName) {
  auto Req = Model.createRequest();
  EXPECT_TRUE(Req);
  EXPECT_NE(Req.getID(), rt::InferRequest::InvalidRequestID);
  EXPECT_EQ(Req.getInputTensorCount(), 2u);
  EXPECT_EQ(Req.getOutputTensorCount(), 1u);
  EXPECT_EQ(Req.getInputTensor().getName(), "input_1");
  EXPECT_EQ(Req.getInputTensor(1).getName(), "input_2");
  EXPECT_EQ(Req.getInputTensor("input_2").getName(), "input_2");
  EXPECT_EQ(Req.getOutputTensor().getName(), "output_1");
  EXPECT_EQ(Req.getOutputTensor("output_1").getShape(), rt::Shape(1, 1, 32, 32));

  auto Inputs = Req.getInputTensors();
  ASSERT_EQ(Inputs.size(), 2u);
  EXPECT_EQ(Inputs[0].getName(), "input_1");
  EXPECT_EQ(Inputs[1].getName(), "input_2");
  auto Outputs = Req.getOutputTensors();
  ASSERT_EQ(Outputs.size(), 1u);
  EXPECT_EQ(Outputs[0].getName(), "output_1");
}

TEST_F(Request, TensorErrors) {
  auto Req = Model.createRequest();
  EXPECT_THROW(Req.getInputTensor(2), std::out_of_range);
  EXPECT_THROW(Req.getInputTensor("nope"), std::invalid_argument);
  EXPECT_THROW(Req.getInputTensor("output_1"), std::invalid_argument);
  EXPECT_THROW(Req.getOutputTensor(1), std::out_of_range);
  EXPECT_THROW(Req.getOutputTensor("input_1"), std::invalid_argument);
}

TEST_F(Request, TensorsOfARequestAreTheSameMemoryEveryTime) {
  auto Req = Model.createRequest();
  auto A = Req.getInputTensor(0), B = Req.getInputTensor("input_1");
  auto BufA = A.getBuffer();
  auto BufB = B.getBuffer();
  EXPECT_EQ(BufA.data(), BufB.data());
}

TEST_F(Request, RequestsAreIndependent) {
  auto R1 = Model.createRequest(), R2 = Model.createRequest();
  EXPECT_NE(R1.getID(), R2.getID());
  auto C1 = makeSampleCase(1), C2 = makeSampleCase(2);
  setInputs(R1, C1);
  setInputs(R2, C2);
  R1.infer();
  R2.infer();
  EXPECT_FALSE(R1.wait());
  EXPECT_FALSE(R2.wait());
  EXPECT_LE(maxAbsDiff(output(R1), C1.Expected), 1e-4f);
  EXPECT_LE(maxAbsDiff(output(R2), C2.Expected), 1e-4f);
}

TEST_F(Request, SynchronousInferMatchesReference) {
  auto Req = Model.createRequest();
  for (uint32_t Variant = 0; Variant < 3; ++Variant) {
    auto Case = makeSampleCase(Variant);
    setInputs(Req, Case);
    Req.infer();
    EXPECT_FALSE(Req.wait());
    EXPECT_LE(maxAbsDiff(output(Req), Case.Expected), 1e-4f) << "variant " << Variant;
  }
}

TEST_F(Request, WaitOnNeverStartedRequestIsInferException) {
  auto Req = Model.createRequest();
  EXPECT_THROW(Req.wait(), rt::InferException);
  EXPECT_THROW(Req.wait(10ms), rt::InferException);
}

TEST_F(Request, WaitAfterFinishReturnsFalseImmediately) {
  auto Req = Model.createRequest();
  Req.infer();
  EXPECT_FALSE(Req.wait());
  // Waiting again on a finished inference does not block and still says "finished".
  EXPECT_FALSE(Req.wait(1ms));
  EXPECT_FALSE(Req.wait());
}

TEST_F(Request, WaitWithGenerousTimeoutReturnsFalse) {
  auto Req = Model.createRequest();
  Req.infer();
  EXPECT_FALSE(Req.wait(10000ms));
}

TEST_F(Request, MovedFromRequestIsEmpty) {
  auto A = Model.createRequest();
  uint32_t Id = A.getID();
  rt::InferRequest B = std::move(A);
  EXPECT_FALSE(A); // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(A.getID(), rt::InferRequest::InvalidRequestID);
  EXPECT_TRUE(B);
  EXPECT_EQ(B.getID(), Id);

  rt::InferRequest C;
  C = std::move(B);
  EXPECT_FALSE(B); // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(C.getID(), Id);
  auto Case = makeSampleCase(4);
  setInputs(C, Case);
  C.infer();
  EXPECT_FALSE(C.wait());
  EXPECT_LE(maxAbsDiff(output(C), Case.Expected), 1e-4f);
}

TEST(EmptyRequest, MethodsAreInvalidOperation) {
  rt::InferRequest Req;
  EXPECT_FALSE(Req);
  EXPECT_EQ(Req.getID(), rt::InferRequest::InvalidRequestID);
  EXPECT_THROW(Req.infer(), rt::InvalidOperationException);
  EXPECT_THROW(Req.wait(), rt::InvalidOperationException);
  EXPECT_THROW(Req.getInputTensor(0), rt::InvalidOperationException);
  EXPECT_THROW(Req.getInputTensorCount(), rt::InvalidOperationException);
  EXPECT_THROW(Req.getOutputTensors(), rt::InvalidOperationException);
  EXPECT_THROW(Req.setCallback(rt::InferRequestSimpleCallback()), rt::InvalidOperationException);
}

TEST_F(Request, MoveAssignOverARunningRequestFinishesIt) {
  TempDir Slow;
  writeSlowModel(Slow.path() / "slow");
  auto SlowModel = Context.loadModel(Slow.path() / "slow");
  Watchdog Dog(60s, "move-assign over a running request");
  auto Running = SlowModel.createRequest();
  Running.infer();
  Running = Model.createRequest(); // the running one is destroyed: cancelled or waited for
  auto Case = makeSampleCase(5);
  setInputs(Running, Case);
  Running.infer();
  EXPECT_FALSE(Running.wait());
  EXPECT_LE(maxAbsDiff(output(Running), Case.Expected), 1e-4f);
}

// A request that is certainly busy while the test looks at it: a context with one thread whose
// only worker is held by another request's callback, plus a model slow enough to run for a while
// even if callbacks get a thread of their own.
class BusyRequest : public ::testing::Test {
protected:
  void SetUp() override {
    writeSlowModel(Dir.path() / "slow");
    writeSampleModel(Dir.path() / "sample");
    rt::ContextOptions Options;
    Options.ThreadCount = 1;
    Context = std::make_unique<rt::Context>(Options);
    Slow = Context->loadModel(Dir.path() / "slow");
    Sample = Context->loadModel(Dir.path() / "sample");
    Blocker = Sample.createRequest();
    Target = Slow.createRequest();
    auto Entered = std::make_shared<std::promise<void>>();
    auto EnteredFuture = Entered->get_future();
    Blocker.setCallback([Entered, Gate = ReleaseFuture](std::exception_ptr) {
      Entered->set_value();
      Gate.wait();
    });
    Blocker.infer();
    ASSERT_EQ(EnteredFuture.wait_for(30s), std::future_status::ready);
    auto Start = std::chrono::steady_clock::now();
    Target.infer();
    InferCallTime = std::chrono::steady_clock::now() - Start;
  }
  void TearDown() override {
    Release.set_value();
    if (Target)
      Target.wait();
    Blocker.wait();
  }

  Watchdog Dog{std::chrono::seconds(120), "BusyRequest test"}; // first: destroyed last
  TempDir Dir{"optima_v2_busy"};
  std::unique_ptr<rt::Context> Context;
  rt::Model Slow, Sample;
  rt::InferRequest Blocker, Target;
  std::promise<void> Release;
  std::shared_future<void> ReleaseFuture = Release.get_future().share();
  std::chrono::steady_clock::duration InferCallTime{};
};

TEST_F(BusyRequest, InferReturnsAtOnce) {
  EXPECT_LT(InferCallTime, std::chrono::milliseconds(100));
  EXPECT_TRUE(Target.wait(1ms)); // still running: the timeout expired first
}

TEST_F(BusyRequest, InferWhileRunningIsInvalidOperation) {
  EXPECT_THROW(Target.infer(), rt::InvalidOperationException);
}

TEST_F(BusyRequest, SetCallbackWhileRunningIsInvalidOperation) {
  EXPECT_THROW(Target.setCallback([](rt::InferRequest &, std::exception_ptr) {}),
               rt::InvalidOperationException);
  EXPECT_THROW(Target.setCallback([](std::exception_ptr) {}), rt::InvalidOperationException);
}

TEST_F(BusyRequest, ProfileDataIsEmptyWhileRunning) { EXPECT_TRUE(Target.getProfileData().empty()); }

TEST_F(BusyRequest, WaitTimesOutThenFinishes) {
  EXPECT_TRUE(Target.wait(20ms));
  Release.set_value();
  EXPECT_FALSE(Target.wait());
  // Now idle again: a new infer() is accepted and a callback may be set.
  Target.setCallback(rt::InferRequestSimpleCallback());
  Target.infer();
  EXPECT_FALSE(Target.wait());
  Release = std::promise<void>(); // TearDown sets it again
}

TEST_F(BusyRequest, OtherRequestsAreNotBlockedFromStarting) {
  // infer() on another request returns at once even though the only worker is busy.
  auto Other = Sample.createRequest();
  auto Start = std::chrono::steady_clock::now();
  Other.infer();
  EXPECT_LT(std::chrono::steady_clock::now() - Start, std::chrono::milliseconds(100));
  Release.set_value();
  EXPECT_FALSE(Other.wait());
  Release = std::promise<void>();
}

} // namespace
} // namespace optima_v2::test
