// Op family: MaxPool (optional Indices), AveragePool, LpPool and their Global* forms.
//
// Inputs are [N, C, D1..Dk] with 1 to 3 spatial dims (padded to 3 internally with size-1 dims).
// Geometry (output size, pads from auto_pad, ceil_mode) is fixed at load. Windows start at
// o * stride - pad_begin and step by the dilation; positions outside the input are skipped
// (MaxPool), count as zeros (LpPool), and count in AveragePool's divisor only with
// count_include_pad (up to the end padding, as ONNX Runtime does). Parallel over
// (image * channel, output depth, output row).
#include "../OpRegistry.h"
#include "../TypeDispatch.h"
#include "AxisUtil.h"
#include "../simd/VecMath.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace optima_v2::native {

namespace {

enum class PoolKind { Max, Average, Lp };

struct PoolGeom {
  size_t Planes = 0; // N * C
  int64_t In[3] = {1, 1, 1}, Out[3] = {1, 1, 1}, K[3] = {1, 1, 1}, S[3] = {1, 1, 1},
          D[3] = {1, 1, 1}, PadB[3] = {0, 0, 0}, PadE[3] = {0, 0, 0};
  bool IncludePad = false;
  bool ColumnMajor = false; // MaxPool storage_order = 1 (indices)
  double P = 2;
  size_t SpatialRank = 0;
  bool Global = false; // Global*Pool: one window covering the whole plane
};

template <typename T, PoolKind Kind> class PoolKernel final : public Kernel {
public:
  using A = ComputeType<T>;
  PoolKernel(int32_t In, int32_t Out, int32_t Idx, const PoolGeom &G)
      : In(In), Out(Out), Idx(Idx), G(G) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(In);
    T *Y = Ctx.tensor<T>(Out);
    int64_t *I = Idx >= 0 ? Ctx.tensor<int64_t>(Idx) : nullptr;
    size_t InPlane = size_t(G.In[0] * G.In[1] * G.In[2]);
    size_t OutPlane = size_t(G.Out[0] * G.Out[1] * G.Out[2]);
    if constexpr (std::is_same_v<T, float>) {
      if (runFast(Ctx, X, Y, I, InPlane, OutPlane))
        return;
    }
    size_t Tasks = G.Planes * size_t(G.Out[0] * G.Out[1]);
    size_t PerTask = size_t(G.Out[2] * G.K[0] * G.K[1] * G.K[2]);
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, PerTask));
    Ctx.parallelFor(Tasks, Grain, [&](size_t Begin, size_t End) {
      for (size_t Task = Begin; Task < End; ++Task) {
        size_t Plane = Task / size_t(G.Out[0] * G.Out[1]);
        size_t Rem = Task % size_t(G.Out[0] * G.Out[1]);
        int64_t Od = int64_t(Rem) / G.Out[1], Oh = int64_t(Rem) % G.Out[1];
        const T *XP = X + Plane * InPlane;
        size_t YOff = Plane * OutPlane + size_t((Od * G.Out[1] + Oh) * G.Out[2]);
        int64_t D0 = Od * G.S[0] - G.PadB[0], H0 = Oh * G.S[1] - G.PadB[1];
        for (int64_t Ow = 0; Ow < G.Out[2]; ++Ow) {
          int64_t W0 = Ow * G.S[2] - G.PadB[2];
          A Acc = Kind == PoolKind::Max ? lowest() : A(0);
          int64_t Best = -1, Count = 0;
          for (int64_t Kd = 0; Kd < G.K[0]; ++Kd) {
            int64_t Pd = D0 + Kd * G.D[0];
            if (Pd < 0 || Pd >= G.In[0])
              continue;
            for (int64_t Kh = 0; Kh < G.K[1]; ++Kh) {
              int64_t Ph = H0 + Kh * G.D[1];
              if (Ph < 0 || Ph >= G.In[1])
                continue;
              const T *Row = XP + (Pd * G.In[1] + Ph) * G.In[2];
              for (int64_t Kw = 0; Kw < G.K[2]; ++Kw) {
                int64_t Pw = W0 + Kw * G.D[2];
                if (Pw < 0 || Pw >= G.In[2])
                  continue;
                A V = load(Row[Pw]);
                if constexpr (Kind == PoolKind::Max) {
                  if (V > Acc || Best < 0) {
                    Acc = V;
                    Best = (Pd * G.In[1] + Ph) * G.In[2] + Pw;
                    if (G.ColumnMajor)
                      Best = Pd + G.In[0] * (Ph + G.In[1] * Pw);
                  }
                } else if constexpr (Kind == PoolKind::Average) {
                  Acc += V;
                  ++Count;
                } else {
                  Acc += A(std::pow(double(std::fabs(V)), G.P));
                }
              }
            }
          }
          if constexpr (Kind == PoolKind::Average) {
            if (G.IncludePad)
              Count = windowSize(0, D0) * windowSize(1, H0) * windowSize(2, W0);
            Acc = Count ? A(Acc / A(Count)) : A(0);
          } else if constexpr (Kind == PoolKind::Lp) {
            Acc = A(std::pow(double(Acc), 1.0 / G.P));
          }
          Y[YOff + size_t(Ow)] = store<T>(Acc);
          if (I)
            I[YOff + size_t(Ow)] = Best < 0 ? -1 : int64_t(Plane * InPlane) + Best;
        }
      }
    });
  }

