// Binary arithmetic with numpy multidirectional broadcasting: Add, Sub, Mul, Div, Pow, Mod,
// BitShift (every integer type, opset 28 semantics), BitwiseAnd/Or/Xor/Not, and the variadic
// Max, Min, Sum, Mean.
//
// Integer semantics (ONNX leaves overflow undefined; these never trap the process):
// Add/Sub/Mul wrap modulo 2^bits; Div truncates toward zero, x / 0 = 0 and MIN / -1 wraps to
// MIN; Mod with fmod=0 takes the sign of the divisor, with fmod=1 the sign of the dividend
// (C fmod), and x mod 0 = 0. Pow with integer operands is exact with wrap-around; a negative
// integer exponent gives 1 / x^|y| truncated (0 for |x| > 1, and 0 for x = 0).
#include "elementwise/Common.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace optima_v2::native {

namespace {

using namespace ew;

struct AddOp {
  static constexpr simd::BinaryOp SimdBinary = simd::BinaryAdd;
  template <typename C> C operator()(C A, C B) const {
    if constexpr (std::is_integral_v<C>)
      return C(WrapType<C>(A) + WrapType<C>(B));
    else
      return A + B;
  }
};
struct SubOp {
  static constexpr simd::BinaryOp SimdBinary = simd::BinarySub;
  template <typename C> C operator()(C A, C B) const {
    if constexpr (std::is_integral_v<C>)
      return C(WrapType<C>(A) - WrapType<C>(B));
    else
      return A - B;
  }
};
struct MulOp {
  static constexpr simd::BinaryOp SimdBinary = simd::BinaryMul;
  template <typename C> C operator()(C A, C B) const {
    if constexpr (std::is_integral_v<C>)
      return C(WrapType<C>(A) * WrapType<C>(B));
    else
      return A * B;
  }
};
struct DivOp {
  static constexpr simd::BinaryOp SimdBinary = simd::BinaryDiv;
  template <typename C> C operator()(C A, C B) const {
    if constexpr (std::is_integral_v<C>) {
      if (B == 0)
        return C(0);
      if constexpr (std::is_signed_v<C>)
        if (B == -1)
          return C(WrapType<C>(0) - WrapType<C>(A)); // MIN / -1 would trap
      return C(A / B);
    } else {
      return A / B;
    }
  }
};
struct ModOp {
  bool Fmod = false;
  template <typename C> C operator()(C A, C B) const {
    if constexpr (std::is_integral_v<C>) {
      if (B == 0)
        return C(0);
      if constexpr (std::is_signed_v<C>) {
        if (B == -1)
          return C(0);
        C R = C(A % B);
        if (!Fmod && R != 0 && ((R < 0) != (B < 0)))
          R = C(R + B);
        return R;
      } else {
        return C(A % B);
      }
    } else {
      C R = std::fmod(A, B);
      if (!Fmod && R != 0 && ((R < 0) != (B < 0)))
        R += B;
      return R;
    }
  }
};
struct MaxOp {
  template <typename C> C operator()(C A, C B) const {
    if constexpr (std::is_floating_point_v<C>)
      if (A != A || B != B) // NaN propagates like numpy.maximum
        return A != A ? A : B;
    return A < B ? B : A;
  }
};
struct MinOp {
  template <typename C> C operator()(C A, C B) const {
    if constexpr (std::is_floating_point_v<C>)
      if (A != A || B != B)
        return A != A ? A : B;
    return B < A ? B : A;
  }
};
// Shift counts outside [0, bits) give 0, or -1 for a negative value shifted right (sign fill),
// as the ONNX reference does; right shifts of signed values are arithmetic.
struct BitShiftOp {
  bool Left = true;
  template <typename C> C operator()(C A, C B) const {
    bool OutOfRange = B >= C(sizeof(C) * 8);
    if constexpr (std::is_signed_v<C>)
      OutOfRange = OutOfRange || B < 0;
    if (OutOfRange)
      return (!Left && A < C(0)) ? C(-1) : C(0);
    return Left ? C(WrapType<C>(A) << B) : C(A >> B);
  }
};
struct BitAndOp {
  template <typename C> C operator()(C A, C B) const { return C(A & B); }
};
struct BitOrOp {
  template <typename C> C operator()(C A, C B) const { return C(A | B); }
};
struct BitXorOp {
  template <typename C> C operator()(C A, C B) const { return C(A ^ B); }
};
struct BitNotOp {
  template <typename C> C operator()(C A) const { return C(~A); }
};

// Integer power by squaring, wrapping; see the file comment for negative exponents.
template <typename I, typename E> I intPow(I Base, E Exp) {
  if constexpr (std::is_signed_v<E>) {
    if (Exp < 0) {
      if (Base == 1)
        return I(1);
      if constexpr (std::is_signed_v<I>)
        if (Base == -1)
          return (Exp & 1) ? I(-1) : I(1);
      return I(0);
    }
  }
  using U = WrapType<I>;
  U Result = 1, B = U(Base);
  for (uint64_t N = uint64_t(Exp); N; N >>= 1) {
    if (N & 1)
      Result = U(Result * B);
    B = U(B * B);
  }
  return I(Result);
}

struct PowOp {
  template <typename A, typename B> A operator()(A X, B Y) const {
    if constexpr (std::is_integral_v<A> && std::is_integral_v<B>)
      return intPow(X, Y);
    else if constexpr (std::is_integral_v<A>)
      return floatToInt<A>(std::pow(double(X), double(Y)));
    else if constexpr (std::is_same_v<A, float> && std::is_same_v<B, float>)
      return std::pow(X, Y);
    else
      return A(std::pow(double(X), double(Y)));
  }
};

template <unsigned Set, typename Op> std::unique_ptr<Kernel> makeArith(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({});
  return makeSameTypeBinary<Set, void>(Ctx, [](auto) { return Op{}; });
}

std::unique_ptr<Kernel> makeMod(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"fmod"});
  int64_t Fmod = Ctx.getInt("fmod", 0);
  if (Fmod != 0 && Fmod != 1)
    Ctx.invalidAttribute("fmod", "must be 0 or 1, got " + std::to_string(Fmod));
  return makeSameTypeBinary<NumericTypes, void>(Ctx, [&](auto) { return ModOp{Fmod == 1}; });
}

