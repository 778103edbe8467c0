// Utils: toString/parse for every enum, StreamHelper output, IterTools.
#include <OptimaV2/Runtime.h>
#include <OptimaV2/Runtime/Utils/IterTools.h>
#include <OptimaV2/Runtime/Utils/StreamHelper.h>
#include <OptimaV2/Runtime/Utils/ToString.h>

#include <gtest/gtest.h>

#include <cctype>
#include <list>
#include <sstream>
#include <string>
#include <vector>

namespace rt = optima_v2::runtime;

namespace {

template <class T> std::string streamed(const T &Value) {
  std::ostringstream Out;
  Out << Value;
  return Out.str();
}

// Every enumerator with the name the API spells; toString, operator<< and parse* must agree.
template <class E> using Names = std::vector<std::pair<E, const char *>>;

const Names<rt::ElementType> ElementTypes = {
    {rt::ElementType::I8, "I8"},   {rt::ElementType::U8, "U8"},     {rt::ElementType::I16, "I16"},
    {rt::ElementType::U16, "U16"}, {rt::ElementType::I32, "I32"},   {rt::ElementType::U32, "U32"},
    {rt::ElementType::I64, "I64"}, {rt::ElementType::U64, "U64"},   {rt::ElementType::F16, "F16"},
    {rt::ElementType::F32, "F32"}, {rt::ElementType::F64, "F64"},   {rt::ElementType::Q8, "Q8"},
    {rt::ElementType::Q16, "Q16"}, {rt::ElementType::BF16, "BF16"}, {rt::ElementType::Bool, "Bool"},
    {rt::ElementType::F8E4M3FN, "F8E4M3FN"}, {rt::ElementType::F8E4M3FNUZ, "F8E4M3FNUZ"},
    {rt::ElementType::F8E5M2, "F8E5M2"},     {rt::ElementType::F8E5M2FNUZ, "F8E5M2FNUZ"},
    {rt::ElementType::F8E8M0, "F8E8M0"},     {rt::ElementType::I4, "I4"},
    {rt::ElementType::U4, "U4"},             {rt::ElementType::F4E2M1, "F4E2M1"},
    {rt::ElementType::I2, "I2"},             {rt::ElementType::U2, "U2"}};

const Names<rt::DeviceKind> DeviceKinds = {
    {rt::DeviceKind::x86, "x86"},         {rt::DeviceKind::x64, "x64"},
    {rt::DeviceKind::ARM, "ARM"},         {rt::DeviceKind::ARM64, "ARM64"},
    {rt::DeviceKind::NVIDIA, "NVIDIA"},   {rt::DeviceKind::AMDGPU, "AMDGPU"},
    {rt::DeviceKind::IntelGPU, "IntelGPU"}, {rt::DeviceKind::Mali, "Mali"},
    {rt::DeviceKind::Adreno, "Adreno"},   {rt::DeviceKind::Hexagon, "Hexagon"},
    {rt::DeviceKind::Myriad, "Myriad"},   {rt::DeviceKind::ARA1, "ARA1"},
    {rt::DeviceKind::EdgeTPU, "EdgeTPU"}, {rt::DeviceKind::CV22, "CV22"}};

const Names<rt::FrameworkKind> Frameworks = {
    {rt::FrameworkKind::TFLite, "TFLite"}, {rt::FrameworkKind::OpenVINO, "OpenVINO"},
    {rt::FrameworkKind::SNPE, "SNPE"},     {rt::FrameworkKind::DVAPI, "DVAPI"},
    {rt::FrameworkKind::Vulkan, "Vulkan"}, {rt::FrameworkKind::OpenCL, "OpenCL"},
    {rt::FrameworkKind::Native, "Native"}};

const Names<rt::LogLevel> LogLevels = {{rt::LogLevel::Debug, "Debug"},
                                       {rt::LogLevel::Verbose, "Verbose"},
                                       {rt::LogLevel::Info, "Info"},
                                       {rt::LogLevel::Warning, "Warning"},
                                       {rt::LogLevel::Error, "Error"}};

const Names<rt::ProfileKind> ProfileKinds = {
    {rt::ProfileKind::ModelInit, "ModelInit"},
    {rt::ProfileKind::SubgraphInit, "SubgraphInit"},
    {rt::ProfileKind::RequestInit, "RequestInit"},
    {rt::ProfileKind::TransferFromInput, "TransferFromInput"},
    {rt::ProfileKind::TransferToOutput, "TransferToOutput"},
    {rt::ProfileKind::LayerExecute, "LayerExecute"},
    {rt::ProfileKind::Wait, "Wait"},
    {rt::ProfileKind::BufferCopy, "BufferCopy"},
    {rt::ProfileKind::ModelExecute, "ModelExecute"},
    {rt::ProfileKind::SubgraphExecute, "SubgraphExecute"}};

std::string lower(std::string S) {
  for (auto &C : S)
    C = static_cast<char>(std::tolower(static_cast<unsigned char>(C)));
  return S;
}
std::string upper(std::string S) {
  for (auto &C : S)
    C = static_cast<char>(std::toupper(static_cast<unsigned char>(C)));
  return S;
}

template <class E, class Parse> void checkEnum(const Names<E> &All, Parse &&ParseFn, size_t Count) {
  EXPECT_EQ(All.size(), Count) << "the table above misses an enumerator";
  for (auto [Value, Name] : All) {
    EXPECT_EQ(rt::toString(Value), Name);
    EXPECT_EQ(streamed(Value), Name);
    EXPECT_EQ(ParseFn(Name), Value) << Name;
    EXPECT_EQ(ParseFn(lower(Name)), Value) << Name;
    EXPECT_EQ(ParseFn(upper(Name)), Value) << Name;
  }
  EXPECT_EQ(rt::toString(static_cast<E>(1000)), "Unknown");
  EXPECT_EQ(rt::toString(static_cast<E>(-1)), "Unknown");
  EXPECT_FALSE(ParseFn("NoSuchName").has_value());
  EXPECT_FALSE(ParseFn("").has_value());
}

TEST(ToString, ElementType) { checkEnum(ElementTypes, rt::parseElementType, 25); }
TEST(ToString, DeviceKind) { checkEnum(DeviceKinds, rt::parseDeviceKind, 14); }
TEST(ToString, FrameworkKind) { checkEnum(Frameworks, rt::parseFrameworkKind, 7); }
TEST(ToString, LogLevel) { checkEnum(LogLevels, rt::parseLogLevel, 5); }
TEST(ToString, ProfileKind) {
  EXPECT_EQ(ProfileKinds.size(), 10u);
  for (auto [Value, Name] : ProfileKinds) {
    EXPECT_EQ(rt::toString(Value), Name);
    EXPECT_EQ(streamed(Value), Name);
  }
  EXPECT_EQ(rt::toString(static_cast<rt::ProfileKind>(1000)), "Unknown");
}

TEST(ToString, BoolSpelledAsInModelMeta) {
  EXPECT_EQ(rt::parseElementType("BOOL"), rt::ElementType::Bool);
  EXPECT_EQ(rt::parseElementType("Bool"), rt::ElementType::Bool);
}

TEST(StreamHelper, Shape) {
  EXPECT_EQ(streamed(rt::Shape(1, 3, 224, 224)), "[1, 3, 224, 224]");
  EXPECT_EQ(streamed(rt::Shape(7)), "[7]");
  EXPECT_EQ(streamed(rt::Shape()), "[]");
}

TEST(StreamHelper, TensorInfo) {
  rt::TensorInfo Info;
  Info.TensorName = "input_1";
  Info.TensorShape = rt::Shape(1, 3, 32, 32);
  Info.TensorType = rt::ElementType::F32;
  Info.Alignment = 64;
  EXPECT_EQ(streamed(Info), "TensorInfo(name=input_1, type=F32, shape=[1, 3, 32, 32], alignment=64)");
}

TEST(StreamHelper, DeviceInfo) {
  rt::DeviceInfo Info;
  Info.Framework = rt::FrameworkKind::OpenCL;
  Info.Kind = rt::DeviceKind::NVIDIA;
  Info.Index = 1;
  Info.Name = "SimAccel (test)";
  Info.ID = "sim-1";
  EXPECT_EQ(streamed(Info), "DeviceInfo(framework=OpenCL, kind=NVIDIA, index=1, name=SimAccel (test), id=sim-1)");
}

TEST(StreamHelper, ProfileData) {
  rt::ProfileData Data;
  Data.Kind = rt::ProfileKind::LayerExecute;
  Data.Name = "conv_0";
  Data.Time = std::chrono::microseconds(12);
  EXPECT_EQ(streamed(Data), "ProfileData(kind=LayerExecute, name=conv_0, time=12us)");
}

TEST(IterTools, EnumerateWithStart) {
  std::vector<std::string> Items{"a", "b", "c"};
  std::vector<size_t> Indices;
  std::string Joined;
  for (auto [Index, Item] : rt::enumerate(Items, 1)) {
    Indices.push_back(Index);
    Joined += Item;
  }
  EXPECT_EQ(Indices, (std::vector<size_t>{1, 2, 3}));
  EXPECT_EQ(Joined, "abc");

  // Items are references into the container.
  for (auto [Index, Item] : rt::enumerate(Items))
    Item += std::to_string(Index);
  EXPECT_EQ(Items, (std::vector<std::string>{"a0", "b1", "c2"}));
}

TEST(IterTools, EnumerateTemporaryAndConst) {
  size_t Count = 0, Sum = 0;
  for (auto [Index, Value] : rt::enumerate(std::vector<int>{10, 20, 30}, 5)) {
    ++Count;
    Sum += Index * static_cast<size_t>(Value);
  }
  EXPECT_EQ(Count, 3u);
  EXPECT_EQ(Sum, 5u * 10 + 6u * 20 + 7u * 30);

  const std::list<int> L{4, 5};
  std::vector<std::pair<size_t, int>> Seen;
  for (auto [Index, Value] : rt::enumerate(L))
    Seen.emplace_back(Index, Value);
  EXPECT_EQ(Seen, (std::vector<std::pair<size_t, int>>{{0, 4}, {1, 5}}));

  for (auto Pair : rt::enumerate(std::vector<int>{}))
    ADD_FAILURE() << "empty container yielded " << Pair.first;
}

template <class R> std::vector<long> collect(R &&Range) {
  std::vector<long> Out;
  for (auto V : Range)
    Out.push_back(static_cast<long>(V));
  return Out;
}

TEST(IterTools, RangeVariants) {
  EXPECT_EQ(collect(rt::range(4)), (std::vector<long>{0, 1, 2, 3}));
  EXPECT_EQ(collect(rt::range(0)), std::vector<long>{});
  EXPECT_EQ(collect(rt::range(2, 5)), (std::vector<long>{2, 3, 4}));
  EXPECT_EQ(collect(rt::range(5, 2)), std::vector<long>{});
  EXPECT_EQ(collect(rt::range(0, 10, 3)), (std::vector<long>{0, 3, 6, 9}));
  EXPECT_EQ(collect(rt::range(0, 9, 3)), (std::vector<long>{0, 3, 6}));
  EXPECT_EQ(collect(rt::range(5, 0, -2)), (std::vector<long>{5, 3, 1}));
  EXPECT_EQ(collect(rt::range(0, -4, -1)), (std::vector<long>{0, -1, -2, -3}));
  EXPECT_EQ(collect(rt::range(0, 4, -1)), std::vector<long>{});
  EXPECT_EQ(collect(rt::range(-3, 0)), (std::vector<long>{-3, -2, -1}));
  EXPECT_EQ(collect(rt::range(size_t(1), size_t(3))), (std::vector<long>{1, 2}));
  EXPECT_THROW(rt::range(0, 5, 0), std::invalid_argument);

  // The guide's loop style with a range.
  uint32_t Sum = 0;
  for (auto I : rt::range(uint32_t(10)))
    Sum += I;
  EXPECT_EQ(Sum, 45u);
}

} // namespace