private:
  // Float32 vector paths: GlobalAveragePool (plane sums) and 2-D MaxPool without indices and
  // dilation (row maxima, then window maxima; simd/VecMath.h). False: use the generic loop.
  static constexpr size_t MaxFastRow = 4096; // stack row buffer of the MaxPool path

  bool runFast(const KernelContext &Ctx, const float *X, float *Y, const int64_t *Indices,
               size_t InPlane, size_t OutPlane) const {
    if constexpr (Kind == PoolKind::Average) {
      const simd::VecMathTable &VM = simd::vecMath();
      if (!G.Global || InPlane == 0)
        return false;
      size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / InPlane);
      Ctx.parallelFor(G.Planes, Grain, [&](size_t Begin, size_t End) {
        for (size_t P = Begin; P < End; ++P)
          Y[P] = VM.ReduceSum(X + P * InPlane, InPlane) / float(InPlane);
      });
      return true;
    } else if constexpr (Kind == PoolKind::Max) {
      if (Indices || G.SpatialRank != 2 || G.D[1] != 1 || G.D[2] != 1 ||
          size_t(G.In[2]) > MaxFastRow || InPlane == 0)
        return false;
      const simd::VecMathTable &VM = simd::vecMath();
      size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, OutPlane * size_t(G.K[1] * G.K[2])));
      Ctx.parallelFor(G.Planes, Grain, [&](size_t Begin, size_t End) {
        float Tmp[MaxFastRow];
        for (size_t P = Begin; P < End; ++P) {
          simd::MaxPool2dArgs A;
          A.In = X + P * InPlane;
          A.Out = Y + P * OutPlane;
          A.Tmp = Tmp;
          A.InH = size_t(G.In[1]);
          A.InW = size_t(G.In[2]);
          A.OutH = size_t(G.Out[1]);
          A.OutW = size_t(G.Out[2]);
          A.KH = size_t(G.K[1]);
          A.KW = size_t(G.K[2]);
          A.SH = size_t(G.S[1]);
          A.SW = size_t(G.S[2]);
          A.PadT = size_t(G.PadB[1]);
          A.PadL = size_t(G.PadB[2]);
          VM.MaxPool2d(A);
        }
      });
      return true;
    }
    return false;
  }

  static A lowest() {
    if constexpr (std::numeric_limits<A>::has_infinity)
      return -std::numeric_limits<A>::infinity();
    else
      return std::numeric_limits<A>::lowest();
  }
  // Window positions of dim I inside [-pad_begin, in + pad_end) (count_include_pad divisor).
  int64_t windowSize(int I, int64_t Start) const {
    int64_t N = 0;
    for (int64_t K = 0; K < G.K[I]; ++K) {
      int64_t P = Start + K * G.D[I];
      if (P >= -G.PadB[I] && P < G.In[I] + G.PadE[I])
        ++N;
    }
    return N;
  }

  int32_t In, Out, Idx;
  PoolGeom G;
};

const std::initializer_list<int32_t> FloatTypes = {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16,
                                                   OPTIMA_ELEMENT_BF16, OPTIMA_ELEMENT_F64};

template <PoolKind Kind>
std::unique_ptr<Kernel> buildPool(const NodeContext &Ctx, const PoolGeom &G, int32_t Type) {
  int32_t IdxId = Ctx.outputCount() > 1 ? Ctx.outputId(1) : -1;
  std::unique_ptr<Kernel> K;
  dispatchType(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (!std::is_same_v<T, bool>)
      K = std::make_unique<PoolKernel<T, Kind>>(Ctx.inputId(0), Ctx.outputId(0), IdxId, G);
  });
  return K;
}

