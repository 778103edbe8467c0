// Op family: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (F32, F16, BF16, F64 input;
// I32/I64 target; optional per-class weight; reduction none/sum/mean; ignore_index; N-d
// inputs [N, C, d1, ...]; SoftmaxCrossEntropyLoss's optional log_prob output).
//
// Both are one walk over the (n, d) positions: SoftmaxCrossEntropyLoss first takes the
// log-softmax of the C values at that position (log-sum-exp in double, so no scratch), then both
// gather the target class. Reductions are summed in double per chunk and combined in a fixed
// order, so results do not depend on the thread count.
#include "../../OpRegistry.h"
#include "../../TypeDispatch.h"
#include "../AxisUtil.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace optima_v2::native {

namespace {

enum class Reduction { None, Sum, Mean };

struct LossPlan {
  size_t N = 1, C = 1, D = 1; // input viewed as [N, C, D]
  Reduction Reduce = Reduction::Mean;
  bool HasIgnore = false;
  int64_t IgnoreIndex = 0;
  int32_t XId = -1, TargetId = -1, WeightId = -1, LossId = -1, LogProbId = -1;
  size_t Chunks = 1; // reduction chunks (each has two doubles of scratch)
};

template <typename T, typename TI, bool Softmax> class LossKernel final : public Kernel {
public:
  explicit LossKernel(const LossPlan &P) : P(P) {}

  size_t scratchBytes() const override { return 2 * P.Chunks * sizeof(double); }

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(P.XId);
    const TI *Target = Ctx.tensor<const TI>(P.TargetId);
    const T *Weight = P.WeightId >= 0 ? Ctx.tensor<const T>(P.WeightId) : nullptr;
    T *Loss = Ctx.tensor<T>(P.LossId);
    T *LogProb = P.LogProbId >= 0 ? Ctx.tensor<T>(P.LogProbId) : nullptr;
    double *Partial = reinterpret_cast<double *>(Ctx.Scratch); // [Chunks][sum, weight sum]
    size_t Total = P.N * P.D;
    size_t PerChunk = (Total + P.Chunks - 1) / P.Chunks;
    Ctx.parallelFor(P.Chunks, 1, [&](size_t Begin, size_t End) {
      for (size_t Chunk = Begin; Chunk < End; ++Chunk) {
        double Sum = 0, WeightSum = 0;
        size_t From = Chunk * PerChunk, To = std::min(Total, From + PerChunk);
        for (size_t Pos = From; Pos < To && !Ctx.failed(); ++Pos) {
          size_t Nn = Pos / P.D, Dd = Pos % P.D;
          const T *XC = X + Nn * P.C * P.D + Dd; // class c at XC[c * D]
          double Shift = 0; // log-sum-exp of the column (softmax only)
          if constexpr (Softmax) {
            double Max = -std::numeric_limits<double>::infinity();
            for (size_t Cc = 0; Cc < P.C; ++Cc)
              Max = std::max(Max, double(load(XC[Cc * P.D])));
            double E = 0;
            for (size_t Cc = 0; Cc < P.C; ++Cc)
              E += std::exp(double(load(XC[Cc * P.D])) - Max);
            Shift = Max + std::log(E);
            if (LogProb) {
              T *LC = LogProb + Nn * P.C * P.D + Dd;
              for (size_t Cc = 0; Cc < P.C; ++Cc)
                LC[Cc * P.D] = store<T>(ComputeType<T>(double(load(XC[Cc * P.D])) - Shift));
            }
          }
          int64_t Cls = int64_t(Target[Pos]);
          double Value = 0, W = 0;
          if (!(P.HasIgnore && Cls == P.IgnoreIndex)) {
            if (Cls < 0 || Cls >= int64_t(P.C)) {
              Ctx.fail("target %lld at position %zu is outside [0, %zu) and is not ignore_index",
                       (long long)Cls, Pos, P.C);
              return;
            }
            W = Weight ? double(load(Weight[size_t(Cls)])) : 1.0;
            Value = -(double(load(XC[size_t(Cls) * P.D])) - Shift) * W;
          }
          if (P.Reduce == Reduction::None)
            Loss[Pos] = store<T>(ComputeType<T>(Value));
          Sum += Value;
          WeightSum += W;
        }
        Partial[2 * Chunk] = Sum;
        Partial[2 * Chunk + 1] = WeightSum;
      }
    });
    if (P.Reduce == Reduction::None || Ctx.failed())
      return;
    double Sum = 0, WeightSum = 0;
    for (size_t Chunk = 0; Chunk < P.Chunks; ++Chunk) {
      Sum += Partial[2 * Chunk];
      WeightSum += Partial[2 * Chunk + 1];
    }
    // mean: weighted mean over the non-ignored positions (0/0 = NaN when all are ignored).
    Loss[0] = store<T>(ComputeType<T>(P.Reduce == Reduction::Sum ? Sum : Sum / WeightSum));
  }

private:
  LossPlan P;
};

