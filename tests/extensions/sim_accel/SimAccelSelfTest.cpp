// Tests of the simulated accelerator on its own, driven through the C ABI by a minimal host (no
// runtime core), so a failure in the accelerator tests can be told apart from a core bug.
#include "SimAccelProbe.h"
#include "TestModels.h"

#include <OptimaV2/Extension/Extension.h>

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace optima_v2::test {
namespace {

void serialParallelFor(void *, size_t Count, size_t, OptimaParallelFn Fn, void *UserData) {
  if (Count)
    Fn(UserData, 0, Count);
}
uint32_t oneThread(void *) { return 1; }
void collectLog(void *Ctx, int32_t, const char *Message) {
  static_cast<std::vector<std::string> *>(Ctx)->push_back(Message);
}

struct Events {
  std::vector<std::string> Layers;
  bool Cancel = false;
};
void recordEvent(void *Sink, int32_t Kind, const char *Name, uint64_t) {
  if (Kind == OPTIMA_PROFILE_LAYER_EXECUTE)
    static_cast<Events *>(Sink)->Layers.push_back(Name);
}
int32_t cancelled(void *Sink) { return static_cast<Events *>(Sink)->Cancel; }

OptimaExtTensorDesc desc(const char *Name, std::vector<uint32_t> Dims) {
  OptimaExtTensorDesc D{};
  D.StructSize = sizeof(D);
  D.Name = Name;
  D.ElementType = OPTIMA_ELEMENT_F32;
  D.Rank = static_cast<uint32_t>(Dims.size());
  for (size_t I = 0; I < Dims.size(); ++I)
    D.Dims[I] = Dims[I];
  return D;
}

// A minimal host: one extension instance, errors as strings.
class MiniHost : public ::testing::Test {
protected:
  void SetUp() override {
    Handle = dlopen(simAccelPath().c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(Handle, nullptr) << dlerror();
    auto Init = reinterpret_cast<OptimaExtInitFn>(dlsym(Handle, OPTIMA_EXT_ENTRY_POINT));
    ASSERT_NE(Init, nullptr);
    Host.StructSize = sizeof(Host);
    Host.AbiVersion = OPTIMA_EXT_ABI_VERSION;
    Host.HostContext = &Log;
    Host.log = collectLog;
    Host.parallelFor = serialParallelFor;
    Host.getThreadCount = oneThread;
    ASSERT_EQ(Init(&Host, OPTIMA_EXT_ABI_VERSION, &T, err()), OPTIMA_STATUS_OK) << Error.Message;
    Start = simAccelLive();
  }
  void TearDown() override {
    if (T)
      T->release(T->Self);
    SimAccelLive L = simAccelLive();
    EXPECT_EQ(L.Buffers, 0u);
    EXPECT_EQ(L.Subgraphs, 0u);
    EXPECT_EQ(L.States, 0u);
    EXPECT_EQ(L.Extensions, 0u);
    if (Handle)
      dlclose(Handle);
  }
  OptimaExtError *err() {
    Error.StructSize = sizeof(Error);
    Error.Message[0] = '\0';
    return &Error;
  }
  OptimaExtBuffer *alloc(size_t Bytes) {
    OptimaExtBuffer *B = nullptr;
    EXPECT_EQ(T->allocBuffer(T->Self, 0, Bytes, &B, err()), OPTIMA_STATUS_OK) << Error.Message;
    return B;
  }
  void upload(OptimaExtBuffer *B, const std::vector<float> &Data) {
    void *P = nullptr;
    ASSERT_EQ(T->mapBuffer(T->Self, B, OPTIMA_EXT_MAP_WRITE, &P, err()), OPTIMA_STATUS_OK) << Error.Message;
    std::memcpy(P, Data.data(), Data.size() * sizeof(float));
    ASSERT_EQ(T->unmapBuffer(T->Self, B, err()), OPTIMA_STATUS_OK) << Error.Message;
  }
  std::vector<float> download(OptimaExtBuffer *B, size_t Count) {
    void *P = nullptr;
    std::vector<float> Out(Count);
    EXPECT_EQ(T->mapBuffer(T->Self, B, OPTIMA_EXT_MAP_READ, &P, err()), OPTIMA_STATUS_OK) << Error.Message;
    if (P)
      std::memcpy(Out.data(), P, Count * sizeof(float));
    EXPECT_EQ(T->unmapBuffer(T->Self, B, err()), OPTIMA_STATUS_OK) << Error.Message;
    return Out;
  }
  // Loads Subgraph_0 of the sample model written to Dir.
  OptimaStatus loadSample(const std::filesystem::path &Dir, OptimaExtSubgraph **S) {
    OptimaExtTensorDesc In[] = {desc("input_1", {1, 3, 32, 32}), desc("input_2", {1, 1, 32, 32})};
    OptimaExtTensorDesc Out[] = {desc("output_1", {1, 1, 32, 32})};
    return T->loadSubgraph(T->Self, 0, (Dir / "Subgraph_0").c_str(), In, 2, Out, 1, S, err());
  }
  OptimaExecContext exec(Events &E) {
    OptimaExecContext C{};
    C.StructSize = sizeof(C);
    C.Sink = &E;
    C.ProfilingEnabled = 1;
    C.profileEvent = recordEvent;
    C.isCancelled = cancelled;
    return C;
  }

  void *Handle = nullptr;
  OptimaHostApi Host{};
  OptimaExtension *T = nullptr;
  OptimaExtError Error{};
  std::vector<std::string> Log;
  SimAccelLive Start;
};

TEST_F(MiniHost, DescribesOneNonHostDevice) {
  EXPECT_EQ(std::string(T->Framework), "OpenCL");
  EXPECT_EQ(std::string(T->Name), "sim_accel");
  ASSERT_EQ(T->getDeviceCount(T->Self), 1u);
  OptimaExtDeviceDesc D{};
  D.StructSize = sizeof(D);
  ASSERT_EQ(T->getDevice(T->Self, 0, &D, err()), OPTIMA_STATUS_OK);
  EXPECT_EQ(D.Kind, OPTIMA_DEVICE_NVIDIA);
  EXPECT_EQ(D.Index, 0u);
  EXPECT_EQ(std::string(D.Name), "SimAccel (test)");
  EXPECT_EQ(D.Flags & OPTIMA_EXT_DEVICE_HOST_MEMORY, 0u);
  EXPECT_EQ(D.Alignment, 256u);
  EXPECT_EQ(T->getDevice(T->Self, 1, &D, err()), OPTIMA_STATUS_INVALID_ARGUMENT);
}

TEST_F(MiniHost, MemoryIsOnlyReachableThroughMapAndUnmap) {
  OptimaExtBuffer *B = alloc(64 * sizeof(float));
  EXPECT_EQ(simAccelLive().Buffers, 1u);
  auto Fresh = download(B, 64);
  EXPECT_TRUE(std::isnan(Fresh[0])) << "new device memory is poisoned";

  auto Data = randomFloats(64, 1);
  upload(B, Data);
  EXPECT_EQ(download(B, 64), Data);

  // Writes through a READ mapping never reach the device.
  void *P = nullptr;
  ASSERT_EQ(T->mapBuffer(T->Self, B, OPTIMA_EXT_MAP_READ, &P, err()), OPTIMA_STATUS_OK);
  static_cast<float *>(P)[0] = 12345.0f;
  void *Again = nullptr;
  EXPECT_EQ(T->mapBuffer(T->Self, B, OPTIMA_EXT_MAP_READ, &Again, err()), OPTIMA_STATUS_INVALID_ARGUMENT)
      << "double map must be refused";
  ASSERT_EQ(T->unmapBuffer(T->Self, B, err()), OPTIMA_STATUS_OK);
  EXPECT_EQ(download(B, 64), Data);
  EXPECT_EQ(T->unmapBuffer(T->Self, B, err()), OPTIMA_STATUS_INVALID_ARGUMENT) << "not mapped";
  EXPECT_EQ(T->mapBuffer(T->Self, B, 0, &P, err()), OPTIMA_STATUS_INVALID_ARGUMENT);

  OptimaExtBuffer *Huge = nullptr;
  EXPECT_EQ(T->allocBuffer(T->Self, 0, size_t(1) << 40, &Huge, err()), OPTIMA_STATUS_OUT_OF_RESOURCE);
  EXPECT_EQ(Huge, nullptr);
  EXPECT_EQ(T->allocBuffer(T->Self, 1, 16, &Huge, err()), OPTIMA_STATUS_INVALID_ARGUMENT);
  T->freeBuffer(T->Self, B);
  T->freeBuffer(T->Self, nullptr);
  EXPECT_EQ(simAccelLive().Buffers, 0u);
}

class MiniHostModel : public MiniHost {
protected:
  void SetUp() override {
    MiniHost::SetUp();
    writeSampleModel(Dir.path(), "OpenCL", "NVIDIA:0");
  }
  // Creates state and buffers, runs once, frees everything; returns execute's status.
  OptimaStatus runSample(OptimaExtSubgraph *S, Events &E, std::vector<float> *Output = nullptr,
                         bool LeaveMapped = false) {
    OptimaExtRequestState *State = nullptr;
    OptimaStatus St = T->createRequestState(T->Self, S, &State, err());
    if (St != OPTIMA_STATUS_OK)
      return St;
    OptimaExtBuffer *In1 = alloc(3 * 32 * 32 * 4), *In2 = alloc(32 * 32 * 4), *Out = alloc(32 * 32 * 4);
    // Frees everything even when execute() throws (the "throw" fault).
    struct Cleanup {
      OptimaExtension *T;
      OptimaExtRequestState *State;
      std::vector<OptimaExtBuffer *> Buffers;
      ~Cleanup() {
        for (auto *B : Buffers)
          T->freeBuffer(T->Self, B);
        T->destroyRequestState(T->Self, State);
      }
    } Guard{T, State, {In1, In2, Out}};
    auto X1 = randomFloats(3 * 32 * 32, 3), X2 = randomFloats(32 * 32, 4);
    upload(In1, X1);
    upload(In2, X2);
    void *Mapped = nullptr;
    if (LeaveMapped)
      T->mapBuffer(T->Self, In2, OPTIMA_EXT_MAP_READ, &Mapped, err());
    void *Ins[] = {In1, In2};
    void *Outs[] = {Out};
    OptimaExecContext C = exec(E);
    St = T->execute(T->Self, State, Ins, Outs, &C, err());
    if (LeaveMapped)
      T->unmapBuffer(T->Self, In2, nullptr);
    if (St == OPTIMA_STATUS_OK) {
      auto Y = download(Out, 32 * 32);
      EXPECT_EQ(Y.size(), referenceSampleModel(X1, X2).size());
      auto Ref = referenceSampleModel(X1, X2);
      for (size_t I = 0; I < Y.size(); ++I)
        EXPECT_NEAR(Y[I], Ref[I], 1e-4) << I;
      if (Output)
        *Output = Y;
    }
    return St;
  }
  TempDir Dir;
};

TEST_F(MiniHostModel, ExecutesTheNativeGraphOnDeviceBuffers) {
  OptimaExtSubgraph *S = nullptr;
  ASSERT_EQ(loadSample(Dir.path(), &S), OPTIMA_STATUS_OK) << Error.Message;
  Events E;
  EXPECT_EQ(runSample(S, E), OPTIMA_STATUS_OK) << Error.Message;
  EXPECT_EQ(E.Layers, (std::vector<std::string>{"conv2d_1", "add_1"}));
  Events E2;
  EXPECT_EQ(runSample(S, E2, nullptr, /*LeaveMapped=*/true), OPTIMA_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(Error.Message).find("mapped"), std::string::npos) << Error.Message;
  T->unloadSubgraph(T->Self, S);
}

TEST_F(MiniHostModel, WrongDeclarationsAreRefusedByTheNativeLoader) {
  OptimaExtTensorDesc In[] = {desc("input_1", {1, 3, 32, 32}), desc("input_2", {1, 1, 32, 31})};
  OptimaExtTensorDesc Out[] = {desc("output_1", {1, 1, 32, 32})};
  OptimaExtSubgraph *S = nullptr;
  EXPECT_EQ(T->loadSubgraph(T->Self, 0, (Dir.path() / "Subgraph_0").c_str(), In, 2, Out, 1, &S, err()),
            OPTIMA_STATUS_INVALID_MODEL);
  EXPECT_EQ(S, nullptr);
}

TEST_F(MiniHostModel, FaultPlansFireOnTheCountedCall) {
  OptimaExtSubgraph *S = nullptr;
  writeFaultPlan(Dir.path() / "Subgraph_0", R"({"fail_at":"load","after":1,"status":3})");
  ASSERT_EQ(loadSample(Dir.path(), &S), OPTIMA_STATUS_OK);
  T->unloadSubgraph(T->Self, S);
  S = nullptr;
  EXPECT_EQ(loadSample(Dir.path(), &S), OPTIMA_STATUS_UNSUPPORTED);
  EXPECT_STREQ(Error.Message, "sim_accel: injected failure at load (call 2)");
  EXPECT_EQ(S, nullptr);
  ASSERT_EQ(loadSample(Dir.path(), &S), OPTIMA_STATUS_OK);
  T->unloadSubgraph(T->Self, S);

  writeFaultPlan(Dir.path() / "Subgraph_0", R"({"fail_at":"execute","repeat":true,"after":1})");
  ASSERT_EQ(loadSample(Dir.path(), &S), OPTIMA_STATUS_OK);
  Events E;
  EXPECT_EQ(runSample(S, E), OPTIMA_STATUS_OK);
  EXPECT_EQ(runSample(S, E), OPTIMA_STATUS_EXECUTION_FAILED);
  EXPECT_EQ(runSample(S, E), OPTIMA_STATUS_EXECUTION_FAILED);
  T->unloadSubgraph(T->Self, S);

  writeFaultPlan(Dir.path() / "Subgraph_0", R"({"fail_at":"execute","throw":true})");
  ASSERT_EQ(loadSample(Dir.path(), &S), OPTIMA_STATUS_OK);
  EXPECT_THROW(runSample(S, E), std::runtime_error);
  T->unloadSubgraph(T->Self, S);

  writeFaultPlan(Dir.path() / "Subgraph_0", R"({"fail_at":"alloc","after":1})");
  ASSERT_EQ(loadSample(Dir.path(), &S), OPTIMA_STATUS_OK);
  OptimaExtBuffer *B1 = nullptr, *B2 = nullptr;
  EXPECT_EQ(T->allocBuffer(T->Self, 0, 4, &B1, err()), OPTIMA_STATUS_OK);
  EXPECT_EQ(T->allocBuffer(T->Self, 0, 4, &B2, err()), OPTIMA_STATUS_OUT_OF_RESOURCE);
  EXPECT_EQ(B2, nullptr);
  T->freeBuffer(T->Self, B1);
  T->unloadSubgraph(T->Self, S);
  EXPECT_EQ(T->allocBuffer(T->Self, 0, 4, &B2, err()), OPTIMA_STATUS_OK) << "fault disarmed by unload";
  T->freeBuffer(T->Self, B2);

  writeFaultPlan(Dir.path() / "Subgraph_0", R"({"fail_at":"nonsense"})");
  EXPECT_EQ(loadSample(Dir.path(), &S), OPTIMA_STATUS_INVALID_MODEL);
  EXPECT_NE(std::string(Error.Message).find("fail_at"), std::string::npos) << Error.Message;
  writeFaultPlan(Dir.path() / "Subgraph_0", R"({"fial_at":"load"})");
  EXPECT_EQ(loadSample(Dir.path(), &S), OPTIMA_STATUS_INVALID_MODEL);
}

TEST_F(MiniHostModel, StallPollsCancellation) {
  writeFaultPlan(Dir.path() / "Subgraph_0", R"({"stall_ms":5000})");
  OptimaExtSubgraph *S = nullptr;
  ASSERT_EQ(loadSample(Dir.path(), &S), OPTIMA_STATUS_OK);
  Events E;
  E.Cancel = true;
  auto Begin = std::chrono::steady_clock::now();
  EXPECT_EQ(runSample(S, E), OPTIMA_STATUS_CANCELLED);
  EXPECT_LT(std::chrono::steady_clock::now() - Begin, std::chrono::seconds(1));
  T->unloadSubgraph(T->Self, S);
}

} // namespace
} // namespace optima_v2::test
