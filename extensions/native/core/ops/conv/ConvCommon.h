// Shared by Conv, ConvInteger, QLinearConv and ConvTranspose: attribute parsing into a geometry
// planned at load, and a type-generic convolution engine (direct, pointwise or im2col + GEMM).
#pragma once

#include "../../Gemm.h"
#include "../../NodeContext.h"
#include "ConvGeometry.h"
#include "GemmGeneric.h"
#include "ShiftedRows.h"
#include "RowBands.h"
#include "../../simd/VecMath.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

namespace optima_v2::native {

// An ints attribute of exactly Size values in [Min, INT32_MAX], or Size copies of Default.
std::vector<int64_t> convInts(const NodeContext &Ctx, const char *Name, size_t Size,
                              int64_t Default, int64_t Min);

// Validates X/W/B shapes and the Conv attributes (group, kernel_shape, strides, dilations, pads,
// auto_pad) and fills G (strides and plane sizes included). Returns the output shape.
Dims planConv(const NodeContext &Ctx, const Dims &X, const Dims &W, const TensorInfo *B,
              ConvGeometry &G);

// For kernel position KPos, walks every output row (all spatial dims but the last) and calls
// Row(OutRowOffset, Valid, InRowBase, Lo, Hi): output columns [Lo, Hi) read input element
// InRowBase + Col * Stride; columns outside that range, and whole rows with Valid == false,
// fall in the padding.
template <typename RowFn>
void sweepOutputRows(const ConvGeometry &G, const int64_t *KPos, const RowFn &Row) {
  const size_t L = G.Rank - 1;
  const int64_t Width = G.Out[L];
  const int64_t Shift = KPos[L] * G.Dilation[L] - G.PadBegin[L]; // input col = col*S + Shift
  int64_t Lo = Shift >= 0 ? 0 : convCeilDiv(-Shift, G.Stride[L]);
  int64_t Hi = G.In[L] - 1 - Shift < 0 ? 0 : (G.In[L] - 1 - Shift) / G.Stride[L] + 1;
  Lo = std::min(Lo, Width);
  Hi = std::max(Lo, std::min(Hi, Width));
  const size_t Rows = G.OutPlane / size_t(Width);
  int64_t Index[ConvMaxSpatial] = {};
  for (size_t R = 0; R < Rows; ++R) {
    bool Valid = true;
    int64_t InBase = Shift;
    for (size_t D = 0; D < L; ++D) {
      int64_t I = Index[D] * G.Stride[D] + KPos[D] * G.Dilation[D] - G.PadBegin[D];
      Valid = Valid && I >= 0 && I < G.In[D];
      InBase += I * G.InStride[D];
    }
    Row(R * size_t(Width), Valid, InBase, Lo, Hi);
    for (size_t D = L; D-- > 0;) {
      if (++Index[D] < G.Out[D])
        break;
      Index[D] = 0;
    }
  }
}

// Kernel coordinates of flat kernel position K.
inline void convKernelCoords(const ConvGeometry &G, size_t K, int64_t *KPos) {
  for (size_t D = G.Rank; D-- > 0;) {
    KPos[D] = int64_t(K % size_t(G.Kernel[D]));
    K /= size_t(G.Kernel[D]);
  }
}

// With pre-packed weights, im2col matrices larger than this many bytes are written straight into
// the GEMM's packed B panels: materialised, they would leave the cache between im2col and
// packing (ResNet-18's 7x7 stem, 7.4 MB: 3.9 -> 3.1 ms). Smaller ones are materialised, which
// measured faster (no per-row sliver bookkeeping; read in place when Filters <= MR). Tests
// lower it to reach that path on small shapes.
inline std::atomic<size_t> ConvPanelIm2ColMinBytes{size_t(4) << 20};
// Tests switch the shifted-rows path (ShiftedRows.h) off to reach im2col on the same shapes.
inline std::atomic<bool> ConvShiftedRowsEnabled{true};
// 2-D convs with a column stride of 1 or 2 and output planes up to this many pixels take the
// row bands (RowBands.h).
constexpr size_t RowBandsMaxPlane = 4096;
// Tests switch the row-bands path (RowBands.h) off to reach plain Y^T on the same shapes.
inline std::atomic<bool> ConvRowBandsEnabled{true};

// Convolution over contiguous NC<spatial> data of compute type T (float, double or int32):
//  - one input channel per group and several groups (depthwise and similar): direct
//    accumulation, no scratch;
//  - 1x1 kernel, stride 1, no padding: the input already is the im2col matrix, GEMM only;
//  - otherwise: im2col, then the GEMM, per image and group.
// Constant float weights are packed once at load (packWeights): as W^T slivers for the row
// bands (RowBands.h: Y^T read from the input in place, written into the planes), which most 2-D
// convs with enough filters take; as W^T for a plain Y^T = Col^T W^T; or as the GEMM's A, with
// stride-1 convs through shifted rows (ShiftedRows.h) and large im2col matrices written straight
// into packed B panels (no scratch).
template <typename T> class ConvEngine {
public:
  enum class Method { Direct, Pointwise, Im2Col };

  ConvEngine() = default;
  explicit ConvEngine(const ConvGeometry &Geo) : G(Geo) {
    bool Pointwise = G.KernelSize == 1;
    for (size_t D = 0; D < G.Rank; ++D)
      Pointwise = Pointwise && G.Stride[D] == 1 && G.PadBegin[D] == 0 && G.Out[D] == G.In[D];
    // Groups == 1 with one input channel (e.g. a grayscale stem) is a small ordinary GEMM.
    How = G.GroupChannels == 1 && G.Groups > 1 ? Method::Direct
          : Pointwise                          ? Method::Pointwise
                                               : Method::Im2Col;
    if (G.OutPlane == 0 || G.Batch == 0 || G.Filters == 0)
      How = Method::Direct; // empty output: nothing to compute, no scratch
  }

  const ConvGeometry &geometry() const { return G; }
  // Fused activation, applied to each output plane (direct) or GEMM tile as it is finished.
  void setEpilogue(const Epilogue &E) {
    (Residual ? AfterResidual : Ep) = E;
  }
  // A residual input Z (run()'s Z, shaped like Y): Y = act(conv + B + Z), an Add the compiler
  // folded in. The paths then compute conv + B alone and add Z (then the activation) per plane,
  // or, with row bands, per few rows of a sliver while they are in cache. Call before
  // setEpilogue().
  void setResidual() { Residual = true; }
  size_t scratchBytes() const {
    if (UseShifted)
      return Shifted.scratchBytes();
    if (UseBands)
      return Bands.scratchBytes();
    const size_t Col = How == Method::Im2Col && !PanelIm2Col
                           ? G.GroupChannels * G.KernelSize * G.OutPlane * sizeof(T)
                           : 0;
    if (PackedWT.empty())
      return Col;
    return (Col + 63) / 64 * 64 + G.OutPlane * G.GroupFilters * sizeof(T); // + Y^T
  }
  // Constant float weights (W, Filters x C/G x kernel): packed per group once, at load, into the
  // GEMM's A layout, so runs neither pack A nor (im2col) materialise the column matrix. Call
  // before scratchBytes(). Throws std::bad_alloc when memory runs out.
  void packWeights(const T *W) {
    if constexpr (std::is_same_v<T, float>) {
      if (How == Method::Direct)
        return;
      const size_t KRows = G.GroupChannels * G.KernelSize;
      // Y^T = Col^T W^T, the filters as the columns and the pixels as the rows: output planes
      // narrower than two tile widths (7x7 = 49 with 32-wide tiles) would waste up to half of
      // each vector as C columns, where a short last row block costs little; deep pointwise
      // convs (enough depth to pay for transposing the result back) when that pads less (14x14
      // = 196: 224 columns vs 204 rows; 576->96 at 14x14: 0.239 -> 0.229 ms, while 96->576
      // slowed down). With the input read in place and the padding kernel rows skipped (row
      // bands), also 2-D kernels up to 64x64 output pixels: ResNet-18's 3x3 convs, 0.95-1.06x
      // ORT's time where the other ways took 1.07-1.24x.
      const size_t NR = gemmTileWidth(), MR = gemmTileHeight();
      auto roundUp = [](size_t V, size_t To) { return (V + To - 1) / To * To; };
      const bool TransposedPadsLess =
          How == Method::Pointwise && KRows >= 256 &&
          roundUp(G.OutPlane, MR) * roundUp(G.GroupFilters, NR) <
              roundUp(G.OutPlane, NR) * roundUp(G.GroupFilters, MR);
      // Larger planes only with enough filters (MobileNetV2's 3->32 stem: 0.37 -> 0.41 ms as
      // Y^T), up to 4096 pixels (the largest measured: 56x56), and shallow kernels up to 16384
      // (ResNet-18's 3-channel 7x7 stem at 112x112: 1.20x -> 0.99x ORT). Strided 1x1 convs
      // gain too (64->128 stride 2 at 56x56: 1.16x -> 1.02x).
      const bool Shallow = G.GroupChannels * size_t(G.Kernel[1]) < 64;
      const bool InPlace = G.Rank == 2 && (G.Stride[1] == 1 || G.Stride[1] == 2) &&
                           G.OutPlane <= (Shallow ? 4 : 1) * RowBandsMaxPlane;
      const bool BandsFit =
          How == Method::Im2Col ? G.OutPlane < 2 * NR || InPlace
                                : G.OutPlane < 2 * NR || TransposedPadsLess;
      if (BandsFit && G.GroupFilters >= 2 * NR && ConvRowBandsEnabled.load() && Bands.plan(G)) {
        Bands.packWeights(W);
        UseBands = true;
        return;
      }
      if ((G.OutPlane < 2 * NR || TransposedPadsLess) && G.GroupFilters >= 2 * NR) {
        std::vector<PackedB> Packs(G.Groups);
        for (size_t Gi = 0; Gi < G.Groups; ++Gi)
          Packs[Gi].pack(KRows, G.GroupFilters, true, W + Gi * G.GroupFilters * KRows, KRows);
        PackedWT = std::move(Packs);
        return;
      }
      std::vector<PackedA> Packs(G.Groups);
      for (size_t Gi = 0; Gi < G.Groups; ++Gi)
        Packs[Gi].pack(G.GroupFilters, KRows, false, W + Gi * G.GroupFilters * KRows, KRows);
      PackedW = std::move(Packs);
      if (How == Method::Pointwise) {
        PlaneRows.resize(KRows);
        for (size_t K = 0; K < KRows; ++K)
          PlaneRows[K] = K * G.InPlane;
      }
      UseShifted = How == Method::Im2Col && ConvShiftedRowsEnabled.load() && Shifted.plan(G);
      PanelIm2Col = How == Method::Im2Col && !UseShifted &&
                    KRows * G.OutPlane * sizeof(float) > ConvPanelIm2ColMinBytes.load();
    } else {
      (void)W;
    }
  }
  bool weightsPacked() const { return !PackedW.empty() || !PackedWT.empty() || UseBands; }
  // Refuses an im2col buffer past the tensor size cap.
  void checkScratch(const NodeContext &Ctx) const {
    if (How == Method::Im2Col &&
        uint64_t(G.GroupChannels) * G.KernelSize * G.OutPlane > MaxTensorBytes / sizeof(T))
      Ctx.unsupported("im2col buffer would exceed " + std::to_string(MaxTensorBytes) + " bytes");
  }

  // Y = conv(X, W) + B (B may be null), + Z after setResidual() (Z must not alias Y), then the
  // activation. Scratch: scratchBytes(), 64-aligned.
  void run(const KernelContext &Ctx, const T *X, const T *W, const T *B, T *Y,
           std::byte *Scratch, const T *Z = nullptr) const {
    if (How == Method::Direct)
      runDirect(Ctx, X, W, B, Y);
    else
      runGemm(Ctx, X, W, B, Y, reinterpret_cast<T *>(Scratch), Residual ? Z : nullptr);
    if (Residual && Z && !UseBands) // row bands add it themselves, while the rows are in cache
      addResidual(Ctx, Y, Z);
  }

private:
  // Y = act(Y + Z) over the whole output, a plane at a time.
  void addResidual(const KernelContext &Ctx, T *Y, const T *Z) const {
    const size_t Planes = G.Batch * G.Filters, Plane = G.OutPlane;
    const size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, Plane));
    Ctx.parallelFor(Planes, Grain, [&](size_t Begin, size_t End) {
      addThenApply(Y + Begin * Plane, Z + Begin * Plane, (End - Begin) * Plane, AfterResidual);
    });
  }

  void fillBias(const T *B, T *Plane, size_t Filter) const {
    std::fill(Plane, Plane + G.OutPlane, B ? B[Filter] : T(0));
  }

  // 2-D 3x3 kernel, dilation 1, equal strides 1 or 2 (any padding): the vectorised float32
  // depthwise kernel (simd/VecMath.h), bias fused, and Relu / Clip applied in registers.
  bool isDepthwise3x3() const {
    return G.Rank == 2 && G.Kernel[0] == 3 && G.Kernel[1] == 3 && G.Dilation[0] == 1 &&
           G.Dilation[1] == 1 && G.Stride[0] == G.Stride[1] && (G.Stride[0] == 1 || G.Stride[0] == 2);
  }

  void runDepthwise3x3(const KernelContext &Ctx, const float *X, const float *W, const float *B,
                       float *Y) const {
    const simd::VecMathTable &VM = simd::vecMath();
    // The epilogues the kernel applies itself (same formulas as these vector functions); any
    // other one runs per plane after the kernel.
    int Act = simd::DwActNone;
    if (Ep.F32 == &epilogue_detail::applySimd<simd::UnaryReluKeepNaN>)
      Act = simd::DwActRelu;
    else if (Ep.F32 == &epilogue_detail::applySimd<simd::UnaryClip>)
      Act = simd::DwActClip;
    const bool PerPlaneEp = Ep.active() && Act == simd::DwActNone;
    size_t Planes = G.Batch * G.Filters;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 15) / std::max<size_t>(1, G.OutPlane * 9));
    Ctx.parallelFor(Planes, Grain, [&](size_t Begin, size_t End) {
      for (size_t P = Begin; P < End;) {
        size_t N = P / G.Filters, M = P % G.Filters;
        size_t C = M / G.GroupFilters; // the group's only input channel
        // One call for consecutive planes of one image when input planes follow each other too
        // (one filter per group); one plane at a time otherwise or for a per-plane epilogue.
        size_t Count = 1;
        if (G.GroupFilters == 1 && !PerPlaneEp)
          Count = std::min(End - P, G.Filters - M);
        simd::Depthwise3x3Args A;
        A.In = X + (N * G.Channels + C) * G.InPlane;
        A.W = W + M * 9;
        A.Bias = B ? B + M : nullptr;
        A.Out = Y + P * G.OutPlane;
        A.Planes = Count;
        A.InH = size_t(G.In[0]);
        A.InW = size_t(G.In[1]);
        A.OutH = size_t(G.Out[0]);
        A.OutW = size_t(G.Out[1]);
        A.Stride = size_t(G.Stride[0]);
        A.PadT = size_t(G.PadBegin[0]);
        A.PadL = size_t(G.PadBegin[1]);
        A.Act = Act;
        A.ActLo = float(Ep.P0);
        A.ActHi = float(Ep.P1);
        VM.Depthwise3x3(A);
        if (PerPlaneEp)
          Ep.apply(A.Out, G.OutPlane);
        P += Count;
      }
    });
  }

  void runDirect(const KernelContext &Ctx, const T *X, const T *W, const T *B, T *Y) const {
    if constexpr (std::is_same_v<T, float>) {
      if (isDepthwise3x3()) {
        runDepthwise3x3(Ctx, X, W, B, Y);
        return;
      }
    }
    size_t Planes = G.Batch * G.Filters;
    size_t Grain = std::max<size_t>(
        1, (size_t(1) << 14) / std::max<size_t>(1, G.OutPlane * G.KernelSize));
    const int64_t S = G.Stride[G.Rank - 1];
    Ctx.parallelFor(Planes, Grain, [&](size_t Begin, size_t End) {
      int64_t KPos[ConvMaxSpatial];
      for (size_t P = Begin; P < End; ++P) {
        size_t N = P / G.Filters, M = P % G.Filters;
        size_t C = M / G.GroupFilters; // the group's only input channel
        const T *In = X + (N * G.Channels + C) * G.InPlane;
        T *Out = Y + P * G.OutPlane;
        fillBias(B, Out, M);
        for (size_t K = 0; K < G.KernelSize; ++K) {
          T Wv = W[M * G.KernelSize + K];
          convKernelCoords(G, K, KPos);
          sweepOutputRows(G, KPos, [&](size_t OutOff, bool Valid, int64_t InBase, int64_t Lo,
                                       int64_t Hi) {
            if (!Valid || Hi <= Lo)
              return;
            T *O = Out + OutOff + Lo;
            const T *I = In + (InBase + Lo * S); // first in-range input element
            int64_t Count = Hi - Lo;
            if (S == 1)
              for (int64_t C = 0; C < Count; ++C)
                O[C] += Wv * I[C];
            else
              for (int64_t C = 0; C < Count; ++C)
                O[C] += Wv * I[C * S];
          });
        }
        Ep.apply(Out, G.OutPlane);
      }
    });
  }

  // Rows [Begin, End) of a 2-D im2col: the general sweep below with its per-row bookkeeping
  // hoisted (small images have short rows, and that bookkeeping was most of the cost).
  void im2col2d(const T *In, T *Col, size_t Begin, size_t End) const {
    const int64_t OH = G.Out[0], OW = G.Out[1], IH = G.In[0], IW = G.In[1];
    const int64_t SH = G.Stride[0], SW = G.Stride[1], KW = G.Kernel[1];
    for (size_t R = Begin; R < End; ++R) {
      const T *Channel = In + (R / G.KernelSize) * G.InPlane;
      const int64_t K = int64_t(R % G.KernelSize), Kh = K / KW, Kw = K % KW;
      const int64_t ShiftH = Kh * G.Dilation[0] - G.PadBegin[0];
      const int64_t ShiftW = Kw * G.Dilation[1] - G.PadBegin[1];
      // Output columns [Lo, Hi) read input columns inside the image.
      int64_t Lo = ShiftW >= 0 ? 0 : convCeilDiv(-ShiftW, SW);
      int64_t Hi = IW - 1 - ShiftW < 0 ? 0 : (IW - 1 - ShiftW) / SW + 1;
      Lo = std::min(Lo, OW);
      Hi = std::max(Lo, std::min(Hi, OW));
      T *O = Col + R * G.OutPlane;
      for (int64_t Oh = 0; Oh < OH; ++Oh, O += OW) {
        const int64_t Ih = Oh * SH + ShiftH;
        if (Ih < 0 || Ih >= IH) {
          std::fill(O, O + OW, T(0));
          continue;
        }
        for (int64_t C = 0; C < Lo; ++C)
          O[C] = T(0);
        if (Hi > Lo) {
          const T *I = Channel + (Ih * IW + ShiftW + Lo * SW); // first in-range input element
          const size_t Count = size_t(Hi - Lo);
          if (SW == 1)
            copyRun(O + Lo, I, Count);
          else if (SW == 2) // a constant stride the compiler vectorises (even/odd shuffles)
            for (size_t C = 0; C < Count; ++C)
              O[Lo + int64_t(C)] = I[C * 2];
          else
            for (size_t C = 0; C < Count; ++C)
              O[Lo + int64_t(C)] = I[int64_t(C) * SW];
        }
        for (int64_t C = Hi; C < OW; ++C)
          O[C] = T(0);
      }
    }
  }

  // Col[(c, k), p] for one image and group, rows split across tasks.
  void im2col(const KernelContext &Ctx, const T *In, T *Col) const {
    size_t Rows = G.GroupChannels * G.KernelSize;
    const int64_t S = G.Stride[G.Rank - 1];
    const int64_t Width = G.Out[G.Rank - 1];
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, G.OutPlane));
    if (G.Rank == 2) {
      Ctx.parallelFor(Rows, Grain, [&](size_t Begin, size_t End) { im2col2d(In, Col, Begin, End); });
      return;
    }
    Ctx.parallelFor(Rows, Grain, [&](size_t Begin, size_t End) {
      int64_t KPos[ConvMaxSpatial];
      for (size_t R = Begin; R < End; ++R) {
        const T *Channel = In + (R / G.KernelSize) * G.InPlane;
        T *Dst = Col + R * G.OutPlane;
        convKernelCoords(G, R % G.KernelSize, KPos);
        sweepOutputRows(G, KPos, [&](size_t OutOff, bool Valid, int64_t InBase, int64_t Lo,
                                     int64_t Hi) {
          T *O = Dst + OutOff;
          if (!Valid || Hi <= Lo) {
            std::fill(O, O + Width, T(0));
            return;
          }
          std::fill(O, O + Lo, T(0));
          const T *I = Channel + (InBase + Lo * S); // first in-range input element
          int64_t Count = Hi - Lo;
          if (S == 1)
            copyRun(O + Lo, I, size_t(Count));
          else
            for (int64_t C = 0; C < Count; ++C)
              O[Lo + C] = I[C * S];
          std::fill(O + Hi, O + Width, T(0));
        });
      }
    });
  }

  // BPanelSource for one image and group: the im2col matrix's rows [K0, K0 + Kc) and columns
  // (output pixels) [N0, N1), written straight into NR-wide packed slivers.
  struct Im2ColSource {
    const ConvEngine *Engine;
    const T *In; // the group's first input channel
  };

  static void packIm2Col(const void *Self, size_t K0, size_t Kc, size_t N0, size_t N1, size_t NR,
                         float *Dst) {
    if constexpr (std::is_same_v<T, float>) {
      const auto &Src = *static_cast<const Im2ColSource *>(Self);
      const ConvGeometry &G = Src.Engine->G;
      const size_t L = G.Rank - 1;
      const int64_t S = G.Stride[L];
      const size_t Width = size_t(G.Out[L]);
      const size_t SliverStep = NR * Kc;
      // Output row (all dims but the last) and column of pixel N0: the same for every k.
      int64_t Index0[ConvMaxSpatial] = {};
      for (size_t D = L, Rem = N0 / Width; D-- > 0; Rem /= size_t(G.Out[D]))
        Index0[D] = int64_t(Rem % size_t(G.Out[D]));
      int64_t KPos[ConvMaxSpatial];
      for (size_t Kk = 0; Kk < Kc; ++Kk) {
        const size_t K = K0 + Kk;
        const float *Channel = Src.In + (K / G.KernelSize) * G.InPlane;
        convKernelCoords(G, K % G.KernelSize, KPos);
        // Valid output columns [Lo, Hi) of the last dim, as in sweepOutputRows.
        const int64_t Shift = KPos[L] * G.Dilation[L] - G.PadBegin[L];
        int64_t Lo = Shift >= 0 ? 0 : convCeilDiv(-Shift, S);
        int64_t Hi = G.In[L] - 1 - Shift < 0 ? 0 : (G.In[L] - 1 - Shift) / S + 1;
        Lo = std::min<int64_t>(Lo, int64_t(Width));
        Hi = std::max(Lo, std::min<int64_t>(Hi, int64_t(Width)));
        // Write cursor: row Kk of the current sliver, column Pos.
        float *O = Dst + Kk * NR;
        size_t Pos = 0;
        auto zeros = [&](size_t Count) {
          while (Count) {
            size_t Run = std::min(Count, NR - Pos);
            std::fill(O + Pos, O + Pos + Run, 0.0f);
            Count -= Run;
            if ((Pos += Run) == NR) {
              Pos = 0;
              O += SliverStep;
            }
          }
        };
        auto copy = [&](const float *I, size_t Count) { // I: first input element
          while (Count) {
            size_t Run = std::min(Count, NR - Pos);
            float *To = O + Pos;
            if (S == 1)
              for (size_t C = 0; C < Run; ++C)
                To[C] = I[C];
            else if (S == 2) // a constant stride the compiler vectorises
              for (size_t C = 0; C < Run; ++C)
                To[C] = I[C * 2];
            else
              for (size_t C = 0; C < Run; ++C)
                To[C] = I[int64_t(C) * S];
            I += int64_t(Run) * S;
            Count -= Run;
            if ((Pos += Run) == NR) {
              Pos = 0;
              O += SliverStep;
            }
          }
        };
        int64_t Index[ConvMaxSpatial];
        std::copy(Index0, Index0 + L, Index);
        size_t Col = N0 % Width;
        for (size_t P = N0; P < N1;) {
          const size_t End = std::min(Width, Col + (N1 - P));
          bool Valid = true;
          int64_t InBase = Shift;
          for (size_t D = 0; D < L; ++D) {
            int64_t I = Index[D] * G.Stride[D] + KPos[D] * G.Dilation[D] - G.PadBegin[D];
            Valid = Valid && I >= 0 && I < G.In[D];
            InBase += I * G.InStride[D];
          }
          if (!Valid) {
            zeros(End - Col);
          } else {
            const size_t A = size_t(std::clamp<int64_t>(Lo, int64_t(Col), int64_t(End)));
            const size_t Bnd = size_t(std::clamp<int64_t>(Hi, int64_t(Col), int64_t(End)));
            zeros(A - Col);
            if (Bnd > A)
              copy(Channel + (InBase + int64_t(A) * S), Bnd - A);
            zeros(End - Bnd);
          }
          P += End - Col;
          Col = 0;
          for (size_t D = L; D-- > 0;) { // next output row
            if (++Index[D] < G.Out[D])
              break;
            Index[D] = 0;
          }
        }
        if (Pos) // the last sliver's columns past N1
          std::fill(O + Pos, O + NR, 0.0f);
      }
    } else {
      (void)Self, (void)K0, (void)Kc, (void)N0, (void)N1, (void)NR, (void)Dst;
    }
  }

  // Y = (Col^T W^T)^T for one image and group: Col^T comes from im2col (or is X^T when
  // pointwise), W^T pre-packed; the small Y^T is transposed back with bias and activation.
  void runTransposed(const KernelContext &Ctx, const float *In, const PackedB &Wt,
                     const float *Bias, float *Out, std::byte *Scratch) const {
    const size_t KRows = G.GroupChannels * G.KernelSize, ColBytes =
        How == Method::Im2Col ? (KRows * G.OutPlane * sizeof(float) + 63) / 64 * 64 : 0;
    const float *Matrix = In;
    if (How == Method::Im2Col) {
      float *Col = reinterpret_cast<float *>(Scratch);
      im2col(Ctx, In, Col);
      Matrix = Col;
    }
    float *Yt = reinterpret_cast<float *>(Scratch + ColBytes);
    GemmShape S;
    S.M = G.OutPlane;
    S.N = G.GroupFilters;
    S.K = KRows;
    S.TransA = true; // Col is K x pixels
    S.Lda = G.OutPlane;
    S.Ldc = G.GroupFilters;
    sgemmPacked(S, 1.0f, Matrix, Wt, 0.0f, Yt, &Ctx);
    const size_t Pixels = G.OutPlane, Filters = G.GroupFilters;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 13) / std::max<size_t>(1, Pixels));
    Ctx.parallelFor(Filters, Grain, [&](size_t Begin, size_t End) {
      for (size_t M = Begin; M < End; ++M) {
        float *Row = Out + M * Pixels;
        const float Bv = Bias ? Bias[M] : 0.0f;
        for (size_t P = 0; P < Pixels; ++P)
          Row[P] = Yt[P * Filters + M] + Bv;
        Ep.apply(Row, Pixels);
      }
    });
  }

  void runGemm(const KernelContext &Ctx, const T *X, const T *W, const T *B, T *Y,
               T *Col, const T *Z) const {
    size_t KRows = G.GroupChannels * G.KernelSize;
    GemmShape Shape;
    Shape.M = G.GroupFilters;
    Shape.N = G.OutPlane;
    Shape.K = KRows;
    Shape.Lda = KRows;
    Shape.Ldb = G.OutPlane;
    Shape.Ldc = G.OutPlane;
    for (size_t N = 0; N < G.Batch; ++N) {
      for (size_t Gi = 0; Gi < G.Groups; ++Gi) {
        const T *In = X + (N * G.Channels + Gi * G.GroupChannels) * G.InPlane;
        T *Out = Y + (N * G.Filters + Gi * G.GroupFilters) * G.OutPlane;
        if constexpr (std::is_same_v<T, float>) {
          if (!PackedWT.empty()) {
            runTransposed(Ctx, In, PackedWT[Gi], B ? B + Gi * G.GroupFilters : nullptr, Out,
                          reinterpret_cast<std::byte *>(Col));
            continue;
          }
        }
        if constexpr (std::is_same_v<T, float>) {
          if (UseBands) {
            const size_t Offset = (N * G.Filters + Gi * G.GroupFilters) * G.OutPlane;
            Bands.run(Ctx, Gi, In, B ? B + Gi * G.GroupFilters : nullptr, Z ? AfterResidual : Ep,
                      Out, reinterpret_cast<std::byte *>(Col), Z ? Z + Offset : nullptr);
            continue;
          }
        }
        if constexpr (std::is_same_v<T, float>) {
          if (UseShifted) {
            Shifted.run(Ctx, PackedW[Gi], In, B ? B + Gi * G.GroupFilters : nullptr, Ep, Out,
                        reinterpret_cast<std::byte *>(Col));
            continue;
          }
        }
        if constexpr (std::is_same_v<T, float>) {
          if (!PackedW.empty()) {
            // The bias goes in with the epilogue, per finished tile: filling the output with it
            // first cost a whole extra pass over it (MobileNetV2's 112x112 1x1 convs).
            const float *Bias = B ? B + Gi * G.GroupFilters : nullptr;
            const Epilogue *E = Ep.active() ? &Ep : nullptr;
            if (How == Method::Im2Col && !PanelIm2Col) {
              im2col(Ctx, In, Col);
              sgemmPackedA(Shape, 1.0f, PackedW[Gi], Col, 0.0f, Out, &Ctx, E, nullptr, Bias);
            } else if (How == Method::Im2Col) {
              Im2ColSource Src{this, In};
              BPanelSource Panels{&ConvEngine::packIm2Col, &Src};
              sgemmPackedA(Shape, 1.0f, PackedW[Gi], nullptr, 0.0f, Out, &Ctx, E, &Panels, Bias);
            } else {
              // The input's channel planes are B's rows: read in place through their offsets
              // instead of packed per run (192->64 at 28x28: 0.215 -> 0.203 ms).
              sgemmPackedARows(Shape, PackedW[Gi], BRowTable{In, PlaneRows.data()}, Out, &Ctx, E,
                               Bias);
            }
            continue;
          }
        }
        if (B)
          for (size_t M = 0; M < G.GroupFilters; ++M)
            fillBias(B, Out + M * G.OutPlane, Gi * G.GroupFilters + M);
        const T *Matrix = In;
        if (How == Method::Im2Col) {
          im2col(Ctx, In, Col);
          Matrix = Col;
        }
        const T *Wg = W + Gi * G.GroupFilters * KRows;
        gemmAny<T>(Shape, Wg, Matrix, B != nullptr, Out, &Ctx, &Ep);
      }
    }
  }

  ConvGeometry G;
  Method How = Method::Direct;
  Epilogue Ep;            // applied by the paths: none with a residual, which comes first
  Epilogue AfterResidual; // with a residual: the activation, after it
  bool Residual = false;
  std::vector<PackedA> PackedW;  // per group; empty unless packWeights ran (float only)
  std::vector<size_t> PlaneRows; // with PackedW, pointwise: B row k (input plane k) at k * InPlane
  std::vector<PackedB> PackedWT; // per group W^T: instead of PackedW for small output planes
  bool PanelIm2Col = false;      // with PackedW: im2col straight into packed B panels
  ShiftedRows Shifted;           // with PackedW: planned for stride-1 2-D convs (UseShifted)
  bool UseShifted = false;
  RowBands Bands;                // small padded output planes: Y^T without padding kernel rows
  bool UseBands = false;
};

} // namespace optima_v2::native
