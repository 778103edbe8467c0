// Unary math: Abs, Neg, Sign (numeric), Erf (numeric, computed in double for integers), and the
// float-only Reciprocal, Floor, Ceil, Round (half to even), Sqrt, Exp, Log and trigonometric /
// hyperbolic functions; IsNaN and IsInf (float -> BOOL). F16/BF16 are computed in float.
#include "elementwise/Common.h"

#include <cmath>

namespace optima_v2::native {

namespace {

using namespace ew;

struct AbsOp {
  template <typename C> C operator()(C X) const {
    if constexpr (std::is_unsigned_v<C>)
      return X;
    else if constexpr (std::is_integral_v<C>)
      return X < 0 ? C(WrapType<C>(0) - WrapType<C>(X)) : X; // |MIN| wraps to MIN
    else
      return std::fabs(X);
  }
};
struct NegOp {
  template <typename C> C operator()(C X) const {
    if constexpr (std::is_integral_v<C>)
      return C(WrapType<C>(0) - WrapType<C>(X));
    else
      return -X;
  }
};
struct SignOp {
  template <typename C> C operator()(C X) const {
    if constexpr (std::is_floating_point_v<C>)
      if (X != X)
        return X;
    return C((C(0) < X) - (X < C(0)));
  }
};
struct ErfOp {
  bool simdUnary(simd::UnaryOp &Op, float &, float &) const {
    Op = simd::UnaryErf;
    return true;
  }
  template <typename C> C operator()(C X) const {
    if constexpr (std::is_integral_v<C>)
      return floatToInt<C>(std::erf(double(X)));
    else
      return std::erf(X);
  }
};

#define OPTIMA_FLOAT_UNARY(Name, Expr)                                                             \
  struct Name {                                                                                    \
    template <typename C> C operator()(C X) const { return Expr; }                                 \
  };
OPTIMA_FLOAT_UNARY(ReciprocalOp, C(1) / X)
OPTIMA_FLOAT_UNARY(FloorOp, std::floor(X))
OPTIMA_FLOAT_UNARY(CeilOp, std::ceil(X))
OPTIMA_FLOAT_UNARY(RoundOp, std::nearbyint(X)) // default rounding mode: half to even
OPTIMA_FLOAT_UNARY(SqrtOp, std::sqrt(X))
struct ExpOp {
  template <typename C> C operator()(C X) const { return std::exp(X); }
  bool simdUnary(simd::UnaryOp &Op, float &, float &) const {
    Op = simd::UnaryExp;
    return true;
  }
};
OPTIMA_FLOAT_UNARY(LogOp, std::log(X))
OPTIMA_FLOAT_UNARY(SinOp, std::sin(X))
OPTIMA_FLOAT_UNARY(CosOp, std::cos(X))
OPTIMA_FLOAT_UNARY(TanOp, std::tan(X))
OPTIMA_FLOAT_UNARY(AsinOp, std::asin(X))
OPTIMA_FLOAT_UNARY(AcosOp, std::acos(X))
OPTIMA_FLOAT_UNARY(AtanOp, std::atan(X))
OPTIMA_FLOAT_UNARY(SinhOp, std::sinh(X))
OPTIMA_FLOAT_UNARY(CoshOp, std::cosh(X))
OPTIMA_FLOAT_UNARY(AsinhOp, std::asinh(X))
OPTIMA_FLOAT_UNARY(AcoshOp, std::acosh(X))
OPTIMA_FLOAT_UNARY(AtanhOp, std::atanh(X))
#undef OPTIMA_FLOAT_UNARY

struct IsNaNOp {
  template <typename C> bool operator()(C X) const { return X != X; }
};
struct IsInfOp {
  bool Negative = true, Positive = true;
  template <typename C> bool operator()(C X) const {
    return std::isinf(X) && (X > 0 ? Positive : Negative);
  }
};

template <unsigned Set, typename Op> std::unique_ptr<Kernel> makeUnary(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({});
  return makeSameTypeUnary<Set>(Ctx, [](auto) { return Op{}; });
}

// Float input, BOOL output of the same shape.
template <typename Op> std::unique_ptr<Kernel> makePredicate(const NodeContext &Ctx, const Op &F) {
  requireSet(Ctx, 0, FloatTypes);
  const TensorInfo &X = *Ctx.input(0);
  Ctx.expectOutput(0, OPTIMA_ELEMENT_BOOL, X.Shape);
  std::unique_ptr<Kernel> K;
  dispatchSet<FloatTypes>(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    K = std::make_unique<MapKernel<T, bool, Op>>(Ctx.inputId(0), Ctx.outputId(0), X.Elements, F);
  });
  return K;
}

std::unique_ptr<Kernel> makeIsNaN(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({});
  return makePredicate(Ctx, IsNaNOp{});
}

std::unique_ptr<Kernel> makeIsInf(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"detect_negative", "detect_positive"});
  return makePredicate(Ctx, IsInfOp{Ctx.getInt("detect_negative", 1) != 0,
                                    Ctx.getInt("detect_positive", 1) != 0});
}

} // namespace

void registerUnaryOps(OpRegistry &R) {
  R.add("Abs", makeUnary<NumericTypes, AbsOp>);
  R.add("Neg", makeUnary<SignedNumeric, NegOp>);
  R.add("Sign", makeUnary<NumericTypes, SignOp>);
  R.add("Erf", makeUnary<NumericTypes, ErfOp>);
  R.add("Reciprocal", makeUnary<FloatTypes, ReciprocalOp>);
  R.add("Floor", makeUnary<FloatTypes, FloorOp>);
  R.add("Ceil", makeUnary<FloatTypes, CeilOp>);
  R.add("Round", makeUnary<FloatTypes, RoundOp>);
  R.add("Sqrt", makeUnary<FloatTypes, SqrtOp>);
  R.add("Exp", makeUnary<FloatTypes, ExpOp>);
  R.add("Log", makeUnary<FloatTypes, LogOp>);
  R.add("Sin", makeUnary<FloatTypes, SinOp>);
  R.add("Cos", makeUnary<FloatTypes, CosOp>);
  R.add("Tan", makeUnary<FloatTypes, TanOp>);
  R.add("Asin", makeUnary<FloatTypes, AsinOp>);
  R.add("Acos", makeUnary<FloatTypes, AcosOp>);
  R.add("Atan", makeUnary<FloatTypes, AtanOp>);
  R.add("Sinh", makeUnary<FloatTypes, SinhOp>);
  R.add("Cosh", makeUnary<FloatTypes, CoshOp>);
  R.add("Asinh", makeUnary<FloatTypes, AsinhOp>);
  R.add("Acosh", makeUnary<FloatTypes, AcoshOp>);
  R.add("Atanh", makeUnary<FloatTypes, AtanhOp>);
  R.add("IsNaN", makeIsNaN);
  R.add("IsInf", makeIsInf);
}

} // namespace optima_v2::native
