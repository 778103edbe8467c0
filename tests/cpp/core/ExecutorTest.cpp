// The executor and request lifecycle, driven through the public API with the core test
// extension (op.txt subgraphs: outputs = sum of inputs + constant). Expected values are computed
// here from that definition.
#include "CoreTestUtil.h"
#include "TestModels.h"

#include <OptimaV2/Runtime/Utils/ToString.h>

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <thread>

namespace rt = optima_v2::runtime;
namespace fs = std::filesystem;
using namespace optima_v2::coretest;
using namespace std::chrono_literals;

#define EXPECT_HAS(Text, Part) EXPECT_NE(std::string(Text).find(Part), std::string::npos) << (Text)

namespace {

int liveObjects() {
  void *H = dlopen(CORE_TEST_EXT, RTLD_NOW | RTLD_NOLOAD);
  if (!H)
    return -1; // not loaded at all
  auto Fn = reinterpret_cast<int (*)()>(dlsym(H, "coreTestLiveObjects"));
  int N = Fn ? Fn() : -2;
  dlclose(H);
  return N;
}

// The last references may be dropped on the pool worker that finished the run, just after
// wait() returned: give it a moment.
int liveObjectsAfterRelease() {
  for (int I = 0; I < 400 && liveObjects() != -1; ++I)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return liveObjects();
}

std::vector<float> read(rt::Tensor T) {
  std::vector<float> V(T.getTensorSize() / sizeof(float));
  T.copyTo(V.data(), V.size());
  return V;
}

// Diamond over both devices:
//   a (x64):    x       -> t1 = x + 1
//   b (NVIDIA): t1      -> t2 = t1 + 2, z = t1 + 2
//   c (x64):    t1      -> t3 = t1 + 3
//   d (NVIDIA): t2, t3  -> y = t2 + t3 + 0.5
void writeDiamond(const fs::path &Dir, const std::string &ExtraOpA = "") {
  writeTestModel(Dir, {"x"}, {"y", "z"}, {"t1", "t2", "t3"},
                 {{"a", "X64:0", "add 1 layers 2 " + ExtraOpA, {"x"}, {"t1"}},
                  {"b", "NVIDIA:0", "add 2 layers 3", {"t1"}, {"t2", "z"}},
                  {"c", "X64:0", "add 3", {"t1"}, {"t3"}},
                  {"d", "NVIDIA:0", "add 0.5 layers 1", {"t2", "t3"}, {"y"}}},
                 {4, 33});
}

struct DiamondFixture : ::testing::Test {
  optima_v2::test::TempDir Dir;
};

} // namespace

