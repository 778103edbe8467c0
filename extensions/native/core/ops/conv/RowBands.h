// Small-image 2-D convolution as Y^T = Col^T W^T: the pixels are the GEMM's rows (broadcast by
// the microkernel), the filters its vector-wide columns, so a 7x7 or 14x14 plane does not pad
// the tiles' columns, and the kernel rows that fall in the padding are skipped. At 7x7 with a
// 3x3 kernel and padding 1 the top and bottom output rows read one kernel row of zeros each:
// 9.5 % of the multiply-adds, which a direct convolution skips and a plain GEMM does not.
//
// Output rows with the same valid kernel rows form a band: a contiguous range of Y^T rows (the
// pixels in their natural order). im2col's rows are taken in (kh, kw, c) order, so the rows of
// kernel row kh are one contiguous range; each band accumulates one GEMM per kernel row it
// reads, against that kernel row's packed W_kh^T (KW * Cin x Filters). With a column stride of
// 1 or 2 the GEMM reads the zero-padded input in place (ARowTable: row (kh, kw, c) of im2col is
// the padded plane c shifted by (kh, kw), read with the stride; tiles stay within an output
// row), otherwise it packs im2col columns materialised in the scratch. Threads split the filters or the output rows (each runs every
// product for its part, then transposes it back with bias and activation). Padded kernel columns are still
// computed (as zeros): skipping them would split bands into regions of non-contiguous pixels.
#pragma once

#include "../../Gemm.h"
#include "../Epilogue.h"
#include "ConvGeometry.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace optima_v2::native {

class RowBands {
public:
  // Plans G (2-D). Column strides 1 and 2 always (no im2col: the input is read in place),
  // others only when the padding kernel rows hold at least 1/16 of the work (otherwise plain
  // Y^T costs the same). Returns false, planning nothing, otherwise.
  bool plan(const ConvGeometry &G) {
    if (G.Rank != 2 || G.OutPlane == 0 || G.GroupChannels == 0 || G.GroupFilters == 0)
      return false;
    const size_t OH = size_t(G.Out[0]);
    std::vector<Band> Found;
    size_t Work = 0;
    for (size_t R0 = 0; R0 < OH;) {
      const auto [Lo, Hi] = validKernelRows(G, int64_t(R0));
      size_t R1 = R0 + 1;
      while (R1 < OH && validKernelRows(G, int64_t(R1)) == std::make_pair(Lo, Hi))
        ++R1;
      Found.push_back(Band{R0, R1, size_t(Lo), size_t(Hi)});
      Work += (R1 - R0) * size_t(Hi - Lo);
      R0 = R1;
    }
    // In place: row stride any, column stride 1 or 2 (the microkernel's A step).
    const bool InPlace = G.Stride[1] == 1 || G.Stride[1] == 2;
    if (!InPlace && Work * 16 > OH * size_t(G.Kernel[0]) * 15)
      return false;
    Geo = G;
    Bands = std::move(Found);
    Direct = InPlace;
    // Shallow kernel rows (a stem's 3 channels: 21 deep for 7x7) make short products, each a
    // pass over Y^T: one product over the whole kernel instead, padding rows computed as zeros.
    PackRows = Direct && size_t(G.Kernel[1]) * G.GroupChannels < 64 ? size_t(G.Kernel[0]) : 1;
    if (PackRows > 1)
      Bands = {Band{0, size_t(G.Out[0]), 0, PackRows}};
    Padded = false;
    Offsets.clear();
    if (Direct) {
      // The extent every kernel position of every pixel reads, from the first padded row and
      // column; read from the input itself when that has no leading padding and covers it.
      const size_t NeedH = size_t((G.Out[0] - 1) * G.Stride[0] + (G.Kernel[0] - 1) * G.Dilation[0] + 1);
      const size_t NeedW = size_t((G.Out[1] - 1) * G.Stride[1] + (G.Kernel[1] - 1) * G.Dilation[1] + 1);
      Padded = G.PadBegin[0] || G.PadBegin[1] || NeedH > size_t(G.In[0]) || NeedW > size_t(G.In[1]);
      PadH = Padded ? NeedH : size_t(G.In[0]);
      PadW = Padded ? NeedW : size_t(G.In[1]);
      // Row (kh, kw, c) of im2col: plane c shifted by (kh, kw).
      const size_t KH = size_t(G.Kernel[0]), KW = size_t(G.Kernel[1]), C = G.GroupChannels;
      Offsets.resize(G.KernelSize * C);
      for (size_t Kh = 0; Kh < KH; ++Kh)
        for (size_t Kw = 0; Kw < KW; ++Kw)
          for (size_t Ci = 0; Ci < C; ++Ci)
            Offsets[(Kh * KW + Kw) * C + Ci] = Ci * PadH * PadW + Kh * size_t(G.Dilation[0]) * PadW +
                                               Kw * size_t(G.Dilation[1]);
    }
    return true;
  }

