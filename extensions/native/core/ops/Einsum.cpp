// Op family: Einsum. The equation is parsed at load (explicit or implicit output, "...",
// repeated letters inside one operand = diagonal) into per-operand strides over two index
// spaces: the output indices and the summed indices. A repeated letter adds its strides; a
// broadcast ellipsis dim (size 1 or missing) gets stride 0.
//
// Two operands of F32 whose letters form a (batched) matrix product with contiguous operands
// run through the GEMM; everything else runs the general loop: per output element, an
// odometer over the summed indices multiplying the operands (parallel over output elements).
#include "../Gemm.h"
#include "../OpRegistry.h"
#include "../TypeDispatch.h"

#include <algorithm>
#include <map>
#include <string>

namespace optima_v2::native {

namespace {

constexpr size_t MaxOperands = 8;
constexpr size_t MaxSummed = 16;

struct EinsumPlan {
  size_t Operands = 0;
  int32_t Ids[MaxOperands] = {};
  size_t OutRank = 0, OutDims[OPTIMA_EXT_MAX_DIMS] = {};
  size_t OutStrides[MaxOperands][OPTIMA_EXT_MAX_DIMS] = {};
  size_t SumRank = 0, SumDims[MaxSummed] = {};
  size_t SumStrides[MaxOperands][MaxSummed] = {};
  size_t OutCount = 1, SumCount = 1;
};

struct Term {
  std::vector<int> Labels; // letter codes; -1 marks the ellipsis position
  bool HasEllipsis = false;
};

Term parseTerm(const NodeContext &Ctx, const std::string &S) {
  Term T;
  for (size_t I = 0; I < S.size(); ++I) {
    char C = S[I];
    if (C == '.') {
      if (S.compare(I, 3, "...") != 0 || T.HasEllipsis)
        Ctx.invalidAttribute("equation", "malformed ellipsis in \"" + S + "\"");
      T.HasEllipsis = true;
      T.Labels.push_back(-1);
      I += 2;
    } else if ((C >= 'a' && C <= 'z') || (C >= 'A' && C <= 'Z')) {
      T.Labels.push_back(int(static_cast<unsigned char>(C)));
    } else {
      Ctx.invalidAttribute("equation", std::string("unexpected character '") + C + "'");
    }
  }
  return T;
}

// Batched-matmul mapping of a 2-operand F32 contraction: Y[b, m, n] = sum_k A[b, m, k] B[b, k, n]
// (with either operand possibly transposed), all contiguous.
struct GemmMapping {
  bool Ok = false;
  size_t Batch = 1, BatchStrideA = 0, BatchStrideB = 0;
  GemmShape Shape;
};

template <typename T> class EinsumKernel final : public Kernel {
public:
  EinsumKernel(const EinsumPlan &P, int32_t Out, GemmMapping G) : P(P), Out(Out), G(G) {}

  void run(const KernelContext &Ctx) const override {
    T *Y = Ctx.tensor<T>(Out);
    if constexpr (std::is_same_v<T, float>) {
      if (G.Ok) {
        const float *A = Ctx.tensor<const float>(P.Ids[0]), *B = Ctx.tensor<const float>(P.Ids[1]);
        size_t Mn = G.Shape.M * G.Shape.N;
        for (size_t Bi = 0; Bi < G.Batch; ++Bi)
          sgemm(G.Shape, 1.0f, A + Bi * G.BatchStrideA, B + Bi * G.BatchStrideB, 0.0f, Y + Bi * Mn,
                &Ctx);
        return;
      }
    }
    const T *X[MaxOperands];
    for (size_t I = 0; I < P.Operands; ++I)
      X[I] = Ctx.tensor<const T>(P.Ids[I]);
    using A = ComputeType<T>;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, P.SumCount));
    Ctx.parallelFor(P.OutCount, Grain, [&](size_t Begin, size_t End) {
      for (size_t O = Begin; O < End; ++O) {
        size_t Base[MaxOperands] = {};
        size_t Rem = O;
        for (size_t D = P.OutRank; D-- > 0;) {
          size_t Ix = Rem % P.OutDims[D];
          Rem /= P.OutDims[D];
          for (size_t K = 0; K < P.Operands; ++K)
            Base[K] += Ix * P.OutStrides[K][D];
        }
        A Sum = A(0);
        size_t Idx[MaxSummed] = {};
        size_t Off[MaxOperands];
        for (size_t K = 0; K < P.Operands; ++K)
          Off[K] = Base[K];
        for (size_t S = 0; S < P.SumCount; ++S) {
          A Prod = load(X[0][Off[0]]);
          for (size_t K = 1; K < P.Operands; ++K)
            Prod = A(Prod * load(X[K][Off[K]]));
          Sum = A(Sum + Prod);
          for (size_t D = P.SumRank; D-- > 0;) {
            for (size_t K = 0; K < P.Operands; ++K)
              Off[K] += P.SumStrides[K][D];
            if (++Idx[D] < P.SumDims[D])
              break;
            for (size_t K = 0; K < P.Operands; ++K)
              Off[K] -= Idx[D] * P.SumStrides[K][D];
            Idx[D] = 0;
          }
        }
        Y[O] = store<T>(Sum);
      }
    });
  }

private:
  EinsumPlan P;
  int32_t Out;
  GemmMapping G;
};