TEST_F(DiamondFixture, ComputesAcrossHostAndDeviceSubgraphs) {
  writeDiamond(Dir.path());
  auto Context = makeTestContext(2);
  auto Model = Context.loadModel(Dir.path());
  EXPECT_EQ(Model.getName(), "coretest");
  auto Req = Model.createRequest();
  for (int Run = 0; Run < 3; ++Run) {
    auto X = optima_v2::test::randomFloats(4 * 33, 100 + Run);
    Req.getInputTensor("x").copyFrom(X.data(), X.size());
    Req.infer();
    EXPECT_FALSE(Req.wait());
    auto Y = read(Req.getOutputTensor("y"));
    auto Z = read(Req.getOutputTensor(1));
    ASSERT_EQ(Y.size(), X.size());
    for (size_t I = 0; I < X.size(); ++I) {
      float T1 = X[I] + 1, T2 = T1 + 2, T3 = T1 + 3;
      ASSERT_FLOAT_EQ(Y[I], T2 + T3 + 0.5f) << "run " << Run << " item " << I;
      ASSERT_FLOAT_EQ(Z[I], T1 + 2) << "run " << Run << " item " << I;
    }
  }

  auto Profile = Req.getProfileData();
  ASSERT_GE(Profile.size(), 3u);
  EXPECT_EQ(Profile.front().Kind, rt::ProfileKind::RequestInit);
  EXPECT_EQ(Profile.back().Kind, rt::ProfileKind::ModelExecute);
  EXPECT_EQ(Profile.back().Name, "coretest");
  std::map<rt::ProfileKind, int> Count;
  std::map<std::string, int> Layers, SubgraphExec, Copies;
  for (const auto &P : Profile) {
    ++Count[P.Kind];
    if (P.Kind == rt::ProfileKind::LayerExecute) {
      ++Layers[P.Subgraph + "/" + P.Name];
      EXPECT_EQ(P.Time, 1us);
    }
    if (P.Kind == rt::ProfileKind::SubgraphExecute) {
      ++SubgraphExec[P.Name];
      EXPECT_EQ(P.Subgraph, P.Name);
      EXPECT_LE(P.Time + P.Start, Profile.back().Time + 1us);
    }
    if (P.Kind == rt::ProfileKind::BufferCopy || P.Kind == rt::ProfileKind::TransferToOutput ||
        P.Kind == rt::ProfileKind::TransferFromInput)
      ++Copies[std::string(rt::toString(P.Kind)) + ":" + P.Subgraph + ":" + P.Name];
  }
  EXPECT_EQ(Count[rt::ProfileKind::Wait], 4);
  EXPECT_EQ(Count[rt::ProfileKind::SubgraphExecute], 4);
  EXPECT_EQ(Count[rt::ProfileKind::LayerExecute], 6);
  EXPECT_EQ(Layers["a/L1"], 1);
  EXPECT_EQ(Layers["b/L2"], 1);
  EXPECT_EQ(SubgraphExec.size(), 4u);
  // Host -> device for t1 into b, t3 into d; device -> device for t2; device -> host for z, y.
  std::map<std::string, int> ExpectedCopies = {{"BufferCopy:b:t1", 1}, {"BufferCopy:d:t2", 1},
                                               {"BufferCopy:d:t3", 1}, {"TransferToOutput:b:z", 1},
                                               {"TransferToOutput:d:y", 1}};
  EXPECT_EQ(Copies, ExpectedCopies);

  auto Load = Model.getLoadProfileData();
  ASSERT_EQ(Load.size(), 5u);
  EXPECT_EQ(Load[0].Kind, rt::ProfileKind::ModelInit);
  EXPECT_EQ(Load[1].Kind, rt::ProfileKind::SubgraphInit);
  EXPECT_EQ(Load[4].Name, "d");
}

TEST_F(DiamondFixture, ProfilingDisabledSkipsLayerEventsOnly) {
  writeDiamond(Dir.path());
  auto Context = makeTestContext(2, /*EnableProfile=*/false);
  auto Req = Context.loadModel(Dir.path()).createRequest();
  EXPECT_TRUE(Req.getProfileData().empty()); // never run
  Req.infer();
  Req.wait();
  int Layers = 0, Subgraphs = 0, ModelExec = 0;
  for (const auto &P : Req.getProfileData()) {
    Layers += P.Kind == rt::ProfileKind::LayerExecute;
    Subgraphs += P.Kind == rt::ProfileKind::SubgraphExecute;
    ModelExec += P.Kind == rt::ProfileKind::ModelExecute;
  }
  EXPECT_EQ(Layers, 0);
  EXPECT_EQ(Subgraphs, 4);
  EXPECT_EQ(ModelExec, 1);
}

TEST_F(DiamondFixture, ManyLayerEventsGrowTheBufferAfterOneRun) {
  writeTestModel(Dir.path(), {"x"}, {"y"}, {}, {{"a", "X64:0", "add 1 layers 300", {"x"}, {"y"}}});
  auto Context = makeTestContext(1);
  auto Req = Context.loadModel(Dir.path()).createRequest();
  auto CountLayers = [&] {
    int N = 0;
    for (const auto &P : Req.getProfileData())
      N += P.Kind == rt::ProfileKind::LayerExecute;
    return N;
  };
  Req.infer();
  Req.wait();
  EXPECT_EQ(CountLayers(), 256); // first run: preallocated budget, the rest dropped
  Req.infer();
  Req.wait();
  EXPECT_EQ(CountLayers(), 300);
}

