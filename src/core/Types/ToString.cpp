// toString / parse* for every public enum. Tables are indexed by the enum's numeric value, which
// the extension ABI fixes, so one table serves both directions.
#include <OptimaV2/Runtime/Utils/ToString.h>

#include <array>
#include <cctype>

namespace optima_v2::runtime {
namespace {

constexpr std::array<std::string_view, 25> ElementTypeNames = {
    "I8", "U8", "I16", "U16", "I32", "U32", "I64", "U64", "F16", "F32", "F64", "Q8", "Q16", "BF16", "Bool",
    "F8E4M3FN", "F8E4M3FNUZ", "F8E5M2", "F8E5M2FNUZ", "F8E8M0", "I4", "U4", "F4E2M1", "I2", "U2"};
constexpr std::array<std::string_view, 14> DeviceKindNames = {
    "x86", "x64", "ARM", "ARM64", "NVIDIA", "AMDGPU", "IntelGPU",
    "Mali", "Adreno", "Hexagon", "Myriad", "ARA1", "EdgeTPU", "CV22"};
constexpr std::array<std::string_view, 7> FrameworkKindNames = {
    "TFLite", "OpenVINO", "SNPE", "DVAPI", "Vulkan", "OpenCL", "Native"};
constexpr std::array<std::string_view, 5> LogLevelNames = {"Debug", "Verbose", "Info", "Warning", "Error"};
constexpr std::array<std::string_view, 10> ProfileKindNames = {
    "ModelInit", "SubgraphInit", "RequestInit", "TransferFromInput", "TransferToOutput",
    "LayerExecute", "Wait", "BufferCopy", "ModelExecute", "SubgraphExecute"};

template <class Enum, size_t N>
std::string_view lookup(const std::array<std::string_view, N> &Names, Enum Value) noexcept {
  auto I = static_cast<int64_t>(Value);
  return I >= 0 && static_cast<size_t>(I) < N ? Names[static_cast<size_t>(I)] : "Unknown";
}

bool equalsIgnoreCase(std::string_view A, std::string_view B) noexcept {
  if (A.size() != B.size())
    return false;
  for (size_t I = 0; I < A.size(); ++I)
    if (std::tolower(static_cast<unsigned char>(A[I])) != std::tolower(static_cast<unsigned char>(B[I])))
      return false;
  return true;
}

template <class Enum, size_t N>
std::optional<Enum> parse(const std::array<std::string_view, N> &Names, std::string_view Text) noexcept {
  for (size_t I = 0; I < N; ++I)
    if (equalsIgnoreCase(Names[I], Text))
      return static_cast<Enum>(I);
  return std::nullopt;
}

} // namespace

std::string_view toString(ElementType Value) noexcept { return lookup(ElementTypeNames, Value); }
std::string_view toString(DeviceKind Value) noexcept { return lookup(DeviceKindNames, Value); }
std::string_view toString(FrameworkKind Value) noexcept { return lookup(FrameworkKindNames, Value); }
std::string_view toString(LogLevel Value) noexcept { return lookup(LogLevelNames, Value); }
std::string_view toString(ProfileKind Value) noexcept { return lookup(ProfileKindNames, Value); }

std::optional<ElementType> parseElementType(std::string_view Text) noexcept {
  return parse<ElementType>(ElementTypeNames, Text);
}
std::optional<DeviceKind> parseDeviceKind(std::string_view Text) noexcept {
  return parse<DeviceKind>(DeviceKindNames, Text);
}
std::optional<FrameworkKind> parseFrameworkKind(std::string_view Text) noexcept {
  return parse<FrameworkKind>(FrameworkKindNames, Text);
}
std::optional<LogLevel> parseLogLevel(std::string_view Text) noexcept {
  return parse<LogLevel>(LogLevelNames, Text);
}

} // namespace optima_v2::runtime