  // W: Filters x GroupChannels x KH x KW. Per group, one packed W^T for every PackRows kernel
  // rows (W_kh^T, or the whole kernel; together the size of W, padded to the tile width), rows
  // in (kh, kw, c) order. Throws std::bad_alloc.
  void packWeights(const float *W) {
    const size_t C = Geo.GroupChannels, F = Geo.GroupFilters, KS = Geo.KernelSize;
    const size_t KH = size_t(Geo.Kernel[0]), KW = size_t(Geo.Kernel[1]);
    const size_t PerGroup = KH / PackRows, Depth = PackRows * KW * C;
    std::vector<PackedB> Packs(Geo.Groups * PerGroup);
    std::vector<float> Rows(F * Depth); // Filters x (kh, kw, c) of the pack's kernel rows
    for (size_t Gi = 0; Gi < Geo.Groups; ++Gi)
      for (size_t Pi = 0; Pi < PerGroup; ++Pi) {
        const float *Wg = W + Gi * F * C * KS;
        for (size_t Fi = 0; Fi < F; ++Fi)
          for (size_t R = 0; R < PackRows; ++R)
            for (size_t Kw = 0; Kw < KW; ++Kw)
              for (size_t Ci = 0; Ci < C; ++Ci)
                Rows[Fi * Depth + (R * KW + Kw) * C + Ci] =
                    Wg[(Fi * C + Ci) * KS + (Pi * PackRows + R) * KW + Kw];
        Packs[Gi * PerGroup + Pi].pack(Depth, F, true, Rows.data(), Depth);
      }
    KernelRowW = std::move(Packs);
  }

  size_t scratchBytes() const {
    return round64(sourceFloats() * sizeof(float)) + Geo.OutPlane * Geo.GroupFilters * sizeof(float);
  }

