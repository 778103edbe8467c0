// GridSample (opset 16/20/22 semantics): Y[n, c, o...] = X[n, c] sampled at the normalized
// coordinates grid[n, o..., :], whose last axis lists (x, y[, z]) — innermost X axis first.
// Modes nearest / linear (opset 16: bilinear) / cubic (opset 16: bicubic, Keys a = -0.75);
// padding zeros / border / reflection; align_corners. Spatial rank 1 to 3 (opset 20+ N-D).
// X and grid: F32, F16, BF16, F64 (each independently). Coordinates and sums are computed in
// float (double for F64 data), as onnx's reference does with float32 grids.
//
// Per output position the taps of each axis (index + weight, taps outside the image dropped
// in zeros mode) are found once, then combined for every channel.
#include "SpatialOps.h"

#include "../../TypeDispatch.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace optima_v2::native {

namespace {

constexpr size_t MaxRank = 3;
constexpr size_t MaxTaps = 4;

enum class SampleMode { Nearest, Linear, Cubic };
enum class PadMode { Zeros, Border, Reflection };

struct GridSampleParams {
  int32_t X = -1, Grid = -1, Y = -1;
  int32_t GridType = OPTIMA_ELEMENT_F32;
  size_t Batch = 0, Channels = 0, Rank = 0;
  int64_t In[MaxRank] = {};     // X spatial sizes (X axis order)
  size_t InStride[MaxRank] = {}; // element strides of those axes inside one plane
  size_t InPlane = 0, OutPlane = 0;
  SampleMode Mode = SampleMode::Linear;
  PadMode Pad = PadMode::Zeros;
  bool AlignCorners = false;
};

template <typename C> C loadAs(const void *Data, int32_t Type, size_t I) {
  switch (Type) {
  case OPTIMA_ELEMENT_F16: return C(toFloat(static_cast<const Half *>(Data)[I]));
  case OPTIMA_ELEMENT_BF16: return C(toFloat(static_cast<const BFloat16 *>(Data)[I]));
  case OPTIMA_ELEMENT_F64: return C(static_cast<const double *>(Data)[I]);
  default: return C(static_cast<const float *>(Data)[I]);
  }
}

// Integer part of an already integral (or floored) coordinate; NaN and far-away values map to
// indices outside any image so that every padding rule handles them without overflow.
template <typename C> int64_t toIndex(C X) {
  constexpr C Far = C(int64_t(1) << 40);
  if (!(X == X))
    return -(int64_t(1) << 41);
  if (X > Far)
    return int64_t(1) << 40;
  if (X < -Far)
    return -(int64_t(1) << 40);
  return int64_t(X);
}

// Reflects X by the nearer border until it lies in [Lo, Hi] (PyTorch's reflect_coordinates).
template <typename C> C reflect(C X, C Lo, C Hi) {
  C Range = Hi - Lo;
  if (!(Range > C(0)))
    return Lo;
  if (X < Lo) {
    C Dx = Lo - X;
    C Flips = std::floor(Dx / Range);
    C R = Dx - Flips * Range;
    return std::fmod(Flips, C(2)) == C(0) ? Lo + R : Hi - R;
  }
  if (X > Hi) {
    C Dx = X - Hi;
    C Flips = std::floor(Dx / Range);
    C R = Dx - Flips * Range;
    return std::fmod(Flips, C(2)) == C(0) ? Hi - R : Lo + R;
  }
  return X;
}

template <typename C> void cubicCoeffs(C T, C *W) {
  const C A = C(-0.75);
  C X0 = T + 1, X1 = T, X2 = 1 - T, X3 = 2 - T;
  W[0] = ((A * X0 - 5 * A) * X0 + 8 * A) * X0 - 4 * A;
  W[1] = ((A + 2) * X1 - (A + 3)) * X1 * X1 + 1;
  W[2] = ((A + 2) * X2 - (A + 3)) * X2 * X2 + 1;
  W[3] = ((A * X3 - 5 * A) * X3 + 8 * A) * X3 - 4 * A;
}

template <typename T> class GridSampleKernel final : public Kernel {
public:
  using C = ComputeType<T>;

  explicit GridSampleKernel(const GridSampleParams &P) : P(P) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(P.X);
    const void *G = Ctx.Tensors[P.Grid];
    T *Y = Ctx.tensor<T>(P.Y);
    size_t Total = P.Batch * P.OutPlane;
    size_t Grain = std::max<size_t>(1, 4096 / std::max<size_t>(1, P.Channels));
    Ctx.parallelFor(Total, Grain, [&](size_t Begin, size_t End) {
      size_t Off[64];
      C Wt[64];
      for (size_t Pos = Begin; Pos < End; ++Pos) {
        size_t N = Pos / P.OutPlane, O = Pos % P.OutPlane;
        size_t Count = gather(G, Pos, Off, Wt);
        const T *XN = X + N * P.Channels * P.InPlane;
        T *YN = Y + N * P.Channels * P.OutPlane + O;
        for (size_t Ch = 0; Ch < P.Channels; ++Ch) {
          const T *Plane = XN + Ch * P.InPlane;
          C Sum = C(0);
          for (size_t K = 0; K < Count; ++K)
            Sum += Wt[K] * load(Plane[Off[K]]);
          YN[Ch * P.OutPlane] = store<T>(Sum);
        }
      }
    });
  }

private:
  // Index of pixel I along an axis of size L under the padding rule; false when it reads zero.
  bool pixel(int64_t I, int64_t L, C Lo, C Hi, int64_t &Out) const {
    switch (P.Pad) {
    case PadMode::Zeros:
      if (I < 0 || I >= L)
        return false;
      Out = I;
      return true;
    case PadMode::Border:
      Out = std::clamp<int64_t>(I, 0, L - 1);
      return true;
    case PadMode::Reflection:
      Out = std::clamp<int64_t>(toIndex(reflect(C(I), Lo, Hi)), 0, L - 1);
      return true;
    }
    return false;
  }

