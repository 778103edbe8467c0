// Op family: Resize (opset 10 to 19 semantics) and the deprecated Upsample. Resize is separable:
// per resized axis, every output coordinate gets a fixed set of taps (clamped source indices and
// weights) computed at load exactly as the ONNX reference does (coordinate transformation,
// nearest rounding, linear / cubic / antialias coefficients, exclude_outside, tf_crop_and_resize
// extrapolation). nearest is then a type-agnostic index gather; linear and cubic run one pass per
// resized axis in float (double for F64 and 32/64-bit integers) through request scratch.
#include "../TypeDispatch.h"
#include "MoveUtil.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace optima_v2::native {

using namespace move;

namespace {

enum class Mode { Nearest, Linear, Cubic };
enum class Nearest { RoundPreferFloor, RoundPreferCeil, Floor, Ceil };

struct ResizeAttrs {
  Mode M = Mode::Nearest;
  Nearest NM = Nearest::RoundPreferFloor;
  std::string Ctm = "half_pixel";
  double CubicA = -0.75;
  bool ExcludeOutside = false;
  bool Antialias = false;
  double Extrapolation = 0;
};

// Taps of one resized axis: for output j, N indices/weights at [j * N, (j + 1) * N).
struct AxisTaps {
  size_t Axis = 0;
  int64_t In = 0, Out = 0;
  size_t N = 0;
  std::vector<int64_t> Index;
  std::vector<double> Weight;
  std::vector<uint8_t> Extrapolated;
};

double cubicCoeff(double X, double A) {
  X = std::fabs(X);
  if (X <= 1)
    return ((A + 2) * X - (A + 3)) * X * X + 1;
  if (X < 2)
    return ((A * X - 5 * A) * X + 8 * A) * X - 4 * A;
  return 0;
}

std::vector<double> coefficients(const ResizeAttrs &A, double Ratio, double Scale) {
  switch (A.M) {
  case Mode::Nearest: {
    if (Ratio == 1)
      return {0, 1};
    bool Up = false;
    switch (A.NM) {
    case Nearest::RoundPreferFloor: Up = Ratio > 0.5; break;
    case Nearest::RoundPreferCeil: Up = Ratio >= 0.5; break;
    case Nearest::Floor: Up = false; break;
    case Nearest::Ceil: Up = true; break;
    }
    return {Up ? 0.0 : 1.0, Up ? 1.0 : 0.0};
  }
  case Mode::Linear: {
    if (!A.Antialias)
      return {1 - Ratio, Ratio};
    double S = std::min(Scale, 1.0);
    int64_t Start = int64_t(std::floor(-1 / S) + 1);
    int64_t Footprint = 2 - 2 * Start;
    std::vector<double> C;
    double Sum = 0;
    for (int64_t I = Start; I < Start + Footprint; ++I) {
      double V = std::clamp(1 - std::fabs((double(I) - Ratio) * S), 0.0, 1.0);
      C.push_back(V);
      Sum += V;
    }
    for (double &V : C)
      V /= Sum;
    return C;
  }
  case Mode::Cubic: {
    double Cc = A.CubicA;
    if (!A.Antialias)
      return {((Cc * (Ratio + 1) - 5 * Cc) * (Ratio + 1) + 8 * Cc) * (Ratio + 1) - 4 * Cc,
              ((Cc + 2) * Ratio - (Cc + 3)) * Ratio * Ratio + 1,
              ((Cc + 2) * (1 - Ratio) - (Cc + 3)) * (1 - Ratio) * (1 - Ratio) + 1,
              ((Cc * ((1 - Ratio) + 1) - 5 * Cc) * ((1 - Ratio) + 1) + 8 * Cc) *
                      ((1 - Ratio) + 1) -
                  4 * Cc};
    double S = std::min(Scale, 1.0);
    int64_t Start = int64_t(std::floor(-2 / S) + 1), End = 2 - Start;
    std::vector<double> C;
    double Sum = 0;
    for (int64_t I = Start; I < End; ++I) {
      double V = cubicCoeff(S * (double(I) - Ratio), Cc);
      C.push_back(V);
      Sum += V;
    }
    for (double &V : C)
      V /= Sum;
    return C;
  }
  }
  return {};
}

AxisTaps planAxis(const ResizeAttrs &A, size_t Axis, int64_t In, int64_t Out, double Scale,
                  double Roi0, double Roi1) {
  AxisTaps T;
  T.Axis = Axis;
  T.In = In;
  T.Out = Out;
  double OutW = Scale * double(In);
  for (int64_t J = 0; J < Out; ++J) {
    double Y = double(J), X = 0;
    bool Extra = false;
    const std::string &C = A.Ctm;
    if (C == "align_corners") {
      X = OutW == 1 ? 0.0 : Y * double(In - 1) / (OutW - 1);
    } else if (C == "asymmetric") {
      X = Y / Scale;
    } else if (C == "tf_crop_and_resize") {
      X = OutW == 1 ? (Roi1 - Roi0) * double(In - 1) / 2
                    : Y * (Roi1 - Roi0) * double(In - 1) / (OutW - 1);
      X = X + Roi0 * double(In - 1);
      Extra = X < 0 || X > double(In - 1);
    } else if (C == "pytorch_half_pixel") {
      X = OutW == 1 ? -0.5 : (Y + 0.5) / Scale - 0.5;
    } else if (C == "half_pixel") {
      X = (Y + 0.5) / Scale - 0.5;
    } else { // half_pixel_symmetric
      double Adjustment = double(Out) / OutW;
      double Center = double(In) / 2;
      double Offset = Center * (1 - Adjustment);
      X = Offset + (Y + 0.5) / Scale - 0.5;
    }
    double Fl = std::floor(X);
    double Ratio = X == Fl ? 1.0 : X - Fl;
    std::vector<double> W = coefficients(A, Ratio, Scale);
    size_t N = W.size();
    if (T.N == 0)
      T.N = N;
    // The N nearest points in edge-padded coordinates, ties to the smaller index (reference
    // _get_neighbor): an even window starts at floor(x) - N/2 + 1, or floor(x) - N/2 when x is
    // an integer.
    int64_t P = int64_t(Fl);
    int64_t Start = X == Fl ? P - int64_t(N / 2) : P - int64_t(N / 2) + 1;
    std::vector<int64_t> Idx(N);
    for (size_t K = 0; K < N; ++K)
      Idx[K] = Start + int64_t(K);
    if (A.ExcludeOutside) {
      double Sum = 0;
      for (size_t K = 0; K < N; ++K) {
        if (Idx[K] < 0 || Idx[K] >= In)
          W[K] = 0;
        Sum += W[K];
      }
      if (Sum == 0)
        Sum = 1;
      for (double &V : W)
        V /= Sum;
    }
    for (size_t K = 0; K < N; ++K) {
      T.Index.push_back(std::clamp<int64_t>(Idx[K], 0, In - 1));
      T.Weight.push_back(W[K]);
    }
    T.Extrapolated.push_back(Extra);
  }
  return T;
}

// ---- interpolation kernel ------------------------------------------------------------------

template <typename T, typename Acc> class InterpolateKernel final : public Kernel {
public:
  InterpolateKernel(int32_t In, int32_t Out, Dims InShape, std::vector<AxisTaps> Passes,
                    double Extrapolation, size_t MaxElems)
      : In(In), Out(Out), InShape(std::move(InShape)), Passes(std::move(Passes)),
        Extrapolation(Acc(Extrapolation)), MaxElems(MaxElems) {}

  size_t scratchBytes() const override { return 2 * MaxElems * sizeof(Acc); }

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(In);
    T *Y = Ctx.tensor<T>(Out);
    Acc *Buf[2] = {reinterpret_cast<Acc *>(Ctx.Scratch),
                   reinterpret_cast<Acc *>(Ctx.Scratch) + MaxElems};
    size_t Count = 1;
    for (int64_t D : InShape)
      Count *= size_t(D);
    for (size_t I = 0; I < Count; ++I)
      Buf[0][I] = Acc(load(X[I]));
    int64_t Cur[OPTIMA_EXT_MAX_DIMS];
    for (size_t D = 0; D < InShape.size(); ++D)
      Cur[D] = InShape[D];
    size_t Src = 0;
    for (const AxisTaps &P : Passes) {
      size_t Outer = 1, Inner = 1;
      for (size_t D = 0; D < InShape.size(); ++D)
        if (D < P.Axis)
          Outer *= size_t(Cur[D]);
        else if (D > P.Axis)
          Inner *= size_t(Cur[D]);
      const Acc *I = Buf[Src];
      Acc *O = Buf[1 - Src];
      size_t Rows = Outer * size_t(P.Out);
      Ctx.parallelFor(Rows, std::max<size_t>(1, 2048 / std::max<size_t>(1, Inner * P.N)),
                      [&](size_t Begin, size_t End) {
                        for (size_t R = Begin; R < End; ++R) {
                          size_t Ob = R / size_t(P.Out), J = R % size_t(P.Out);
                          Acc *Dst = O + R * Inner;
                          if (P.Extrapolated[J]) {
                            std::fill(Dst, Dst + Inner, Extrapolation);
                            continue;
                          }
                          std::fill(Dst, Dst + Inner, Acc(0));
                          for (size_t K = 0; K < P.N; ++K) {
                            Acc W = Acc(P.Weight[J * P.N + K]);
                            if (W == Acc(0))
                              continue;
                            const Acc *S =
                                I + (Ob * size_t(P.In) + size_t(P.Index[J * P.N + K])) * Inner;
                            for (size_t Q = 0; Q < Inner; ++Q)
                              Dst[Q] += W * S[Q];
                          }
                        }
                      });
      Cur[P.Axis] = P.Out;
      Src = 1 - Src;
    }
    size_t OutCount = 1;
    for (size_t D = 0; D < InShape.size(); ++D)
      OutCount *= size_t(Cur[D]);
    const Acc *R = Buf[Src];
    for (size_t I = 0; I < OutCount; ++I)
      Y[I] = castOut(R[I]);
  }

private:
  static T castOut(Acc V) {
    if constexpr (std::is_integral_v<T>) {
      double D = std::nearbyint(double(V));
      D = std::clamp(D, double(std::numeric_limits<T>::lowest()),
                     double(std::numeric_limits<T>::max()));
      return T(D);
    } else {
      return store<T>(ComputeType<T>(V));
    }
  }