// Checks X is [N, C, spatial...] with 1 to 3 spatial dims; fills Planes/In.
void initGeom(const NodeContext &Ctx, PoolGeom &G) {
  const TensorInfo &X = *Ctx.input(0);
  if (X.Shape.size() < 3)
    Ctx.invalid("input \"" + X.Name + "\" must be [N, C, spatial...], got " +
                describe(X.Type, X.Shape));
  G.SpatialRank = X.Shape.size() - 2;
  if (G.SpatialRank > 3)
    Ctx.unsupported(std::to_string(G.SpatialRank) + " spatial dims (at most 3)");
  G.Planes = size_t(X.Shape[0] * X.Shape[1]);
  size_t Off = 3 - G.SpatialRank;
  for (size_t I = 0; I < G.SpatialRank; ++I)
    G.In[Off + I] = X.Shape[2 + I];
}

std::vector<int64_t> intsOfRank(const NodeContext &Ctx, const char *Name, size_t Rank,
                                int64_t Default, int64_t Min) {
  std::vector<int64_t> V = Ctx.getInts(Name, std::vector<int64_t>(Rank, Default));
  if (V.empty())
    V.assign(Rank, Default);
  if (V.size() != Rank)
    Ctx.invalidAttribute(Name, "expected " + std::to_string(Rank) + " values, got " +
                                   std::to_string(V.size()));
  for (int64_t X : V)
    if (X < Min)
      Ctx.invalidAttribute(Name, "value " + std::to_string(X) + " is below " + std::to_string(Min));
  return V;
}

// LpPool's `p`: an int since opset 2, a float in opset 1.
double lpPower(const NodeContext &Ctx) {
  const Attribute *A = Ctx.node().findAttribute("p");
  double P = A && A->Type == AttrType::Float ? A->F : double(Ctx.getInt("p", 2));
  if (!(P > 0))
    Ctx.invalidAttribute("p", "expected a positive value");
  return P;
}

