// Shape, element sizes and device classification.
#include <OptimaV2/Runtime.h>

#include <gtest/gtest.h>

#include <list>
#include <stdexcept>
#include <vector>

namespace rt = optima_v2::runtime;

namespace {

TEST(Shape, Constructors) {
  rt::Shape Empty;
  EXPECT_TRUE(Empty.empty());
  EXPECT_EQ(Empty.getDimensionSize(), 0u);
  EXPECT_EQ(Empty.getTotalElementCount(), 1u); // a scalar

  rt::Shape Variadic(1, 3, 224, 224);
  EXPECT_EQ(Variadic.getDimensionSize(), 4u);
  EXPECT_EQ(Variadic[0], 1u);
  EXPECT_EQ(Variadic[3], 224u);
  EXPECT_EQ(Variadic.getTotalElementCount(), 3u * 224 * 224);

  rt::Shape Mixed(int64_t(2), 3u, short(4)); // any integer types
  EXPECT_EQ(Mixed, rt::Shape({2, 3, 4}));

  std::vector<int> V{2, 3, 4};
  rt::Shape FromVector(V.begin(), V.end());
  EXPECT_EQ(FromVector, Mixed);
  std::list<size_t> L{2, 3, 4};
  EXPECT_EQ(rt::Shape(L.begin(), L.end()), Mixed);

  rt::Shape Init{2, 3, 4};
  EXPECT_EQ(Init, Mixed);
  rt::Shape Assigned = {5};
  EXPECT_EQ(Assigned.getDimensionSize(), 1u);
  EXPECT_EQ(Assigned[0], 5u);

  rt::Shape Eight(1, 2, 3, 4, 5, 6, 7, 8);
  EXPECT_EQ(Eight.getDimensionSize(), rt::Shape::MaxDimensions);
  EXPECT_EQ(Eight.getTotalElementCount(), 40320u);
}

TEST(Shape, MoreThanEightDimsIsAnError) {
  EXPECT_THROW(rt::Shape(1, 2, 3, 4, 5, 6, 7, 8, 9), rt::InvalidArgumentException);
  std::vector<uint32_t> Nine(9, 1);
  EXPECT_THROW(rt::Shape(Nine.begin(), Nine.end()), rt::InvalidArgumentException);
  EXPECT_THROW((rt::Shape{1, 1, 1, 1, 1, 1, 1, 1, 1}), rt::InvalidArgumentException);
  // The error names the limit.
  try {
    rt::Shape(Nine.begin(), Nine.end());
  } catch (const rt::InvalidArgumentException &E) {
    EXPECT_NE(std::string(E.what()).find('8'), std::string::npos) << E.what();
  }
}

TEST(Shape, InvalidDimensionValues) {
  EXPECT_THROW(rt::Shape(2, -1), rt::InvalidArgumentException);
  EXPECT_THROW(rt::Shape(int64_t(1) << 33), rt::InvalidArgumentException);
  std::vector<long> Negative{3, -2};
  EXPECT_THROW(rt::Shape(Negative.begin(), Negative.end()), rt::InvalidArgumentException);
  EXPECT_NO_THROW(rt::Shape(0, 5)); // zero-sized dims are legal
  EXPECT_EQ(rt::Shape(0, 5).getTotalElementCount(), 0u);
}

TEST(Shape, StridesAndElementCounts) {
  rt::Shape S(2, 3, 4, 5);
  EXPECT_EQ(S.getStride(0), 60u);
  EXPECT_EQ(S.getStride(1), 20u);
  EXPECT_EQ(S.getStride(2), 5u);
  EXPECT_EQ(S.getStride(3), 1u);
  EXPECT_EQ(S.getElementCountAt(1), 20u);
  EXPECT_THROW(S.getStride(4), std::out_of_range);
  EXPECT_THROW(S.getElementCountAt(9), std::out_of_range);
  EXPECT_THROW(rt::Shape().getStride(0), std::out_of_range);
  EXPECT_EQ(S.at(2), 4u);
  EXPECT_THROW(S.at(4), std::out_of_range);
}

TEST(Shape, EqualityAndIteration) {
  rt::Shape A(1, 2, 3), B{1, 2, 3}, C(1, 2), D(1, 2, 4);
  EXPECT_TRUE(A == B);
  EXPECT_FALSE(A != B);
  EXPECT_TRUE(A.equals(B));
  EXPECT_NE(A, C);
  EXPECT_NE(A, D);
  EXPECT_NE(rt::Shape(), rt::Shape(1));
  EXPECT_EQ(rt::Shape(), rt::Shape());

  std::vector<uint32_t> Dims(A.begin(), A.end());
  EXPECT_EQ(Dims, (std::vector<uint32_t>{1, 2, 3}));
  uint32_t Sum = 0;
  for (auto Dim : A)
    Sum += Dim;
  EXPECT_EQ(Sum, 6u);

  rt::Shape E = A;
  E[2] = 7;
  EXPECT_EQ(E, rt::Shape(1, 2, 7));
  EXPECT_EQ(A[2], 3u); // a copy is independent
}

TEST(ElementType, SizeOfEveryElementType) {
  using ET = rt::ElementType;
  const std::pair<ET, size_t> Expected[] = {
      {ET::I8, 1},  {ET::U8, 1},  {ET::I16, 2}, {ET::U16, 2}, {ET::I32, 4},
      {ET::U32, 4}, {ET::I64, 8}, {ET::U64, 8}, {ET::F16, 2}, {ET::F32, 4},
      {ET::F64, 8}, {ET::Q8, 1},  {ET::Q16, 2}, {ET::BF16, 2}, {ET::Bool, 1},
      // ONNX low-precision types: unpacked, one byte per element.
      {ET::F8E4M3FN, 1}, {ET::F8E4M3FNUZ, 1}, {ET::F8E5M2, 1}, {ET::F8E5M2FNUZ, 1}, {ET::F8E8M0, 1},
      {ET::I4, 1}, {ET::U4, 1}, {ET::F4E2M1, 1}, {ET::I2, 1}, {ET::U2, 1}};
  for (auto [Type, Size] : Expected)
    EXPECT_EQ(rt::getSizeOfElement(Type), Size) << static_cast<int>(Type);
  EXPECT_THROW(rt::getSizeOfElement(static_cast<ET>(25)), rt::InvalidArgumentException);
  EXPECT_THROW(rt::getSizeOfElement(static_cast<ET>(99)), rt::InvalidArgumentException);
  EXPECT_THROW(rt::getSizeOfElement(static_cast<ET>(-1)), rt::InvalidArgumentException);
}

TEST(DeviceKind, EachKindIsExactlyOneOfCpuGpuNpu) {
  using DK = rt::DeviceKind;
  for (DK K : {DK::x86, DK::x64, DK::ARM, DK::ARM64}) {
    EXPECT_TRUE(rt::isDeviceCPU(K));
    EXPECT_FALSE(rt::isDeviceGPU(K));
    EXPECT_FALSE(rt::isDeviceNPU(K));
  }
  for (DK K : {DK::NVIDIA, DK::AMDGPU, DK::IntelGPU, DK::Mali, DK::Adreno}) {
    EXPECT_FALSE(rt::isDeviceCPU(K));
    EXPECT_TRUE(rt::isDeviceGPU(K)) << static_cast<int>(K);
    EXPECT_FALSE(rt::isDeviceNPU(K));
  }
  for (DK K : {DK::Hexagon, DK::Myriad, DK::ARA1, DK::EdgeTPU, DK::CV22}) {
    EXPECT_FALSE(rt::isDeviceCPU(K));
    EXPECT_FALSE(rt::isDeviceGPU(K));
    EXPECT_TRUE(rt::isDeviceNPU(K)) << static_cast<int>(K);
  }
  DK Bogus = static_cast<DK>(77);
  EXPECT_FALSE(rt::isDeviceCPU(Bogus) || rt::isDeviceGPU(Bogus) || rt::isDeviceNPU(Bogus));
}

TEST(DeviceInfo, Defaults) {
  rt::DeviceInfo D;
  EXPECT_EQ(D.Framework, rt::FrameworkKind::Native);
  EXPECT_TRUE(D.ID.empty());
  rt::TensorInfo T;
  EXPECT_EQ(T.Alignment, 64u);
  EXPECT_TRUE(T.TensorShape.empty());
}

} // namespace
