// Shared machinery of the elementwise families (Elementwise, Activation, Unary, Compare, Cast):
// element type sets, compile-time filtered type dispatch, a unary map kernel and a broadcasting
// binary loop. Functors are small structs holding their attributes; they are called per element
// through templates (inlined), never through virtual calls.
#pragma once

#include "../../Broadcast.h"
#include "../../OpRegistry.h"
#include "../../TypeDispatch.h"
#include "../../simd/VecMath.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>

namespace optima_v2::native::ew {

// Element type sets (bit masks) as the ONNX type constraints name them.
enum TypeSet : unsigned {
  FloatTypes = 1,    // F16, F32, F64, BF16
  SignedInts = 2,    // I8, I16, I32, I64
  UnsignedInts = 4,  // U8, U16, U32, U64
  BoolType = 8,
  IntTypes = SignedInts | UnsignedInts,
  NumericTypes = FloatTypes | IntTypes,
  SignedNumeric = FloatTypes | SignedInts,
  AllTypes = NumericTypes | BoolType,
};

template <typename T> constexpr unsigned typeSetOf() {
  if constexpr (std::is_same_v<T, bool>)
    return BoolType;
  else if constexpr (std::is_floating_point_v<T> || isHalfLike<T>)
    return FloatTypes;
  else if constexpr (std::is_signed_v<T>)
    return SignedInts;
  else
    return UnsignedInts;
}

// Q8/Q16 are quantized types, not plain integers: outside every set.
inline unsigned typeSetOfCode(int32_t Type) {
  switch (Type) {
  case OPTIMA_ELEMENT_F16: case OPTIMA_ELEMENT_F32: case OPTIMA_ELEMENT_F64: case OPTIMA_ELEMENT_BF16:
    return FloatTypes;
  case OPTIMA_ELEMENT_I8: case OPTIMA_ELEMENT_I16: case OPTIMA_ELEMENT_I32: case OPTIMA_ELEMENT_I64:
    return SignedInts;
  case OPTIMA_ELEMENT_U8: case OPTIMA_ELEMENT_U16: case OPTIMA_ELEMENT_U32: case OPTIMA_ELEMENT_U64:
    return UnsignedInts;
  case OPTIMA_ELEMENT_BOOL:
    return BoolType;
  default:
    return 0;
  }
}

// Input I (when present) must be in Set; unsupported otherwise (same wording as requireType).
inline void requireSet(const NodeContext &Ctx, size_t I, unsigned Set) {
  const TensorInfo *T = Ctx.input(I);
  if (T && !(typeSetOfCode(T->Type) & Set))
    Ctx.unsupported(std::string(typeName(T->Type)) + " input \"" + T->Name + "\"");
}

// Calls F(TypeTag<T>{}) for Type, instantiating F only for the types in Set (so a functor that
// is meaningless for, say, floats is never compiled for them). Caller checked the set already.
template <unsigned Set, typename Fn> void dispatchSet(int32_t Type, Fn &&F) {
  dispatchType(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr ((typeSetOf<T>() & Set) != 0)
      F(Tag);
  });
}

// All inputs in [First, Last) must share input First's type.
inline void requireSameTypes(const NodeContext &Ctx, size_t First, size_t Last) {
  const TensorInfo *A = Ctx.input(First);
  for (size_t I = First + 1; I < Last; ++I) {
    const TensorInfo *B = Ctx.input(I);
    if (A && B && A->Type != B->Type)
      Ctx.invalid("inputs have different types (" + std::string(typeName(A->Type)) + " and " +
                  typeName(B->Type) + ")");
  }
}

// Chunk below which an elementwise loop stays on the calling thread.
constexpr size_t ElementGrain = size_t(1) << 14;

// Float32 fast paths (simd/VecMath.h). A unary functor opts in with
//   bool simdUnary(simd::UnaryOp &Op, float &P0, float &P1) const  (false: no vector form),
// a binary one with  static constexpr simd::BinaryOp SimdBinary.
template <typename Fn, typename = void> struct HasSimdUnary : std::false_type {};
template <typename Fn>
struct HasSimdUnary<Fn, std::void_t<decltype(std::declval<const Fn &>().simdUnary(
                            std::declval<simd::UnaryOp &>(), std::declval<float &>(),
                            std::declval<float &>()))>> : std::true_type {};
template <typename Fn, typename = void> struct HasSimdBinary : std::false_type {};
template <typename Fn>
struct HasSimdBinary<Fn, std::void_t<decltype(Fn::SimdBinary)>> : std::true_type {};