  int32_t In, Out;
  Dims InShape;
  std::vector<AxisTaps> Passes;
  Acc Extrapolation;
  size_t MaxElems;
};

// ---- factory -------------------------------------------------------------------------------

struct ResizeRequest {
  ResizeAttrs A;
  std::vector<double> Scales; // per axis of the input, empty when Sizes is used
  std::vector<int64_t> Sizes;
  std::vector<double> Roi;    // 2 * rank, or empty
  std::vector<int64_t> Axes;  // resized axes (normalised)
  std::string KeepAspect = "stretch";
};

std::unique_ptr<Kernel> buildResize(const NodeContext &Ctx, const ResizeRequest &Q) {
  const TensorInfo &X = *Ctx.input(0);
  size_t R = X.Shape.size();
  const ResizeAttrs &A = Q.A;
  // Expand per-axis parameters over all dims.
  std::vector<double> Scale(R, 1.0);
  Dims Out = X.Shape;
  std::vector<double> Roi0(R, 0.0), Roi1(R, 1.0);
  size_t NA = Q.Axes.size();
  if (!Q.Roi.empty()) {
    if (Q.Roi.size() != 2 * NA)
      Ctx.invalid("roi has " + std::to_string(Q.Roi.size()) + " values, expected " +
                  std::to_string(2 * NA));
    for (size_t I = 0; I < NA; ++I) {
      Roi0[size_t(Q.Axes[I])] = Q.Roi[I];
      Roi1[size_t(Q.Axes[I])] = Q.Roi[NA + I];
    }
  }
  if (!Q.Sizes.empty()) {
    if (Q.Sizes.size() != NA)
      Ctx.invalid("sizes has " + std::to_string(Q.Sizes.size()) + " values, expected " +
                  std::to_string(NA));
    for (size_t I = 0; I < NA; ++I) {
      size_t D = size_t(Q.Axes[I]);
      if (Q.Sizes[I] < 0)
        Ctx.invalid("sizes must be >= 0");
      if (X.Shape[D] == 0)
        Ctx.invalid("cannot resize an empty axis");
      Out[D] = Q.Sizes[I];
      Scale[D] = double(Q.Sizes[I]) / double(X.Shape[D]);
    }
    if (Q.KeepAspect != "stretch") {
      double S = Q.KeepAspect == "not_larger" ? 1e300 : -1e300;
      for (int64_t D : Q.Axes)
        S = Q.KeepAspect == "not_larger" ? std::min(S, Scale[size_t(D)])
                                         : std::max(S, Scale[size_t(D)]);
      for (int64_t D : Q.Axes) {
        Scale[size_t(D)] = S;
        Out[size_t(D)] = int64_t(S * double(X.Shape[size_t(D)]) + 0.5);
      }
    }
  } else {
    if (Q.Scales.size() != NA)
      Ctx.invalid("scales has " + std::to_string(Q.Scales.size()) + " values, expected " +
                  std::to_string(NA));
    for (size_t I = 0; I < NA; ++I) {
      size_t D = size_t(Q.Axes[I]);
      if (!(Q.Scales[I] > 0))
        Ctx.invalid("scales must be > 0");
      Scale[D] = Q.Scales[I];
      double O = std::floor(Q.Scales[I] * double(X.Shape[D]));
      if (!(O < 1e12))
        Ctx.invalid("output is too large");
      Out[D] = int64_t(O);
    }
  }
  size_t OutCount;
  if (!checkedElementCount(Out, elementSize(X.Type), OutCount))
    Ctx.invalid("output is too large");
  Ctx.expectOutput(0, X.Type, Out);
  for (size_t D = 0; D < R; ++D)
    if (X.Shape[D] == 0 && Out[D] != 0)
      Ctx.invalid("cannot resize an empty axis");

  std::vector<AxisTaps> Passes;
  for (size_t D = 0; D < R; ++D) {
    bool Identity = std::fabs(Scale[D] - 1.0) <= 1e-9 && Out[D] == X.Shape[D] &&
                    (A.Ctm != "tf_crop_and_resize" ||
                     (std::fabs(Roi0[D]) <= 1e-9 && std::fabs(Roi1[D] - 1.0) <= 1e-9));
    if (Identity || Out[D] == 0)
      continue;
    Passes.push_back(planAxis(A, D, X.Shape[D], Out[D], Scale[D], Roi0[D], Roi1[D]));
  }

  if (A.M == Mode::Nearest) {
    std::vector<std::vector<int64_t>> Tables(R);
    for (size_t D = 0; D < R; ++D) {
      Tables[D].resize(size_t(Out[D]));
      for (int64_t J = 0; J < Out[D]; ++J)
        Tables[D][size_t(J)] = J;
    }
    for (const AxisTaps &P : Passes)
      for (int64_t J = 0; J < P.Out; ++J) {
        size_t Pick = P.Weight[size_t(J) * P.N] != 0 ? 0 : 1;
        Tables[P.Axis][size_t(J)] = P.Extrapolated[size_t(J)] ? -1 : P.Index[size_t(J) * P.N + Pick];
      }
    std::vector<std::byte> Fill(elementSize(X.Type));
    dispatchType(X.Type, [&](auto Tag) {
      using T = typename decltype(Tag)::type;
      T V;
      if constexpr (std::is_same_v<T, bool>)
        V = A.Extrapolation != 0;
      else
        V = store<T>(ComputeType<T>(A.Extrapolation));
      std::memcpy(Fill.data(), &V, sizeof V);
    });
    return std::make_unique<TableGatherKernel>(Ctx.inputId(0), -1, std::move(Fill),
                                               Ctx.outputId(0), elementSize(X.Type), Out,
                                               stridesOf(X.Shape), std::move(Tables));
  }

  // Largest tensor any pass reads or writes.
  size_t MaxElems = X.Elements;
  {
    Dims Cur = X.Shape;
    for (const AxisTaps &P : Passes) {
      Cur[P.Axis] = P.Out;
      size_t N = 1;
      for (int64_t D : Cur)
        N *= size_t(D);
      MaxElems = std::max(MaxElems, N);
    }
  }
  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      return;
    } else {
      using Acc = std::conditional_t<(sizeof(T) >= 4 && !std::is_same_v<T, float>), double, float>;
      K = std::make_unique<InterpolateKernel<T, Acc>>(Ctx.inputId(0), Ctx.outputId(0), X.Shape,
                                                      std::move(Passes), A.Extrapolation,
                                                      MaxElems);
    }
  });
  if (!K)
    Ctx.unsupported(std::string(typeName(X.Type)) + " input for linear/cubic resize");
  return K;
}

