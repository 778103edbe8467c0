// The simulated accelerator as a device: discovery, whole models on it, per-request device memory,
// and extensions the registry must refuse. Outputs are checked against the naive references.
#include "SimAccelTesting.h"
#include "TestModels.h"

#include <OptimaV2/Extension/Extension.h>

#include <cstddef>
#include <fstream>

namespace optima_v2::test {
namespace {

using AcceleratorDeviceTest = SimAccelTest;

const rt::DeviceInfo *findDevice(const std::vector<rt::DeviceInfo> &Devices, rt::DeviceKind Kind,
                                 uint32_t Index) {
  for (const auto &D : Devices)
    if (D.Kind == Kind && D.Index == Index)
      return &D;
  return nullptr;
}

TEST_F(AcceleratorDeviceTest, ListsNativeDeviceAndAcceleratorAfterLoadExtension) {
  rt::Context Ctx = makeNativeContext();
  auto Devices = Ctx.getAvailableDevices();
  const rt::DeviceInfo *Host = findDevice(Devices, HostDeviceKind, 0);
  ASSERT_NE(Host, nullptr) << "the native CPU device is missing";
  EXPECT_EQ(Host->Framework, rt::FrameworkKind::Native);
  EXPECT_EQ(findDevice(Devices, rt::DeviceKind::NVIDIA, 0), nullptr)
      << "the accelerator must not be found without loadExtension";

  Ctx.loadExtension(simAccelPath());
  Devices = Ctx.getAvailableDevices();
  ASSERT_NE(findDevice(Devices, HostDeviceKind, 0), nullptr);
  const rt::DeviceInfo *Accel = findDevice(Devices, rt::DeviceKind::NVIDIA, 0);
  ASSERT_NE(Accel, nullptr);
  EXPECT_EQ(Accel->Framework, rt::FrameworkKind::OpenCL);
  EXPECT_EQ(Accel->Name, "SimAccel (test)");
  EXPECT_EQ(Accel->ID, "sim-accel-0");
  EXPECT_TRUE(rt::isDeviceGPU(Accel->Kind));

  bool Listed = false;
  for (const auto &E : Ctx.getLoadedExtensions())
    Listed |= containsText(E, "sim_accel");
  EXPECT_TRUE(Listed) << "getLoadedExtensions() does not name sim_accel";
}

TEST_F(AcceleratorDeviceTest, ExtensionPathEnvironmentVariableLoadsIt) {
  setenv("OPTIMA_V2_EXTENSION_PATH", simAccelPath().c_str(), 1);
  {
    rt::Context Ctx{rt::ContextOptions()};
    unsetenv("OPTIMA_V2_EXTENSION_PATH");
    EXPECT_NE(findDevice(Ctx.getAvailableDevices(), rt::DeviceKind::NVIDIA, 0), nullptr);
    EXPECT_NE(findDevice(Ctx.getAvailableDevices(), HostDeviceKind, 0), nullptr);
  }
  unsetenv("OPTIMA_V2_EXTENSION_PATH");
}

TEST_F(AcceleratorDeviceTest, SampleModelOnAcceleratorMatchesReference) {
  TempDir Dir;
  writeSampleModel(Dir.path(), AccelFramework, AccelDevice);
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path());

  auto Info = Model.getSubgraphInfo();
  ASSERT_EQ(Info.size(), 1u);
  EXPECT_EQ(Info[0].Framework, rt::FrameworkKind::OpenCL);
  EXPECT_EQ(Info[0].Device, rt::DeviceKind::NVIDIA);
  EXPECT_EQ(Info[0].DeviceIndex, 0u);
  EXPECT_EQ(Info[0].DeviceName, "SimAccel (test)");
  EXPECT_FALSE(Info[0].FellBack);

  rt::InferRequest Req = Model.createRequest();
  // Two rounds on one request: the second must upload fresh inputs, not reuse stale device data.
  for (uint32_t Round = 0; Round < 2; ++Round) {
    auto In1 = randomFloats(3 * 32 * 32, 10 + Round), In2 = randomFloats(32 * 32, 20 + Round);
    {
      // One input through copyFrom, the other through the BufferHolder the guide shows.
      setInput(Req, 0, In1);
      rt::Tensor T = Req.getInputTensor("input_2");
      auto Buffer = T.getBuffer();
      ASSERT_EQ(Buffer.size(), In2.size() * sizeof(float));
      std::copy(In2.begin(), In2.end(), Buffer.cast<float>());
    }
    Req.infer();
    EXPECT_FALSE(Req.wait());
    EXPECT_TRUE(allClose(getOutput(Req), referenceSampleModel(In1, In2), 1e-4f, 1e-4f))
        << "round " << Round;

    auto Profile = Req.getProfileData();
    EXPECT_EQ(countKind(Profile, rt::ProfileKind::TransferFromInput), 2u) << "one per model input";
    EXPECT_EQ(countKind(Profile, rt::ProfileKind::TransferToOutput), 1u) << "one per model output";
    EXPECT_EQ(countKind(Profile, rt::ProfileKind::LayerExecute), 2u) << "conv2d_1 and add_1";
    EXPECT_EQ(countKind(Profile, rt::ProfileKind::BufferCopy), 0u) << "one subgraph: no copies";
  }
}

TEST_F(AcceleratorDeviceTest, DeviceBuffersLiveWithRequestsAndAreFreedWithThem) {
  TempDir Dir;
  writeSampleModel(Dir.path(), AccelFramework, AccelDevice);
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path());
  const uint64_t Base = simAccelLive().Buffers;
  {
    rt::InferRequest A = Model.createRequest();
    uint64_t PerRequest = simAccelLive().Buffers - Base;
    // input_1, input_2 and output_1 live on the device: at least one buffer each.
    EXPECT_GE(PerRequest, 3u);
    rt::InferRequest B = Model.createRequest();
    EXPECT_EQ(simAccelLive().Buffers - Base, 2 * PerRequest) << "each request owns its buffers";
    EXPECT_EQ(simAccelLive().States, 2u);
  }
  EXPECT_EQ(simAccelLive().Buffers, Base) << "destroyed requests must free their device buffers";
  EXPECT_EQ(simAccelLive().States, 0u);
  EXPECT_EQ(simAccelLive().Subgraphs, 1u);
  Model = rt::Model();
  EXPECT_EQ(simAccelLive().Subgraphs, 0u) << "the last Model handle unloads its subgraphs";
}

