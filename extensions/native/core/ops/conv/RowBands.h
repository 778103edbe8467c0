// 2-D convolution as Y^T = Col^T W^T written straight into the output planes ("row bands"):
// the pixels are the GEMM's rows (broadcast by the microkernel), the filters its vector-wide
// columns, so a 7x7 or 14x14 plane does not pad the tiles' columns, and the kernel rows that
// fall in the padding are skipped. At 7x7 with a 3x3 kernel and padding 1 the top and bottom
// output rows read one kernel row of zeros each: 9.5 % of the multiply-adds, which a direct
// convolution skips and a plain GEMM does not.
//
// The microkernel reads the zero-padded input in place (ARowTable): im2col's row (kh, kw, c) is
// padded plane c shifted by (kh, kw) and read with the column stride (1 or 2), and a tile's
// pixels are consecutive pixels of one output row. W^T is packed once as full-depth slivers in
// (kh, kw, c) order (PackedSlivers), so output rows that read the same kernel rows (a band) take
// one product per tile over exactly those rows; the tile leaves the microkernel transposed into
// the planes with bias and a Relu/Clip applied: no im2col, no A packing, no Y^T buffer. Threads
// split the filters, or the output rows when there are few filters. With enough channels, the
// tiles holding border pixels skip the kernel columns those read in the padding too (a product
// per run of (kh, kw) positions read by the same pixels, carried between calls): 7x7 planes with
// 3x3 kernels drop another 9.5 % of the multiply-adds, and larger inputs are then read unpadded
// (no zero-padded copy); the depth is then ordered (kw, kh, c), so that a border column's
// kernel positions are one run. With few channels the extra calls cost more than they save, and
// the padded columns are computed as zeros.
#pragma once

#include "../../Gemm.h"
#include "../Epilogue.h"
#include "ConvGeometry.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

namespace optima_v2::native {

// Row bands skip the padded kernel columns of border pixels when a group has at least this many
// input channels (each skipped run is then a product of that depth). Tests lower it.
inline std::atomic<size_t> RowBandsSkipMinChannels{64};
// ... and then read the input unpadded, in place, when its planes have at least this many
// pixels (see plan()). Tests lower it.
inline std::atomic<size_t> RowBandsUnpaddedMinPlane{100};

class RowBands {
public:
  // Plans G if it is 2-D with a column stride of 1 or 2. Returns false, planning nothing,
  // otherwise.
  bool plan(const ConvGeometry &G) {
    if (G.Rank != 2 || G.OutPlane == 0 || G.GroupChannels == 0 || G.GroupFilters == 0 ||
        (G.Stride[1] != 1 && G.Stride[1] != 2))
      return false;
    const size_t OH = size_t(G.Out[0]);
    std::vector<Band> Found;
    for (size_t R0 = 0; R0 < OH;) {
      const auto [Lo, Hi] = validKernelRows(G, int64_t(R0));
      size_t R1 = R0 + 1;
      while (R1 < OH && validKernelRows(G, int64_t(R1)) == std::make_pair(Lo, Hi))
        ++R1;
      Found.push_back(Band{R0, R1, size_t(Lo), size_t(Hi)});
      R0 = R1;
    }
    Geo = G;
    Bands = std::move(Found);
    const size_t KH = size_t(G.Kernel[0]), KW = size_t(G.Kernel[1]), C = G.GroupChannels;
    // Per kernel column, the output columns reading inside the input (padded coordinates
    // x * SW + kw * DW, less the leading padding).
    ColLo.assign(KW, 0);
    ColHi.assign(KW, 0);
    bool Border = false;
    const int64_t OW = G.Out[1];
    for (size_t Kw = 0; Kw < KW; ++Kw) {
      int64_t Lo = OW, Hi = 0;
      for (int64_t X = 0; X < OW; ++X) {
        const int64_t Ix = X * G.Stride[1] + int64_t(Kw) * G.Dilation[1] - G.PadBegin[1];
        if (Ix >= 0 && Ix < G.In[1]) {
          Lo = std::min(Lo, X);
          Hi = X + 1;
        }
      }
      ColLo[Kw] = size_t(Lo < Hi ? Lo : 0);
      ColHi[Kw] = size_t(Lo < Hi ? Hi : 0);
      Border = Border || ColLo[Kw] > 0 || ColHi[Kw] < size_t(OW);
    }
    // Skipping tiles take one product per run of kernel positions their pixels read, so with
    // SkipColumns the depth is ordered (kw, kh, c) (see position()).
    SkipColumns = Border && C >= RowBandsSkipMinChannels.load();
    // The extent every kernel position of every pixel reads, from the first padded row and
    // column; read from the input itself when that has no leading padding and covers it, or
    // when the padding is never read: the bands skip the padded kernel rows, and with
    // SkipColumns the tiles skip the padded columns (no zero-padded copy per run then). Not for
    // input planes under 100 pixels: ResNet-18's 512-channel 3x3 convs at 7x7 ran 12 % slower
    // reading their unpadded input (1.95 -> 2.2 ms in the model), while its 14x14 and 28x28
    // ones gained 1-5 % (cause not found).
    const size_t NeedH = size_t((G.Out[0] - 1) * G.Stride[0] + (G.Kernel[0] - 1) * G.Dilation[0] + 1);
    const size_t NeedW = size_t((G.Out[1] - 1) * G.Stride[1] + (G.Kernel[1] - 1) * G.Dilation[1] + 1);
    const bool SkipsAllPadding = SkipColumns && G.InPlane >= RowBandsUnpaddedMinPlane.load();
    Padded = !SkipsAllPadding &&
             (G.PadBegin[0] || G.PadBegin[1] || NeedH > size_t(G.In[0]) || NeedW > size_t(G.In[1]));
    PadH = Padded ? NeedH : size_t(G.In[0]);
    PadW = Padded ? NeedW : size_t(G.In[1]);
    // Depth row (kh, kw, c): plane c shifted by (kh, kw), less the leading padding when the
    // input is read unpadded (negative for positions in the padding, which nothing reads; kept
    // as two's complement, the microkernel adds them as signed).
    const int64_t ShiftH = Padded ? 0 : G.PadBegin[0], ShiftW = Padded ? 0 : G.PadBegin[1];
    Offsets.resize(G.KernelSize * C);
    for (size_t Kh = 0; Kh < KH; ++Kh)
      for (size_t Kw = 0; Kw < KW; ++Kw)
        for (size_t Ci = 0; Ci < C; ++Ci)
          Offsets[position(Kh, Kw) * C + Ci] =
              size_t(int64_t(Ci * PadH * PadW) + (int64_t(Kh) * G.Dilation[0] - ShiftH) * int64_t(PadW) +
                     int64_t(Kw) * G.Dilation[1] - ShiftW);
    return true;
  }

