// The geometry of a convolution planned at load, and small helpers shared by its algorithms.
#pragma once

#include "../../NodeContext.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace optima_v2::native {

constexpr size_t ConvMaxSpatial = OPTIMA_EXT_MAX_DIMS - 2;

struct ConvGeometry {
  size_t Rank = 0; // spatial dims
  int64_t In[ConvMaxSpatial] = {}, Out[ConvMaxSpatial] = {}, Kernel[ConvMaxSpatial] = {};
  int64_t Stride[ConvMaxSpatial] = {}, Dilation[ConvMaxSpatial] = {},
          PadBegin[ConvMaxSpatial] = {};
  int64_t InStride[ConvMaxSpatial] = {}, OutStride[ConvMaxSpatial] = {}; // within one plane
  size_t InPlane = 1, OutPlane = 1, KernelSize = 1;
  size_t Batch = 0, Channels = 0, Filters = 0, Groups = 1;
  size_t GroupChannels = 0, GroupFilters = 0; // per group
};

inline int64_t convCeilDiv(int64_t A, int64_t B) { return (A + B - 1) / B; } // A >= 0, B > 0

// Dst[0, N) = Src[0, N) for the short runs of im2col (an output row of a small image): inline
// 8-element moves, where a memcpy call per run cost more than the copy (LeNet's 5x5 convs).
template <typename T> inline void copyRun(T *Dst, const T *Src, size_t N) {
  if (N > 64) {
    std::memcpy(Dst, Src, N * sizeof(T));
    return;
  }
  size_t I = 0;
  for (; I + 8 <= N; I += 8)
    std::memcpy(Dst + I, Src + I, 8 * sizeof(T)); // a constant size: inlined as vector moves
  for (; I < N; ++I)
    Dst[I] = Src[I];
}

} // namespace optima_v2::native
