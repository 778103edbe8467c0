// CausalConvWithState (opset 27): a depthwise causal 1-D convolution over
// padded = concat(past_state or zeros, input) along the length axis:
//   output[b, c, t] = act(bias[c] + sum_k weight[c, 0, k] * padded[b, c, t + k])
//   present_state   = the last k - 1 positions of padded,
// act = none or SiLU ("silu" and "swish" are the same x * sigmoid(x)). F32, F16, BF16.
// Sums are in float; as in onnx's reference the convolution result is rounded to the element
// type before the activation is applied.
#include "SpatialOps.h"

#include "../../TypeDispatch.h"

#include <algorithm>
#include <cmath>

namespace optima_v2::native {

namespace {

struct CausalConvParams {
  int32_t In = -1, Weight = -1, Bias = -1, Past = -1, Out = -1, Present = -1;
  size_t Batch = 0, Channels = 0, Length = 0, Taps = 0;
  bool Silu = false;
};

template <typename T> class CausalConvKernel final : public Kernel {
public:
  using C = ComputeType<T>;

  explicit CausalConvKernel(const CausalConvParams &P) : P(P) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(P.In);
    const T *W = Ctx.tensor<const T>(P.Weight);
    const T *B = P.Bias >= 0 ? Ctx.tensor<const T>(P.Bias) : nullptr;
    const T *Past = P.Past >= 0 ? Ctx.tensor<const T>(P.Past) : nullptr;
    T *Y = Ctx.tensor<T>(P.Out);
    T *Present = Ctx.tensor<T>(P.Present);
    size_t K = P.Taps, L = P.Length, S = K - 1;
    size_t Grain = std::max<size_t>(1, 8192 / std::max<size_t>(1, L * K));
    Ctx.parallelFor(P.Batch * P.Channels, Grain, [&](size_t Begin, size_t End) {
      for (size_t Row = Begin; Row < End; ++Row) {
        size_t Ch = Row % P.Channels;
        const T *XR = X + Row * L;
        const T *PR = Past ? Past + Row * S : nullptr;
        const T *WR = W + Ch * K;
        C Bias = B ? load(B[Ch]) : C(0);
        // padded[j] for j < S comes from the state, the rest from the input.
        auto padded = [&](size_t J) -> C {
          if (J >= S)
            return load(XR[J - S]);
          return PR ? load(PR[J]) : C(0);
        };
        T *YR = Y + Row * L;
        for (size_t Pos = 0; Pos < L; ++Pos) {
          C Sum = Bias;
          if (Pos >= S) { // every tap reads the input: the common, branch-free case
            const T *Window = XR + (Pos - S);
            for (size_t Tap = 0; Tap < K; ++Tap)
              Sum += load(WR[Tap]) * load(Window[Tap]);
          } else {
            for (size_t Tap = 0; Tap < K; ++Tap)
              Sum += load(WR[Tap]) * padded(Pos + Tap);
          }
          T Conv = store<T>(Sum);
          if (P.Silu) {
            C V = load(Conv);
            YR[Pos] = store<T>(V / (C(1) + std::exp(-V)));
          } else {
            YR[Pos] = Conv;
          }
        }
        T *SR = Present + Row * S;
        for (size_t J = 0; J < S; ++J) { // padded has S + L positions; keep the last S
          size_t From = L + J;
          SR[J] = From >= S ? XR[From - S] : (PR ? PR[From] : store<T>(C(0)));
        }
      }
    });
  }

private:
  CausalConvParams P;
};

} // namespace

std::unique_ptr<Kernel> makeCausalConvWithState(const NodeContext &Ctx) {
  Ctx.expectArity(2, 4, 2);
  Ctx.allowAttributes({"activation"});
  const std::initializer_list<int32_t> Types = {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16,
                                                OPTIMA_ELEMENT_BF16};
  Ctx.requireType(0, Types);
  const TensorInfo &X = *Ctx.input(0);
  const TensorInfo &W = *Ctx.input(1);
  for (size_t I = 1; I < 4; ++I)
    if (const TensorInfo *T = Ctx.input(I); T && T->Type != X.Type)
      Ctx.invalid("input \"" + T->Name + "\" is " + typeName(T->Type) + " but input \"" + X.Name +
                  "\" is " + typeName(X.Type));
  if (X.Shape.size() != 3)
    Ctx.invalid("input \"" + X.Name + "\" must be [batch, channels, length], got " +
                describe(X.Type, X.Shape));
  int64_t Channels = X.Shape[1];
  if (W.Shape.size() != 3 || W.Shape[0] != Channels || W.Shape[1] != 1 || W.Shape[2] < 1)
    Ctx.invalid("weight \"" + W.Name + "\" must be [" + std::to_string(Channels) +
                ", 1, k] with k >= 1, got " + describe(W.Type, W.Shape));
  int64_t K = W.Shape[2];
  Dims StateShape{X.Shape[0], Channels, K - 1};
  if (const TensorInfo *B = Ctx.input(2); B && B->Shape != Dims{Channels})
    Ctx.invalid("bias \"" + B->Name + "\" must be [" + std::to_string(Channels) + "], got " +
                describe(B->Type, B->Shape));
  if (const TensorInfo *S = Ctx.input(3); S && S->Shape != StateShape)
    Ctx.invalid("past_state \"" + S->Name + "\" must be " + formatShape(StateShape) + ", got " +
                describe(S->Type, S->Shape));
  Ctx.expectOutput(0, X.Type, X.Shape);
  Ctx.expectOutput(1, X.Type, StateShape);
  std::string Act = Ctx.getString("activation", "none");
  if (Act != "none" && Act != "silu" && Act != "swish")
    Ctx.invalidAttribute("activation",
                         "expected \"none\", \"silu\" or \"swish\", got \"" + Act + "\"");
  CausalConvParams P;
  P.In = Ctx.inputId(0);
  P.Weight = Ctx.inputId(1);
  P.Bias = Ctx.inputId(2);
  P.Past = Ctx.inputId(3);
  P.Out = Ctx.outputId(0);
  P.Present = Ctx.outputId(1);
  P.Batch = size_t(X.Shape[0]);
  P.Channels = size_t(Channels);
  P.Length = size_t(X.Shape[2]);
  P.Taps = size_t(K);
  P.Silu = Act != "none";
  std::unique_ptr<Kernel> Kern;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_same_v<T, float> || isHalfLike<T>)
      Kern = std::make_unique<CausalConvKernel<T>>(P);
  });
  return Kern;
}

} // namespace optima_v2::native
