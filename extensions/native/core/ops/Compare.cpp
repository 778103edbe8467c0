// Comparisons (Equal: numeric and BOOL; Less, LessOrEqual, Greater, GreaterOrEqual: numeric)
// producing BOOL with numpy broadcasting; logical And, Or, Xor, Not on BOOL; Where (any type,
// three-way broadcasting). F16/BF16 compare as float (NaN is unequal to everything).
#include "elementwise/Common.h"

namespace optima_v2::native {

namespace {

using namespace ew;

struct EqualOp {
  template <typename C> bool operator()(C A, C B) const { return A == B; }
};
struct LessOp {
  template <typename C> bool operator()(C A, C B) const { return A < B; }
};
struct LessEqualOp {
  template <typename C> bool operator()(C A, C B) const { return A <= B; }
};
struct GreaterOp {
  template <typename C> bool operator()(C A, C B) const { return A > B; }
};
struct GreaterEqualOp {
  template <typename C> bool operator()(C A, C B) const { return A >= B; }
};
// BOOL tensors come from callers as bytes: logical ops read them as uint8_t and treat any
// non-zero byte as true, writing canonical 0/1.
struct AndOp {
  uint8_t operator()(uint8_t A, uint8_t B) const { return uint8_t((A != 0) & (B != 0)); }
};
struct OrOp {
  uint8_t operator()(uint8_t A, uint8_t B) const { return uint8_t((A != 0) | (B != 0)); }
};
struct XorOp {
  uint8_t operator()(uint8_t A, uint8_t B) const { return uint8_t((A != 0) != (B != 0)); }
};
struct BoolEqualOp {
  uint8_t operator()(uint8_t A, uint8_t B) const { return uint8_t((A != 0) == (B != 0)); }
};
struct NotOp {
  uint8_t operator()(uint8_t A) const { return uint8_t(A == 0); }
};

template <typename Op> std::unique_ptr<Kernel> makeLogical(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({});
  requireSet(Ctx, 0, BoolType);
  requireSameTypes(Ctx, 0, 2);
  BroadcastPlan Plan = checkBroadcast(Ctx, OPTIMA_ELEMENT_BOOL);
  return std::make_unique<BinaryKernel<uint8_t, uint8_t, uint8_t, Op>>(Ctx.inputId(0), Ctx.inputId(1),
                                                                       Ctx.outputId(0), Plan, Op{});
}

template <typename Op> std::unique_ptr<Kernel> makeCompare(const NodeContext &Ctx) {
  if (Ctx.inputCount() == 2 && Ctx.input(0) && Ctx.input(0)->Type == OPTIMA_ELEMENT_BOOL &&
      std::is_same_v<Op, EqualOp>)
    return makeLogical<BoolEqualOp>(Ctx);
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({});
  return makeSameTypeBinary<NumericTypes, bool>(Ctx, [](auto) { return Op{}; });
}

std::unique_ptr<Kernel> makeNot(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({});
  requireSet(Ctx, 0, BoolType);
  const TensorInfo &X = *Ctx.input(0);
  Ctx.expectOutput(0, X.Type, X.Shape);
  return std::make_unique<MapKernel<uint8_t, uint8_t, NotOp>>(Ctx.inputId(0), Ctx.outputId(0), X.Elements, NotOp{});
}

// Where needs three operands broadcast together: a plan like BroadcastPlan with a third stride
// set (condition, X, Y), collapsed the same way.
struct WherePlan {
  size_t Rank = 0;
  size_t Dims[OPTIMA_EXT_MAX_DIMS] = {};
  size_t Strides[3][OPTIMA_EXT_MAX_DIMS] = {};
  size_t Inner = 1, Outer = 0;
};

WherePlan planWhere(const Dims *In[3], const Dims &Out) {
  size_t S[3][OPTIMA_EXT_MAX_DIMS] = {};
  size_t R = Out.size();
  for (size_t K = 0; K < 3; ++K) {
    size_t Stride = 1;
    for (size_t I = R; I-- > 0;) {
      size_t Offset = R - In[K]->size();
      int64_t D = I < Offset ? 1 : (*In[K])[I - Offset];
      S[K][I] = (D == 1 && Out[I] != 1) ? 0 : Stride;
      Stride *= size_t(D);
    }
  }
  WherePlan P;
  for (size_t I = 0; I < R; ++I) {
    size_t D = size_t(Out[I]);
    if (D == 1)
      continue;
    bool Merge = P.Rank > 0;
    for (size_t K = 0; K < 3 && Merge; ++K)
      Merge = P.Strides[K][P.Rank - 1] == S[K][I] * D;
    size_t At = Merge ? P.Rank - 1 : P.Rank++;
    P.Dims[At] = Merge ? P.Dims[At] * D : D;
    for (size_t K = 0; K < 3; ++K)
      P.Strides[K][At] = S[K][I];
  }
  if (P.Rank == 0) {
    P.Rank = 1;
    P.Dims[0] = 1;
  }
  P.Inner = P.Dims[P.Rank - 1];
  P.Outer = 1;
  for (size_t I = 0; I + 1 < P.Rank; ++I)
    P.Outer *= P.Dims[I];
  for (int64_t D : Out)
    if (D == 0)
      P.Outer = 0;
  return P;
}

template <typename T> class WhereKernel final : public Kernel {
public:
  WhereKernel(const int32_t (&Ids)[4], const WherePlan &Plan) : Plan(Plan) {
    std::copy(Ids, Ids + 4, this->Ids);
  }
  void run(const KernelContext &Ctx) const override {
    const uint8_t *PC = Ctx.tensor<const uint8_t>(Ids[0]); // any non-zero byte is true
    const T *PX = Ctx.tensor<const T>(Ids[1]);
    const T *PY = Ctx.tensor<const T>(Ids[2]);
    T *PO = Ctx.tensor<T>(Ids[3]);
    const size_t Last = Plan.Rank - 1, N = Plan.Inner;
    const size_t SC = Plan.Strides[0][Last], SX = Plan.Strides[1][Last], SY = Plan.Strides[2][Last];
    auto Rows = [&](size_t Begin, size_t End) {
      size_t Index[OPTIMA_EXT_MAX_DIMS] = {};
      size_t Off[3] = {};
      for (size_t R = Begin, D = Last; D-- > 0;) {
        Index[D] = R % Plan.Dims[D];
        R /= Plan.Dims[D];
        for (size_t K = 0; K < 3; ++K)
          Off[K] += Index[D] * Plan.Strides[K][D];
      }
      for (size_t R = Begin; R < End; ++R) {
        const uint8_t *RC = PC + Off[0];
        const T *RX = PX + Off[1], *RY = PY + Off[2];
        T *RO = PO + R * N;
        if (SC && SX && SY)
          for (size_t J = 0; J < N; ++J)
            RO[J] = RC[J] ? RX[J] : RY[J];
        else
          for (size_t J = 0; J < N; ++J)
            RO[J] = RC[J * SC] ? RX[J * SX] : RY[J * SY];
        for (size_t D = Last; D-- > 0;) {
          for (size_t K = 0; K < 3; ++K)
            Off[K] += Plan.Strides[K][D];
          if (++Index[D] < Plan.Dims[D])
            break;
          for (size_t K = 0; K < 3; ++K)
            Off[K] -= Index[D] * Plan.Strides[K][D];
          Index[D] = 0;
        }
      }
    };
    if (Plan.Outer == 0)
      return;
    Ctx.parallelFor(Plan.Outer, std::max<size_t>(1, ElementGrain / std::max<size_t>(N, 1)), Rows);
  }

private:
  int32_t Ids[4];
  WherePlan Plan;
};

std::unique_ptr<Kernel> makeWhere(const NodeContext &Ctx) {
  Ctx.expectArity(3, 3, 1);
  Ctx.allowAttributes({});
  requireSet(Ctx, 0, BoolType);
  requireSet(Ctx, 1, AllTypes);
  requireSameTypes(Ctx, 1, 3);
  const TensorInfo &C = *Ctx.input(0), &X = *Ctx.input(1), &Y = *Ctx.input(2);
  Dims CX, Out;
  if (!broadcastShape(C.Shape, X.Shape, CX) || !broadcastShape(CX, Y.Shape, Out))
    Ctx.invalid("input shapes " + formatShape(C.Shape) + ", " + formatShape(X.Shape) + " and " +
                formatShape(Y.Shape) + " cannot be broadcast together");
  Ctx.expectOutput(0, X.Type, Out);
  const Dims *In[3] = {&C.Shape, &X.Shape, &Y.Shape};
  WherePlan Plan = planWhere(In, Out);
  const int32_t Ids[4] = {Ctx.inputId(0), Ctx.inputId(1), Ctx.inputId(2), Ctx.outputId(0)};
  std::unique_ptr<Kernel> K;
  // Selection only copies bits: dispatch on the element size.
  switch (elementSize(X.Type)) {
  case 1: K = std::make_unique<WhereKernel<uint8_t>>(Ids, Plan); break;
  case 2: K = std::make_unique<WhereKernel<uint16_t>>(Ids, Plan); break;
  case 4: K = std::make_unique<WhereKernel<uint32_t>>(Ids, Plan); break;
  default: K = std::make_unique<WhereKernel<uint64_t>>(Ids, Plan); break;
  }
  return K;
}

} // namespace

void registerCompareOps(OpRegistry &R) {
  R.add("Equal", makeCompare<EqualOp>);
  R.add("Less", makeCompare<LessOp>);
  R.add("LessOrEqual", makeCompare<LessEqualOp>);
  R.add("Greater", makeCompare<GreaterOp>);
  R.add("GreaterOrEqual", makeCompare<GreaterEqualOp>);
  R.add("And", makeLogical<AndOp>);
  R.add("Or", makeLogical<OrOp>);
  R.add("Xor", makeLogical<XorOp>);
  R.add("Not", makeNot);
  R.add("Where", makeWhere);
}

} // namespace optima_v2::native
