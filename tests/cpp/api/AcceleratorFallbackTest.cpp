// Fallback: a subgraph whose device is not available is refused without Fallback, and runs on the
// native CPU device with Fallback = true (reported as FellBack), with the reference output.
#include "SimAccelTesting.h"
#include "TestModels.h"

#include <cctype>

namespace optima_v2::test {
namespace {

using AcceleratorFallbackTest = SimAccelTest;

std::string lower(std::string S) {
  for (char &C : S)
    C = static_cast<char>(std::tolower(static_cast<unsigned char>(C)));
  return S;
}

void expectRunsLikeReference(rt::Model &Model) {
  rt::InferRequest Req = Model.createRequest();
  auto In1 = randomFloats(3 * 32 * 32, 31), In2 = randomFloats(32 * 32, 32);
  setInput(Req, 0, In1);
  setInput(Req, 1, In2);
  Req.infer();
  EXPECT_FALSE(Req.wait());
  EXPECT_TRUE(allClose(getOutput(Req), referenceSampleModel(In1, In2), 1e-4f, 1e-4f));
}

void expectFellBackToNative(const rt::Model &Model) {
  auto Info = Model.getSubgraphInfo();
  ASSERT_EQ(Info.size(), 1u);
  EXPECT_TRUE(Info[0].FellBack);
  EXPECT_EQ(Info[0].Framework, rt::FrameworkKind::Native);
  EXPECT_EQ(Info[0].Device, HostDeviceKind);
  EXPECT_EQ(Info[0].DeviceIndex, 0u);
}

// Device requested in model.meta, whether the accelerator is loaded, and what the refusal
// must name (the framework no extension provides, or the device the extension lacks).
struct Case {
  const char *Device;
  bool LoadAccelerator;
  const char *Missing;
};

class AcceleratorFallback : public SimAccelTest, public ::testing::WithParamInterface<Case> {};

TEST_P(AcceleratorFallback, RefusedWithoutFallback) {
  TempDir Dir;
  writeSampleModel(Dir.path(), AccelFramework, GetParam().Device);
  rt::Context Ctx = GetParam().LoadAccelerator ? makeAccelContext() : makeNativeContext();
  try {
    Ctx.loadModel(Dir.path());
    FAIL() << "loaded a model needing " << GetParam().Device << " that is not available";
  } catch (const rt::UnsupportedModelException &E) {
    // The message must say what is missing.
    EXPECT_TRUE(containsText(lower(E.what()), lower(GetParam().Missing))) << E.what();
  }
  EXPECT_EQ(simAccelLive().Subgraphs, 0u);
}

TEST_P(AcceleratorFallback, RunsOnNativeWithFallback) {
  TempDir Dir;
  writeSampleModel(Dir.path(), AccelFramework, GetParam().Device);
  rt::Context Ctx = GetParam().LoadAccelerator ? makeAccelContext() : makeNativeContext();
  rt::Model Model = Ctx.loadModel(Dir.path(), /*Fallback=*/true);
  expectFellBackToNative(Model);
  expectRunsLikeReference(Model);
  EXPECT_EQ(simAccelLive().Subgraphs, 0u) << "nothing may run on the accelerator";
}

INSTANTIATE_TEST_SUITE_P(Devices, AcceleratorFallback,
                         ::testing::Values(Case{"NVIDIA:0", false, "OpenCL"},
                                           Case{"NVIDIA:3", true, "NVIDIA:3"}),
                         [](const ::testing::TestParamInfo<Case> &I) {
                           return std::string(I.param.LoadAccelerator ? "Index3WithAccelerator"
                                                                      : "AcceleratorNotLoaded");
                         });

TEST_F(AcceleratorFallbackTest, AvailableDeviceDoesNotFallBack) {
  TempDir Dir;
  writeSampleModel(Dir.path(), AccelFramework, AccelDevice);
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path(), /*Fallback=*/true);
  auto Info = Model.getSubgraphInfo();
  ASSERT_EQ(Info.size(), 1u);
  EXPECT_FALSE(Info[0].FellBack);
  EXPECT_EQ(Info[0].Device, rt::DeviceKind::NVIDIA);
  expectRunsLikeReference(Model);
}

TEST_F(AcceleratorFallbackTest, OnlyTheMissingSubgraphFallsBackInASplitModel) {
  TempDir Dir;
  writeChainModel(Dir.path(), {{"Native", HostDevice}, {AccelFramework, "NVIDIA:3"},
                               {AccelFramework, AccelDevice}});
  rt::Context Ctx = makeAccelContext();
  EXPECT_THROW(Ctx.loadModel(Dir.path()), rt::UnsupportedModelException);
  rt::Model Model = Ctx.loadModel(Dir.path(), true);
  auto Info = Model.getSubgraphInfo();
  ASSERT_EQ(Info.size(), 3u);
  EXPECT_FALSE(Info[0].FellBack);
  EXPECT_TRUE(Info[1].FellBack);
  EXPECT_EQ(Info[1].Device, HostDeviceKind);
  EXPECT_FALSE(Info[2].FellBack);
  EXPECT_EQ(Info[2].Device, rt::DeviceKind::NVIDIA);

  rt::InferRequest Req = Model.createRequest();
  auto X = randomFloats(4 * 8 * 8, 41);
  setInput(Req, 0, X);
  Req.infer();
  EXPECT_FALSE(Req.wait());
  EXPECT_TRUE(allClose(getOutput(Req), referenceChainModel(X, 3), 1e-4f, 1e-4f));
}

} // namespace
} // namespace optima_v2::test
