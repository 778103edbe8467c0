// Packing of A blocks and B panels into the microkernels' layouts (portable: plain copies that
// the compiler vectorises; their cost is small next to the products they feed).
#include "GemmKernels.h"

#include <algorithm>
#include <cstring>

namespace optima_v2::native::gemm {

namespace {

template <size_t Rows>
void copyTransposedRows(const float *Src, size_t Lda, size_t Kc, size_t MR, float *Dst) {
  for (size_t K = 0; K < Kc; ++K)
    std::memcpy(Dst + K * MR, Src + K * Lda, Rows * sizeof(float));
}

} // namespace

void packA(const IsaTable &Isa, const float *A, size_t Lda, bool TransA, size_t I0, size_t Rows,
           size_t K0, size_t Kc, float *Dst) {
  const size_t MR = Isa.MR;
  if (TransA) { // op(A)(i, k) = A[k][i]: each k reads Rows contiguous floats
    const float *Src = A + K0 * Lda + I0;
    // Constant-size copies (inlined moves): a memcpy call per k cost more than the copy when A
    // is a small transposed operand, e.g. the pixels of a 7x7 conv as Y^T.
    switch (Rows) {
#define OPTIMA_V2_PACK_CASE(N)                                                                 \
  case N:                                                                                      \
    copyTransposedRows<N>(Src, Lda, Kc, MR, Dst);                                              \
    return;
      OPTIMA_V2_PACK_CASE(1)
      OPTIMA_V2_PACK_CASE(2)
      OPTIMA_V2_PACK_CASE(3)
      OPTIMA_V2_PACK_CASE(4)
      OPTIMA_V2_PACK_CASE(5)
      OPTIMA_V2_PACK_CASE(6)
      OPTIMA_V2_PACK_CASE(7)
      OPTIMA_V2_PACK_CASE(8)
      OPTIMA_V2_PACK_CASE(9)
      OPTIMA_V2_PACK_CASE(10)
      OPTIMA_V2_PACK_CASE(11)
      OPTIMA_V2_PACK_CASE(12)
      OPTIMA_V2_PACK_CASE(13)
      OPTIMA_V2_PACK_CASE(14)
      OPTIMA_V2_PACK_CASE(15)
      OPTIMA_V2_PACK_CASE(16)
#undef OPTIMA_V2_PACK_CASE
    default:
      for (size_t K = 0; K < Kc; ++K)
        std::memcpy(Dst + K * MR, Src + K * Lda, Rows * sizeof(float));
      return;
    }
  }
  // In-register transposes (the scalar loop was 6 % of a 1024^3 product); for fewer than four rows
  // transposes cost more than the scalar moves (a 16-step block: about 80 instructions).
  if (Isa.PackRows && Rows >= 4 && Rows <= MR) {
    Isa.PackRows(A + I0 * Lda + K0, Lda, Rows, Kc, Dst);
    return;
  }
  // Four rows at a time: four read streams, writes land in the same few cache lines.
  size_t R = 0;
  for (; R + 4 <= Rows; R += 4) {
    const float *S0 = A + (I0 + R) * Lda + K0, *S1 = S0 + Lda, *S2 = S1 + Lda, *S3 = S2 + Lda;
    float *D = Dst + R;
    for (size_t K = 0; K < Kc; ++K, D += MR) {
      D[0] = S0[K];
      D[1] = S1[K];
      D[2] = S2[K];
      D[3] = S3[K];
    }
  }
  for (; R < Rows; ++R) {
    const float *S = A + (I0 + R) * Lda + K0;
    for (size_t K = 0; K < Kc; ++K)
      Dst[K * MR + R] = S[K];
  }
}

void packB(const float *B, size_t Ldb, bool TransB, size_t K0, size_t Kc, size_t N0, size_t N1,
           size_t NR, float *Dst) {
  for (size_t J0 = N0; J0 < N1; J0 += NR, Dst += NR * Kc) {
    size_t Width = std::min(NR, N1 - J0);
    if (!TransB) {
      const float *Src = B + K0 * Ldb + J0;
      for (size_t K = 0; K < Kc; ++K, Src += Ldb) {
        std::memcpy(Dst + K * NR, Src, Width * sizeof(float));
        std::fill(Dst + K * NR + Width, Dst + (K + 1) * NR, 0.0f);
      }
      continue;
    }
    // op(B)(k, j) = B[j][k]: column j of the sliver is a contiguous run of row j of B.
    for (size_t J = 0; J < Width; ++J) {
      const float *Src = B + (J0 + J) * Ldb + K0;
      for (size_t K = 0; K < Kc; ++K)
        Dst[K * NR + J] = Src[K];
    }
    if (Width < NR)
      for (size_t K = 0; K < Kc; ++K)
        std::fill(Dst + K * NR + Width, Dst + (K + 1) * NR, 0.0f);
  }
}

} // namespace optima_v2::native::gemm
