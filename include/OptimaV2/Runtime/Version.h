#pragma once

#include <cstdint>

#define OPTIMA_RT_VERSION_MAJOR 0
#define OPTIMA_RT_VERSION_MINOR 1
#define OPTIMA_RT_VERSION_PATCH 0

namespace optima_v2::runtime {

struct VersionTuple {
  uint32_t Major = 0;
  uint32_t Minor = 0;
  uint32_t Patch = 0;

  friend constexpr bool operator==(const VersionTuple &A, const VersionTuple &B) {
    return A.Major == B.Major && A.Minor == B.Minor && A.Patch == B.Patch;
  }
  friend constexpr bool operator!=(const VersionTuple &A, const VersionTuple &B) { return !(A == B); }
};

} // namespace optima_v2::runtime

// The version of the headers being compiled against; Context::getVersion() is the library's.
#define OPTIMA_RT_CURRENT_VERSION                                                                  \
  (::optima_v2::runtime::VersionTuple{OPTIMA_RT_VERSION_MAJOR, OPTIMA_RT_VERSION_MINOR,            \
                                      OPTIMA_RT_VERSION_PATCH})
