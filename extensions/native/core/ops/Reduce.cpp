// Op family: reductions (ReduceSum/Mean/Max/Min/Prod/L1/L2/LogSum/LogSumExp/SumSquare) and
// ArgMax/ArgMin.
//
// At load the input shape is collapsed into alternating runs of kept and reduced dims (size-1
// dims dropped). The kernel then walks one of two layouts:
//  - innermost run reduced: per output element, an odometer over the outer reduced runs and a
//    contiguous inner loop (parallel over output elements);
//  - innermost run kept: per output row, accumulators for a block of contiguous inner elements,
//    swept once per reduced position (vectorisable; parallel over rows).
// Accumulation is in float for F16/BF16/F32, double for F64, the type itself for integers
// (wrapping, as ONNX Runtime does).
#include "../OpRegistry.h"
#include "../TypeDispatch.h"
#include "AxisUtil.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace optima_v2::native {

namespace {

template <typename T> using Acc = ComputeType<T>;

template <typename A> A lowestOf() {
  if constexpr (std::numeric_limits<A>::has_infinity)
    return -std::numeric_limits<A>::infinity();
  else
    return std::numeric_limits<A>::lowest();
}
template <typename A> A highestOf() {
  if constexpr (std::numeric_limits<A>::has_infinity)
    return std::numeric_limits<A>::infinity();
  else
    return std::numeric_limits<A>::max();
}
template <typename A> bool isNan(A V) {
  if constexpr (std::is_floating_point_v<A>)
    return V != V;
  else
    return false;
}
// Float maths on an integer accumulator goes through double and back (truncating; a result
// the integer cannot hold saturates, NaN gives 0, so the conversion is never undefined).
template <typename A, typename Fn> A viaDouble(A V, Fn F) {
  if constexpr (std::is_floating_point_v<A>) {
    return F(V);
  } else {
    double R = F(double(V));
    if (R != R)
      return A(0);
    if (R <= double(std::numeric_limits<A>::lowest()))
      return std::numeric_limits<A>::lowest();
    if (R >= double(std::numeric_limits<A>::max()))
      return std::numeric_limits<A>::max();
    return A(R);
  }
}

// Each reduction: Init, Map (element -> contribution, given the pass-1 shift for LogSumExp),
// Combine, Final(acc, count).
struct SumOp {
  static constexpr bool Additive = true; // combine is +: contiguous runs use 4 partial sums
  template <typename A> static A init() { return A(0); }
  template <typename A> static A map(A X, A) { return X; }
  template <typename A> static A combine(A S, A X) { return S + X; }
  template <typename A> static A final(A S, size_t) { return S; }
};
struct MeanOp : SumOp {
  template <typename A> static A final(A S, size_t N) { return N ? A(S / A(N)) : viaDouble(S, [](double) { return std::nan(""); }); }
};
struct ProdOp {
  static constexpr bool Additive = false;
  template <typename A> static A init() { return A(1); }
  template <typename A> static A map(A X, A) { return X; }
  template <typename A> static A combine(A S, A X) { return S * X; }
  template <typename A> static A final(A S, size_t) { return S; }
};
struct MaxOp {
  static constexpr bool Additive = false;
  template <typename A> static A init() { return lowestOf<A>(); }
  template <typename A> static A map(A X, A) { return X; }
  // NaN propagates (numpy's maximum.reduce, the ONNX reference).
  template <typename A> static A combine(A S, A X) { return (X > S || isNan(X)) && !isNan(S) ? X : S; }
  template <typename A> static A final(A S, size_t) { return S; }
};
struct MinOp : MaxOp {
  template <typename A> static A init() { return highestOf<A>(); }
  template <typename A> static A combine(A S, A X) { return (X < S || isNan(X)) && !isNan(S) ? X : S; }
};
struct L1Op : SumOp {
  template <typename A> static A map(A X, A) {
    if constexpr (std::is_unsigned_v<A>)
      return X;
    else
      return X < A(0) ? A(-X) : X;
  }
};
struct SumSquareOp : SumOp {
  template <typename A> static A map(A X, A) { return A(X * X); }
};
struct L2Op : SumSquareOp {
  template <typename A> static A final(A S, size_t) { return viaDouble(S, [](auto V) { return std::sqrt(V); }); }
};
struct LogSumOp : SumOp {
  template <typename A> static A final(A S, size_t) { return viaDouble(S, [](auto V) { return std::log(V); }); }
};
// Pass 2 of LogSumExp (pass 1 is MaxOp): sum of exp(x - max), then log(sum) + max.
struct LogSumExpOp : SumOp {
  template <typename A> static A map(A X, A Shift) {
    return viaDouble(A(X - Shift), [](auto V) { return std::exp(V); });
  }
};

// Collapsed reduction geometry (see the file comment).
struct ReducePlan {
  bool InnerReduced = true;
  size_t Inner = 1;          // innermost run length
  size_t InnerStride = 1;    // (kept inner) output elements per row
  size_t Rows = 1;           // output rows (InnerReduced: output elements)
  size_t ReducedCount = 1;   // elements reduced into each output (incl. the inner run)
  // Kept runs except the innermost-when-kept: row index -> input offset.
  size_t KeptRank = 0, KeptDims[OPTIMA_EXT_MAX_DIMS] = {}, KeptStrides[OPTIMA_EXT_MAX_DIMS] = {};
  // Reduced runs except the innermost-when-reduced: odometer over input offsets.
  size_t RedRank = 0, RedDims[OPTIMA_EXT_MAX_DIMS] = {}, RedStrides[OPTIMA_EXT_MAX_DIMS] = {};
  size_t RedOuterCount = 1; // product of RedDims
  size_t OutElements = 0;
  size_t InElements = 0;
};

ReducePlan planReduce(const Dims &Shape, const std::vector<bool> &Reduced) {
  struct Run {
    size_t Size;
    bool Red;
  };
  std::vector<Run> Runs;
  ReducePlan P;
  P.InElements = 1;
  for (size_t I = 0; I < Shape.size(); ++I) {
    size_t D = size_t(Shape[I]);
    P.InElements *= D;
    if (Reduced[I])
      P.ReducedCount *= D;
    if (D == 1)
      continue;
    if (!Runs.empty() && Runs.back().Red == Reduced[I])
      Runs.back().Size *= D;
    else
      Runs.push_back({D, bool(Reduced[I])});
  }
  P.OutElements = P.ReducedCount ? P.InElements / P.ReducedCount : 1;
  if (P.ReducedCount == 0) { // empty reduction: the output count is the kept dims' product
    P.OutElements = 1;
    for (size_t I = 0; I < Shape.size(); ++I)
      if (!Reduced[I])
        P.OutElements *= size_t(Shape[I]);
  }
  if (Runs.empty())
    Runs.push_back({1, true});
  // Strides of each run in the input.
  std::vector<size_t> Strides(Runs.size());
  size_t S = 1;
  for (size_t I = Runs.size(); I-- > 0;) {
    Strides[I] = S;
    S *= Runs[I].Size;
  }
  P.InnerReduced = Runs.back().Red;
  P.Inner = Runs.back().Size;
  for (size_t I = 0; I + 1 < Runs.size(); ++I) {
    if (Runs[I].Red) {
      P.RedDims[P.RedRank] = Runs[I].Size;
      P.RedStrides[P.RedRank++] = Strides[I];
      P.RedOuterCount *= Runs[I].Size;
    } else {
      P.KeptDims[P.KeptRank] = Runs[I].Size;
      P.KeptStrides[P.KeptRank++] = Strides[I];
    }
  }
  P.Rows = 1;
  for (size_t I = 0; I < P.KeptRank; ++I)
    P.Rows *= P.KeptDims[I];
  P.InnerStride = P.InnerReduced ? 1 : P.Inner;
  return P;
}

// Input offset of output row R.
inline size_t rowOffset(const ReducePlan &P, size_t R) {
  size_t Off = 0;
  for (size_t D = P.KeptRank; D-- > 0;) {
    Off += (R % P.KeptDims[D]) * P.KeptStrides[D];
    R /= P.KeptDims[D];
  }
  return Off;
}

// Calls F(offset) for every reduced position's input offset (outer reduced runs only).
template <typename Fn> inline void forEachReduced(const ReducePlan &P, size_t Base, const Fn &F) {
  size_t Idx[OPTIMA_EXT_MAX_DIMS] = {};
  size_t Off = Base;
  for (size_t N = 0; N < P.RedOuterCount; ++N) {
    F(Off);
    for (size_t D = P.RedRank; D-- > 0;) {
      Off += P.RedStrides[D];
      if (++Idx[D] < P.RedDims[D])
        break;
      Off -= Idx[D] * P.RedStrides[D];
      Idx[D] = 0;
    }
  }
}

template <typename T, typename Op> class ReduceKernel final : public Kernel {
public:
  static constexpr bool LogSumExp = std::is_same_v<Op, LogSumExpOp>;
  using A = Acc<T>;

  ReduceKernel(int32_t In, int32_t Out, const ReducePlan &P) : In(In), Out(Out), P(P) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(In);
    T *Y = Ctx.tensor<T>(Out);
    if (P.ReducedCount == 0) { // reduction over an empty set
      for (size_t I = 0; I < P.OutElements; ++I)
        Y[I] = store<T>(finish(Op::template init<A>(), Op::template init<A>()));
      return;
    }
    if (P.OutElements == 0)
      return;
    size_t Work = std::max<size_t>(1, P.ReducedCount * P.InnerStride);
    size_t Grain = std::max<size_t>(1, (size_t(1) << 15) / Work);
    if (P.InnerReduced) {
      Ctx.parallelFor(P.Rows, Grain, [&](size_t Begin, size_t End) {
        for (size_t R = Begin; R < End; ++R) {
          size_t Base = rowOffset(P, R);
          A Shift = LogSumExp ? reduceRun<MaxOp>(X, Base, A(0)) : A(0);
          if (LogSumExp && !std::isfinite(double(Shift)))
            Shift = A(0);
          Y[R] = store<T>(finish(reduceRun<Op>(X, Base, Shift), Shift));
        }
      });
      return;
    }
    Ctx.parallelFor(P.Rows, Grain, [&](size_t Begin, size_t End) {
      constexpr size_t Block = 64;
      A S[Block], Shift[Block];
      for (size_t R = Begin; R < End; ++R) {
        size_t Base = rowOffset(P, R);
        for (size_t B0 = 0; B0 < P.Inner; B0 += Block) {
          size_t Len = std::min(Block, P.Inner - B0);
          if constexpr (LogSumExp) {
            reduceBlock<MaxOp>(X, Base + B0, Len, Shift, Shift);
            for (size_t J = 0; J < Len; ++J)
              if (!std::isfinite(double(Shift[J])))
                Shift[J] = A(0);
          } else {
            for (size_t J = 0; J < Len; ++J)
              Shift[J] = A(0);
          }
          reduceBlock<Op>(X, Base + B0, Len, Shift, S);
          T *YRow = Y + R * P.Inner + B0;
          for (size_t J = 0; J < Len; ++J)
            YRow[J] = store<T>(finish(S[J], Shift[J]));
        }
      }
    });
  }

private:
  A finish(A S, A Shift) const {
    if constexpr (LogSumExp)
      return A(viaDouble(S, [](auto V) { return std::log(V); }) + Shift);
    else
      return Op::template final<A>(S, P.ReducedCount);
  }