TEST_F(DiamondFixture, ConcurrentRequestsAreIndependent) {
  writeDiamond(Dir.path());
  auto Context = makeTestContext(2);
  auto Model = Context.loadModel(Dir.path());
  std::vector<rt::InferRequest> Reqs;
  for (int I = 0; I < 6; ++I)
    Reqs.push_back(Model.createRequest());
  for (int Round = 0; Round < 5; ++Round) {
    for (size_t I = 0; I < Reqs.size(); ++I) {
      std::vector<float> X(4 * 33, float(I * 10 + Round));
      Reqs[I].getInputTensor().copyFrom(X.data(), X.size());
      Reqs[I].infer();
    }
    for (size_t I = 0; I < Reqs.size(); ++I) {
      Reqs[I].wait();
      float X = float(I * 10 + Round);
      auto Y = read(Reqs[I].getOutputTensor(0));
      ASSERT_FLOAT_EQ(Y[0], 2 * X + 7.5f);
      ASSERT_FLOAT_EQ(Y.back(), 2 * X + 7.5f);
    }
  }
}

TEST_F(DiamondFixture, ErrorsAreRethrownByWaitAndPassedToTheCallback) {
  struct Case {
    std::string Op;
    std::string Message;
  };
  auto Context = makeTestContext(2);
  for (const auto &C : std::vector<Case>{{"fail", "a: injected failure"},
                                         {"throw", "coretest: execute let a C++ exception escape: boom"},
                                         {"status 1234", "coretest: execute returned unknown status 1234"},
                                         {"status 6", "internal error"}}) {
    writeDiamond(Dir.path(), C.Op);
    auto Req = Context.loadModel(Dir.path()).createRequest();
    std::promise<std::string> FromCallback;
    Req.setCallback([&](rt::InferRequest &, std::exception_ptr E) { FromCallback.set_value(std::string(rt::getCause(E))); });
    Req.infer();
    EXPECT_HAS(FromCallback.get_future().get(), C.Message);
    std::string Caught;
    try {
      Req.wait();
    } catch (const rt::BackendException &E) {
      Caught = std::string("Backend:") + E.what();
      EXPECT_EQ(E.getBackendName(), "coretest");
      if (C.Op == "throw") {
        ASSERT_TRUE(E.getUncaughtException());
        EXPECT_EQ(rt::getCause(E.getUncaughtException()), "boom");
      }
    } catch (const rt::InferException &E) {
      Caught = std::string("Infer:") + E.what();
    }
    EXPECT_HAS(Caught, C.Op == "fail" ? "Infer:" : "Backend:");
    EXPECT_HAS(Caught, C.Message);
    // Later subgraphs were skipped after the failure.
    int Executed = 0;
    for (const auto &P : Req.getProfileData())
      Executed += P.Kind == rt::ProfileKind::SubgraphExecute;
    EXPECT_EQ(Executed, 0) << C.Op;
    // The error sticks to that run: waiting again rethrows it.
    EXPECT_ANY_THROW(Req.wait());
  }
}

TEST_F(DiamondFixture, StateMachineMisuse) {
  writeTestModel(Dir.path(), {"x"}, {"y"}, {}, {{"a", "X64:0", "sleep 300 add 1", {"x"}, {"y"}}});
  auto Context = makeTestContext(2);
  auto Req = Context.loadModel(Dir.path()).createRequest();
  EXPECT_HAS(messageOf<rt::InferException>([&] { Req.wait(); }), "never started");
  Req.infer();
  EXPECT_THROW(Req.infer(), rt::InvalidOperationException);
  EXPECT_THROW(Req.setCallback([](rt::InferRequest &, std::exception_ptr) {}), rt::InvalidOperationException);
  EXPECT_TRUE(Req.getProfileData().empty()); // running
  EXPECT_TRUE(Req.wait(20ms));               // timed out
  EXPECT_FALSE(Req.wait());
  EXPECT_FALSE(Req.wait(1000ms));
  EXPECT_FALSE(Req.getProfileData().empty());
  Req.setCallback(rt::InferRequestCallback{}); // allowed again once idle
}