std::unique_ptr<Kernel> makeBitShift(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"direction"});
  if (!Ctx.hasAttribute("direction"))
    Ctx.invalidAttribute("direction", "required attribute is missing");
  std::string Dir = Ctx.getString("direction", "");
  if (Dir != "LEFT" && Dir != "RIGHT")
    Ctx.invalidAttribute("direction", "must be \"LEFT\" or \"RIGHT\", got \"" + Dir + "\"");
  return makeSameTypeBinary<IntTypes, void>(Ctx, [&](auto) { return BitShiftOp{Dir == "LEFT"}; });
}

std::unique_ptr<Kernel> makeBitwiseNot(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({});
  return makeSameTypeUnary<IntTypes>(Ctx, [](auto) { return BitNotOp{}; });
}

// Pow: base T in {I32, I64, floats}, exponent any numeric type; the result has the base's type.
std::unique_ptr<Kernel> makePow(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({});
  const TensorInfo &X = *Ctx.input(0);
  if (X.Type != OPTIMA_ELEMENT_I32 && X.Type != OPTIMA_ELEMENT_I64)
    requireSet(Ctx, 0, FloatTypes);
  requireSet(Ctx, 1, NumericTypes);
  BroadcastPlan Plan = checkBroadcast(Ctx, X.Type);
  std::unique_ptr<Kernel> K;
  dispatchSet<FloatTypes | SignedInts>(X.Type, [&](auto BaseTag) {
    using TA = typename decltype(BaseTag)::type;
    if constexpr (std::is_floating_point_v<TA> || isHalfLike<TA> || sizeof(TA) >= 4) {
      dispatchSet<NumericTypes>(Ctx.input(1)->Type, [&](auto ExpTag) {
        using TB = typename decltype(ExpTag)::type;
        K = std::make_unique<BinaryKernel<TA, TB, TA, PowOp>>(Ctx.inputId(0), Ctx.inputId(1),
                                                              Ctx.outputId(0), Plan, PowOp{});
      });
    }
  });
  return K;
}

// Variadic ops: Out = in0 (op) in1, then Out = Out (op) in_i, each step through a broadcast plan
// from the input's shape to the full output shape; Mean divides by the count at the end.
struct VariadicStep {
  int32_t In;
  BroadcastPlan Plan; // (running result or input 0, this input) -> output shape
};

