#include <OptimaV2/Runtime.h>
#include <OptimaV2/Runtime/Utils/StreamHelper.h>
#include <OptimaV2/Runtime/Utils/ToString.h>

#include <gtest/gtest.h>

#include <sstream>

namespace rt = optima_v2::runtime;

TEST(Types, ElementSizes) {
  using E = rt::ElementType;
  const std::pair<E, size_t> Expected[] = {{E::I8, 1},  {E::U8, 1},  {E::I16, 2}, {E::U16, 2},  {E::I32, 4},
                                           {E::U32, 4}, {E::I64, 8}, {E::U64, 8}, {E::F16, 2},  {E::F32, 4},
                                           {E::F64, 8}, {E::Q8, 1},  {E::Q16, 2}, {E::BF16, 2}, {E::Bool, 1},
                                           {E::F8E4M3FN, 1}, {E::F8E4M3FNUZ, 1}, {E::F8E5M2, 1},
                                           {E::F8E5M2FNUZ, 1}, {E::F8E8M0, 1}, {E::I4, 1}, {E::U4, 1},
                                           {E::F4E2M1, 1}, {E::I2, 1}, {E::U2, 1}};
  for (auto [Type, Size] : Expected)
    EXPECT_EQ(rt::getSizeOfElement(Type), Size) << rt::toString(Type);
  EXPECT_THROW(rt::getSizeOfElement(static_cast<E>(99)), rt::InvalidArgumentException);
}

TEST(Types, ToStringAndParseRoundTrip) {
  for (int I = 0; I <= 24; ++I) {
    auto T = static_cast<rt::ElementType>(I);
    EXPECT_EQ(rt::parseElementType(rt::toString(T)), T);
  }
  for (int I = 0; I <= 13; ++I) {
    auto K = static_cast<rt::DeviceKind>(I);
    EXPECT_EQ(rt::parseDeviceKind(rt::toString(K)), K);
  }
  for (int I = 0; I <= 6; ++I) {
    auto F = static_cast<rt::FrameworkKind>(I);
    EXPECT_EQ(rt::parseFrameworkKind(rt::toString(F)), F);
  }
  for (int I = 0; I <= 4; ++I) {
    auto L = static_cast<rt::LogLevel>(I);
    EXPECT_EQ(rt::parseLogLevel(rt::toString(L)), L);
  }
  EXPECT_EQ(rt::toString(rt::ElementType::F32), "F32");
  EXPECT_EQ(rt::toString(rt::DeviceKind::x64), "x64");
  EXPECT_EQ(rt::toString(rt::ProfileKind::SubgraphExecute), "SubgraphExecute");
  EXPECT_EQ(rt::toString(static_cast<rt::DeviceKind>(-1)), "Unknown");
  EXPECT_EQ(rt::parseElementType("BOOL"), rt::ElementType::Bool);
  EXPECT_EQ(rt::parseDeviceKind("NVIDIA"), rt::DeviceKind::NVIDIA);
  EXPECT_EQ(rt::parseDeviceKind("intelgpu"), rt::DeviceKind::IntelGPU);
  EXPECT_EQ(rt::parseFrameworkKind("native"), rt::FrameworkKind::Native);
  EXPECT_FALSE(rt::parseElementType("F33"));
  EXPECT_FALSE(rt::parseDeviceKind(""));
  std::ostringstream S;
  S << rt::DeviceKind::ARM64 << ' ' << rt::Shape(1, 2);
  EXPECT_EQ(S.str(), "ARM64 [1, 2]");
}

TEST(Types, DeviceClasses) {
  using D = rt::DeviceKind;
  for (int I = 0; I <= 13; ++I) {
    auto K = static_cast<D>(I);
    int Classes = rt::isDeviceCPU(K) + rt::isDeviceGPU(K) + rt::isDeviceNPU(K);
    EXPECT_EQ(Classes, 1) << rt::toString(K);
  }
  EXPECT_TRUE(rt::isDeviceCPU(D::x86));
  EXPECT_TRUE(rt::isDeviceCPU(D::ARM64));
  EXPECT_TRUE(rt::isDeviceGPU(D::Mali));
  EXPECT_TRUE(rt::isDeviceGPU(D::Adreno));
  EXPECT_TRUE(rt::isDeviceNPU(D::Hexagon));
  EXPECT_TRUE(rt::isDeviceNPU(D::EdgeTPU));
}

TEST(Types, GetCause) {
  EXPECT_EQ(rt::getCause(nullptr), "unknown cause");
  EXPECT_EQ(rt::getCause(std::make_exception_ptr(std::runtime_error("a"))), "a");
  EXPECT_EQ(rt::getCause(std::make_exception_ptr(std::string("b"))), "b");
  EXPECT_EQ(rt::getCause(std::make_exception_ptr("c")), "c");
  EXPECT_EQ(rt::getCause(std::make_exception_ptr(42)), "unknown cause");
  EXPECT_EQ(rt::getCause(std::make_exception_ptr(rt::InferException("d"))), "d");
}

TEST(Types, VersionAndContextBasics) {
  EXPECT_EQ(rt::Context::getVersion(), OPTIMA_RT_CURRENT_VERSION);
  rt::ContextOptions O;
  O.LoadDefaultExtensions = false;
  O.ThreadCount = 3;
  rt::Context C(O);
  EXPECT_EQ(C.getThreadCount(), 3u);
  EXPECT_THROW(C.setVerbosity(static_cast<rt::LogLevel>(9)), rt::InvalidArgumentException);
  rt::Context Copy = C; // a shared handle
  Copy.setVerbosity(rt::LogLevel::Debug);
  EXPECT_EQ(C.getVerbosity(), rt::LogLevel::Debug);
}