TEST_F(AcceleratorDeviceTest, ConcurrentRequestsOnAcceleratorAreIndependent) {
  TempDir Dir;
  writeSampleModel(Dir.path(), AccelFramework, AccelDevice);
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path());
  constexpr uint32_t N = 4;
  std::vector<rt::InferRequest> Reqs;
  std::vector<std::vector<float>> In1(N), In2(N);
  for (uint32_t I = 0; I < N; ++I) {
    Reqs.push_back(Model.createRequest());
    In1[I] = randomFloats(3 * 32 * 32, 100 + I);
    In2[I] = randomFloats(32 * 32, 200 + I);
    setInput(Reqs[I], 0, In1[I]);
    setInput(Reqs[I], 1, In2[I]);
  }
  for (auto &R : Reqs)
    R.infer();
  for (uint32_t I = 0; I < N; ++I) {
    EXPECT_FALSE(Reqs[I].wait());
    EXPECT_TRUE(allClose(getOutput(Reqs[I]), referenceSampleModel(In1[I], In2[I]), 1e-4f, 1e-4f))
        << "request " << I;
  }
}

// --- extensions the registry must refuse -------------------------------------------------------

TEST_F(AcceleratorDeviceTest, WrongAbiVersionIsRefusedWithBothVersions) {
  rt::Context Ctx = makeNativeContext();
  try {
    Ctx.loadExtension(badAbiExtensionPath());
    FAIL() << "an extension reporting ABI version 999 was accepted";
  } catch (const rt::InvalidExtensionException &E) {
    std::string M = E.what();
    EXPECT_TRUE(containsText(M, "999")) << M;
    EXPECT_TRUE(containsText(M, std::to_string(OPTIMA_EXT_ABI_VERSION))) << M;
    EXPECT_TRUE(containsText(M, badAbiExtensionPath().filename().string())) << M;
  }
  for (const auto &E : Ctx.getLoadedExtensions())
    EXPECT_FALSE(containsText(E, "bad_ext")) << "a refused extension is listed: " << E;
}

TEST_F(AcceleratorDeviceTest, TooSmallTableIsRefusedWithTheSizes) {
  rt::Context Ctx = makeNativeContext();
  const size_t Reported = offsetof(OptimaExtension, allocBuffer);
  try {
    Ctx.loadExtension(smallTableExtensionPath());
    FAIL() << "a table of " << Reported << " bytes was accepted";
  } catch (const rt::InvalidExtensionException &E) {
    std::string M = E.what();
    EXPECT_TRUE(containsText(M, std::to_string(Reported))) << M;
    EXPECT_TRUE(containsText(M, std::to_string(sizeof(OptimaExtension)))) << M;
  }
}

TEST_F(AcceleratorDeviceTest, NotALibraryIsRefusedAndContextKeepsWorking) {
  TempDir Dir;
  auto Fake = Dir.path() / "libnot_an_extension.so";
  std::ofstream(Fake) << "this is not an ELF file\n";
  rt::Context Ctx = makeAccelContext();
  EXPECT_THROW(Ctx.loadExtension(Fake), rt::InvalidExtensionException);
  EXPECT_THROW(Ctx.loadExtension(badAbiExtensionPath()), rt::InvalidExtensionException);
  EXPECT_THROW(Ctx.loadExtension(smallTableExtensionPath()), rt::InvalidExtensionException);

  // The refused libraries left the Context intact: the accelerator still runs a model.
  writeSampleModel(Dir.path() / "m", AccelFramework, AccelDevice);
  rt::Model Model = Ctx.loadModel(Dir.path() / "m");
  rt::InferRequest Req = Model.createRequest();
  auto In1 = randomFloats(3 * 32 * 32, 5), In2 = randomFloats(32 * 32, 6);
  setInput(Req, 0, In1);
  setInput(Req, 1, In2);
  Req.infer();
  EXPECT_FALSE(Req.wait());
  EXPECT_TRUE(allClose(getOutput(Req), referenceSampleModel(In1, In2), 1e-4f, 1e-4f));
}

} // namespace
} // namespace optima_v2::test