template <typename T, typename Fn> class VariadicKernel final : public Kernel {
public:
  using Step = VariadicStep;
  VariadicKernel(std::vector<Step> Steps, int32_t Out, size_t Count, bool IsMean)
      : Steps(std::move(Steps)), Out(Out), Count(Count), IsMean(IsMean) {}

  void run(const KernelContext &Ctx) const override {
    T *Y = Ctx.tensor<T>(Out);
    if (Steps.size() == 1) { // a single input has the output's shape: copy
      if (Count)
        std::memcpy(Y, Ctx.tensor<const T>(Steps[0].In), Count * sizeof(T));
      return;
    }
    runBinary(Ctx, Steps[1].Plan, Ctx.tensor<const T>(Steps[0].In), Ctx.tensor<const T>(Steps[1].In), Y, Fn{});
    for (size_t I = 2; I < Steps.size(); ++I)
      runBinary(Ctx, Steps[I].Plan, static_cast<const T *>(Y), Ctx.tensor<const T>(Steps[I].In), Y, Fn{});
    if constexpr (!std::is_integral_v<T>) {
      if (IsMean) {
        ComputeType<T> N = ComputeType<T>(Steps.size());
        Ctx.parallelFor(Count, ElementGrain, [&](size_t Begin, size_t End) {
          for (size_t I = Begin; I < End; ++I)
            Y[I] = store<T>(load(Y[I]) / N);
        });
      }
    }
  }

private:
  std::vector<Step> Steps;
  int32_t Out;
  size_t Count;
  bool IsMean;
};

template <unsigned Set, typename Op, bool IsMean>
std::unique_ptr<Kernel> makeVariadic(const NodeContext &Ctx) {
  constexpr size_t MaxInputs = 4096; // far above any real model; keeps the message readable
  Ctx.expectArity(1, MaxInputs, 1);
  Ctx.allowAttributes({});
  for (size_t I = 0; I < Ctx.inputCount(); ++I)
    if (!Ctx.input(I))
      Ctx.invalid("input " + std::to_string(I) + " is omitted");
  requireSet(Ctx, 0, Set);
  requireSameTypes(Ctx, 0, Ctx.inputCount());
  Dims OutShape = Ctx.input(0)->Shape;
  for (size_t I = 1; I < Ctx.inputCount(); ++I) {
    Dims Next;
    if (!broadcastShape(OutShape, Ctx.input(I)->Shape, Next))
      Ctx.invalid("input " + std::to_string(I) + " shape " + formatShape(Ctx.input(I)->Shape) +
                  " cannot be broadcast to " + formatShape(OutShape));
    OutShape = Next;
  }
  int32_t Type = Ctx.input(0)->Type;
  Ctx.expectOutput(0, Type, OutShape);
  std::vector<VariadicStep> Steps;
  for (size_t I = 0; I < Ctx.inputCount(); ++I) {
    const Dims &Prev = I <= 1 ? Ctx.input(0)->Shape : OutShape;
    Steps.push_back({Ctx.inputId(I), planBroadcast(Prev, Ctx.input(I)->Shape, OutShape)});
  }
  std::unique_ptr<Kernel> K;
  size_t Count = Ctx.output(0).Elements;
  dispatchSet<Set>(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    K = std::make_unique<VariadicKernel<T, Op>>(Steps, Ctx.outputId(0), Count, IsMean);
  });
  return K;
}

} // namespace

void registerElementwiseOps(OpRegistry &R) {
  R.add("Add", makeArith<NumericTypes, AddOp>);
  R.add("Sub", makeArith<NumericTypes, SubOp>);
  R.add("Mul", makeArith<NumericTypes, MulOp>);
  R.add("Div", makeArith<NumericTypes, DivOp>);
  R.add("Pow", makePow);
  R.add("Mod", makeMod);
  R.add("BitShift", makeBitShift);
  R.add("BitwiseAnd", makeArith<IntTypes, BitAndOp>);
  R.add("BitwiseOr", makeArith<IntTypes, BitOrOp>);
  R.add("BitwiseXor", makeArith<IntTypes, BitXorOp>);
  R.add("BitwiseNot", makeBitwiseNot);
  R.add("Max", makeVariadic<NumericTypes, MaxOp, false>);
  R.add("Min", makeVariadic<NumericTypes, MinOp, false>);
  R.add("Sum", makeVariadic<FloatTypes, AddOp, false>);
  R.add("Mean", makeVariadic<FloatTypes, AddOp, true>);
}

} // namespace optima_v2::native
