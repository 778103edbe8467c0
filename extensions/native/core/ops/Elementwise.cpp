// Add, Sub, Mul, Div with numpy multidirectional broadcasting. Types: F32, I32, I64 (both inputs
// and the output share one type). Integer Div truncates toward zero like C; division by zero
// yields 0 and INT_MIN / -1 wraps, so bad data can never trap the process.
#include "../Broadcast.h"
#include "../OpRegistry.h"

#include <limits>
#include <type_traits>

namespace optima_v2::native {

namespace {

struct AddOp {
  template <typename T> static T apply(T A, T B) {
    if constexpr (std::is_integral_v<T>)
      return T(std::make_unsigned_t<T>(A) + std::make_unsigned_t<T>(B)); // wraps, no UB
    else
      return A + B;
  }
};
struct SubOp {
  template <typename T> static T apply(T A, T B) {
    if constexpr (std::is_integral_v<T>)
      return T(std::make_unsigned_t<T>(A) - std::make_unsigned_t<T>(B));
    else
      return A - B;
  }
};
struct MulOp {
  template <typename T> static T apply(T A, T B) {
    if constexpr (std::is_integral_v<T>)
      return T(std::make_unsigned_t<T>(A) * std::make_unsigned_t<T>(B));
    else
      return A * B;
  }
};
struct DivOp {
  template <typename T> static T apply(T A, T B) {
    if constexpr (std::is_integral_v<T>) {
      if (B == 0)
        return 0;
      if (B == -1)
        return T(T(0) - std::make_unsigned_t<T>(A)); // avoids INT_MIN / -1
      return A / B;
    } else {
      return A / B;
    }
  }
};

template <typename T, typename Op> class BinaryKernel final : public Kernel {
public:
  BinaryKernel(int32_t A, int32_t B, int32_t Out, const BroadcastPlan &Plan)
      : A(A), B(B), Out(Out), Plan(Plan) {}

  void run(const KernelContext &Ctx) const override {
    const T *PA = Ctx.tensor<const T>(A);
    const T *PB = Ctx.tensor<const T>(B);
    T *PO = Ctx.tensor<T>(Out);
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(Plan.Inner, 1));
    Ctx.parallelFor(Plan.Outer, Grain, [&](size_t Begin, size_t End) { rows(PA, PB, PO, Begin, End); });
  }

private:
  // Rows [Begin, End) of the collapsed output; the outer index advances like an odometer.
  void rows(const T *PA, const T *PB, T *PO, size_t Begin, size_t End) const {
    const size_t Outer = Plan.Rank - 1;
    size_t Index[OPTIMA_EXT_MAX_DIMS] = {};
    size_t OffA = 0, OffB = 0;
    for (size_t R = Begin, D = Outer; D-- > 0;) {
      Index[D] = R % Plan.Dims[D];
      R /= Plan.Dims[D];
      OffA += Index[D] * Plan.StrideA[D];
      OffB += Index[D] * Plan.StrideB[D];
    }
    const size_t N = Plan.Inner;
    const bool ContigA = Plan.StrideA[Outer] != 0, ContigB = Plan.StrideB[Outer] != 0;
    for (size_t Row = Begin; Row < End; ++Row) {
      const T *RA = PA + OffA;
      const T *RB = PB + OffB;
      T *RO = PO + Row * N;
      if (ContigA && ContigB)
        for (size_t J = 0; J < N; ++J)
          RO[J] = Op::apply(RA[J], RB[J]);
      else if (ContigA)
        for (size_t J = 0; J < N; ++J)
          RO[J] = Op::apply(RA[J], RB[0]);
      else if (ContigB)
        for (size_t J = 0; J < N; ++J)
          RO[J] = Op::apply(RA[0], RB[J]);
      else
        for (size_t J = 0; J < N; ++J)
          RO[J] = Op::apply(RA[0], RB[0]);
      for (size_t D = Outer; D-- > 0;) { // advance the odometer
        OffA += Plan.StrideA[D];
        OffB += Plan.StrideB[D];
        if (++Index[D] < Plan.Dims[D])
          break;
        OffA -= Index[D] * Plan.StrideA[D];
        OffB -= Index[D] * Plan.StrideB[D];
        Index[D] = 0;
      }
    }
  }

  int32_t A, B, Out;
  BroadcastPlan Plan;
};

template <typename Op> std::unique_ptr<Kernel> makeBinary(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({});
  const TensorInfo &A = *Ctx.input(0);
  const TensorInfo &B = *Ctx.input(1);
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_I64});
  if (A.Type != B.Type)
    Ctx.invalid("inputs have different types (" + std::string(typeName(A.Type)) + " and " +
                typeName(B.Type) + ")");
  Dims OutShape;
  if (!broadcastShape(A.Shape, B.Shape, OutShape))
    Ctx.invalid("input shapes " + formatShape(A.Shape) + " and " + formatShape(B.Shape) +
                " cannot be broadcast together");
  Ctx.expectOutput(0, A.Type, OutShape);
  BroadcastPlan Plan = planBroadcast(A.Shape, B.Shape, OutShape);
  int32_t IA = Ctx.inputId(0), IB = Ctx.inputId(1), IO = Ctx.outputId(0);
  switch (A.Type) {
  case OPTIMA_ELEMENT_F32:
    return std::make_unique<BinaryKernel<float, Op>>(IA, IB, IO, Plan);
  case OPTIMA_ELEMENT_I32:
    return std::make_unique<BinaryKernel<int32_t, Op>>(IA, IB, IO, Plan);
  default:
    return std::make_unique<BinaryKernel<int64_t, Op>>(IA, IB, IO, Plan);
  }
}

} // namespace

void registerElementwiseOps(OpRegistry &R) {
  R.add("Add", makeBinary<AddOp>);
  R.add("Sub", makeBinary<SubOp>);
  R.add("Mul", makeBinary<MulOp>);
  R.add("Div", makeBinary<DivOp>);
}

} // namespace optima_v2::native