  // W: Filters x GroupChannels x KH x KW, packed per group as W^T in the planned depth order
  // ((kh, kw, c) or (kw, kh, c); the size of W, padded to the tile width). Throws
  // std::bad_alloc.
  void packWeights(const float *W) {
    const size_t C = Geo.GroupChannels, F = Geo.GroupFilters, KS = Geo.KernelSize;
    const size_t KW = size_t(Geo.Kernel[1]);
    std::vector<PackedSlivers> Packs(Geo.Groups);
    std::vector<float> Rows(F * KS * C); // W_g with each filter's depth in that order
    for (size_t Gi = 0; Gi < Geo.Groups; ++Gi) {
      const float *Wg = W + Gi * F * C * KS;
      for (size_t Fi = 0; Fi < F; ++Fi)
        for (size_t T = 0; T < KS; ++T)
          for (size_t Ci = 0; Ci < C; ++Ci)
            Rows[(Fi * KS + position(T / KW, T % KW)) * C + Ci] = Wg[(Fi * C + Ci) * KS + T];
      Packs[Gi].pack(KS * C, F, Rows.data(), KS * C);
    }
    Weights = std::move(Packs);
  }

  size_t scratchBytes() const { return Padded ? Geo.GroupChannels * PadH * PadW * sizeof(float) : 0; }