const std::initializer_list<int32_t> FloatTypes = {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16,
                                                   OPTIMA_ELEMENT_BF16, OPTIMA_ELEMENT_F64};

template <bool Softmax> std::unique_ptr<Kernel> makeLoss(const NodeContext &Ctx) {
  size_t Outputs = Ctx.outputCount();
  if (Outputs < 1 || Outputs > (Softmax ? 2u : 1u))
    Ctx.invalid("expected " + std::string(Softmax ? "1 or 2 outputs" : "1 output") + ", got " +
                std::to_string(Outputs));
  Ctx.expectArity(2, 3, Outputs);
  Ctx.allowAttributes({"reduction", "ignore_index"});
  Ctx.requireType(0, FloatTypes);
  Ctx.requireType(1, {OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_I64});
  const TensorInfo &X = *Ctx.input(0), &Target = *Ctx.input(1);
  if (X.Shape.size() < 2)
    Ctx.invalid("input \"" + X.Name + "\" must be [N, C, d1, ...], got " +
                describe(X.Type, X.Shape));
  LossPlan P;
  P.N = size_t(X.Shape[0]);
  P.C = size_t(X.Shape[1]);
  for (size_t I = 2; I < X.Shape.size(); ++I)
    P.D *= size_t(X.Shape[I]);
  Dims TargetShape = X.Shape;
  TargetShape.erase(TargetShape.begin() + 1);
  if (Target.Shape != TargetShape)
    Ctx.invalid("target \"" + Target.Name + "\" must have shape " + formatShape(TargetShape) +
                " (the input's without C), got " + describe(Target.Type, Target.Shape));
  if (const TensorInfo *W = Ctx.input(2)) {
    if (W->Type != X.Type || W->Shape != Dims{X.Shape[1]})
      Ctx.invalid("weight \"" + W->Name + "\" must be " + describe(X.Type, {X.Shape[1]}) +
                  ", got " + describe(W->Type, W->Shape));
    P.WeightId = Ctx.inputId(2);
  }
  std::string Reduce = Ctx.getString("reduction", "mean");
  if (Reduce == "none")
    P.Reduce = Reduction::None;
  else if (Reduce == "sum")
    P.Reduce = Reduction::Sum;
  else if (Reduce != "mean")
    Ctx.invalidAttribute("reduction", "expected \"none\", \"sum\" or \"mean\", got \"" + Reduce +
                                          "\"");
  P.HasIgnore = Ctx.hasAttribute("ignore_index");
  P.IgnoreIndex = Ctx.getInt("ignore_index", 0);
  Ctx.expectOutput(0, X.Type, P.Reduce == Reduction::None ? TargetShape : Dims{});
  if (Outputs == 2) {
    Ctx.expectOutput(1, X.Type, X.Shape);
    P.LogProbId = Ctx.outputId(1);
  }
  P.XId = Ctx.inputId(0);
  P.TargetId = Ctx.inputId(1);
  P.LossId = Ctx.outputId(0);
  // Chunks of >= 1024 positions (a class loop each), at most MaxScratchChunks.
  P.Chunks = std::clamp<size_t>((P.N * P.D + 1023) / 1024, 1, MaxScratchChunks);
  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_floating_point_v<T> || isHalfLike<T>) {
      if (Target.Type == OPTIMA_ELEMENT_I64)
        K = std::make_unique<LossKernel<T, int64_t, Softmax>>(P);
      else
        K = std::make_unique<LossKernel<T, int32_t, Softmax>>(P);
    }
  });
  return K;
}

} // namespace

void registerLossOps(OpRegistry &R) {
  R.add("NegativeLogLikelihoodLoss", makeLoss<false>);
  R.add("SoftmaxCrossEntropyLoss", makeLoss<true>);
}

} // namespace optima_v2::native