ResizeAttrs parseAttrs(const NodeContext &Ctx, const std::string &DefaultCtm) {
  ResizeAttrs A;
  std::string M = Ctx.getString("mode", "nearest");
  if (M == "nearest")
    A.M = Mode::Nearest;
  else if (M == "linear" || M == "bilinear" || M == "trilinear")
    A.M = Mode::Linear;
  else if (M == "cubic")
    A.M = Mode::Cubic;
  else
    Ctx.invalidAttribute("mode", "expected nearest, linear or cubic, got \"" + M + "\"");
  std::string NM = Ctx.getString("nearest_mode", "round_prefer_floor");
  if (NM == "round_prefer_floor")
    A.NM = Nearest::RoundPreferFloor;
  else if (NM == "round_prefer_ceil")
    A.NM = Nearest::RoundPreferCeil;
  else if (NM == "floor")
    A.NM = Nearest::Floor;
  else if (NM == "ceil")
    A.NM = Nearest::Ceil;
  else
    Ctx.invalidAttribute("nearest_mode", "unknown mode \"" + NM + "\"");
  A.Ctm = Ctx.getString("coordinate_transformation_mode", DefaultCtm);
  static const char *Modes[] = {"half_pixel",    "half_pixel_symmetric", "pytorch_half_pixel",
                                "align_corners", "asymmetric",           "tf_crop_and_resize"};
  if (std::find_if(std::begin(Modes), std::end(Modes),
                   [&](const char *S) { return A.Ctm == S; }) == std::end(Modes))
    Ctx.invalidAttribute("coordinate_transformation_mode", "unknown mode \"" + A.Ctm + "\"");
  A.CubicA = Ctx.getFloat("cubic_coeff_a", -0.75);
  A.ExcludeOutside = Ctx.getInt("exclude_outside", 0) != 0;
  A.Antialias = Ctx.getInt("antialias", 0) != 0;
  if (A.Antialias && A.M == Mode::Nearest)
    Ctx.invalidAttribute("antialias", "is not defined for mode nearest");
  A.Extrapolation = Ctx.getFloat("extrapolation_value", 0.0);
  return A;
}