// Letter lists of a 2-operand contraction, after ellipsis expansion (ids, not chars).
GemmMapping mapToGemm(const std::vector<std::vector<int>> &Ops, const std::vector<int> &OutIds,
                      const std::map<int, size_t> &Size) {
  GemmMapping G;
  if (Ops.size() != 2)
    return G;
  const std::vector<int> &A = Ops[0], &B = Ops[1];
  auto Has = [](const std::vector<int> &V, int X) { return std::find(V.begin(), V.end(), X) != V.end(); };
  auto Unique = [](std::vector<int> V) {
    std::sort(V.begin(), V.end());
    return std::adjacent_find(V.begin(), V.end()) == V.end();
  };
  if (!Unique(A) || !Unique(B) || !Unique(OutIds))
    return G;
  std::vector<int> Batch, M, N, K;
  for (int L : OutIds) {
    bool InA = Has(A, L), InB = Has(B, L);
    if (InA && InB)
      Batch.push_back(L);
    else if (InA)
      M.push_back(L);
    else if (InB)
      N.push_back(L);
    else
      return G;
  }
  for (int L : A)
    if (!Has(OutIds, L)) {
      if (!Has(B, L))
        return G; // summed over one operand only
      K.push_back(L);
    }
  for (int L : B)
    if (!Has(OutIds, L) && !Has(A, L))
      return G;
  // Layouts required: A = Batch + (M K | K M), B = Batch + (K N | N K), Out = Batch + M + N,
  // every group in the same order everywhere; sizes equal (no broadcasting).
  auto Cat = [](std::initializer_list<const std::vector<int> *> Parts) {
    std::vector<int> R;
    for (auto *P : Parts)
      R.insert(R.end(), P->begin(), P->end());
    return R;
  };
  if (OutIds != Cat({&Batch, &M, &N}))
    return G;
  bool TransA, TransB;
  if (A == Cat({&Batch, &M, &K}))
    TransA = false;
  else if (A == Cat({&Batch, &K, &M}))
    TransA = true;
  else
    return G;
  if (B == Cat({&Batch, &K, &N}))
    TransB = false;
  else if (B == Cat({&Batch, &N, &K}))
    TransB = true;
  else
    return G;
  auto Prod = [&](const std::vector<int> &V) {
    size_t P = 1;
    for (int L : V)
      P *= Size.at(L);
    return P;
  };
  G.Batch = Prod(Batch);
  G.Shape.M = Prod(M);
  G.Shape.N = Prod(N);
  G.Shape.K = Prod(K);
  G.Shape.TransA = TransA;
  G.Shape.TransB = TransB;
  G.Shape.Lda = TransA ? G.Shape.M : G.Shape.K;
  G.Shape.Ldb = TransB ? G.Shape.K : G.Shape.N;
  G.Shape.Ldc = G.Shape.N;
  G.BatchStrideA = G.Shape.M * G.Shape.K;
  G.BatchStrideB = G.Shape.K * G.Shape.N;
  G.Ok = G.Batch && G.Shape.M && G.Shape.N && G.Shape.K;
  return G;
}

