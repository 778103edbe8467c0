// Stride-1 2-D convolution as one GEMM that reads the (zero-padded) input in place ("shifted
// rows"): with the output computed W' = OW + (KW - 1) * DW columns wide, the im2col row of
// kernel position (c, kh, kw) is one contiguous run of the padded input, starting at
// c * H'W' + kh * DH * W' + kw * DW. The GEMM's microkernel reads those runs in place through a
// table of the offsets (BRowTable), so there is no im2col pass and no B packing; the price is
// W' - OW wasted columns per output row, and a pass that drops them while adding bias and
// activation.
#pragma once

#include "../../Gemm.h"
#include "../Epilogue.h"
#include "ConvGeometry.h"

#include <algorithm>

#include <cstring>
#include <vector>

namespace optima_v2::native {

class ShiftedRows {
public:
  // Plans G (one image, one group at a time) if it is a 2-D convolution with stride 1 whose
  // output rows are short (im2col's per-row work dominates) or whose wasted columns are few.
  // Returns false, planning nothing, otherwise.
  bool plan(const ConvGeometry &G) {
    if (G.Rank != 2 || G.Stride[0] != 1 || G.Stride[1] != 1 || G.OutPlane == 0)
      return false;
    const int64_t OW = G.Out[1];
    Geo = G;
    PadH = size_t(G.Out[0] + (G.Kernel[0] - 1) * G.Dilation[0]);
    PadW = size_t(OW + (G.Kernel[1] - 1) * G.Dilation[1]);
    // Padding at the end: what the output size needs beyond the input and the leading pads.
    const int64_t PadBottom = int64_t(PadH) - G.In[0] - G.PadBegin[0];
    const int64_t PadRight = int64_t(PadW) - G.In[1] - G.PadBegin[1];
    if (PadBottom < 0 || PadRight < 0)
      return false; // an output smaller than the padded input allows: keep im2col
    const int64_t Waste = int64_t(PadW) - OW;
    if (OW >= 32 && Waste * 8 > OW)
      return false;
    Padded = G.PadBegin[0] || G.PadBegin[1] || PadBottom || PadRight;
    Offsets.resize(G.GroupChannels * G.KernelSize);
    for (size_t K = 0; K < Offsets.size(); ++K) {
      const size_t C = K / G.KernelSize, Pos = K % G.KernelSize;
      const size_t Kh = Pos / size_t(G.Kernel[1]), Kw = Pos % size_t(G.Kernel[1]);
      Offsets[K] = C * PadH * PadW + Kh * size_t(G.Dilation[0]) * PadW + Kw * size_t(G.Dilation[1]);
    }
    return true;
  }

  size_t scratchBytes() const {
    return round64(paddedFloats() * sizeof(float)) +
           round64(Geo.GroupFilters * wideFloats() * sizeof(float));
  }

  // One image and group: In = its first input channel, Out = its first output plane, Bias =
  // its filters' biases (or null). W packed as the GEMM's A (GroupFilters x KRows).
  void run(const KernelContext &Ctx, const PackedA &W, const float *In, const float *Bias,
           const Epilogue &Ep, float *Out, std::byte *Scratch) const {
    const float *X = readablePlanes(Ctx, Geo, Padded, PadH, PadW, In, Scratch);
    float *Wide = reinterpret_cast<float *>(Scratch + round64(paddedFloats() * sizeof(float)));
    GemmShape S;
    S.M = Geo.GroupFilters;
    S.N = wideFloats();
    S.K = Offsets.size();
    S.Ldc = S.N;
    sgemmPackedARows(S, W, BRowTable{X, Offsets.data()}, Wide, &Ctx);
    // Drop the wasted columns; bias and activation on the way, while each row is in cache.
    const size_t OH = size_t(Geo.Out[0]), OW = size_t(Geo.Out[1]);
    const size_t Grain = std::max<size_t>(1, (size_t(1) << 13) / std::max<size_t>(1, Geo.OutPlane));
    Ctx.parallelFor(Geo.GroupFilters, Grain, [&](size_t Begin, size_t End) {
      for (size_t F = Begin; F < End; ++F) {
        const float *From = Wide + F * S.N;
        float *To = Out + F * Geo.OutPlane;
        const float Bv = Bias ? Bias[F] : 0.0f;
        for (size_t Oh = 0; Oh < OH; ++Oh)
          for (size_t Ow = 0; Ow < OW; ++Ow)
            To[Oh * OW + Ow] = From[Oh * PadW + Ow] + Bv;
        Ep.apply(To, Geo.OutPlane);
      }
    });
  }

private:
  static size_t round64(size_t Bytes) { return (Bytes + 63) / 64 * 64; }
  size_t paddedFloats() const { return Padded ? Geo.GroupChannels * PadH * PadW : 0; }
  // GEMM columns: every output row W' wide, except the last, which stops at OW. Its wasted
  // columns would read past the padded input (by (KW - 1) * DW), and nothing needs them. With
  // N = (OH - 1) W' + OW the last element read is c = Cg - 1, kh = KH - 1, kw = KW - 1 at column
  // N - 1: (Cg - 1) H'W' + (KH - 1) DH W' + (KW - 1) DW + (OH - 1) W' + OW - 1 = Cg H'W' - 1.
  size_t wideFloats() const { return (size_t(Geo.Out[0]) - 1) * PadW + size_t(Geo.Out[1]); }

  ConvGeometry Geo;
  size_t PadH = 0, PadW = 0;
  bool Padded = false;
  std::vector<size_t> Offsets; // per GEMM row (c, kh, kw): its run's start in the padded input
};

} // namespace optima_v2::native
