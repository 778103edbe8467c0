// Activations: Relu (floats, signed integers), PRelu (floats, I32/I64/U32/U64, slope broadcast
// to X), Shrink and Clip (numeric), and the float-only LeakyRelu, Elu, Selu, Celu, Sigmoid,
// HardSigmoid, HardSwish, Swish, Softplus, Softsign, Tanh, Mish, Gelu, ThresholdedRelu. Output
// shape and type equal X's. F16/BF16 are computed in float, attributes converted to the compute
// type.
#include "elementwise/Common.h"

#include <cmath>
#include <limits>

namespace optima_v2::native {

namespace {

using namespace ew;

struct ReluOp {
  bool simdUnary(simd::UnaryOp &Op, float &, float &) const {
    Op = simd::UnaryRelu;
    return true;
  }
  template <typename C> C operator()(C X) const { return X > C(0) ? X : C(0); }
};
struct LeakyReluOp {
  double Alpha;
  bool simdUnary(simd::UnaryOp &Op, float &P0, float &) const {
    Op = simd::UnaryLeakyRelu;
    P0 = float(Alpha);
    return true;
  }
  template <typename C> C operator()(C X) const { return X < C(0) ? C(Alpha) * X : X; }
};
struct EluOp {
  double Alpha;
  template <typename C> C operator()(C X) const { return X < C(0) ? C(Alpha) * std::expm1(X) : X; }
};
struct SeluOp {
  double Alpha, Gamma;
  template <typename C> C operator()(C X) const {
    return X > C(0) ? C(Gamma) * X : C(Gamma) * (C(Alpha) * std::exp(X) - C(Alpha));
  }
};
struct CeluOp {
  double Alpha;
  template <typename C> C operator()(C X) const {
    return X > C(0) ? X : C(Alpha) * std::expm1(X / C(Alpha));
  }
};
struct SigmoidOp {
  bool simdUnary(simd::UnaryOp &Op, float &, float &) const {
    Op = simd::UnarySigmoid;
    return true;
  }
  // Split by sign so exp never overflows.
  template <typename C> C operator()(C X) const {
    if (X >= C(0))
      return C(1) / (C(1) + std::exp(-X));
    C E = std::exp(X);
    return E / (C(1) + E);
  }
};
struct SwishOp { // x * sigmoid(alpha * x)
  double Alpha;
  template <typename C> C operator()(C X) const { return X * SigmoidOp{}(C(Alpha) * X); }
};
struct HardSigmoidOp {
  double Alpha, Beta;
  template <typename C> C operator()(C X) const {
    return std::max(C(0), std::min(C(1), C(Alpha) * X + C(Beta)));
  }
};
struct HardSwishOp {
  template <typename C> C operator()(C X) const {
    return X * std::max(C(0), std::min(C(1), X / C(6) + C(0.5)));
  }
};
template <typename C> C softplus(C X) { // log(1 + e^x) without overflow
  return X > C(0) ? X + std::log1p(std::exp(-X)) : std::log1p(std::exp(X));
}
struct SoftplusOp {
  template <typename C> C operator()(C X) const { return softplus(X); }
};
struct SoftsignOp {
  template <typename C> C operator()(C X) const { return X / (C(1) + std::fabs(X)); }
};
struct TanhOp {
  bool simdUnary(simd::UnaryOp &Op, float &, float &) const {
    Op = simd::UnaryTanh;
    return true;
  }
  template <typename C> C operator()(C X) const { return std::tanh(X); }
};
struct MishOp {
  template <typename C> C operator()(C X) const { return X * std::tanh(softplus(X)); }
};
struct GeluOp {
  bool Tanh = false;
  bool simdUnary(simd::UnaryOp &Op, float &, float &) const {
    Op = simd::UnaryGeluErf;
    return !Tanh;
  }
  template <typename C> C operator()(C X) const {
    if (Tanh) {
      const C K = C(0.7978845608028654); // sqrt(2 / pi)
      return C(0.5) * X * (C(1) + std::tanh(K * (X + C(0.044715) * X * X * X)));
    }
    return C(0.5) * X * (C(1) + std::erf(X * C(0.7071067811865476)));
  }
};
struct ThresholdedReluOp {
  double Alpha;
  template <typename C> C operator()(C X) const { return X > C(Alpha) ? X : C(0); }
};
struct ShrinkOp {
  double Bias, Lambd;
  template <typename C> C operator()(C X) const {
    if constexpr (std::is_integral_v<C>) {
      double V = double(X);
      return V < -Lambd ? floatToInt<C>(V + Bias) : V > Lambd ? floatToInt<C>(V - Bias) : C(0);
    } else {
      return X < C(-Lambd) ? X + C(Bias) : X > C(Lambd) ? X - C(Bias) : C(0);
    }
  }
};
struct PReluOp {
  template <typename C> C operator()(C X, C Slope) const {
    if constexpr (std::is_unsigned_v<C>)
      return X; // never negative
    else
      return X < C(0) ? C(Slope * X) : X;
  }
};

template <unsigned Set, typename MakeFn>
std::unique_ptr<Kernel> makeAct(const NodeContext &Ctx, std::initializer_list<const char *> Attrs,
                                const MakeFn &Make) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes(Attrs);
  return makeSameTypeUnary<Set>(Ctx, Make);
}

template <typename Op> std::unique_ptr<Kernel> makeSimple(const NodeContext &Ctx) {
  return makeAct<FloatTypes>(Ctx, {}, [](auto) { return Op{}; });
}

std::unique_ptr<Kernel> makeRelu(const NodeContext &Ctx) {
  return makeAct<SignedNumeric>(Ctx, {}, [](auto) { return ReluOp{}; });
}

template <typename Op>
std::unique_ptr<Kernel> makeAlpha(const NodeContext &Ctx, double Default) {
  double Alpha = Ctx.getFloat("alpha", Default);
  return makeAct<FloatTypes>(Ctx, {"alpha"}, [&](auto) { return Op{Alpha}; });
}

std::unique_ptr<Kernel> makeLeakyRelu(const NodeContext &Ctx) { return makeAlpha<LeakyReluOp>(Ctx, 0.01); }
std::unique_ptr<Kernel> makeElu(const NodeContext &Ctx) { return makeAlpha<EluOp>(Ctx, 1.0); }
std::unique_ptr<Kernel> makeSwish(const NodeContext &Ctx) { return makeAlpha<SwishOp>(Ctx, 1.0); }
std::unique_ptr<Kernel> makeThresholdedRelu(const NodeContext &Ctx) {
  return makeAlpha<ThresholdedReluOp>(Ctx, 1.0);
}
std::unique_ptr<Kernel> makeCelu(const NodeContext &Ctx) {
  double Alpha = Ctx.getFloat("alpha", 1.0);
  if (Alpha == 0)
    Ctx.invalidAttribute("alpha", "must not be 0");
  return makeAct<FloatTypes>(Ctx, {"alpha"}, [&](auto) { return CeluOp{Alpha}; });
}

std::unique_ptr<Kernel> makeSelu(const NodeContext &Ctx) {
  // ONNX defaults, stored as float32 in the spec.
  SeluOp F{Ctx.getFloat("alpha", 1.67326319217681884765625), Ctx.getFloat("gamma", 1.05070102214813232421875)};
  return makeAct<FloatTypes>(Ctx, {"alpha", "gamma"}, [&](auto) { return F; });
}

std::unique_ptr<Kernel> makeHardSigmoid(const NodeContext &Ctx) {
  HardSigmoidOp F{Ctx.getFloat("alpha", 0.2), Ctx.getFloat("beta", 0.5)};
  return makeAct<FloatTypes>(Ctx, {"alpha", "beta"}, [&](auto) { return F; });
}

std::unique_ptr<Kernel> makeGelu(const NodeContext &Ctx) {
  std::string Approx = Ctx.getString("approximate", "none");
  if (Approx != "none" && Approx != "tanh")
    Ctx.invalidAttribute("approximate", "must be \"none\" or \"tanh\", got \"" + Approx + "\"");
  return makeAct<FloatTypes>(Ctx, {"approximate"}, [&](auto) { return GeluOp{Approx == "tanh"}; });
}

std::unique_ptr<Kernel> makeShrink(const NodeContext &Ctx) {
  ShrinkOp F{Ctx.getFloat("bias", 0.0), Ctx.getFloat("lambd", 0.5)};
  return makeAct<NumericTypes>(Ctx, {"bias", "lambd"}, [&](auto) { return F; });
}

// PRelu: slope broadcasts unidirectionally to X.
std::unique_ptr<Kernel> makePRelu(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({});
  const TensorInfo &X = *Ctx.input(0);
  if (X.Type != OPTIMA_ELEMENT_I32 && X.Type != OPTIMA_ELEMENT_I64 && X.Type != OPTIMA_ELEMENT_U32 &&
      X.Type != OPTIMA_ELEMENT_U64)
    requireSet(Ctx, 0, FloatTypes);
  requireSameTypes(Ctx, 0, 2);
  const TensorInfo &Slope = *Ctx.input(1);
  Dims Out;
  if (!broadcastShape(X.Shape, Slope.Shape, Out) || Out != X.Shape)
    Ctx.invalid("slope shape " + formatShape(Slope.Shape) + " cannot be broadcast to X shape " +
                formatShape(X.Shape));
  Ctx.expectOutput(0, X.Type, X.Shape);
  BroadcastPlan Plan = planBroadcast(X.Shape, Slope.Shape, X.Shape);
  std::unique_ptr<Kernel> K;
  dispatchSet<NumericTypes>(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (sizeof(T) >= 4 || !std::is_integral_v<T>)
      K = std::make_unique<BinaryKernel<T, T, T, PReluOp>>(Ctx.inputId(0), Ctx.inputId(1),
                                                          Ctx.outputId(0), Plan, PReluOp{});
  });
  return K;
}

