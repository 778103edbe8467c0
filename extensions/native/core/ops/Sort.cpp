// Op family: TopK (K constant; largest, sorted; ties keep the lower index first), CumSum and
// CumProd (exclusive, reverse; the axis may be a graph input: it does not change the output
// shape).
//
// TopK works per [outer, inner] slice on an index array in scratch: the scratch holds
// MaxScratchChunks index arrays so that at most that many tasks run at once, each with its own.
// Selection is std::partial_sort with a comparator that breaks ties by index (a strict total
// order, so the result is the stable order ONNX specifies). NaN counts as larger than any number.
#include "../OpRegistry.h"
#include "../TypeDispatch.h"
#include "AxisUtil.h"

#include <algorithm>
#include <cmath>

namespace optima_v2::native {

namespace {

const std::initializer_list<int32_t> NumericTypes = {
    OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16, OPTIMA_ELEMENT_F64,
    OPTIMA_ELEMENT_I8,  OPTIMA_ELEMENT_U8,  OPTIMA_ELEMENT_I16,  OPTIMA_ELEMENT_U16,
    OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_U32, OPTIMA_ELEMENT_I64,  OPTIMA_ELEMENT_U64};

template <typename A> bool greaterNan(A X, A Y) {
  if constexpr (std::is_floating_point_v<A>) {
    if (X != X)
      return Y == Y;
    if (Y != Y)
      return false;
  }
  return X > Y;
}

template <typename T> class TopKKernel final : public Kernel {
public:
  TopKKernel(int32_t X, int32_t Values, int32_t Indices, AxisSplit S, size_t K, bool Largest)
      : XId(X), VId(Values), IId(Indices), S(S), K(K), Largest(Largest) {
    Slices = S.Outer * S.Inner;
    Chunks = std::min(Slices, MaxScratchChunks);
  }

  size_t scratchBytes() const override { return Chunks * S.Len * sizeof(uint32_t); }

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    T *V = Ctx.tensor<T>(VId);
    int64_t *I = Ctx.tensor<int64_t>(IId);
    if (K == 0 || Slices == 0)
      return;
    uint32_t *Scratch = reinterpret_cast<uint32_t *>(Ctx.Scratch);
    Ctx.parallelFor(Chunks, 1, [&](size_t Begin, size_t End) {
      for (size_t C = Begin; C < End; ++C) {
        uint32_t *Idx = Scratch + C * S.Len;
        size_t From = Slices * C / Chunks, To = Slices * (C + 1) / Chunks;
        for (size_t Slice = From; Slice < To; ++Slice)
          one(X, V, I, Idx, Slice);
      }
    });
  }

private:
  void one(const T *X, T *V, int64_t *I, uint32_t *Idx, size_t Slice) const {
    size_t O = Slice / S.Inner, In = Slice % S.Inner;
    const T *XB = X + O * S.Len * S.Inner + In;
    for (size_t J = 0; J < S.Len; ++J)
      Idx[J] = uint32_t(J);
    auto At = [&](uint32_t J) { return load(XB[size_t(J) * S.Inner]); };
    if (Largest)
      std::partial_sort(Idx, Idx + K, Idx + S.Len, [&](uint32_t A, uint32_t B) {
        auto VA = At(A), VB = At(B);
        return greaterNan(VA, VB) || (!greaterNan(VB, VA) && A < B);
      });
    else
      std::partial_sort(Idx, Idx + K, Idx + S.Len, [&](uint32_t A, uint32_t B) {
        auto VA = At(A), VB = At(B);
        return greaterNan(VB, VA) || (!greaterNan(VA, VB) && A < B);
      });
    size_t OB = O * K * S.Inner + In;
    for (size_t J = 0; J < K; ++J) {
      V[OB + J * S.Inner] = XB[size_t(Idx[J]) * S.Inner];
      I[OB + J * S.Inner] = int64_t(Idx[J]);
    }
  }