  template <typename R> A reduceRun(const T *X, size_t Base, A Shift) const {
    A S = R::template init<A>();
    size_t Inner = P.Inner;
    forEachReduced(P, Base, [&](size_t Off) {
      const T *Row = X + Off;
      size_t J = 0;
      if constexpr (R::Additive && std::is_floating_point_v<A>) {
        // Independent partial sums: no serial add chain, and less rounding drift.
        A S0 = A(0), S1 = A(0), S2 = A(0), S3 = A(0);
        for (; J + 4 <= Inner; J += 4) {
          S0 += R::map(load(Row[J]), Shift);
          S1 += R::map(load(Row[J + 1]), Shift);
          S2 += R::map(load(Row[J + 2]), Shift);
          S3 += R::map(load(Row[J + 3]), Shift);
        }
        S += (S0 + S1) + (S2 + S3);
      }
      for (; J < Inner; ++J)
        S = R::combine(S, R::map(load(Row[J]), Shift));
    });
    return S;
  }

  template <typename R>
  void reduceBlock(const T *X, size_t Base, size_t Len, const A *Shift, A *S) const {
    A Tmp[64];
    for (size_t J = 0; J < Len; ++J)
      Tmp[J] = R::template init<A>();
    forEachReduced(P, Base, [&](size_t Off) {
      const T *Row = X + Off;
      for (size_t J = 0; J < Len; ++J)
        Tmp[J] = R::combine(Tmp[J], R::map(load(Row[J]), Shift[J]));
    });
    for (size_t J = 0; J < Len; ++J)
      S[J] = Tmp[J];
  }