// Y[i] = store<TOut>(F(load(X[i]))) over Count elements.
template <typename TIn, typename TOut, typename Fn> class MapKernel final : public Kernel {
public:
  MapKernel(int32_t In, int32_t Out, size_t Count, const Fn &F) : In(In), Out(Out), Count(Count), F(F) {}
  void run(const KernelContext &Ctx) const override {
    const TIn *X = Ctx.tensor<const TIn>(In);
    TOut *Y = Ctx.tensor<TOut>(Out);
    if constexpr (std::is_same_v<TIn, float> && std::is_same_v<TOut, float> && HasSimdUnary<Fn>::value) {
      simd::UnaryOp Op = simd::UnaryOpCount;
      float P0 = 0.0f, P1 = 0.0f;
      if (F.simdUnary(Op, P0, P1)) {
        simd::UnaryFn Map = simd::vecMath().Unary[Op];
        Ctx.parallelFor(Count, ElementGrain, [&](size_t Begin, size_t End) {
          Map(X + Begin, Y + Begin, End - Begin, P0, P1);
        });
        return;
      }
    }
    Ctx.parallelFor(Count, ElementGrain, [&](size_t Begin, size_t End) {
      for (size_t I = Begin; I < End; ++I)
        Y[I] = store<TOut>(static_cast<ComputeType<TOut>>(F(load(X[I]))));
    });
  }

private:
  int32_t In, Out;
  size_t Count;
  Fn F;
};

// Out = F(A, B) over a broadcast plan; element I of each row reads A/B contiguously or as a
// scalar. A may alias Out element for element (variadic ops accumulate in place).
template <typename TA, typename TB, typename TOut, typename Fn>
void runBinary(const KernelContext &Ctx, const BroadcastPlan &Plan, const TA *PA, const TB *PB,
               TOut *PO, const Fn &F) {
  auto Apply = [&F](TA A, TB B) { return store<TOut>(static_cast<ComputeType<TOut>>(F(load(A), load(B)))); };
  auto Row = [&](const TA *RA, const TB *RB, TOut *RO, size_t N, bool ContigA, bool ContigB) {
    if constexpr (std::is_same_v<TA, float> && std::is_same_v<TB, float> &&
                  std::is_same_v<TOut, float> && HasSimdBinary<Fn>::value) {
      // Same IEEE operation per element as F, so results are bit-identical.
      const simd::VecMathTable &VM = simd::vecMath();
      if (ContigA && ContigB)
        VM.Binary[Fn::SimdBinary](RA, RB, RO, N);
      else if (ContigA)
        VM.BinaryScalarB[Fn::SimdBinary](RA, RB[0], RO, N);
      else if (ContigB)
        VM.BinaryScalarA[Fn::SimdBinary](RA[0], RB, RO, N);
      else
        std::fill(RO, RO + N, Apply(RA[0], RB[0]));
      return;
    }
    if (ContigA && ContigB)
      for (size_t J = 0; J < N; ++J)
        RO[J] = Apply(RA[J], RB[J]);
    else if (ContigA)
      for (size_t J = 0; J < N; ++J)
        RO[J] = Apply(RA[J], RB[0]);
    else if (ContigB)
      for (size_t J = 0; J < N; ++J)
        RO[J] = Apply(RA[0], RB[J]);
    else
      for (size_t J = 0; J < N; ++J)
        RO[J] = Apply(RA[0], RB[0]);
  };
  const size_t Last = Plan.Rank - 1;
  const bool ContigA = Plan.StrideA[Last] != 0, ContigB = Plan.StrideB[Last] != 0;
  if (Plan.Outer == 0)
    return;
  if (Plan.Rank == 1) { // same shape or scalar operand: split the single row
    Ctx.parallelFor(Plan.Inner, ElementGrain, [&](size_t Begin, size_t End) {
      Row(PA + (ContigA ? Begin : 0), PB + (ContigB ? Begin : 0), PO + Begin, End - Begin, ContigA, ContigB);
    });
    return;
  }
  const size_t N = Plan.Inner;
  size_t Grain = std::max<size_t>(1, ElementGrain / std::max<size_t>(N, 1));
  Ctx.parallelFor(Plan.Outer, Grain, [&](size_t Begin, size_t End) {
    size_t Index[OPTIMA_EXT_MAX_DIMS] = {};
    size_t OffA = 0, OffB = 0;
    for (size_t R = Begin, D = Last; D-- > 0;) {
      Index[D] = R % Plan.Dims[D];
      R /= Plan.Dims[D];
      OffA += Index[D] * Plan.StrideA[D];
      OffB += Index[D] * Plan.StrideB[D];
    }
    for (size_t R = Begin; R < End; ++R) {
      Row(PA + OffA, PB + OffB, PO + R * N, N, ContigA, ContigB);
      for (size_t D = Last; D-- > 0;) { // advance the odometer
        OffA += Plan.StrideA[D];
        OffB += Plan.StrideB[D];
        if (++Index[D] < Plan.Dims[D])
          break;
        OffA -= Index[D] * Plan.StrideA[D];
        OffB -= Index[D] * Plan.StrideB[D];
        Index[D] = 0;
      }
    }
  });
}