  int32_t XId, VId, IId;
  AxisSplit S;
  size_t K;
  bool Largest;
  size_t Slices = 0, Chunks = 0;
};

std::unique_ptr<Kernel> makeTopK(const NodeContext &Ctx) {
  Ctx.allowAttributes({"axis", "largest", "sorted", "k"});
  const TensorInfo &X = *Ctx.input(0);
  int64_t K = 0;
  if (Ctx.hasAttribute("k")) { // opset < 10
    Ctx.expectArity(1, 1, 2);
    K = Ctx.getInt("k", 0);
  } else {
    Ctx.expectArity(2, 2, 2);
    std::vector<int64_t> KV = constantInts(Ctx, 1, "K");
    if (KV.size() != 1)
      Ctx.invalid("K must have exactly one element");
    K = KV[0];
  }
  Ctx.requireType(0, NumericTypes);
  if (X.Shape.empty())
    Ctx.invalid("input \"" + X.Name + "\" must have rank >= 1");
  size_t Axis = normalizeAxis(Ctx, "axis", Ctx.getInt("axis", -1), X.Shape.size());
  int64_t Largest = Ctx.getInt("largest", 1), Sorted = Ctx.getInt("sorted", 1);
  if (Largest != 0 && Largest != 1)
    Ctx.invalidAttribute("largest", "expected 0 or 1");
  if (Sorted != 0 && Sorted != 1)
    Ctx.invalidAttribute("sorted", "expected 0 or 1");
  if (K < 0 || K > X.Shape[Axis])
    Ctx.invalid("K = " + std::to_string(K) + " is outside [0, " + std::to_string(X.Shape[Axis]) +
                "] (the size of axis " + std::to_string(Axis) + ")");
  if (uint64_t(X.Shape[Axis]) > UINT32_MAX)
    Ctx.unsupported("an axis longer than 2^32 elements");
  Dims OutShape = X.Shape;
  OutShape[Axis] = K;
  Ctx.expectOutput(0, X.Type, OutShape);
  Ctx.expectOutput(1, OPTIMA_ELEMENT_I64, OutShape);
  AxisSplit S = splitAt(X.Shape, Axis);
  std::unique_ptr<Kernel> Kern;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (!std::is_same_v<T, bool>)
      Kern = std::make_unique<TopKKernel<T>>(Ctx.inputId(0), Ctx.outputId(0), Ctx.outputId(1), S,
                                             size_t(K), Largest != 0);
  });
  return Kern;
}

// CumSum (Product false) and CumProd (Product true): same walk, different accumulator.
template <typename T, bool Product> class CumKernel final : public Kernel {
public:
  // AxisId >= 0: the axis is a graph input read at run time (the output shape does not depend
  // on it), with type AxisType; otherwise Fixed is used.
  CumKernel(int32_t X, int32_t Y, const Dims &Shape, AxisSplit Fixed, int32_t AxisId,
               int32_t AxisType, bool Exclusive, bool Reverse)
      : XId(X), YId(Y), Rank(Shape.size()), Fixed(Fixed), AxisId(AxisId), AxisType(AxisType),
        Exclusive(Exclusive), Reverse(Reverse) {
    for (size_t I = 0; I < Rank; ++I)
      Shape_[I] = size_t(Shape[I]);
  }

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    T *Y = Ctx.tensor<T>(YId);
    AxisSplit S = Fixed;
    if (AxisId >= 0) {
      int64_t A = AxisType == OPTIMA_ELEMENT_I64 ? *Ctx.tensor<const int64_t>(AxisId)
                                                 : *Ctx.tensor<const int32_t>(AxisId);
      int64_t R = int64_t(Rank);
      if (A < -R || A >= R) {
        Ctx.fail("axis %lld is out of range for rank %lld", (long long)A, (long long)R);
        return;
      }
      size_t Axis = size_t(A < 0 ? A + R : A);
      S = AxisSplit{};
      for (size_t I = 0; I < Rank; ++I)
        (I < Axis ? S.Outer : I == Axis ? S.Len : S.Inner) *= Shape_[I];
    }
    using A = ComputeType<T>;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, S.Len));
    Ctx.parallelFor(S.Outer * S.Inner, Grain, [&](size_t Begin, size_t End) {
      for (size_t I = Begin; I < End; ++I) {
        size_t Base = (I / S.Inner) * S.Len * S.Inner + I % S.Inner;
        A Sum = A(Product ? 1 : 0);
        for (size_t J = 0; J < S.Len; ++J) {
          size_t Pos = Base + (Reverse ? S.Len - 1 - J : J) * S.Inner;
          A V = load(X[Pos]);
          if (Exclusive) {
            Y[Pos] = store<T>(Sum);
            Sum = combine(Sum, V);
          } else {
            Sum = combine(Sum, V);
            Y[Pos] = store<T>(Sum);
          }
        }
      }
    });
  }