  // Offsets (inside one plane) and weights of every tap of output position Pos; their count.
  size_t gather(const void *G, size_t Pos, size_t *Off, C *Wt) const {
    size_t Count = 1;
    Off[0] = 0;
    Wt[0] = C(1);
    for (size_t D = 0; D < P.Rank; ++D) {
      int64_t L = P.In[D];
      // The grid lists the innermost axis first.
      C Norm = loadAs<C>(G, P.GridType, Pos * P.Rank + (P.Rank - 1 - D));
      C X = P.AlignCorners ? (Norm + 1) / 2 * C(L - 1) : ((Norm + 1) * C(L) - 1) / 2;
      if (P.Mode == SampleMode::Nearest)
        X = std::nearbyint(X); // ties to even, as PyTorch
      C Lo = P.AlignCorners ? C(0) : C(-0.5);
      C Hi = P.AlignCorners ? C(L - 1) : C(L) - C(0.5);
      if (X < Lo || X > Hi) {
        if (P.Pad == PadMode::Border)
          X = std::clamp(X, C(0), C(L - 1));
        else if (P.Pad == PadMode::Reflection)
          X = reflect(X, Lo, Hi);
      }
      int64_t Idx[MaxTaps];
      C W[MaxTaps];
      size_t Taps = 0;
      int64_t First;
      if (P.Mode == SampleMode::Nearest) {
        First = toIndex(X);
        W[0] = C(1);
        Taps = 1;
      } else {
        C Floor = std::floor(X);
        C Frac = X - Floor;
        if (!(Frac == Frac))
          Frac = C(0);
        First = toIndex(Floor);
        if (P.Mode == SampleMode::Linear) {
          W[0] = 1 - Frac;
          W[1] = Frac;
          Taps = 2;
        } else {
          cubicCoeffs(Frac, W);
          First -= 1;
          Taps = 4;
        }
      }
      size_t Kept = 0;
      for (size_t K = 0; K < Taps; ++K) {
        int64_t At;
        if (pixel(First + int64_t(K), L, Lo, Hi, At)) {
          Idx[Kept] = At;
          W[Kept] = W[K];
          ++Kept;
        }
      }
      if (Kept == 0)
        return 0;
      // Cartesian product with the taps of the previous axes (written back to front so the
      // existing entries are read before they are overwritten).
      for (size_t J = Count; J-- > 0;)
        for (size_t K = Kept; K-- > 0;) {
          Off[J * Kept + K] = Off[J] + size_t(Idx[K]) * P.InStride[D];
          Wt[J * Kept + K] = Wt[J] * W[K];
        }
      Count *= Kept;
    }
    return Count;
  }