  int32_t In, Out;
  ReducePlan P;
};

const std::initializer_list<int32_t> AllNumeric = {
    OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16, OPTIMA_ELEMENT_F64,
    OPTIMA_ELEMENT_I8,  OPTIMA_ELEMENT_U8,  OPTIMA_ELEMENT_I16,  OPTIMA_ELEMENT_U16,
    OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_U32, OPTIMA_ELEMENT_I64,  OPTIMA_ELEMENT_U64};

// Reduced-axis mask of a Reduce* node (axes attribute of older opsets or constant input 1).
std::vector<bool> reducedAxes(const NodeContext &Ctx, size_t Rank, Dims &OutShape) {
  bool HasAxes = false;
  std::vector<int64_t> Axes;
  if (Ctx.hasAttribute("axes")) {
    if (Ctx.input(1))
      Ctx.invalid("axes given both as an attribute and as an input");
    Axes = Ctx.getInts("axes", {});
    HasAxes = true;
  } else if (Ctx.input(1)) {
    Axes = constantInts(Ctx, 1, "axes");
    HasAxes = true;
  }
  int64_t KeepDims = Ctx.getInt("keepdims", 1);
  int64_t Noop = Ctx.getInt("noop_with_empty_axes", 0);
  if ((KeepDims != 0 && KeepDims != 1))
    Ctx.invalidAttribute("keepdims", "expected 0 or 1");
  if (Noop != 0 && Noop != 1)
    Ctx.invalidAttribute("noop_with_empty_axes", "expected 0 or 1");
  std::vector<bool> Reduced(Rank, false);
  if (!HasAxes || Axes.empty()) {
    if (!Noop)
      Reduced.assign(Rank, true);
  } else {
    for (int64_t A : Axes) {
      size_t N = normalizeAxis(Ctx, "axes", A, Rank);
      if (Reduced[N])
        Ctx.invalidAttribute("axes", "axis " + std::to_string(A) + " is listed twice");
      Reduced[N] = true;
    }
  }
  const Dims &In = Ctx.input(0)->Shape;
  OutShape.clear();
  for (size_t I = 0; I < Rank; ++I) {
    if (!Reduced[I])
      OutShape.push_back(In[I]);
    else if (KeepDims)
      OutShape.push_back(1);
  }
  return Reduced;
}

