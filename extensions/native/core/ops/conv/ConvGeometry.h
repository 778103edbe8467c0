// The geometry of a convolution planned at load, and small helpers shared by its algorithms.
#pragma once

#include "../../NodeContext.h"

#include <algorithm>
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

// The group's input planes (G.GroupChannels of G.In[0] x G.In[1]) zero-padded into planes of
// PadH x PadW, the image at (G.PadBegin[0], G.PadBegin[1]) and cut where the planes end (input
// a strided conv never reads): a 2-D convolution's input for GEMMs that read it in place
// (ShiftedRows.h, RowBands.h).
inline void padPlanes(const KernelContext &Ctx, const ConvGeometry &G, size_t PadH, size_t PadW,
                      const float *In, float *P) {
  const size_t IH = size_t(G.In[0]), IW = size_t(G.In[1]);
  const size_t Top = size_t(G.PadBegin[0]), Left = size_t(G.PadBegin[1]);
  const size_t Rows = Top < PadH ? std::min(IH, PadH - Top) : 0;
  const size_t Cols = Left < PadW ? std::min(IW, PadW - Left) : 0;
  const size_t Plane = PadH * PadW;
  const size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, Plane));
  Ctx.parallelFor(G.GroupChannels, Grain, [&](size_t Begin, size_t End) {
    std::memset(P + Begin * Plane, 0, (End - Begin) * Plane * sizeof(float));
    for (size_t C = Begin; C < End; ++C)
      for (size_t H = 0; H < Rows; ++H)
        copyRun(P + (C * PadH + Top + H) * PadW + Left, In + (C * IH + H) * IW, Cols);
  });
}

// The planes a GEMM reads in place: a padded copy at the start of Scratch when Padded, else In.
inline const float *readablePlanes(const KernelContext &Ctx, const ConvGeometry &G, bool Padded,
                                   size_t PadH, size_t PadW, const float *In, std::byte *Scratch) {
  if (!Padded)
    return In;
  float *P = reinterpret_cast<float *>(Scratch);
  padPlanes(Ctx, G, PadH, PadW, In, P);
  return P;
}

} // namespace optima_v2::native