std::unique_ptr<Kernel> makeEinsum(const NodeContext &Ctx) {
  Ctx.allowAttributes({"equation"});
  if (Ctx.inputCount() < 1 || Ctx.inputCount() > MaxOperands)
    Ctx.unsupported("Einsum with " + std::to_string(Ctx.inputCount()) + " operands (1 to 8)");
  Ctx.expectArity(Ctx.inputCount(), Ctx.inputCount(), 1);
  const TensorInfo &X0 = *Ctx.input(0);
  for (size_t I = 0; I < Ctx.inputCount(); ++I) {
    Ctx.requireType(I, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                        OPTIMA_ELEMENT_F64, OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_I64,
                        OPTIMA_ELEMENT_U32, OPTIMA_ELEMENT_U64});
    if (Ctx.input(I)->Type != X0.Type)
      Ctx.invalid("inputs have different types (" + std::string(typeName(X0.Type)) + " and " +
                  typeName(Ctx.input(I)->Type) + ")");
  }
  if (!Ctx.hasAttribute("equation"))
    Ctx.invalid("attribute \"equation\" is required");
  std::string Eq;
  for (char C : Ctx.getString("equation", ""))
    if (C != ' ')
      Eq += C;
  size_t Arrow = Eq.find("->");
  std::string Lhs = Eq.substr(0, Arrow);
  std::vector<Term> Terms;
  for (size_t Start = 0;;) {
    size_t Comma = Lhs.find(',', Start);
    Terms.push_back(parseTerm(Ctx, Lhs.substr(Start, Comma - Start)));
    if (Comma == std::string::npos)
      break;
    Start = Comma + 1;
  }
  if (Terms.size() != Ctx.inputCount())
    Ctx.invalidAttribute("equation", "has " + std::to_string(Terms.size()) + " operands but the node has " +
                                         std::to_string(Ctx.inputCount()) + " inputs");
  // Ellipsis dims get ids 1000 + position (right-aligned, so broadcasting lines up).
  size_t EllRank = 0;
  std::vector<size_t> OpEll(Terms.size(), 0);
  for (size_t I = 0; I < Terms.size(); ++I) {
    size_t Rank = Ctx.input(I)->Shape.size(), Letters = Terms[I].Labels.size() - Terms[I].HasEllipsis;
    if (Terms[I].HasEllipsis ? Rank < Letters : Rank != Letters)
      Ctx.invalidAttribute("equation", "operand " + std::to_string(I) + " has " +
                                           std::to_string(Letters) + " indices but rank " +
                                           std::to_string(Rank));
    OpEll[I] = Rank - Letters;
    EllRank = std::max(EllRank, OpEll[I]);
  }
  std::map<int, size_t> Size;
  std::map<int, size_t> Count; // occurrences over all operands (implicit output)
  std::vector<std::vector<int>> OpIds(Terms.size());
  for (size_t I = 0; I < Terms.size(); ++I) {
    const Dims &Sh = Ctx.input(I)->Shape;
    size_t Dim = 0;
    for (int L : Terms[I].Labels) {
      if (L == -1) {
        for (size_t E = 0; E < OpEll[I]; ++E, ++Dim) {
          int Id = 1000 + int(EllRank - OpEll[I] + E);
          size_t S = size_t(Sh[Dim]);
          auto It = Size.find(Id);
          if (It == Size.end() || It->second == 1)
            Size[Id] = S;
          else if (S != 1 && S != It->second)
            Ctx.invalid("ellipsis dims of the operands do not broadcast");
          OpIds[I].push_back(Id);
        }
        continue;
      }
      size_t S = size_t(Sh[Dim++]);
      auto It = Size.find(L);
      if (It != Size.end() && It->second != S)
        Ctx.invalid(std::string("index '") + char(L) + "' has sizes " + std::to_string(It->second) +
                    " and " + std::to_string(S));
      Size[L] = S;
      ++Count[L];
      OpIds[I].push_back(L);
    }
  }
  std::vector<int> OutIds;
  bool AnyEllipsis = EllRank > 0 || std::any_of(Terms.begin(), Terms.end(),
                                                [](const Term &T) { return T.HasEllipsis; });
  if (Arrow != std::string::npos) {
    Term OutT = parseTerm(Ctx, Eq.substr(Arrow + 2));
    for (int L : OutT.Labels) {
      if (L == -1) {
        for (size_t E = 0; E < EllRank; ++E)
          OutIds.push_back(1000 + int(E));
        continue;
      }
      if (!Size.count(L))
        Ctx.invalidAttribute("equation", std::string("output index '") + char(L) +
                                             "' does not appear in the inputs");
      if (std::find(OutIds.begin(), OutIds.end(), L) != OutIds.end())
        Ctx.invalidAttribute("equation", std::string("output index '") + char(L) + "' is repeated");
      OutIds.push_back(L);
    }
  } else {
    if (AnyEllipsis)
      for (size_t E = 0; E < EllRank; ++E)
        OutIds.push_back(1000 + int(E));
    for (const auto &[L, N] : Count) // std::map: sorted by character code (upper before lower)
      if (N == 1)
        OutIds.push_back(L);
  }
  if (OutIds.size() > OPTIMA_EXT_MAX_DIMS)
    Ctx.invalid("output rank " + std::to_string(OutIds.size()) + " exceeds 8");
  EinsumPlan P;
  P.Operands = Terms.size();
  for (size_t I = 0; I < P.Operands; ++I)
    P.Ids[I] = Ctx.inputId(I);
  Dims OutShape;
  for (int L : OutIds) {
    P.OutDims[P.OutRank++] = Size[L];
    OutShape.push_back(int64_t(Size[L]));
    P.OutCount *= Size[L];
  }
  std::vector<int> SumIds;
  for (const auto &[L, S] : Size)
    if (std::find(OutIds.begin(), OutIds.end(), L) == OutIds.end())
      SumIds.push_back(L);
  if (SumIds.size() > MaxSummed)
    Ctx.unsupported("more than 16 summed indices");
  for (int L : SumIds) {
    P.SumDims[P.SumRank++] = Size[L];
    P.SumCount *= Size[L];
  }
  for (size_t I = 0; I < P.Operands; ++I) {
    const Dims &Sh = Ctx.input(I)->Shape;
    size_t Stride = 1;
    for (size_t D = OpIds[I].size(); D-- > 0;) {
      int L = OpIds[I][D];
      size_t S = size_t(Sh[D]) == 1 && Size[L] != 1 ? 0 : Stride; // broadcast ellipsis dim
      auto OutIt = std::find(OutIds.begin(), OutIds.end(), L);
      if (OutIt != OutIds.end())
        P.OutStrides[I][OutIt - OutIds.begin()] += S;
      else
        P.SumStrides[I][std::find(SumIds.begin(), SumIds.end(), L) - SumIds.begin()] += S;
      Stride *= size_t(Sh[D]);
    }
  }
  Ctx.expectOutput(0, X0.Type, OutShape);
  GemmMapping G;
  if (X0.Type == OPTIMA_ELEMENT_F32) {
    bool NoBroadcast = true;
    for (size_t I = 0; I < P.Operands; ++I)
      for (size_t D = 0; D < OpIds[I].size(); ++D)
        NoBroadcast &= size_t(Ctx.input(I)->Shape[D]) == Size[OpIds[I][D]];
    if (NoBroadcast)
      G = mapToGemm(OpIds, OutIds, Size);
  }
  std::unique_ptr<Kernel> K;
  dispatchType(X0.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (!std::is_same_v<T, bool>)
      K = std::make_unique<EinsumKernel<T>>(P, Ctx.outputId(0), G);
  });
  return K;
}

} // namespace

void registerEinsumOps(OpRegistry &R) { R.add("Einsum", makeEinsum); }

} // namespace optima_v2::native
