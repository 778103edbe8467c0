// Tensor and BufferHolder: copies in both forms with offsets, bounds and null checks, direct buffer
// access, and the tensor's description.
#include "ApiTestUtil.h"

#include <cstdint>
#include <cstring>
#include <numeric>
#include <stdexcept>

namespace optima_v2::test {
namespace {

using TensorApi = SampleModelTest;

constexpr size_t In1Count = 3 * 32 * 32;

std::vector<float> iota(size_t N, float Start) {
  std::vector<float> V(N);
  std::iota(V.begin(), V.end(), Start);
  return V;
}

TEST_F(TensorApi, Description) {
  auto Req = Model.createRequest();
  auto T = Req.getInputTensor(0);
  EXPECT_TRUE(T);
  EXPECT_EQ(T.getName(), "input_1");
  EXPECT_EQ(T.getShape(), rt::Shape(1, 3, 32, 32));
  EXPECT_EQ(T.getType(), rt::ElementType::F32);
  EXPECT_EQ(T.getTensorSize(), In1Count * sizeof(float));
  EXPECT_EQ(T.getInfo().TensorName, "input_1");
  EXPECT_EQ(T.getInfo().Alignment, 64u);
  auto Out = Req.getOutputTensor(0);
  EXPECT_EQ(Out.getTensorSize(), 32u * 32u * sizeof(float));
  EXPECT_FALSE(rt::Tensor());
}

TEST_F(TensorApi, TemplateCopyRoundTrip) {
  auto Req = Model.createRequest();
  auto T = Req.getInputTensor(0);
  auto Src = iota(In1Count, 0.5f);
  T.copyFrom(Src.data(), Src.size());
  std::vector<float> Dst(In1Count, -1.0f);
  T.copyTo(Dst.data(), Dst.size());
  EXPECT_EQ(Dst, Src);
}

TEST_F(TensorApi, VoidCopyRoundTrip) {
  auto Req = Model.createRequest();
  auto T = Req.getInputTensor(1);
  auto Src = iota(32 * 32, 3.0f);
  const void *Raw = Src.data();
  T.copyFrom(Raw, Src.size() * sizeof(float));
  std::vector<float> Dst(Src.size());
  void *RawDst = Dst.data();
  T.copyTo(RawDst, Dst.size() * sizeof(float));
  EXPECT_EQ(Dst, Src);
}

TEST_F(TensorApi, OffsetsAreInElementsForTemplatesAndBytesForVoid) {
  auto Req = Model.createRequest();
  auto T = Req.getInputTensor(1);
  std::vector<float> Zero(32 * 32, 0.0f);
  T.copyFrom(Zero.data(), Zero.size());

  std::vector<float> Ten = iota(10, 100.0f);
  T.copyFrom(Ten.data(), Ten.size(), 5); // elements 5..14
  const void *Raw = Ten.data();
  T.copyFrom(Raw, 2 * sizeof(float), 20 * sizeof(float)); // elements 20..21

  std::vector<float> All(32 * 32);
  T.copyTo(All.data(), All.size());
  for (size_t I = 0; I < All.size(); ++I) {
    float Expected = I >= 5 && I < 15 ? 100.0f + float(I - 5) : I >= 20 && I < 22 ? 100.0f + float(I - 20) : 0.0f;
    ASSERT_EQ(All[I], Expected) << "element " << I;
  }

  std::vector<float> Part(3);
  T.copyTo(Part.data(), Part.size(), 6);
  EXPECT_EQ(Part, (std::vector<float>{101, 102, 103}));
  void *RawPart = Part.data();
  T.copyTo(RawPart, sizeof(float), 21 * sizeof(float));
  EXPECT_EQ(Part[0], 101.0f);

  // Copies that end exactly at the end are fine.
  T.copyFrom(Ten.data(), 4, 32 * 32 - 4);
  T.copyTo(Part.data(), 1, 32 * 32 - 1);
  EXPECT_EQ(Part[0], 103.0f);
}

TEST_F(TensorApi, PastTheEndIsOutOfRange) {
  auto Req = Model.createRequest();
  auto T = Req.getInputTensor(1);
  const size_t N = 32 * 32;
  std::vector<float> Big(N + 1, 1.0f);
  EXPECT_THROW(T.copyFrom(Big.data(), N + 1), std::out_of_range);
  EXPECT_THROW(T.copyFrom(Big.data(), 1, N), std::out_of_range);
  EXPECT_THROW(T.copyFrom(Big.data(), 2, N - 1), std::out_of_range);
  EXPECT_THROW(T.copyTo(Big.data(), N + 1), std::out_of_range);
  EXPECT_THROW(T.copyTo(Big.data(), 1, N), std::out_of_range);
  const void *Raw = Big.data();
  EXPECT_THROW(T.copyFrom(Raw, N * sizeof(float) + 1), std::out_of_range);
  EXPECT_THROW(T.copyFrom(Raw, 1, N * sizeof(float)), std::out_of_range);
  void *RawDst = Big.data();
  EXPECT_THROW(T.copyTo(RawDst, 4, N * sizeof(float) - 3), std::out_of_range);
  // Counts whose byte size overflows size_t are refused, not wrapped around.
  EXPECT_THROW(T.copyFrom(Big.data(), SIZE_MAX / 2), std::out_of_range);
  EXPECT_THROW(T.copyTo(Big.data(), 1, SIZE_MAX / 2), std::out_of_range);
  EXPECT_THROW(T.copyFrom(Raw, 1, SIZE_MAX), std::out_of_range);

  // A refused copy changes nothing.
  std::vector<float> Check(N);
  std::vector<float> Zero(N, 0.0f);
  T.copyFrom(Zero.data(), N);
  EXPECT_THROW(T.copyFrom(Big.data(), N + 1), std::out_of_range);
  T.copyTo(Check.data(), N);
  EXPECT_EQ(Check, Zero);
}

TEST_F(TensorApi, NullPointerIsInvalidArgument) {
  auto Req = Model.createRequest();
  auto T = Req.getInputTensor(0);
  EXPECT_THROW(T.copyFrom(static_cast<const float *>(nullptr), 4), std::invalid_argument);
  EXPECT_THROW(T.copyTo(static_cast<float *>(nullptr), 4), std::invalid_argument);
  EXPECT_THROW(T.copyFrom(static_cast<const void *>(nullptr), 16), std::invalid_argument);
  EXPECT_THROW(T.copyTo(static_cast<void *>(nullptr), 16), std::invalid_argument);
}

TEST_F(TensorApi, BufferGivesDirectAccess) {
  auto Req = Model.createRequest();
  auto T = Req.getInputTensor(1);
  {
    auto Buffer = T.getBuffer(); // guaranteed elision: BufferHolder is neither copyable nor movable
    ASSERT_NE(Buffer.data(), nullptr);
    EXPECT_EQ(Buffer.size(), T.getTensorSize());
    EXPECT_EQ(static_cast<void *>(Buffer.cast<float>()), Buffer.data());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(Buffer.data()) % T.getInfo().Alignment, 0u);
    float *P = Buffer.cast<float>();
    for (size_t I = 0; I < 32 * 32; ++I)
      P[I] = float(I) * 0.25f;
    const auto &ConstBuffer = Buffer;
    EXPECT_EQ(ConstBuffer.cast<float>()[3], 0.75f);
    EXPECT_EQ(ConstBuffer.data(), Buffer.data());
  }
  std::vector<float> Out(32 * 32);
  T.copyTo(Out.data(), Out.size());
  for (size_t I = 0; I < Out.size(); ++I)
    ASSERT_EQ(Out[I], float(I) * 0.25f);