template <typename TA, typename TB, typename TOut, typename Fn> class BinaryKernel final : public Kernel {
public:
  BinaryKernel(int32_t A, int32_t B, int32_t Out, const BroadcastPlan &Plan, const Fn &F)
      : A(A), B(B), Out(Out), Plan(Plan), F(F) {}
  void run(const KernelContext &Ctx) const override {
    runBinary(Ctx, Plan, Ctx.tensor<const TA>(A), Ctx.tensor<const TB>(B), Ctx.tensor<TOut>(Out), F);
  }

private:
  int32_t A, B, Out;
  BroadcastPlan Plan;
  Fn F;
};

// Validates a two-input broadcasting node and returns the plan; OutType is the declared result.
inline BroadcastPlan checkBroadcast(const NodeContext &Ctx, int32_t OutType) {
  const TensorInfo &A = *Ctx.input(0);
  const TensorInfo &B = *Ctx.input(1);
  Dims OutShape;
  if (!broadcastShape(A.Shape, B.Shape, OutShape))
    Ctx.invalid("input shapes " + formatShape(A.Shape) + " and " + formatShape(B.Shape) +
                " cannot be broadcast together");
  Ctx.expectOutput(0, OutType, OutShape);
  return planBroadcast(A.Shape, B.Shape, OutShape);
}

// Same-type binary op: inputs and output of type T (in Set), output type OutType or the input's.
// Make(TypeTag<T>) returns the functor for T.
template <unsigned Set, typename TOutFixed, typename MakeFn>
std::unique_ptr<Kernel> makeSameTypeBinary(const NodeContext &Ctx, const MakeFn &Make) {
  requireSet(Ctx, 0, Set);
  requireSameTypes(Ctx, 0, 2);
  int32_t Type = Ctx.input(0)->Type;
  int32_t OutType = Type;
  if constexpr (!std::is_void_v<TOutFixed>)
    OutType = elementTypeOf<TOutFixed>();
  BroadcastPlan Plan = checkBroadcast(Ctx, OutType);
  std::unique_ptr<Kernel> K;
  dispatchSet<Set>(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    using TO = std::conditional_t<std::is_void_v<TOutFixed>, T, TOutFixed>;
    auto F = Make(Tag);
    K = std::make_unique<BinaryKernel<T, T, TO, decltype(F)>>(Ctx.inputId(0), Ctx.inputId(1),
                                                              Ctx.outputId(0), Plan, F);
  });
  return K;
}

// Same-type unary op (output type = input type), Make(TypeTag<T>) returns the functor.
template <unsigned Set, typename MakeFn>
std::unique_ptr<Kernel> makeSameTypeUnary(const NodeContext &Ctx, const MakeFn &Make) {
  requireSet(Ctx, 0, Set);
  const TensorInfo &X = *Ctx.input(0);
  Ctx.expectOutput(0, X.Type, X.Shape);
  std::unique_ptr<Kernel> K;
  dispatchSet<Set>(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    auto F = Make(Tag);
    K = std::make_unique<MapKernel<T, T, decltype(F)>>(Ctx.inputId(0), Ctx.outputId(0), X.Elements, F);
  });
  return K;
}

// Wider unsigned type for wrapping integer arithmetic (small types promote to int, whose
// overflow would be undefined).
template <typename T>
using WrapType = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;

// Float -> integer without undefined behaviour: NaN -> 0, out of range saturates, negative
// values into unsigned types wrap through int64 like the usual C/numpy conversion on x86-64.
template <typename I, typename F> I floatToInt(F X) {
  if (!(X == X))
    return I(0);
  if constexpr (std::is_unsigned_v<I>) {
    if (X < F(0)) {
      if (X <= F(-9223372036854775808.0))
        return I(uint64_t(1) << 63);
      return I(int64_t(X));
    }
    if (double(X) >= double(std::numeric_limits<I>::max()) + 1.0)
      return std::numeric_limits<I>::max();
    return I(X);
  } else {
    if (double(X) >= -double(std::numeric_limits<I>::min()))
      return std::numeric_limits<I>::max();
    if (double(X) <= double(std::numeric_limits<I>::min()))
      return std::numeric_limits<I>::min();
    return I(X);
  }
}

} // namespace optima_v2::native::ew
