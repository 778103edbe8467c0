// The built `native` module through its C ABI only: dlopen, optimaV2ExtensionInit with a fake
// host, load a Conv+Add folder written here, execute, compare with a reference computed here.
#include "NativeTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <dlfcn.h>

using namespace native_test;

namespace {

void serialParallelFor(void *, size_t Count, size_t, OptimaParallelFn Fn, void *User) {
  if (Count)
    Fn(User, 0, Count);
}
uint32_t oneThread(void *) { return 1; }
void logNothing(void *, int32_t, const char *) {}

struct Events {
  std::vector<std::string> Names;
  bool Cancel = false;
};
void onProfile(void *S, int32_t Kind, const char *Name, uint64_t) {
  if (Kind == OPTIMA_PROFILE_LAYER_EXECUTE)
    static_cast<Events *>(S)->Names.push_back(Name);
}
int32_t onCancel(void *S) { return static_cast<Events *>(S)->Cancel; }

class NativeModule : public ::testing::Test {
protected:
  void SetUp() override {
    std::string Path = std::string(OPTIMA_V2_TEST_EXTENSION_DIR) + "/liboptima_v2_native.so";
    Lib = ::dlopen(Path.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(Lib, nullptr) << ::dlerror();
    Init = reinterpret_cast<OptimaExtInitFn>(::dlsym(Lib, OPTIMA_EXT_ENTRY_POINT));
    ASSERT_NE(Init, nullptr);
    Host.StructSize = sizeof Host;
    Host.AbiVersion = OPTIMA_EXT_ABI_VERSION;
    Host.log = logNothing;
    Host.parallelFor = serialParallelFor;
    Host.getThreadCount = oneThread;
  }
  void TearDown() override {
    if (Ext)
      Ext->release(Ext->Self);
    if (Lib)
      ::dlclose(Lib);
  }
  void init() {
    Err.StructSize = sizeof Err;
    ASSERT_EQ(Init(&Host, OPTIMA_EXT_ABI_VERSION, &Ext, &Err), OPTIMA_STATUS_OK) << Err.Message;
  }

  void *Lib = nullptr;
  OptimaExtInitFn Init = nullptr;
  OptimaHostApi Host{};
  OptimaExtension *Ext = nullptr;
  OptimaExtError Err{};
};

} // namespace

TEST_F(NativeModule, ExportsOnlyTheEntryPoint) {
  EXPECT_EQ(::dlsym(Lib, "_ZN9optima_v26native11NativeGraph4loadERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEPK19OptimaExtTensorDescjS9_j"), nullptr);
}

TEST_F(NativeModule, InitChecksHost) {
  OptimaExtError E{sizeof(OptimaExtError), {}};
  OptimaExtension *Out = nullptr;
  EXPECT_EQ(Init(&Host, OPTIMA_EXT_ABI_VERSION + 1, &Out, &E), OPTIMA_STATUS_UNSUPPORTED);
  EXPECT_NE(std::string(E.Message).find("host ABI version 2"), std::string::npos) << E.Message;
  EXPECT_EQ(Out, nullptr);
  OptimaHostApi Small = Host;
  Small.StructSize = 8;
  EXPECT_EQ(Init(&Small, OPTIMA_EXT_ABI_VERSION, &Out, &E), OPTIMA_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(Init(nullptr, OPTIMA_EXT_ABI_VERSION, &Out, &E), OPTIMA_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(Out, nullptr);
}

TEST_F(NativeModule, DescribesItselfAndItsDevice) {
  init();
  EXPECT_STREQ(Ext->Name, "native");
  EXPECT_STREQ(Ext->Framework, "Native");
  EXPECT_STREQ(Ext->Version, "0.1.0");
  EXPECT_EQ(Ext->AbiVersion, OPTIMA_EXT_ABI_VERSION);
  EXPECT_EQ(Ext->StructSize, sizeof(OptimaExtension));
  ASSERT_EQ(Ext->getDeviceCount(Ext->Self), 1u);
  OptimaExtDeviceDesc D{};
  ASSERT_EQ(Ext->getDevice(Ext->Self, 0, &D, &Err), OPTIMA_STATUS_OK);
#if defined(__aarch64__)
  EXPECT_EQ(D.Kind, OPTIMA_DEVICE_ARM64);
#else
  EXPECT_EQ(D.Kind, OPTIMA_DEVICE_X64);
#endif
  EXPECT_EQ(D.Index, 0u);
  EXPECT_EQ(D.Flags & OPTIMA_EXT_DEVICE_HOST_MEMORY, OPTIMA_EXT_DEVICE_HOST_MEMORY);
  EXPECT_EQ(D.Alignment, 64u);
  EXPECT_NE(std::string(D.Name).find("1 thread)"), std::string::npos) << D.Name;
  OptimaExtDeviceDesc Untouched{};
  EXPECT_EQ(Ext->getDevice(Ext->Self, 1, &Untouched, &Err), OPTIMA_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(Untouched.Name, nullptr);
}

TEST_F(NativeModule, LoadsAndRunsConvAdd) {
  init();
  // y = Conv(x, w, b; pads 1) + z, with z a second model input.
  Shape XS{1, 2, 5, 4}, WS{3, 2, 3, 3}, YS{1, 3, 5, 4};
  std::vector<float> W = randomFloats(elementCount(WS), 41), B = randomFloats(3, 42);
  std::vector<float> X = randomFloats(elementCount(XS), 43), Z = randomFloats(elementCount(YS), 44);
  GraphSpec G;
  G.tensor("x", XS).tensor("z", YS).constantF32("w", WS, W).constantF32("b", {3}, B);
  G.tensor("c", YS).tensor("y", YS).input("x").input("z").output("y");
  G.node("conv", "Conv", {"x", "w", "b"}, {"c"}, {attrInts("pads", {1, 1, 1, 1})});
  G.node("add", "Add", {"c", "z"}, {"y"});
  TempDir Dir;
  G.write(Dir);
  auto In = G.inputDescs(), Out = G.outputDescs();
  OptimaExtSubgraph *Sub = nullptr;
  ASSERT_EQ(Ext->loadSubgraph(Ext->Self, 0, Dir.path().c_str(), In.data(), 2, Out.data(), 1, &Sub, &Err),
            OPTIMA_STATUS_OK)
      << Err.Message;
  OptimaExtRequestState *State = nullptr;
  ASSERT_EQ(Ext->createRequestState(Ext->Self, Sub, &State, &Err), OPTIMA_STATUS_OK) << Err.Message;

  std::vector<float> Y(elementCount(YS), NAN);
  void *Ins[] = {X.data(), Z.data()};
  void *Outs[] = {Y.data()};
  Events Ev;
  OptimaExecContext Exec{sizeof(OptimaExecContext), &Ev, 1, onProfile, onCancel};
  ASSERT_EQ(Ext->execute(Ext->Self, State, Ins, Outs, &Exec, &Err), OPTIMA_STATUS_OK) << Err.Message;
  EXPECT_EQ(Ev.Names, (std::vector<std::string>{"conv", "add"}));
  for (int64_t M = 0; M < 3; ++M)
    for (int64_t H = 0; H < 5; ++H)
      for (int64_t Wd = 0; Wd < 4; ++Wd) {
        double S = B[size_t(M)];
        for (int64_t C = 0; C < 2; ++C)
          for (int64_t KH = 0; KH < 3; ++KH)
            for (int64_t KW = 0; KW < 3; ++KW) {
              int64_t IH = H - 1 + KH, IW = Wd - 1 + KW;
              if (IH < 0 || IH >= 5 || IW < 0 || IW >= 4)
                continue;
              S += double(X[size_t((C * 5 + IH) * 4 + IW)]) * W[size_t(((M * 2 + C) * 3 + KH) * 3 + KW)];
            }
        size_t I = size_t((M * 5 + H) * 4 + Wd);
        ASSERT_NEAR(Y[I], S + Z[I], 1e-4) << "at " << I;
      }

  Ev.Cancel = true;
  EXPECT_EQ(Ext->execute(Ext->Self, State, Ins, Outs, &Exec, &Err), OPTIMA_STATUS_CANCELLED);
  void *NullIns[] = {nullptr, Z.data()};
  EXPECT_EQ(Ext->execute(Ext->Self, State, NullIns, Outs, nullptr, &Err), OPTIMA_STATUS_INVALID_ARGUMENT);
  EXPECT_NE(std::string(Err.Message).find("input 0 is null"), std::string::npos) << Err.Message;
  EXPECT_EQ(Ext->execute(Ext->Self, nullptr, Ins, Outs, nullptr, &Err), OPTIMA_STATUS_INVALID_ARGUMENT);

  Ext->destroyRequestState(Ext->Self, State);
  Ext->unloadSubgraph(Ext->Self, Sub);
  Ext->destroyRequestState(Ext->Self, nullptr); // NULL is accepted
  Ext->unloadSubgraph(Ext->Self, nullptr);
}

TEST_F(NativeModule, LoadErrorsComeBackAsStatusAndMessage) {
  init();
  GraphSpec G;
  G.tensor("x", {2}).tensor("y", {2}).input("x").output("y").node("n1", "Foo", {"x"}, {"y"});
  TempDir Dir;
  G.write(Dir);
  auto In = G.inputDescs(), Out = G.outputDescs();
  OptimaExtSubgraph *Sub = nullptr;
  EXPECT_EQ(Ext->loadSubgraph(Ext->Self, 0, Dir.path().c_str(), In.data(), 1, Out.data(), 1, &Sub, &Err),
            OPTIMA_STATUS_UNSUPPORTED);
  EXPECT_NE(std::string(Err.Message).find("node \"n1\" (op Foo)"), std::string::npos) << Err.Message;
  EXPECT_EQ(Sub, nullptr);
  Dir.writeFile("graph.json", "{");
  EXPECT_EQ(Ext->loadSubgraph(Ext->Self, 0, Dir.path().c_str(), In.data(), 1, Out.data(), 1, &Sub, &Err),
            OPTIMA_STATUS_INVALID_MODEL);
  EXPECT_NE(std::string(Err.Message).find("graph.json: line 1, column 2"), std::string::npos) << Err.Message;
  EXPECT_EQ(Ext->loadSubgraph(Ext->Self, 3, Dir.path().c_str(), In.data(), 1, Out.data(), 1, &Sub, &Err),
            OPTIMA_STATUS_INVALID_ARGUMENT);
  EXPECT_EQ(Ext->loadSubgraph(Ext->Self, 0, nullptr, In.data(), 1, Out.data(), 1, &Sub, &Err),
            OPTIMA_STATUS_INVALID_ARGUMENT);
}

TEST_F(NativeModule, HostBuffersWork) {
  init();
  OptimaExtBuffer *Buf = nullptr;
  ASSERT_EQ(Ext->allocBuffer(Ext->Self, 0, 100, &Buf, &Err), OPTIMA_STATUS_OK);
  void *P = nullptr;
  ASSERT_EQ(Ext->mapBuffer(Ext->Self, Buf, OPTIMA_EXT_MAP_WRITE, &P, &Err), OPTIMA_STATUS_OK);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(P) % 64, 0u);
  std::memset(P, 7, 100);
  EXPECT_EQ(Ext->unmapBuffer(Ext->Self, Buf, &Err), OPTIMA_STATUS_OK);
  Ext->freeBuffer(Ext->Self, Buf);
  Ext->freeBuffer(Ext->Self, nullptr);
}