std::unique_ptr<Kernel> makeResize(const NodeContext &Ctx) {
  Ctx.expectArity(1, 4, 1);
  Ctx.allowAttributes({"mode", "nearest_mode", "coordinate_transformation_mode", "cubic_coeff_a",
                       "exclude_outside", "antialias", "extrapolation_value", "axes",
                       "keep_aspect_ratio_policy"});
  const TensorInfo &X = *Ctx.input(0);
  size_t R = X.Shape.size();
  ResizeRequest Q;
  bool Opset10 = Ctx.inputCount() == 2;
  Q.A = parseAttrs(Ctx, Opset10 ? "asymmetric" : "half_pixel");
  if (Opset10 && !Ctx.hasAttribute("nearest_mode"))
    Q.A.NM = Nearest::Floor; // opset 10 nearest picks floor(x / scale)
  if (Ctx.hasAttribute("axes")) {
    for (int64_t A : Ctx.getInts("axes", {}))
      Q.Axes.push_back(normalizeAxis(Ctx, A, int64_t(R), "axes"));
  } else {
    for (size_t I = 0; I < R; ++I)
      Q.Axes.push_back(int64_t(I));
  }
  Q.KeepAspect = Ctx.getString("keep_aspect_ratio_policy", "stretch");
  if (Q.KeepAspect != "stretch" && Q.KeepAspect != "not_larger" && Q.KeepAspect != "not_smaller")
    Ctx.invalidAttribute("keep_aspect_ratio_policy", "unknown policy \"" + Q.KeepAspect + "\"");
  const TensorInfo *ScalesT = Opset10 ? Ctx.input(1) : Ctx.input(2);
  const TensorInfo *SizesT = Opset10 ? nullptr : Ctx.input(3);
  if (ScalesT && ScalesT->Elements == 0)
    ScalesT = nullptr;
  if (SizesT && SizesT->Elements == 0)
    SizesT = nullptr;
  if ((ScalesT != nullptr) == (SizesT != nullptr))
    Ctx.invalid("exactly one of scales and sizes must be given");
  if (ScalesT)
    Q.Scales = constFloats(Ctx, Opset10 ? 1 : 2, "scales");
  else
    Q.Sizes = constInts(Ctx, 3, "sizes");
  if (!Opset10 && Q.A.Ctm == "tf_crop_and_resize") {
    const TensorInfo *RoiT = Ctx.input(1);
    if (!RoiT || RoiT->Elements == 0)
      Ctx.invalid("roi is required for tf_crop_and_resize");
    Q.Roi = constFloats(Ctx, 1, "roi");
  }
  return buildResize(Ctx, Q);
}

std::unique_ptr<Kernel> makeUpsample(const NodeContext &Ctx) {
  Ctx.expectArity(1, 2, 1);
  Ctx.allowAttributes({"mode", "scales"});
  const TensorInfo &X = *Ctx.input(0);
  ResizeRequest Q;
  std::string M = Ctx.getString("mode", "nearest");
  Q.A.M = M == "nearest" ? Mode::Nearest : Mode::Linear;
  if (M != "nearest" && M != "linear" && M != "bilinear")
    Ctx.invalidAttribute("mode", "expected nearest or linear, got \"" + M + "\"");
  Q.A.NM = Nearest::Floor;
  Q.A.Ctm = "asymmetric";
  if (Ctx.input(1))
    Q.Scales = constFloats(Ctx, 1, "scales");
  else
    Q.Scales = Ctx.getFloats("scales", {});
  for (size_t I = 0; I < X.Shape.size(); ++I)
    Q.Axes.push_back(int64_t(I));
  return buildResize(Ctx, Q);
}

} // namespace

void registerResizeOps(OpRegistry &R) {
  R.add("Resize", makeResize);
  R.add("Upsample", makeUpsample);
}

} // namespace optima_v2::native