private:
  static ComputeType<T> combine(ComputeType<T> Acc, ComputeType<T> V) {
    using A = ComputeType<T>;
    if constexpr (Product) {
      if constexpr (std::is_integral_v<A>) // wraps like the ONNX reference, without signed UB
        return A(uint64_t(Acc) * uint64_t(V));
      else
        return A(Acc * V);
    } else {
      return A(Acc + V);
    }
  }

  int32_t XId, YId;
  size_t Rank;
  size_t Shape_[OPTIMA_EXT_MAX_DIMS] = {};
  AxisSplit Fixed;
  int32_t AxisId, AxisType;
  bool Exclusive, Reverse;
};

template <bool Product> std::unique_ptr<Kernel> makeCumulative(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"exclusive", "reverse"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_F64, OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_U32,
                      OPTIMA_ELEMENT_I64, OPTIMA_ELEMENT_U64});
  const TensorInfo &X = *Ctx.input(0);
  if (X.Shape.empty())
    Ctx.invalid("input \"" + X.Name + "\" must have rank >= 1");
  const TensorInfo &AxisT = *Ctx.input(1);
  if ((AxisT.Type != OPTIMA_ELEMENT_I32 && AxisT.Type != OPTIMA_ELEMENT_I64) ||
      AxisT.Elements != 1 || AxisT.Shape.size() > 1)
    Ctx.invalid("axis input \"" + AxisT.Name + "\" must be an I32 or I64 scalar, got " +
                describe(AxisT.Type, AxisT.Shape));
  AxisSplit Fixed;
  int32_t AxisId = -1;
  if (AxisT.Where == Storage::Constant)
    Fixed = splitAt(X.Shape, normalizeAxis(Ctx, "axis", constantInts(Ctx, 1, "axis")[0],
                                           X.Shape.size()));
  else
    AxisId = Ctx.inputId(1); // validated at run time
  int64_t Exclusive = Ctx.getInt("exclusive", 0), Reverse = Ctx.getInt("reverse", 0);
  if (Exclusive != 0 && Exclusive != 1)
    Ctx.invalidAttribute("exclusive", "expected 0 or 1");
  if (Reverse != 0 && Reverse != 1)
    Ctx.invalidAttribute("reverse", "expected 0 or 1");
  Ctx.expectOutput(0, X.Type, X.Shape);
  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (!std::is_same_v<T, bool>)
      K = std::make_unique<CumKernel<T, Product>>(Ctx.inputId(0), Ctx.outputId(0), X.Shape,
                                                  Fixed, AxisId, AxisT.Type, Exclusive != 0,
                                                  Reverse != 0);
  });
  return K;
}

} // namespace

void registerSortOps(OpRegistry &R) {
  R.add("TopK", makeTopK);
  R.add("CumSum", makeCumulative<false>);
  R.add("CumProd", makeCumulative<true>);
}

} // namespace optima_v2::native