TEST_F(DiamondFixture, CallbackChainsInferAndWaitInsideDoesNotDeadlock) {
  writeDiamond(Dir.path());
  auto Context = makeTestContext(2);
  auto Req = Context.loadModel(Dir.path()).createRequest();
  std::atomic<int> Runs{0};
  std::promise<void> Done;
  Req.setCallback([&](rt::InferRequest &R, std::exception_ptr E) {
    EXPECT_FALSE(E);
    EXPECT_FALSE(R.wait()); // on our own callback thread: returns at once
    EXPECT_FALSE(R.getProfileData().empty());
    auto Y = read(R.getOutputTensor("y"));
    float X = float(Runs.load());
    EXPECT_FLOAT_EQ(Y[0], 2 * X + 7.5f);
    if (++Runs < 5) {
      std::vector<float> Next(4 * 33, float(Runs.load()));
      R.getInputTensor("x").copyFrom(Next.data(), Next.size());
      R.infer(); // chained run
      EXPECT_THROW(R.infer(), rt::InvalidOperationException);
    } else {
      Done.set_value();
    }
  });
  std::vector<float> X(4 * 33, 0.0f);
  Req.getInputTensor().copyFrom(X.data(), X.size());
  Req.infer();
  ASSERT_EQ(Done.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(Req.wait());
  EXPECT_EQ(Runs.load(), 5);
}

TEST_F(DiamondFixture, SimpleCallbackAndThrowingCallback) {
  writeDiamond(Dir.path());
  auto Context = makeTestContext(2);
  auto Req = Context.loadModel(Dir.path()).createRequest();
  std::atomic<int> Calls{0};
  Req.setCallback(rt::InferRequestSimpleCallback([&](std::exception_ptr E) {
    EXPECT_FALSE(E);
    ++Calls;
  }));
  Req.infer();
  Req.wait();
  EXPECT_EQ(Calls.load(), 1);
  Req.setCallback([](rt::InferRequest &, std::exception_ptr) { throw std::runtime_error("user bug"); });
  Req.infer();
  EXPECT_FALSE(Req.wait()); // logged, not propagated, no terminate
  Req.infer();
  EXPECT_FALSE(Req.wait());
}

TEST_F(DiamondFixture, DestroyingARunningRequestCancelsIt) {
  writeTestModel(Dir.path(), {"x"}, {"y"}, {"t"},
                 {{"a", "X64:0", "sleep 200 add 1", {"x"}, {"t"}}, {"b", "X64:0", "sleep 2000 add 1", {"t"}, {"y"}}});
  auto Context = makeTestContext(2);
  auto Model = Context.loadModel(Dir.path());
  std::atomic<bool> Called{false};
  auto Start = std::chrono::steady_clock::now();
  {
    auto Req = Model.createRequest();
    Req.setCallback([&](rt::InferRequest &, std::exception_ptr) { Called = true; });
    Req.infer();
    std::this_thread::sleep_for(20ms);
  } // cancels: a stops polling, b never starts
  auto Elapsed = std::chrono::steady_clock::now() - Start;
  EXPECT_LT(Elapsed, 1500ms);
  EXPECT_FALSE(Called.load());
}

TEST_F(DiamondFixture, ModelAndContextMayDieBeforeTheirRequests) {
  writeDiamond(Dir.path(), "sleep 50");
  rt::InferRequest Req;
  {
    auto Context = makeTestContext(2);
    auto Model = Context.loadModel(Dir.path());
    Req = Model.createRequest();
    std::vector<float> X(4 * 33, 1.0f);
    Req.getInputTensor().copyFrom(X.data(), X.size());
    Req.infer();
  } // Context and Model handles gone while running
  EXPECT_FALSE(Req.wait());
  EXPECT_FLOAT_EQ(read(Req.getOutputTensor("y"))[5], 2 * 1.0f + 7.5f);
  rt::Tensor Kept = Req.getOutputTensor("y");
  EXPECT_GT(liveObjects(), 0);
  Req = rt::InferRequest(); // the tensor still keeps memory alive
  EXPECT_FLOAT_EQ(read(Kept)[0], 9.5f);
  Kept = rt::Tensor();
  EXPECT_EQ(liveObjectsAfterRelease(), -1); // everything released and the library closed
}

TEST_F(DiamondFixture, RequestReleasedFromItsOwnCallback) {
  writeDiamond(Dir.path());
  std::promise<void> Done;
  {
    auto Context = makeTestContext(2);
    auto Holder = std::make_shared<rt::InferRequest>(Context.loadModel(Dir.path()).createRequest());
    Holder->setCallback([Holder, &Done](rt::InferRequest &, std::exception_ptr) mutable {
      // Drops the owning handle (and, with it, the last user reference) on the callback thread.
      *Holder = rt::InferRequest();
      Done.set_value();
    });
    Holder->infer();
  }
  ASSERT_EQ(Done.get_future().wait_for(10s), std::future_status::ready);
  // The callback (and its captured Holder) lives in the request: the cycle is broken by the
  // reset above. Give the worker a moment to finish tearing down.
  EXPECT_EQ(liveObjectsAfterRelease(), -1);
}

TEST_F(DiamondFixture, TensorAndHandleErrors) {
  writeDiamond(Dir.path());
  auto Context = makeTestContext(1);
  auto Model = Context.loadModel(Dir.path());
  auto Req = Model.createRequest();
  auto X = Req.getInputTensor("x");
  EXPECT_EQ(X.getName(), "x");
  EXPECT_EQ(X.getShape(), rt::Shape(4, 33));
  EXPECT_EQ(X.getType(), rt::ElementType::F32);
  EXPECT_EQ(X.getTensorSize(), 4u * 33 * 4);
  {
    auto Buffer = X.getBuffer();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(Buffer.data()) % 64, 0u);
    EXPECT_EQ(Buffer.size(), X.getTensorSize());
    Buffer.cast<float>()[3] = 42.0f;
  }
  float Back[4] = {};
  X.copyTo(Back, 4);
  EXPECT_EQ(Back[3], 42.0f);
  std::vector<float> Big(4 * 33 + 1);
  EXPECT_THROW(X.copyFrom(Big.data(), Big.size()), std::out_of_range);
  EXPECT_THROW(X.copyFrom(Big.data(), 1, 4 * 33), std::out_of_range);
  EXPECT_NO_THROW(X.copyFrom(Big.data(), 1, 4 * 33 - 1));
  EXPECT_THROW(X.copyFrom(Big.data(), SIZE_MAX / 2), std::out_of_range);
  EXPECT_THROW(X.copyFrom(static_cast<const void *>(Big.data()), 8, SIZE_MAX - 4), std::out_of_range);
  EXPECT_THROW(X.copyFrom(static_cast<const float *>(nullptr), 1), std::invalid_argument);
  EXPECT_THROW(X.copyTo(static_cast<float *>(nullptr), 1), std::invalid_argument);

  EXPECT_THROW(Req.getInputTensor(1), std::out_of_range);
  EXPECT_THROW(Req.getOutputTensor(2), std::out_of_range);
  EXPECT_THROW(Req.getInputTensor("nope"), std::invalid_argument);
  EXPECT_EQ(Req.getInputTensors().size(), 1u);
  EXPECT_EQ(Req.getOutputTensors().size(), 2u);
  EXPECT_EQ(Model.getOutputIndexByName("z"), 1u);
  EXPECT_EQ(Model.getInputIndexByName("z"), rt::Model::IndexNotFound);
  EXPECT_THROW(Model.getInputTensorInfo(1), std::out_of_range);
  EXPECT_THROW(Model.getOutputTensorInfo("x"), std::invalid_argument);
  EXPECT_EQ(Model.getOutputTensorInfo("z").TensorShape, rt::Shape(4, 33));
  EXPECT_NE(Req.getID(), rt::InferRequest::InvalidRequestID);

  rt::Tensor Empty;
  EXPECT_THROW(Empty.getName(), rt::InvalidOperationException);
  EXPECT_THROW(Empty.copyFrom(Big.data(), 1), rt::InvalidOperationException);
  rt::Model EmptyModel;
  EXPECT_THROW(EmptyModel.createRequest(), rt::InvalidOperationException);
  EXPECT_THROW(EmptyModel.getInputTensorCount(), rt::InvalidOperationException);
  rt::InferRequest EmptyReq;
  EXPECT_THROW(EmptyReq.infer(), rt::InvalidOperationException);
  EXPECT_EQ(EmptyReq.getID(), rt::InferRequest::InvalidRequestID);
  rt::InferRequest Moved = std::move(Req);
  EXPECT_THROW(Req.infer(), rt::InvalidOperationException); // NOLINT: use after move is the point
  Moved.infer();
  EXPECT_FALSE(Moved.wait());
}
