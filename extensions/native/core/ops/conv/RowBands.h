// Small-image 2-D convolution as Y^T = Col^T W^T without the kernel rows that fall in the
// padding. At 7x7 with a 3x3 kernel and padding 1, the top and bottom output rows read one
// kernel row of zeros each: 9.5 % of the multiply-adds, which a direct convolution skips and a
// plain GEMM does not.
//
// Output rows with the same valid kernel rows form a band: a contiguous range of Y^T rows (the
// pixels in their natural order). Col holds im2col's rows in (kh, kw, c) order, so the rows of
// kernel row kh are one contiguous range; each band accumulates one GEMM per kernel row it
// reads, against that kernel row's packed W_kh^T (KW * Cin x Filters). Threads split the filters
// (each runs every product for its columns, then transposes them back with bias and activation).
// Only the kernel rows are skipped: skipping padded kernel columns too would split bands into
// column regions whose pixels are not contiguous in Col.
#pragma once

#include "../../Gemm.h"
#include "../Epilogue.h"
#include "ConvGeometry.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace optima_v2::native {

class RowBands {
public:
  // Plans G (2-D) when the padding kernel rows hold at least 1/16 of the multiply-adds.
  // Returns false, planning nothing, otherwise.
  bool plan(const ConvGeometry &G) {
    if (G.Rank != 2 || G.OutPlane == 0 || G.GroupChannels == 0 || G.GroupFilters == 0)
      return false;
    const size_t OH = size_t(G.Out[0]), OW = size_t(G.Out[1]);
    std::vector<Band> Found;
    size_t Work = 0;
    for (size_t R0 = 0; R0 < OH;) {
      const auto [Lo, Hi] = validKernelRows(G, int64_t(R0));
      size_t R1 = R0 + 1;
      while (R1 < OH && validKernelRows(G, int64_t(R1)) == std::make_pair(Lo, Hi))
        ++R1;
      Found.push_back(Band{R0 * OW, R1 * OW, size_t(Lo), size_t(Hi)});
      Work += (R1 - R0) * size_t(Hi - Lo);
      R0 = R1;
    }
    if (Work * 16 > OH * size_t(G.Kernel[0]) * 15)
      return false;
    Geo = G;
    Bands = std::move(Found);
    return true;
  }

  // W: Filters x GroupChannels x KH x KW. One packed W_kh^T per group and kernel row (together
  // the size of W, padded to the tile width). Throws std::bad_alloc.
  void packWeights(const float *W) {
    const size_t C = Geo.GroupChannels, F = Geo.GroupFilters, KS = Geo.KernelSize;
    const size_t KH = size_t(Geo.Kernel[0]), KW = size_t(Geo.Kernel[1]), Depth = KW * C;
    std::vector<PackedB> Packs(Geo.Groups * KH);
    std::vector<float> Rows(F * Depth); // W_kh, Filters x (kw, c)
    for (size_t Gi = 0; Gi < Geo.Groups; ++Gi)
      for (size_t Kh = 0; Kh < KH; ++Kh) {
        const float *Wg = W + Gi * F * C * KS;
        for (size_t Fi = 0; Fi < F; ++Fi)
          for (size_t Kw = 0; Kw < KW; ++Kw)
            for (size_t Ci = 0; Ci < C; ++Ci)
              Rows[Fi * Depth + Kw * C + Ci] = Wg[(Fi * C + Ci) * KS + Kh * KW + Kw];
        Packs[Gi * KH + Kh].pack(Depth, F, true, Rows.data(), Depth);
      }
    KernelRowW = std::move(Packs);
  }

  size_t scratchBytes() const {
    return round64(colFloats() * sizeof(float)) + Geo.OutPlane * Geo.GroupFilters * sizeof(float);
  }