template <typename Op> std::unique_ptr<Kernel> makeReduce(const NodeContext &Ctx) {
  Ctx.expectArity(1, 2, 1);
  Ctx.allowAttributes({"axes", "keepdims", "noop_with_empty_axes"});
  const TensorInfo &X = *Ctx.input(0);
  constexpr bool BoolOk = std::is_same_v<Op, MaxOp> || std::is_same_v<Op, MinOp>;
  if (BoolOk) { // Max/Min also take 8-bit integers and BOOL (any/all), as in opset 20
    if (X.Type != OPTIMA_ELEMENT_BOOL)
      Ctx.requireType(0, AllNumeric);
  } else { // the spec's types; narrow integers would wrap in their own accumulator
    Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                        OPTIMA_ELEMENT_F64, OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_U32,
                        OPTIMA_ELEMENT_I64, OPTIMA_ELEMENT_U64});
  }
  Dims OutShape;
  std::vector<bool> Reduced = reducedAxes(Ctx, X.Shape.size(), OutShape);
  Ctx.expectOutput(0, X.Type, OutShape);
  ReducePlan P = planReduce(X.Shape, Reduced);
  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (!std::is_same_v<T, bool> || BoolOk)
      K = std::make_unique<ReduceKernel<T, Op>>(Ctx.inputId(0), Ctx.outputId(0), P);
  });
  return K;
}

