// Op family: linear algebra. Det (F32, F16, BF16, F64): determinant of each trailing [M, M]
// matrix of X [*, M, M] -> [*], by LU decomposition with partial pivoting in double.
#include "../OpRegistry.h"
#include "../TypeDispatch.h"
#include "AxisUtil.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace optima_v2::native {

namespace {

// Determinant of the M x M row-major matrix A (overwritten with its LU factors).
double luDeterminant(double *A, size_t M) {
  double Det = 1;
  for (size_t K = 0; K < M; ++K) {
    size_t Pivot = K;
    for (size_t R = K + 1; R < M; ++R)
      if (std::fabs(A[R * M + K]) > std::fabs(A[Pivot * M + K]))
        Pivot = R;
    if (A[Pivot * M + K] == 0)
      return 0; // singular (NaN inputs give a NaN pivot and propagate below)
    if (Pivot != K) {
      for (size_t J = 0; J < M; ++J)
        std::swap(A[K * M + J], A[Pivot * M + J]);
      Det = -Det;
    }
    double D = A[K * M + K];
    Det *= D;
    for (size_t R = K + 1; R < M; ++R) {
      double F = A[R * M + K] / D;
      if (F == 0)
        continue;
      for (size_t J = K + 1; J < M; ++J)
        A[R * M + J] -= F * A[K * M + J];
    }
  }
  return Det;
}

template <typename T> class DetKernel final : public Kernel {
public:
  DetKernel(int32_t X, int32_t Y, size_t Batch, size_t M, size_t Chunks)
      : XId(X), YId(Y), Batch(Batch), M(M), Chunks(Chunks) {}

  // One M x M double work matrix per chunk.
  size_t scratchBytes() const override { return Chunks * M * M * sizeof(double); }

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    T *Y = Ctx.tensor<T>(YId);
    size_t PerChunk = (Batch + Chunks - 1) / Chunks, MM = M * M;
    Ctx.parallelFor(Chunks, 1, [&](size_t Begin, size_t End) {
      for (size_t Chunk = Begin; Chunk < End; ++Chunk) {
        double *A = reinterpret_cast<double *>(Ctx.Scratch) + Chunk * MM;
        for (size_t B = Chunk * PerChunk; B < std::min(Batch, (Chunk + 1) * PerChunk); ++B) {
          for (size_t I = 0; I < MM; ++I)
            A[I] = double(load(X[B * MM + I]));
          Y[B] = store<T>(ComputeType<T>(luDeterminant(A, M)));
        }
      }
    });
  }

private:
  int32_t XId, YId;
  size_t Batch, M, Chunks;
};

std::unique_ptr<Kernel> makeDet(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_F64});
  const TensorInfo &X = *Ctx.input(0);
  size_t R = X.Shape.size();
  if (R < 2 || X.Shape[R - 1] != X.Shape[R - 2])
    Ctx.invalid("input \"" + X.Name + "\" must be [*, M, M] (square matrices), got " +
                describe(X.Type, X.Shape));
  Dims OutShape(X.Shape.begin(), X.Shape.end() - 2);
  Ctx.expectOutput(0, X.Type, OutShape);
  size_t M = size_t(X.Shape[R - 1]), Batch = 1;
  for (int64_t D : OutShape)
    Batch *= size_t(D);
  // Work in chunks of >= ~4096 multiply-adds, at most MaxScratchChunks of them.
  size_t Cost = std::max<size_t>(1, M * M * M);
  size_t Chunks = std::clamp<size_t>(Batch * Cost / 4096, 1, std::min(MaxScratchChunks,
                                                                      std::max<size_t>(1, Batch)));
  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_floating_point_v<T> || isHalfLike<T>)
      K = std::make_unique<DetKernel<T>>(Ctx.inputId(0), Ctx.outputId(0), Batch, M, Chunks);
  });
  return K;
}

} // namespace

void registerLinalgOps(OpRegistry &R) { R.add("Det", makeDet); }

} // namespace optima_v2::native