  // One image and group: In = its first input channel, Out = its first output plane, Bias = its
  // filters' biases (or null).
  void run(const KernelContext &Ctx, size_t Group, const float *In, const float *Bias,
           const Epilogue &Ep, float *Out, std::byte *Scratch) const {
    float *Source = reinterpret_cast<float *>(Scratch);
    float *Yt = reinterpret_cast<float *>(Scratch + round64(sourceFloats() * sizeof(float)));
    const float *X = In;
    if (Padded)
      padPlanes(Ctx, Geo, PadH, PadW, In, Source);
    else if (!Direct)
      im2col(Ctx, In, Source);
    if (Padded || !Direct)
      X = Source;
    const size_t F = Geo.GroupFilters, P = Geo.OutPlane, OH = size_t(Geo.Out[0]);
    const size_t OW = size_t(Geo.Out[1]);
    const size_t KH = size_t(Geo.Kernel[0]), Depth = size_t(Geo.Kernel[1]) * Geo.GroupChannels;
    const size_t NR = gemmTileWidth(), Slivers = (F + NR - 1) / NR;
    // Threads split the filters when each gets several slivers (a 7x7 plane has few pixels),
    // else the output rows: with one sliver per thread, every thread would read all of the
    // input for a single use of each A tile (64 filters at 56x56: 1.77x -> 1.9x on 2 threads).
    const size_t Threads = Ctx.threadCount();
    const bool SplitRows = Slivers < 4 * Threads && OH >= Threads;
    const size_t Parts = std::max<size_t>(1, std::min<size_t>(SplitRows ? OH : Slivers, Threads));
    const PackedB *Packs = KernelRowW.data() + Group * (KH / PackRows);
    Ctx.parallelFor(Parts, 1, [&](size_t Begin, size_t End) {
      size_t N0 = 0, N1 = F, Row0 = 0, Row1 = OH;
      if (SplitRows) {
        Row0 = OH * Begin / Parts;
        Row1 = OH * End / Parts;
      } else {
        N0 = Slivers * Begin / Parts * NR;
        N1 = std::min(F, Slivers * End / Parts * NR);
      }
      for (const Band &B : Bands) {
        const size_t R0 = std::max(B.Row0, Row0), R1 = std::min(B.Row1, Row1);
        if (R0 >= R1)
          continue;
        const size_t Pix0 = R0 * OW, Pix1 = R1 * OW;
        float *Rows = Yt + Pix0 * F;
        if (B.KhLo == B.KhHi) { // every kernel row in the padding: the bias alone
          for (size_t R = Pix0; R < Pix1; ++R)
            std::fill(Yt + R * F + N0, Yt + R * F + N1, 0.0f);
          continue;
        }
        GemmShape S;
        S.M = Pix1 - Pix0;
        S.N = F;
        S.K = Depth * PackRows;
        S.TransA = true; // Col's rows are (kh, kw, c), its columns the pixels
        S.Lda = P;
        S.Ldc = F;
        // Output rows whose pixels continue one another in the input (1x1, no padding, no
        // row skipped by the stride) are one line: tiles may then cross rows (49 pixels =
        // 10+10+10+10+9, not 7 x 7).
        const size_t SH = size_t(Geo.Stride[0]), SW = size_t(Geo.Stride[1]);
        const size_t Width = SH * PadW == OW * SW ? S.M : OW;
        for (size_t Kh = B.KhLo; Kh < B.KhHi; Kh += PackRows) {
          const float Beta = Kh == B.KhLo ? 0.0f : 1.0f;
          if (Direct)
            sgemmARowsColumns(S,
                              ARowTable{X + R0 * SH * PadW, Offsets.data() + Kh * Depth, Width,
                                        SH * PadW, SW},
                              Packs[Kh / PackRows], Beta, Rows, N0, N1);
          else
            sgemmPackedColumns(S, X + Kh * Depth * P + Pix0, Packs[Kh], Beta, Rows, N0, N1);
        }
      }
      // Back to planes, 16 pixels at a time: their Y^T rows stay in L1 while every filter
      // takes its 16 values (pixel by pixel over whole planes, each read was a new line).
      const size_t Pix0 = Row0 * OW, Pix1 = Row1 * OW;
      for (size_t P0 = Pix0; P0 < Pix1; P0 += 16) {
        const size_t P1 = std::min(Pix1, P0 + 16);
        for (size_t Fi = N0; Fi < N1; ++Fi) {
          float *Plane = Out + Fi * P;
          const float Bv = Bias ? Bias[Fi] : 0.0f;
          for (size_t Pos = P0; Pos < P1; ++Pos)
            Plane[Pos] = Yt[Pos * F + Fi] + Bv;
        }
      }
      if (Ep.active())
        for (size_t Fi = N0; Fi < N1; ++Fi)
          Ep.apply(Out + Fi * P + Pix0, Pix1 - Pix0);
    });
  }

private:
  struct Band {
    size_t Row0, Row1; // output rows [Row0, Row1): Y^T rows [Row0 * OW, Row1 * OW)
    size_t KhLo, KhHi; // the kernel rows they read inside the input
  };

  static size_t round64(size_t Bytes) { return (Bytes + 63) / 64 * 64; }
  // The padded input (in place) or the im2col matrix (packed).
  size_t sourceFloats() const {
    if (Direct)
      return Padded ? Geo.GroupChannels * PadH * PadW : 0;
    return Geo.KernelSize * Geo.GroupChannels * Geo.OutPlane;
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
          for (int64_t X = 0; X < Lo; ++X) // a few columns: no memset call
            O[X] = 0.0f;
          const float *I = Channel + (Ih * IW + ShiftW + Lo * SW); // first in-range element
          if (SW == 1)
            copyRun(O + Lo, I, size_t(Hi - Lo));
          else
            for (int64_t X = 0; X < Hi - Lo; ++X)
              O[Lo + X] = I[X * SW];
          for (int64_t X = Hi; X < OW; ++X)
            O[X] = 0.0f;
        }
      }
    });
  }

  ConvGeometry Geo;
  std::vector<Band> Bands;
  bool Direct = false;             // column stride 1 or 2: the GEMM reads the input in place
  bool Padded = false;             // Direct with a padded copy of the input in the scratch
  size_t PadH = 0, PadW = 0;       // Direct: the planes the GEMM reads (padded or the input's)
  std::vector<size_t> Offsets;     // Direct: per im2col row (kh, kw, c), its plane's shift
  size_t PackRows = 1;             // kernel rows per product: 1, or all of them (shallow rows)
  std::vector<PackedB> KernelRowW; // per group and PackRows kernel rows: their W^T
};

} // namespace optima_v2::native
