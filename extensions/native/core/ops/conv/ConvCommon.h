// Shared by Conv, ConvInteger, QLinearConv and ConvTranspose: attribute parsing into a geometry
// planned at load, and a type-generic convolution engine (direct, pointwise or im2col + GEMM).
#pragma once

#include "../../Gemm.h"
#include "../../NodeContext.h"
#include "GemmGeneric.h"
#include "../../simd/VecMath.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

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

// Convolution over contiguous NC<spatial> data of compute type T (float, double or int32):
//  - one input channel per group (depthwise and similar): direct accumulation, no scratch;
//  - 1x1 kernel, stride 1, no padding: the input already is the im2col matrix, GEMM only;
//  - otherwise: im2col into scratch, then the GEMM, per image and group.
template <typename T> class ConvEngine {
public:
  enum class Method { Direct, Pointwise, Im2Col };

  ConvEngine() = default;
  explicit ConvEngine(const ConvGeometry &Geo) : G(Geo) {
    bool Pointwise = G.KernelSize == 1;
    for (size_t D = 0; D < G.Rank; ++D)
      Pointwise = Pointwise && G.Stride[D] == 1 && G.PadBegin[D] == 0 && G.Out[D] == G.In[D];
    How = G.GroupChannels == 1 ? Method::Direct : Pointwise ? Method::Pointwise : Method::Im2Col;
    if (G.OutPlane == 0 || G.Batch == 0 || G.Filters == 0)
      How = Method::Direct; // empty output: nothing to compute, no scratch
  }

  const ConvGeometry &geometry() const { return G; }
  // Fused activation, applied to each output plane (direct) or GEMM tile as it is finished.
  void setEpilogue(const Epilogue &E) { Ep = E; }
  size_t scratchBytes() const {
    return How == Method::Im2Col ? G.GroupChannels * G.KernelSize * G.OutPlane * sizeof(T) : 0;
  }
  // Refuses an im2col buffer past the tensor size cap.
  void checkScratch(const NodeContext &Ctx) const {
    if (How == Method::Im2Col &&
        uint64_t(G.GroupChannels) * G.KernelSize * G.OutPlane > MaxTensorBytes / sizeof(T))
      Ctx.unsupported("im2col buffer would exceed " + std::to_string(MaxTensorBytes) + " bytes");
  }

  // Y = conv(X, W) + B (B may be null). Scratch: scratchBytes(), 64-aligned.
  void run(const KernelContext &Ctx, const T *X, const T *W, const T *B, T *Y,
           std::byte *Scratch) const {
    if (How == Method::Direct)
      runDirect(Ctx, X, W, B, Y);
    else
      runGemm(Ctx, X, W, B, Y, reinterpret_cast<T *>(Scratch));
  }

private:
  void fillBias(const T *B, T *Plane, size_t Filter) const {
    std::fill(Plane, Plane + G.OutPlane, B ? B[Filter] : T(0));
  }

  // 2-D 3x3 kernel, dilation 1, equal strides 1 or 2 (any padding): the vectorised float32
  // depthwise plane kernel (simd/VecMath.h), bias and epilogue fused per plane.
  bool isDepthwise3x3() const {
    return G.Rank == 2 && G.Kernel[0] == 3 && G.Kernel[1] == 3 && G.Dilation[0] == 1 &&
           G.Dilation[1] == 1 && G.Stride[0] == G.Stride[1] && (G.Stride[0] == 1 || G.Stride[0] == 2);
  }

  void runDepthwise3x3(const KernelContext &Ctx, const float *X, const float *W, const float *B,
                       float *Y) const {
    const simd::VecMathTable &VM = simd::vecMath();
    size_t Planes = G.Batch * G.Filters;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 15) / std::max<size_t>(1, G.OutPlane * 9));
    Ctx.parallelFor(Planes, Grain, [&](size_t Begin, size_t End) {
      for (size_t P = Begin; P < End; ++P) {
        size_t N = P / G.Filters, M = P % G.Filters;
        size_t C = M / G.GroupFilters; // the group's only input channel
        simd::Depthwise3x3Args A;
        A.In = X + (N * G.Channels + C) * G.InPlane;
        A.W = W + M * 9;
        A.Bias = B ? B[M] : 0.0f;
        A.Out = Y + P * G.OutPlane;
        A.InH = size_t(G.In[0]);
        A.InW = size_t(G.In[1]);
        A.OutH = size_t(G.Out[0]);
        A.OutW = size_t(G.Out[1]);
        A.Stride = size_t(G.Stride[0]);
        A.PadT = size_t(G.PadBegin[0]);
        A.PadL = size_t(G.PadBegin[1]);
        VM.Depthwise3x3(A);
        Ep.apply(A.Out, G.OutPlane);
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

  // Col[(c, k), p] for one image and group, rows split across tasks.
  void im2col(const KernelContext &Ctx, const T *In, T *Col) const {
    size_t Rows = G.GroupChannels * G.KernelSize;
    const int64_t S = G.Stride[G.Rank - 1];
    const int64_t Width = G.Out[G.Rank - 1];
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, G.OutPlane));
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
            std::memcpy(O + Lo, I, size_t(Count) * sizeof(T));
          else
            for (int64_t C = 0; C < Count; ++C)
              O[Lo + C] = I[C * S];
          std::fill(O + Hi, O + Width, T(0));
        });
      }
    });
  }

  void runGemm(const KernelContext &Ctx, const T *X, const T *W, const T *B, T *Y,
               T *Col) const {
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
        const T *Wg = W + Gi * G.GroupFilters * KRows;
        T *Out = Y + (N * G.Filters + Gi * G.GroupFilters) * G.OutPlane;
        const T *Matrix = In;
        if (How == Method::Im2Col) {
          im2col(Ctx, In, Col);
          Matrix = Col;
        }
        if (B)
          for (size_t M = 0; M < G.GroupFilters; ++M)
            fillBias(B, Out + M * G.OutPlane, Gi * G.GroupFilters + M);
        gemmAny<T>(Shape, Wg, Matrix, B != nullptr, Out, &Ctx, &Ep);
      }
    }
  }

  ConvGeometry G;
  Method How = Method::Direct;
  Epilogue Ep;
};

} // namespace optima_v2::native