  // One image and group: In = its first input channel, Out = its first output plane, Bias = its
  // filters' biases (or null).
  void run(const KernelContext &Ctx, size_t Group, const float *In, const float *Bias,
           const Epilogue &Ep, float *Out, std::byte *Scratch) const {
    float *Col = reinterpret_cast<float *>(Scratch);
    float *Yt = reinterpret_cast<float *>(Scratch + round64(colFloats() * sizeof(float)));
    im2col(Ctx, In, Col);
    const size_t F = Geo.GroupFilters, P = Geo.OutPlane;
    const size_t KH = size_t(Geo.Kernel[0]), Depth = size_t(Geo.Kernel[1]) * Geo.GroupChannels;
    const size_t NR = gemmTileWidth(), Slivers = (F + NR - 1) / NR;
    const size_t Parts = std::max<size_t>(1, std::min<size_t>(Slivers, Ctx.threadCount()));
    const PackedB *Packs = KernelRowW.data() + Group * KH;
    Ctx.parallelFor(Parts, 1, [&](size_t Begin, size_t End) {
      const size_t N0 = Slivers * Begin / Parts * NR, N1 = std::min(F, Slivers * End / Parts * NR);
      for (const Band &B : Bands) {
        float *Rows = Yt + B.Begin * F;
        if (B.KhLo == B.KhHi) { // every kernel row in the padding: the bias alone
          for (size_t R = B.Begin; R < B.End; ++R)
            std::fill(Yt + R * F + N0, Yt + R * F + N1, 0.0f);
          continue;
        }
        GemmShape S;
        S.M = B.End - B.Begin;
        S.N = F;
        S.K = Depth;
        S.TransA = true; // Col's rows are (kh, kw, c), its columns the pixels
        S.Lda = P;
        S.Ldc = F;
        for (size_t Kh = B.KhLo; Kh < B.KhHi; ++Kh)
          sgemmPackedColumns(S, Col + Kh * Depth * P + B.Begin, Packs[Kh], Kh == B.KhLo ? 0.0f : 1.0f,
                             Rows, N0, N1);
      }
      for (size_t Fi = N0; Fi < N1; ++Fi) {
        float *Plane = Out + Fi * P;
        const float Bv = Bias ? Bias[Fi] : 0.0f;
        for (size_t Pos = 0; Pos < P; ++Pos)
          Plane[Pos] = Yt[Pos * F + Fi] + Bv;
        Ep.apply(Plane, P);
      }
    });
  }

private:
  struct Band {
    size_t Begin, End;  // pixels (Y^T rows) [Begin, End): whole output rows
    size_t KhLo, KhHi; // the kernel rows they read inside the input
  };

  static size_t round64(size_t Bytes) { return (Bytes + 63) / 64 * 64; }
  size_t colFloats() const { return Geo.KernelSize * Geo.GroupChannels * Geo.OutPlane; }

  // The kernel rows [Lo, Hi) that output row Oh reads inside the input: a range, since the
  // input row grows with the kernel row. {0, 0} when none does.
  static std::pair<int64_t, int64_t> validKernelRows(const ConvGeometry &G, int64_t Oh) {
    int64_t Lo = G.Kernel[0], Hi = 0;
    for (int64_t Kh = 0; Kh < G.Kernel[0]; ++Kh) {
      const int64_t Ih = Oh * G.Stride[0] + Kh * G.Dilation[0] - G.PadBegin[0];
      if (Ih >= 0 && Ih < G.In[0]) {
        Lo = std::min(Lo, Kh);
        Hi = Kh + 1;
      }
    }
    return Lo < Hi ? std::make_pair(Lo, Hi) : std::make_pair(int64_t(0), int64_t(0));
  }

  // Col row (kh, kw, c) = im2col's row (c, kh, kw), zeros where it reads the padding.
  void im2col(const KernelContext &Ctx, const float *In, float *Col) const {
    const size_t C = Geo.GroupChannels, P = Geo.OutPlane;
    const int64_t OH = Geo.Out[0], OW = Geo.Out[1], IH = Geo.In[0], IW = Geo.In[1];
    const int64_t SH = Geo.Stride[0], SW = Geo.Stride[1], KW = Geo.Kernel[1];
    const size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, P));
    Ctx.parallelFor(Geo.KernelSize * C, Grain, [&](size_t Begin, size_t End) {
      for (size_t Row = Begin; Row < End; ++Row) {
        const int64_t T = int64_t(Row / C), Kh = T / KW, Kw = T % KW;
        const float *Channel = In + (Row % C) * Geo.InPlane;
        const int64_t ShiftH = Kh * Geo.Dilation[0] - Geo.PadBegin[0];
        const int64_t ShiftW = Kw * Geo.Dilation[1] - Geo.PadBegin[1];
        // Output columns [Lo, Hi) read input columns inside the image.
        int64_t Lo = ShiftW >= 0 ? 0 : convCeilDiv(-ShiftW, SW);
        int64_t Hi = IW - 1 - ShiftW < 0 ? 0 : (IW - 1 - ShiftW) / SW + 1;
        Lo = std::min(Lo, OW);
        Hi = std::max(Lo, std::min(Hi, OW));
        float *O = Col + Row * P;
        for (int64_t Oh = 0; Oh < OH; ++Oh, O += OW) {
          const int64_t Ih = Oh * SH + ShiftH;
          if (Ih < 0 || Ih >= IH || Hi == Lo) {
            std::fill(O, O + OW, 0.0f);
            continue;
          }
          std::fill(O, O + Lo, 0.0f);
          const float *I = Channel + (Ih * IW + ShiftW + Lo * SW); // first in-range element
          if (SW == 1)
            copyRun(O + Lo, I, size_t(Hi - Lo));
          else
            for (int64_t X = 0; X < Hi - Lo; ++X)
              O[Lo + X] = I[X * SW];
          std::fill(O + Hi, O + OW, 0.0f);
        }
      }
    });
  }

  ConvGeometry Geo;
  std::vector<Band> Bands;
  std::vector<PackedB> KernelRowW; // per group and kernel row: W_kh^T
};

} // namespace optima_v2::native