  GridSampleParams P;
};

SampleMode parseMode(const NodeContext &Ctx) {
  std::string M = Ctx.getString("mode", "linear");
  if (M == "linear" || M == "bilinear")
    return SampleMode::Linear;
  if (M == "nearest")
    return SampleMode::Nearest;
  if (M == "cubic" || M == "bicubic")
    return SampleMode::Cubic;
  Ctx.invalidAttribute("mode", "expected \"linear\", \"nearest\" or \"cubic\", got \"" + M + "\"");
}

PadMode parsePad(const NodeContext &Ctx) {
  std::string M = Ctx.getString("padding_mode", "zeros");
  if (M == "zeros")
    return PadMode::Zeros;
  if (M == "border")
    return PadMode::Border;
  if (M == "reflection")
    return PadMode::Reflection;
  Ctx.invalidAttribute("padding_mode",
                       "expected \"zeros\", \"border\" or \"reflection\", got \"" + M + "\"");
}

} // namespace

std::unique_ptr<Kernel> makeGridSample(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"mode", "padding_mode", "align_corners"});
  const std::initializer_list<int32_t> Floats = {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16,
                                                 OPTIMA_ELEMENT_BF16, OPTIMA_ELEMENT_F64};
  Ctx.requireType(0, Floats);
  Ctx.requireType(1, Floats);
  const TensorInfo &X = *Ctx.input(0);
  const TensorInfo &Grid = *Ctx.input(1);
  if (X.Shape.size() < 3 || X.Shape.size() > MaxRank + 2)
    Ctx.unsupported("input \"" + X.Name + "\" of rank " + std::to_string(X.Shape.size()) +
                    ": only 1 to 3 spatial axes (rank 3 to 5)");
  size_t Rank = X.Shape.size() - 2;
  if (Grid.Shape.size() != Rank + 2 || Grid.Shape[0] != X.Shape[0] ||
      Grid.Shape.back() != int64_t(Rank))
    Ctx.invalid("grid \"" + Grid.Name + "\" must be [N, out spatial..., " + std::to_string(Rank) +
                "] for input " + describe(X.Type, X.Shape) + ", got " +
                describe(Grid.Type, Grid.Shape));
  GridSampleParams P;
  P.X = Ctx.inputId(0);
  P.Grid = Ctx.inputId(1);
  P.Y = Ctx.outputId(0);
  P.GridType = Grid.Type;
  P.Batch = size_t(X.Shape[0]);
  P.Channels = size_t(X.Shape[1]);
  P.Rank = Rank;
  P.Mode = parseMode(Ctx);
  P.Pad = parsePad(Ctx);
  int64_t Align = Ctx.getInt("align_corners", 0);
  if (Align != 0 && Align != 1)
    Ctx.invalidAttribute("align_corners", "must be 0 or 1");
  P.AlignCorners = Align == 1;
  Dims YShape{X.Shape[0], X.Shape[1]};
  P.InPlane = 1;
  P.OutPlane = 1;
  for (size_t D = Rank; D-- > 0;) {
    P.In[D] = X.Shape[D + 2];
    P.InStride[D] = P.InPlane;
    P.InPlane *= size_t(X.Shape[D + 2]);
  }
  for (size_t D = 0; D < Rank; ++D) {
    YShape.push_back(Grid.Shape[D + 1]);
    P.OutPlane *= size_t(Grid.Shape[D + 1]);
  }
  Ctx.expectOutput(0, X.Type, YShape);
  if (P.InPlane == 0 && P.OutPlane * P.Batch * P.Channels != 0)
    Ctx.invalid("input \"" + X.Name + "\" has an empty spatial axis but the output is not empty");
  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_floating_point_v<T> || isHalfLike<T>)
      K = std::make_unique<GridSampleKernel<T>>(P);
  });
  return K;
}

} // namespace optima_v2::native