// ArgMax/ArgMin over [outer, len, inner]; ties keep the first (or, with select_last_index, the
// last) index. A NaN wins, as in numpy.
template <typename T, bool Max> class ArgKernel final : public Kernel {
public:
  ArgKernel(int32_t In, int32_t Out, AxisSplit S, bool Last) : In(In), Out(Out), S(S), Last(Last) {}
  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(In);
    int64_t *Y = Ctx.tensor<int64_t>(Out);
    size_t Count = S.Outer * S.Inner;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, S.Len));
    Ctx.parallelFor(Count, Grain, [&](size_t Begin, size_t End) {
      for (size_t I = Begin; I < End; ++I) {
        size_t O = I / S.Inner, Pos = I % S.Inner;
        const T *Base = X + O * S.Len * S.Inner + Pos;
        auto Best = load(Base[0]);
        size_t BestIdx = 0;
        for (size_t J = 1; J < S.Len && !isNan(Best); ++J) {
          auto V = load(Base[J * S.Inner]);
          bool Better = Max ? (V > Best) : (V < Best);
          if (Better || isNan(V) || (Last && V == Best)) {
            Best = V;
            BestIdx = J;
          }
        }
        Y[I] = int64_t(BestIdx);
      }
    });
  }

private:
  int32_t In, Out;
  AxisSplit S;
  bool Last;
};

template <bool Max> std::unique_ptr<Kernel> makeArg(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"axis", "keepdims", "select_last_index"});
  const TensorInfo &X = *Ctx.input(0);
  Ctx.requireType(0, AllNumeric);
  if (X.Shape.empty())
    Ctx.invalid("input \"" + X.Name + "\" must have rank >= 1");
  size_t Axis = normalizeAxis(Ctx, "axis", Ctx.getInt("axis", 0), X.Shape.size());
  int64_t KeepDims = Ctx.getInt("keepdims", 1), Last = Ctx.getInt("select_last_index", 0);
  if (KeepDims != 0 && KeepDims != 1)
    Ctx.invalidAttribute("keepdims", "expected 0 or 1");
  if (Last != 0 && Last != 1)
    Ctx.invalidAttribute("select_last_index", "expected 0 or 1");
  if (X.Shape[Axis] == 0)
    Ctx.invalid("cannot take " + Ctx.node().Op + " over the empty axis " + std::to_string(Axis));
  Dims OutShape = X.Shape;
  if (KeepDims)
    OutShape[Axis] = 1;
  else
    OutShape.erase(OutShape.begin() + std::ptrdiff_t(Axis));
  Ctx.expectOutput(0, OPTIMA_ELEMENT_I64, OutShape);
  AxisSplit S = splitAt(X.Shape, Axis);
  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (!std::is_same_v<T, bool>)
      K = std::make_unique<ArgKernel<T, Max>>(Ctx.inputId(0), Ctx.outputId(0), S, Last != 0);
  });
  return K;
}

} // namespace

void registerReduceOps(OpRegistry &R) {
  R.add("ReduceSum", makeReduce<SumOp>);
  R.add("ReduceMean", makeReduce<MeanOp>);
  R.add("ReduceMax", makeReduce<MaxOp>);
  R.add("ReduceMin", makeReduce<MinOp>);
  R.add("ReduceProd", makeReduce<ProdOp>);
  R.add("ReduceL1", makeReduce<L1Op>);
  R.add("ReduceL2", makeReduce<L2Op>);
  R.add("ReduceLogSum", makeReduce<LogSumOp>);
  R.add("ReduceLogSumExp", makeReduce<LogSumExpOp>);
  R.add("ReduceSumSquare", makeReduce<SumSquareOp>);
  R.add("ArgMax", makeArg<true>);
  R.add("ArgMin", makeArg<false>);
}

} // namespace optima_v2::native
