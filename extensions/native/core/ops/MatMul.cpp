// MatMul (numpy semantics: N-D with broadcast batch dims, 1-D operands promoted then squeezed)
// and Gemm (transA/transB, alpha, beta, optional C broadcast to [M, N]).
// Types: F32 (blocked sgemm), F64 and I32/I64/U32/U64 (generic GEMM in their own type; integers
// wrap), F16/BF16 (converted to float in scratch; constant operands converted once at load).
// Both take an optional fused activation (Epilogue.h; float types), applied per GEMM tile.
#include "../Broadcast.h"
#include "../OpRegistry.h"
#include "Epilogue.h"
#include "conv/GemmGeneric.h"
#include "conv/Staging.h"

#include <algorithm>

namespace optima_v2::native {

namespace {

const std::initializer_list<int32_t> GemmTypes = {
    OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F64, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
    OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_I64, OPTIMA_ELEMENT_U32, OPTIMA_ELEMENT_U64};

template <typename T> constexpr bool isGemmType() {
  return std::is_same_v<T, float> || std::is_same_v<T, double> || isHalfLike<T> ||
         std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t> ||
         std::is_same_v<T, uint32_t> || std::is_same_v<T, uint64_t>;
}

// An operand as the compute type sees it: the tensor itself, a constant converted at load, or a
// per-run conversion into scratch (F16/BF16).
template <typename S> struct Operand {
  using C = ComputeType<S>;
  int32_t Id = -1;
  size_t Elements = 0;
  size_t Offset = 0; // scratch, when converted per run
  std::vector<C> Const;

  void plan(const NodeContext &Ctx, size_t Input, ScratchLayout &Layout) {
    const TensorInfo &T = *Ctx.input(Input);
    Id = Ctx.inputId(Input);
    Elements = T.Elements;
    if constexpr (!std::is_same_v<S, C>) {
      if (T.Where == Storage::Constant)
        Const = constantAsFloat(T);
      else
        Offset = Layout.add(Elements * sizeof(C));
    }
  }
  const C *get(const KernelContext &Ctx) const {
    if constexpr (std::is_same_v<S, C>) {
      return Ctx.tensor<const C>(Id);
    } else {
      if (!Const.empty())
        return Const.data();
      C *Dst = reinterpret_cast<C *>(Ctx.Scratch + Offset);
      convertArray(Ctx.tensor<const S>(Id), Dst, Elements);
      return Dst;
    }
  }
};

// A constant float B (or F16/BF16 B converted at load) packed once per model for the microkernel:
// every request then multiplies against it without repacking. Count matrices of K x N (batch
// dims of B), or none when B is not constant or packing does not pay (a matrix-vector product).
template <typename S>
std::vector<PackedB> packConstantB(const NodeContext &Ctx, const Operand<S> &B, const GemmShape &G) {
  std::vector<PackedB> Packs;
  if constexpr (std::is_same_v<ComputeType<S>, float>) {
    const TensorInfo &T = *Ctx.input(1);
    size_t Size = G.K * G.N;
    if (T.Where != Storage::Constant || Size == 0 || G.M == 0 || (G.N == 1 && G.M > 1))
      return Packs;
    const float *Data = std::is_same_v<S, float> ? static_cast<const float *>(T.Data) : B.Const.data();
    if (!Data)
      return Packs;
    size_t Ld = G.TransB ? G.K : G.N;
    Packs.resize(T.Elements / Size);
    for (size_t I = 0; I < Packs.size(); ++I)
      Packs[I].pack(G.K, G.N, G.TransB, Data + I * Size, Ld);
    Ctx.releaseConstantInput(1); // run() reads only the packed copy
  }
  return Packs;
}

template <typename S> class MatMulKernel final : public Kernel {
  using C = ComputeType<S>;

public:
  MatMulKernel(const NodeContext &Ctx, GemmShape Shape, BroadcastPlan Batch, size_t BatchCount,
               const Epilogue &Ep)
      : Ep(Ep), Out(Ctx.outputId(0)), Shape(Shape), Batch(Batch), BatchCount(BatchCount) {
    A.plan(Ctx, 0, Layout);
    B.plan(Ctx, 1, Layout);
    PackedBs = packConstantB(Ctx, B, Shape);
    OutElements = Ctx.output(0).Elements;
    if constexpr (!std::is_same_v<S, C>)
      OutOffset = Layout.add(OutElements * sizeof(C));
  }

  size_t scratchBytes() const override { return Layout.size(); }

  void run(const KernelContext &Ctx) const override {
    const C *PA = A.get(Ctx);
    const C *PB = PackedBs.empty() ? B.get(Ctx) : nullptr; // packed: B is not read
    C *PO;
    if constexpr (std::is_same_v<S, C>)
      PO = Ctx.tensor<C>(Out);
    else
      PO = reinterpret_cast<C *>(Ctx.Scratch + OutOffset);
    size_t SizeA = Shape.M * Shape.K, SizeB = Shape.K * Shape.N, SizeO = Shape.M * Shape.N;
    auto One = [&](size_t Bi, const KernelContext *Inner) {
      size_t OffA = 0, OffB = 0;
      for (size_t D = Batch.Rank, R = Bi; D-- > 0;) {
        size_t I = R % Batch.Dims[D];
        R /= Batch.Dims[D];
        OffA += I * Batch.StrideA[D];
        OffB += I * Batch.StrideB[D];
      }
      if constexpr (std::is_same_v<C, float>) {
        if (!PackedBs.empty()) {
          sgemmPacked(Shape, 1.0f, PA + OffA * SizeA, PackedBs[OffB], 0.0f, PO + Bi * SizeO,
                      Inner, &Ep);
          return;
        }
      }
      gemmAny<C>(Shape, PA + OffA * SizeA, PB + OffB * SizeB, false, PO + Bi * SizeO, Inner,
                 &Ep);
    };
    // Many batches: one task per batch; few batches: parallelism inside each product.
    if (BatchCount > 1 && BatchCount >= Ctx.threadCount()) {
      size_t Grain =
          std::max<size_t>(1, (size_t(1) << 15) / std::max<size_t>(1, SizeO * Shape.K));
      Ctx.parallelFor(BatchCount, Grain, [&](size_t Begin, size_t End) {
        for (size_t Bi = Begin; Bi < End; ++Bi)
          One(Bi, nullptr);
      });
    } else {
      for (size_t Bi = 0; Bi < BatchCount; ++Bi)
        One(Bi, &Ctx);
    }
    if constexpr (!std::is_same_v<S, C>)
      convertArray(PO, Ctx.tensor<S>(Out), OutElements);
  }

private:
  Operand<S> A, B;
  std::vector<PackedB> PackedBs; // constant B, packed at load (float compute only)
  Epilogue Ep;
  int32_t Out;
  GemmShape Shape;
  BroadcastPlan Batch;
  size_t BatchCount;
  ScratchLayout Layout;
  size_t OutOffset = 0, OutElements = 0;
};

void requireSameTypes(const NodeContext &Ctx, size_t Count) {
  int32_t Type = Ctx.input(0)->Type;
  for (size_t I = 1; I < Count; ++I)
    if (Ctx.input(I) && Ctx.input(I)->Type != Type)
      Ctx.invalid(std::string("input ") + std::to_string(I) + " \"" + Ctx.input(I)->Name +
                  "\" is " + typeName(Ctx.input(I)->Type) + " but input 0 is " +
                  typeName(Type));
}

std::unique_ptr<Kernel> makeMatMul(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({OPTIMA_V2_EPILOGUE_ATTRIBUTES});
  Ctx.requireType(0, GemmTypes);
  requireSameTypes(Ctx, 2);
  const TensorInfo &A = *Ctx.input(0);
  const TensorInfo &B = *Ctx.input(1);
  if (A.Shape.empty() || B.Shape.empty())
    Ctx.invalid("MatMul inputs must have at least 1 dim");
  Dims SA = A.Shape, SB = B.Shape;
  bool VecA = SA.size() == 1, VecB = SB.size() == 1;
  if (VecA)
    SA.insert(SA.begin(), 1);
  if (VecB)
    SB.push_back(1);
  int64_t M = SA[SA.size() - 2], K = SA.back(), KB = SB[SB.size() - 2], N = SB.back();
  if (K != KB)
    Ctx.invalid("inner dims differ: " + formatShape(A.Shape) + " x " + formatShape(B.Shape));
  Dims BatchA(SA.begin(), SA.end() - 2), BatchB(SB.begin(), SB.end() - 2), BatchOut;
  if (!broadcastShape(BatchA, BatchB, BatchOut))
    Ctx.invalid("batch dims of " + formatShape(A.Shape) + " and " + formatShape(B.Shape) +
                " cannot be broadcast together");
  Dims OutShape = BatchOut;
  if (!VecA)
    OutShape.push_back(M);
  if (!VecB)
    OutShape.push_back(N);
  Ctx.expectOutput(0, A.Type, OutShape);
  Epilogue Ep = readEpilogue(Ctx, A.Type);
  GemmShape G;
  G.M = size_t(M);
  G.N = size_t(N);
  G.K = size_t(K);
  G.Lda = G.K;
  G.Ldb = G.N;
  G.Ldc = G.N;
  size_t BatchCount = 1;
  for (int64_t D : BatchOut)
    BatchCount *= size_t(D);
  BroadcastPlan Plan = planBroadcast(BatchA, BatchB, BatchOut);
  std::unique_ptr<Kernel> Kn;
  dispatchType(A.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (isGemmType<T>())
      Kn = std::make_unique<MatMulKernel<T>>(Ctx, G, Plan, BatchCount, Ep);
  });
  return Kn;
}

template <typename S> class GemmKernel final : public Kernel {
  using C = ComputeType<S>;
  static constexpr bool IsFloat = std::is_floating_point_v<C>;

public:
  GemmKernel(const NodeContext &Ctx, GemmShape Shape, double Alpha, double Beta, bool UseC,
             size_t CRowStride, size_t CColStride, const Epilogue &Ep)
      : Ep(Ep), Y(Ctx.outputId(0)), Shape(Shape), Alpha(Alpha), Beta(Beta), CRowStride(CRowStride),
        CColStride(CColStride) {
    A.plan(Ctx, 0, Layout);
    B.plan(Ctx, 1, Layout);
    PackedBs = packConstantB(Ctx, B, Shape);
    if (UseC)
      CIn.plan(Ctx, 2, Layout);
    if constexpr (!std::is_same_v<S, C>)
      OutOffset = Layout.add(Shape.M * Shape.N * sizeof(C));
  }

  size_t scratchBytes() const override { return Layout.size(); }

  void run(const KernelContext &Ctx) const override {
    C *PY;
    if constexpr (std::is_same_v<S, C>)
      PY = Ctx.tensor<C>(Y);
    else
      PY = reinterpret_cast<C *>(Ctx.Scratch + OutOffset);
    const C *PA = A.get(Ctx), *PB = PackedBs.empty() ? B.get(Ctx) : nullptr;
    const C *PC = CIn.Id >= 0 ? CIn.get(Ctx) : nullptr;
    size_t M = Shape.M, N = Shape.N;
    if constexpr (std::is_same_v<C, float>) {
      float GemmBeta = 0.0f;
      if (PC) { // Y = Beta * broadcast(C), then accumulate
        for (size_t I = 0; I < M; ++I)
          for (size_t J = 0; J < N; ++J)
            PY[I * N + J] = float(Beta) * PC[I * CRowStride + J * CColStride];
        GemmBeta = 1.0f;
      }
      if (!PackedBs.empty())
        sgemmPacked(Shape, float(Alpha), PA, PackedBs[0], GemmBeta, PY, &Ctx, &Ep);
      else
        sgemm(Shape, float(Alpha), PA, PB, GemmBeta, PY, &Ctx, &Ep);
    } else {
      bool Combine = Alpha != 1.0 || PC;
      gemmAny<C>(Shape, PA, PB, false, PY, &Ctx, Combine ? nullptr : &Ep);
      if (Combine) {
        for (size_t I = 0; I < M; ++I) {
          for (size_t J = 0; J < N; ++J) {
            C &V = PY[I * N + J];
            if constexpr (IsFloat) {
              V = C(Alpha) * V + (PC ? C(Beta) * PC[I * CRowStride + J * CColStride] : C(0));
            } else {
              double R = Alpha * double(V) + (PC ? Beta * double(PC[I * CRowStride + J * CColStride]) : 0.0);
              V = C(R);
            }
          }
          Ep.apply(PY + I * N, N); // the finished row
        }
      }
    }
    if constexpr (!std::is_same_v<S, C>)
      convertArray(PY, Ctx.tensor<S>(Y), M * N);
  }

private:
  Operand<S> A, B, CIn;
  std::vector<PackedB> PackedBs; // constant B, packed at load (float compute only)
  Epilogue Ep;
  int32_t Y;
  GemmShape Shape;
  double Alpha, Beta;
  size_t CRowStride, CColStride;
  ScratchLayout Layout;
  size_t OutOffset = 0;
};

std::unique_ptr<Kernel> makeGemm(const NodeContext &Ctx) {
  Ctx.expectArity(2, 3, 1);
  Ctx.allowAttributes({"alpha", "beta", "transA", "transB", OPTIMA_V2_EPILOGUE_ATTRIBUTES});
  Ctx.requireType(0, GemmTypes);
  requireSameTypes(Ctx, 3);
  const TensorInfo &A = *Ctx.input(0);
  const TensorInfo &B = *Ctx.input(1);
  const TensorInfo *C = Ctx.input(2);
  double Alpha = Ctx.getFloat("alpha", 1.0);
  double Beta = Ctx.getFloat("beta", 1.0);
  int64_t TransA = Ctx.getInt("transA", 0), TransB = Ctx.getInt("transB", 0);
  if (TransA != 0 && TransA != 1)
    Ctx.invalidAttribute("transA", "expected 0 or 1");
  if (TransB != 0 && TransB != 1)
    Ctx.invalidAttribute("transB", "expected 0 or 1");
  if (A.Shape.size() != 2 || B.Shape.size() != 2)
    Ctx.invalid("Gemm inputs A and B must be 2-D, got " + formatShape(A.Shape) + " and " +
                formatShape(B.Shape));
  int64_t M = TransA ? A.Shape[1] : A.Shape[0], K = TransA ? A.Shape[0] : A.Shape[1];
  int64_t KB = TransB ? B.Shape[1] : B.Shape[0], N = TransB ? B.Shape[0] : B.Shape[1];
  if (K != KB)
    Ctx.invalid("inner dims differ: A " + formatShape(A.Shape) + (TransA ? " (transposed)" : "") +
                ", B " + formatShape(B.Shape) + (TransB ? " (transposed)" : ""));
  size_t RowStride = 0, ColStride = 0;
  if (C) {
    Dims Target{M, N}, Out;
    if (C->Shape.size() > 2 || !broadcastShape(C->Shape, Target, Out) || Out != Target)
      Ctx.invalid("C " + formatShape(C->Shape) + " cannot be broadcast to " + formatShape(Target));
    Dims C2 = C->Shape;
    while (C2.size() < 2)
      C2.insert(C2.begin(), 1);
    RowStride = C2[0] == 1 ? 0 : size_t(C2[1]);
    ColStride = C2[1] == 1 ? 0 : 1;
  }
  Ctx.expectOutput(0, A.Type, {M, N});
  Epilogue Ep = readEpilogue(Ctx, A.Type);
  GemmShape G;
  G.M = size_t(M);
  G.N = size_t(N);
  G.K = size_t(K);
  G.TransA = TransA;
  G.TransB = TransB;
  G.Lda = size_t(A.Shape[1]);
  G.Ldb = size_t(B.Shape[1]);
  G.Ldc = G.N;
  bool UseC = C && Beta != 0.0;
  std::unique_ptr<Kernel> Kn;
  dispatchType(A.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (isGemmType<T>())
      Kn = std::make_unique<GemmKernel<T>>(Ctx, G, Alpha, Beta, UseC, RowStride, ColStride, Ep);
  });
  return Kn;
}

} // namespace

void registerMatMulOps(OpRegistry &R) {
  R.add("MatMul", makeMatMul);
  R.add("Gemm", makeGemm);
}

} // namespace optima_v2::native
