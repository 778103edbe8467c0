#pragma once

#include <OptimaV2/Runtime/Device.h>
#include <OptimaV2/Runtime/FrameworkKind.h>
#include <OptimaV2/Runtime/Logging/LogLevel.h>
#include <OptimaV2/Runtime/Profile.h>
#include <OptimaV2/Runtime/Type.h>

#include <optional>
#include <string_view>

namespace optima_v2::runtime {

// The enumerator's name as spelled in C++ ("F32", "x64", "ModelExecute"); "Unknown" for a value
// outside the enum.
std::string_view toString(ElementType Value) noexcept;
std::string_view toString(DeviceKind Value) noexcept;
std::string_view toString(FrameworkKind Value) noexcept;
std::string_view toString(LogLevel Value) noexcept;
std::string_view toString(ProfileKind Value) noexcept;

// Inverse of toString, case-insensitive (additions; used by the model loader). "BOOL" and
// "Bool" both name ElementType::Bool.
std::optional<ElementType> parseElementType(std::string_view Text) noexcept;
std::optional<DeviceKind> parseDeviceKind(std::string_view Text) noexcept;
std::optional<FrameworkKind> parseFrameworkKind(std::string_view Text) noexcept;
std::optional<LogLevel> parseLogLevel(std::string_view Text) noexcept;

} // namespace optima_v2::runtime
