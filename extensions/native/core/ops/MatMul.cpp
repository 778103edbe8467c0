// MatMul (numpy semantics: N-D with broadcast batch dims, 1-D operands promoted then squeezed)
// and Gemm (transA/transB, alpha, beta, optional C broadcast to [M, N]). F32 only.
#include "../Broadcast.h"
#include "../Gemm.h"
#include "../OpRegistry.h"

#include <algorithm>

namespace optima_v2::native {

namespace {

class MatMulKernel final : public Kernel {
public:
  MatMulKernel(int32_t A, int32_t B, int32_t Out, GemmShape Shape, BroadcastPlan Batch,
               size_t BatchCount)
      : A(A), B(B), Out(Out), Shape(Shape), Batch(Batch), BatchCount(BatchCount) {}

  void run(const KernelContext &Ctx) const override {
    const float *PA = Ctx.tensor<const float>(A);
    const float *PB = Ctx.tensor<const float>(B);
    float *PO = Ctx.tensor<float>(Out);
    size_t SizeA = Shape.M * Shape.K, SizeB = Shape.K * Shape.N, SizeO = Shape.M * Shape.N;
    auto One = [&](size_t Bi, const KernelContext *Inner) {
      size_t OffA = 0, OffB = 0;
      for (size_t D = Batch.Rank, R = Bi; D-- > 0;) {
        size_t I = R % Batch.Dims[D];
        R /= Batch.Dims[D];
        OffA += I * Batch.StrideA[D];
        OffB += I * Batch.StrideB[D];
      }
      sgemm(Shape, 1.0f, PA + OffA * SizeA, PB + OffB * SizeB, 0.0f, PO + Bi * SizeO, Inner);
    };
    // Many batches: one task per batch; few batches: parallelism inside each product.
    if (BatchCount > 1 && BatchCount >= Ctx.threadCount()) {
      size_t Grain = std::max<size_t>(1, (size_t(1) << 15) / std::max<size_t>(1, SizeO * Shape.K));
      Ctx.parallelFor(BatchCount, Grain, [&](size_t Begin, size_t End) {
        for (size_t Bi = Begin; Bi < End; ++Bi)
          One(Bi, nullptr);
      });
    } else {
      for (size_t Bi = 0; Bi < BatchCount; ++Bi)
        One(Bi, &Ctx);
    }
  }

private:
  int32_t A, B, Out;
  GemmShape Shape;
  BroadcastPlan Batch;
  size_t BatchCount;
};

std::unique_ptr<Kernel> makeMatMul(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32});
  Ctx.requireType(1, {OPTIMA_ELEMENT_F32});
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
  Ctx.expectOutput(0, OPTIMA_ELEMENT_F32, OutShape);
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
  return std::make_unique<MatMulKernel>(Ctx.inputId(0), Ctx.inputId(1), Ctx.outputId(0), G, Plan,
                                        BatchCount);
}

class GemmKernel final : public Kernel {
public:
  GemmKernel(int32_t A, int32_t B, int32_t C, int32_t Y, GemmShape Shape, float Alpha, float Beta,
             size_t CRowStride, size_t CColStride)
      : A(A), B(B), C(C), Y(Y), Shape(Shape), Alpha(Alpha), Beta(Beta), CRowStride(CRowStride),
        CColStride(CColStride) {}

  void run(const KernelContext &Ctx) const override {
    float *PY = Ctx.tensor<float>(Y);
    float GemmBeta = 0.0f;
    if (C >= 0) { // Y = Beta * broadcast(C), then accumulate
      const float *PC = Ctx.tensor<const float>(C);
      for (size_t I = 0; I < Shape.M; ++I)
        for (size_t J = 0; J < Shape.N; ++J)
          PY[I * Shape.N + J] = Beta * PC[I * CRowStride + J * CColStride];
      GemmBeta = 1.0f;
    }
    sgemm(Shape, Alpha, Ctx.tensor<const float>(A), Ctx.tensor<const float>(B), GemmBeta, PY, &Ctx);
  }

private:
  int32_t A, B, C, Y;
  GemmShape Shape;
  float Alpha, Beta;
  size_t CRowStride, CColStride;
};

std::unique_ptr<Kernel> makeGemm(const NodeContext &Ctx) {
  Ctx.expectArity(2, 3, 1);
  Ctx.allowAttributes({"alpha", "beta", "transA", "transB"});
  for (size_t I = 0; I < 3; ++I)
    Ctx.requireType(I, {OPTIMA_ELEMENT_F32});
  const TensorInfo &A = *Ctx.input(0);
  const TensorInfo &B = *Ctx.input(1);
  const TensorInfo *C = Ctx.input(2);
  float Alpha = float(Ctx.getFloat("alpha", 1.0));
  float Beta = float(Ctx.getFloat("beta", 1.0));
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
  Ctx.expectOutput(0, OPTIMA_ELEMENT_F32, {M, N});
  GemmShape G;
  G.M = size_t(M);
  G.N = size_t(N);
  G.K = size_t(K);
  G.TransA = TransA;
  G.TransB = TransB;
  G.Lda = size_t(A.Shape[1]);
  G.Ldb = size_t(B.Shape[1]);
  G.Ldc = G.N;
  bool UseC = C && Beta != 0.0f;
  return std::make_unique<GemmKernel>(Ctx.inputId(0), Ctx.inputId(1), UseC ? Ctx.inputId(2) : -1,
                                      Ctx.outputId(0), G, Alpha, Beta, RowStride, ColStride);
}

} // namespace

void registerMatMulOps(OpRegistry &R) {
  R.add("MatMul", makeMatMul);
  R.add("Gemm", makeGemm);
}

} // namespace optima_v2::native