template <PoolKind Kind> std::unique_ptr<Kernel> makePool(const NodeContext &Ctx) {
  bool IsMax = Kind == PoolKind::Max;
  Ctx.expectArity(1, 1, IsMax && Ctx.outputCount() == 2 ? 2 : 1);
  if (IsMax)
    Ctx.allowAttributes({"kernel_shape", "strides", "pads", "dilations", "auto_pad", "ceil_mode",
                         "storage_order"});
  else if (Kind == PoolKind::Average)
    Ctx.allowAttributes({"kernel_shape", "strides", "pads", "dilations", "auto_pad", "ceil_mode",
                         "count_include_pad"});
  else
    Ctx.allowAttributes({"kernel_shape", "strides", "pads", "dilations", "auto_pad", "ceil_mode",
                         "p"});
  if (IsMax)
    Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                        OPTIMA_ELEMENT_F64, OPTIMA_ELEMENT_I8, OPTIMA_ELEMENT_U8});
  else
    Ctx.requireType(0, FloatTypes);
  const TensorInfo &X = *Ctx.input(0);
  PoolGeom G;
  initGeom(Ctx, G);
  size_t R = G.SpatialRank, Off = 3 - R;
  if (!Ctx.hasAttribute("kernel_shape"))
    Ctx.invalid("attribute \"kernel_shape\" is required");
  std::vector<int64_t> K = intsOfRank(Ctx, "kernel_shape", R, 1, 1);
  std::vector<int64_t> S = intsOfRank(Ctx, "strides", R, 1, 1);
  std::vector<int64_t> D = intsOfRank(Ctx, "dilations", R, 1, 1);
  std::vector<int64_t> Pads = Ctx.getInts("pads", std::vector<int64_t>(2 * R, 0));
  if (Pads.empty())
    Pads.assign(2 * R, 0);
  if (Pads.size() != 2 * R)
    Ctx.invalidAttribute("pads", "expected " + std::to_string(2 * R) + " values, got " +
                                     std::to_string(Pads.size()));
  for (int64_t P : Pads)
    if (P < 0)
      Ctx.invalidAttribute("pads", "negative padding");
  std::string AutoPad = Ctx.getString("auto_pad", "NOTSET");
  int64_t Ceil = Ctx.getInt("ceil_mode", 0);
  if (Ceil != 0 && Ceil != 1)
    Ctx.invalidAttribute("ceil_mode", "expected 0 or 1");
  if (Kind == PoolKind::Average) {
    int64_t Inc = Ctx.getInt("count_include_pad", 0);
    if (Inc != 0 && Inc != 1)
      Ctx.invalidAttribute("count_include_pad", "expected 0 or 1");
    G.IncludePad = Inc != 0;
  }
  if (IsMax) {
    int64_t Order = Ctx.getInt("storage_order", 0);
    if (Order != 0 && Order != 1)
      Ctx.invalidAttribute("storage_order", "expected 0 or 1");
    G.ColumnMajor = Order != 0;
  }
  if (Kind == PoolKind::Lp)
    G.P = lpPower(Ctx);
  Dims OutShape = {X.Shape[0], X.Shape[1]};
  for (size_t I = 0; I < R; ++I) {
    int64_t In = X.Shape[2 + I], Window = D[I] * (K[I] - 1) + 1;
    int64_t PB = Pads[I], PE = Pads[R + I], Out;
    if (AutoPad == "NOTSET") {
      int64_t Span = In + PB + PE - Window;
      if (Span < 0)
        Ctx.invalid("the pooling window (" + std::to_string(Window) + ") is larger than the padded input dim " +
                    std::to_string(I) + " (" + std::to_string(In + PB + PE) + ")");
      Out = Ceil ? (Span + S[I] - 1) / S[I] + 1 : Span / S[I] + 1;
      if (Ceil && (Out - 1) * S[I] >= In + PB)
        --Out; // the last window must start inside the input or the begin padding
    } else if (AutoPad == "VALID") {
      PB = PE = 0;
      if (In < Window)
        Ctx.invalid("the pooling window is larger than input dim " + std::to_string(I));
      Out = Ceil ? (In - Window + S[I] - 1) / S[I] + 1 : (In - Window) / S[I] + 1;
    } else if (AutoPad == "SAME_UPPER" || AutoPad == "SAME_LOWER") {
      Out = Ceil ? (In + S[I] - 1) / S[I] : (In + S[I] - 1) / S[I];
      int64_t Total = std::max<int64_t>(0, (Out - 1) * S[I] + Window - In);
      PB = AutoPad == "SAME_UPPER" ? Total / 2 : Total - Total / 2;
      PE = Total - PB;
    } else {
      Ctx.invalidAttribute("auto_pad", "unknown value \"" + AutoPad + "\"");
    }
    OutShape.push_back(Out);
    G.Out[Off + I] = Out;
    G.K[Off + I] = K[I];
    G.S[Off + I] = S[I];
    G.D[Off + I] = D[I];
    G.PadB[Off + I] = PB;
    G.PadE[Off + I] = PE;
  }
  Ctx.expectOutput(0, X.Type, OutShape);
  if (Ctx.outputCount() == 2)
    Ctx.expectOutput(1, OPTIMA_ELEMENT_I64, OutShape);
  return buildPool<Kind>(Ctx, G, X.Type);
}

template <PoolKind Kind> std::unique_ptr<Kernel> makeGlobalPool(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  if (Kind == PoolKind::Lp)
    Ctx.allowAttributes({"p"});
  else
    Ctx.allowAttributes({});
  Ctx.requireType(0, FloatTypes);
  const TensorInfo &X = *Ctx.input(0);
  PoolGeom G;
  initGeom(Ctx, G);
  Dims OutShape = {X.Shape[0], X.Shape[1]};
  for (size_t I = 0; I < G.SpatialRank; ++I)
    OutShape.push_back(1);
  for (int I = 0; I < 3; ++I)
    G.K[I] = G.In[I];
  G.Global = true;
  if (Kind == PoolKind::Lp)
    G.P = lpPower(Ctx);
  for (int64_t V : X.Shape)
    if (V == 0)
      Ctx.invalid("input \"" + X.Name + "\" is empty");
  Ctx.expectOutput(0, X.Type, OutShape);
  return buildPool<Kind>(Ctx, G, X.Type);
}

} // namespace

void registerPoolOps(OpRegistry &R) {
  R.add("MaxPool", makePool<PoolKind::Max>);
  R.add("AveragePool", makePool<PoolKind::Average>);
  R.add("LpPool", makePool<PoolKind::Lp>);
  R.add("GlobalMaxPool", makeGlobalPool<PoolKind::Max>);
  R.add("GlobalAveragePool", makeGlobalPool<PoolKind::Average>);
  R.add("GlobalLpPool", makeGlobalPool<PoolKind::Lp>);
}

} // namespace optima_v2::native