  // And the other way round: copyFrom is visible through a new buffer.
  auto Src = iota(32 * 32, -7.0f);
  T.copyFrom(Src.data(), Src.size());
  auto Buffer = T.getBuffer();
  EXPECT_EQ(std::memcmp(Buffer.data(), Src.data(), Src.size() * sizeof(float)), 0);
}

TEST_F(TensorApi, InputsWrittenThroughBuffersAreUsedByInference) {
  auto Req = Model.createRequest();
  auto Case = makeSampleCase(11);
  for (auto &&Tensor : Req.getInputTensors()) {
    auto Buffer = Tensor.getBuffer();
    const auto &Src = Tensor.getName() == "input_1" ? Case.Input1 : Case.Input2;
    ASSERT_EQ(Buffer.size(), Src.size() * sizeof(float));
    std::memcpy(Buffer.data(), Src.data(), Buffer.size());
  }
  Req.infer();
  Req.wait();
  for (auto &&Tensor : Req.getOutputTensors()) {
    auto Buffer = Tensor.getBuffer();
    std::vector<float> Out(Buffer.cast<float>(), Buffer.cast<float>() + Case.Expected.size());
    EXPECT_LE(maxAbsDiff(Out, Case.Expected), 1e-4f);
  }
}

TEST(TensorLifetime, TensorAndBufferOutliveTheirRequestModelAndContext) {
  TempDir Dir;
  writeSampleModel(Dir.path() / "m");
  rt::Tensor T;
  {
    rt::Context Context;
    auto Req = Context.loadModel(Dir.path() / "m").createRequest();
    T = Req.getInputTensor(1);
  } // request, model and context handles are gone; the tensor handle keeps what it needs
  auto Src = iota(32 * 32, 1.0f);
  T.copyFrom(Src.data(), Src.size());
  std::vector<float> Back(Src.size());
  T.copyTo(Back.data(), Back.size());
  EXPECT_EQ(Back, Src);
  auto Buffer = T.getBuffer();
  EXPECT_EQ(Buffer.cast<float>()[5], 6.0f);
}

TEST(EmptyTensor, MethodsAreInvalidOperation) {
  rt::Tensor T;
  float F = 0;
  EXPECT_THROW(T.getName(), rt::InvalidOperationException);
  EXPECT_THROW(T.getShape(), rt::InvalidOperationException);
  EXPECT_THROW(T.copyFrom(&F, 1), rt::InvalidOperationException);
  EXPECT_THROW((void)T.getBuffer(), rt::InvalidOperationException);
}

} // namespace
} // namespace optima_v2::test