  // One image and group: In = its first input channel, Out = its first output plane, Bias = its
  // filters' biases (or null). With Z (planes shaped like Out, not aliasing it): Out = Ep(conv +
  // Bias + Z), a residual the microkernel adds as it stores each tile.
  void run(const KernelContext &Ctx, size_t Group, const float *In, const float *Bias,
           const Epilogue &Ep, float *Out, std::byte *Scratch, const float *Z = nullptr) const {
    const float *X = readablePlanes(Ctx, Geo, Padded, PadH, PadW, In, Scratch);
    const size_t F = Geo.GroupFilters, P = Geo.OutPlane, OH = size_t(Geo.Out[0]);
    const size_t OW = size_t(Geo.Out[1]), SH = size_t(Geo.Stride[0]), SW = size_t(Geo.Stride[1]);
    const size_t KH = size_t(Geo.Kernel[0]), KW = size_t(Geo.Kernel[1]), C = Geo.GroupChannels;
    const PackedSlivers &W = Weights[Group];
    const size_t NR = W.sliverWidth(), Slivers = (F + NR - 1) / NR; // as packed, whatever is active
    // Threads split the filters when each gets several slivers (a 7x7 plane has few pixels),
    // else the output rows: with one sliver per thread, every thread would read all of the
    // input for a single use of each A tile (64 filters at 56x56: 1.77x -> 1.9x on 2 threads).
    const size_t Threads = Ctx.threadCount();
    const bool SplitRows = Slivers < 4 * Threads && OH >= Threads;
    const size_t Parts = std::max<size_t>(1, std::min<size_t>(SplitRows ? OH : Slivers, Threads));
    const Epilogue *E = Ep.active() ? &Ep : nullptr;
    // Output rows whose pixels continue one another in the input (1x1, no padding, no row
    // skipped by the stride) are one line: tiles may then cross rows (49 = 10+10+10+10+9).
    const bool OneLine = !SkipColumns && SH * PadW == OW * SW; // skips need x within a row
    Ctx.parallelFor(Parts, 1, [&](size_t Begin, size_t End) {
      size_t N0 = 0, N1 = F, Row0 = 0, Row1 = OH;
      if (SplitRows) {
        Row0 = OH * Begin / Parts;
        Row1 = OH * End / Parts;
      } else {
        N0 = Slivers * Begin / Parts * NR;
        N1 = std::min(F, Slivers * End / Parts * NR);
      }
      // One sliver of filters through every band before the next: its weights come from memory
      // once (ResNet-18's 7x7 layers stream 9 MiB per conv) and serve the bands from the cache.
      for (size_t J0 = N0; J0 < N1; J0 += NR) {
        const size_t J1 = std::min(N1, J0 + NR);
        for (const Band &B : Bands) {
          const size_t R0 = std::max(B.Row0, Row0), R1 = std::min(B.Row1, Row1);
          if (R0 >= R1)
            continue;
          const size_t Pixels = (R1 - R0) * OW;
          float *Planes = Out + R0 * OW;
          const float *ZPlanes = Z ? Z + R0 * OW : nullptr;
          if (B.KhLo == B.KhHi) { // every kernel row in the padding: the bias alone
            for (size_t Fi = J0; Fi < J1; ++Fi) {
              std::fill(Planes + Fi * P, Planes + Fi * P + Pixels, Bias ? Bias[Fi] : 0.0f);
              if (Z)
                addThenApply(Planes + Fi * P, ZPlanes + Fi * P, Pixels, Ep);
              else
                Ep.apply(Planes + Fi * P, Pixels);
            }
            continue;
          }
          ARowTable A{X + R0 * SH * PadW, Offsets.data(), OneLine ? Pixels : OW, SH * PadW, SW};
          if (SkipColumns && !OneLine) {
            A.ColLo = ColLo.data();
            A.ColHi = ColHi.data();
            A.Run = KH * C; // a kernel column's depth rows ((kw, kh, c) order)
            A.Columns = KW;
          }
          // The band's kernel rows: one depth range, or one per kernel column (kw-major, some
          // rows in the padding).
          if (SkipColumns && (B.KhLo > 0 || B.KhHi < KH))
            sgemmARowsToPlanes(A, Pixels, W, B.KhLo * C, B.KhHi * C, Planes, P, Bias, E, J0, J1, ZPlanes,
                               KW, KH * C);
          else
            sgemmARowsToPlanes(A, Pixels, W, B.KhLo * KW * C, B.KhHi * KW * C, Planes, P, Bias, E, J0,
                               J1, ZPlanes);
        }
      }
    });
  }

private:
  struct Band {
    size_t Row0, Row1; // output rows [Row0, Row1)
    size_t KhLo, KhHi; // the kernel rows they read inside the input
  };

  // A kernel position's place in the depth order: (kh, kw, c), or (kw, kh, c) with SkipColumns,
  // where a border tile's runs are then one kernel column each (3x3: 2 products and a store
  // instead of 6 and a store; a call with its carry costs about 110 cycles). The bands' partial
  // kernel rows are then KW depth ranges, which only the top and bottom rows read.
  size_t position(size_t Kh, size_t Kw) const {
    return SkipColumns ? Kw * size_t(Geo.Kernel[0]) + Kh : Kh * size_t(Geo.Kernel[1]) + Kw;
  }

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

  ConvGeometry Geo;
  std::vector<Band> Bands;
  bool Padded = false;               // the GEMM reads a padded copy of the input (scratch)
  size_t PadH = 0, PadW = 0;         // the planes the GEMM reads (padded or the input's)
  std::vector<size_t> Offsets;       // per depth row (position() order): its plane's shift
  std::vector<size_t> ColLo, ColHi;  // per kernel column: the output columns reading the input
  bool SkipColumns = false;          // border tiles skip the columns they read in the padding
  std::vector<PackedSlivers> Weights; // per group: W^T, rows in the depth order
};

} // namespace optima_v2::native