// Clip: bounds from the optional scalar inputs min/max (read at run time, so they may be
// computed) or, for opset < 11 models, from the float attributes min/max.
template <typename T> class ClipKernel final : public Kernel {
  using C = ComputeType<T>;

public:
  ClipKernel(int32_t In, int32_t MinId, int32_t MaxId, int32_t Out, size_t Count, C Lo, C Hi)
      : In(In), MinId(MinId), MaxId(MaxId), Out(Out), Count(Count), Lo(Lo), Hi(Hi) {}
  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(In);
    T *Y = Ctx.tensor<T>(Out);
    const C L = MinId >= 0 ? load(Ctx.tensor<const T>(MinId)[0]) : Lo;
    const C H = MaxId >= 0 ? load(Ctx.tensor<const T>(MaxId)[0]) : Hi;
    if constexpr (std::is_same_v<T, float>) { // same comparisons, vectorised
      simd::UnaryFn Map = simd::vecMath().Unary[simd::UnaryClip];
      Ctx.parallelFor(Count, ElementGrain, [&](size_t Begin, size_t End) {
        Map(X + Begin, Y + Begin, End - Begin, L, H);
      });
      return;
    }
    Ctx.parallelFor(Count, ElementGrain, [&](size_t Begin, size_t End) {
      for (size_t I = Begin; I < End; ++I) {
        C V = load(X[I]);
        V = V < L ? L : V; // NaN stays NaN; min > max gives max, as ONNX specifies
        Y[I] = store<T>(V > H ? H : V);
      }
    });
  }

