// GEMM for element types other than float (double, the integer types), with the float path
// routed to the blocked sgemm. C[M x N] (+)= op(A) * op(B); integer types wrap like numpy.
#pragma once

#include "../../Gemm.h"
#include "../Epilogue.h"

#include <algorithm>
#include <type_traits>

namespace optima_v2::native {

// One row block [I0, I1) of C.
template <typename T>
void gemmGenericRows(const GemmShape &S, const T *A, const T *B, bool Accumulate, T *C, size_t I0,
                     size_t I1, const Epilogue *Ep) {
  for (size_t I = I0; I < I1; ++I) {
    T *Row = C + I * S.Ldc;
    if (!Accumulate)
      std::fill(Row, Row + S.N, T(0));
    if (!S.TransB) {
      for (size_t K = 0; K < S.K; ++K) {
        T Av = S.TransA ? A[K * S.Lda + I] : A[I * S.Lda + K];
        if (Av == T(0))
          continue;
        const T *BRow = B + K * S.Ldb;
        for (size_t J = 0; J < S.N; ++J)
          Row[J] += Av * BRow[J];
      }
    } else {
      for (size_t J = 0; J < S.N; ++J) {
        const T *BCol = B + J * S.Ldb;
        T Sum = T(0);
        if (!S.TransA) {
          const T *ARow = A + I * S.Lda;
          for (size_t K = 0; K < S.K; ++K)
            Sum += ARow[K] * BCol[K];
        } else {
          for (size_t K = 0; K < S.K; ++K)
            Sum += A[K * S.Lda + I] * BCol[K];
        }
        Row[J] += Sum;
      }
    }
    if (Ep) // the row is complete and still in cache
      Ep->apply(Row, S.N);
  }
}

// Ctx may be null (serial). Rows are split across the pool for large products. Ep (optional,
// float types only): fused activation applied per finished tile/row.
template <typename T>
void gemmAny(const GemmShape &S, const T *A, const T *B, bool Accumulate, T *C,
             const KernelContext *Ctx, const Epilogue *Ep = nullptr) {
  if (Ep && !Ep->active())
    Ep = nullptr;
  if constexpr (std::is_same_v<T, float>) {
    sgemm(S, 1.0f, A, B, Accumulate ? 1.0f : 0.0f, C, Ctx, Ep);
  } else {
    if (S.M == 0 || S.N == 0)
      return;
    size_t Work = S.N * std::max<size_t>(S.K, 1);
    auto Body = [&](size_t Begin, size_t End) {
      gemmGenericRows(S, A, B, Accumulate, C, Begin, End, Ep);
    };
    if (Ctx && S.M * Work >= (size_t(1) << 15))
      Ctx->parallelFor(S.M, std::max<size_t>(1, (size_t(1) << 14) / Work), Body);
    else
      Body(0, S.M);
  }
}

} // namespace optima_v2::native