private:
  int32_t In, MinId, MaxId, Out;
  size_t Count;
  C Lo, Hi;
};

std::unique_ptr<Kernel> makeClip(const NodeContext &Ctx) {
  Ctx.expectArity(1, 3, 1);
  Ctx.allowAttributes({"min", "max"});
  requireSet(Ctx, 0, NumericTypes);
  requireSameTypes(Ctx, 0, 3);
  const TensorInfo &X = *Ctx.input(0);
  for (size_t I = 1; I < 3; ++I)
    if (const TensorInfo *B = Ctx.input(I); B && B->Elements != 1)
      Ctx.invalid(std::string(I == 1 ? "min" : "max") + " must be a scalar, got shape " +
                  formatShape(B->Shape));
  Ctx.expectOutput(0, X.Type, X.Shape);
  std::unique_ptr<Kernel> K;
  dispatchSet<NumericTypes>(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    using C = ComputeType<T>;
    C Lo = std::numeric_limits<C>::lowest(), Hi = std::numeric_limits<C>::max();
    if constexpr (!std::is_integral_v<C>) {
      Lo = C(Ctx.getFloat("min", -double(std::numeric_limits<C>::infinity())));
      Hi = C(Ctx.getFloat("max", double(std::numeric_limits<C>::infinity())));
    } else if (Ctx.hasAttribute("min") || Ctx.hasAttribute("max")) {
      Ctx.invalid("attributes min/max (opset < 11) apply to float inputs only");
    }
    K = std::make_unique<ClipKernel<T>>(Ctx.inputId(0), Ctx.inputId(1), Ctx.inputId(2),
                                        Ctx.outputId(0), X.Elements, Lo, Hi);
  });
  return K;
}

} // namespace

void registerActivationOps(OpRegistry &R) {
  R.add("Relu", makeRelu);
  R.add("LeakyRelu", makeLeakyRelu);
  R.add("PRelu", makePRelu);
  R.add("Elu", makeElu);
  R.add("Selu", makeSelu);
  R.add("Celu", makeCelu);
  R.add("Sigmoid", makeSimple<SigmoidOp>);
  R.add("HardSigmoid", makeHardSigmoid);
  R.add("HardSwish", makeSimple<HardSwishOp>);
  R.add("Softplus", makeSimple<SoftplusOp>);
  R.add("Softsign", makeSimple<SoftsignOp>);
  R.add("Tanh", makeSimple<TanhOp>);
  R.add("Mish", makeSimple<MishOp>);
  R.add("Gelu", makeGelu);
  R.add("ThresholdedRelu", makeThresholdedRelu);
  R.add("Shrink", makeShrink);
  R.add("Clip", makeClip);
  R.add("Swish", makeSwish);
}

} // namespace optima_v2::native
