#include "Gemm.h"
#include "ops/Epilogue.h"

#include <algorithm>

namespace optima_v2::native {

namespace {

constexpr size_t TileM = 32;  // rows of C per task
constexpr size_t TileN = 256; // columns of C per task (1 KiB of a C row: stays in L1)
constexpr size_t PanelK = 128; // depth per pass: a TileN x PanelK slab of B stays in L2

// One tile of C: rows [I0, I1), columns [J0, J1).
void gemmTile(const GemmShape &S, float Alpha, const float *A, const float *B, float Beta,
              float *C, size_t I0, size_t I1, size_t J0, size_t J1, const Epilogue *Ep) {
  size_t Width = J1 - J0;
  for (size_t I = I0; I < I1; ++I) {
    float *Row = C + I * S.Ldc + J0;
    if (Beta == 0.0f)
      std::fill(Row, Row + Width, 0.0f);
    else if (Beta != 1.0f)
      for (size_t J = 0; J < Width; ++J)
        Row[J] *= Beta;
  }
  for (size_t K0 = 0; K0 < S.K; K0 += PanelK) {
    size_t K1 = std::min(S.K, K0 + PanelK);
    for (size_t I = I0; I < I1; ++I) {
      float *Row = C + I * S.Ldc + J0;
      if (!S.TransB) {
        // Row += sum_k A(i,k) * B(k, J0..J1): contiguous, vectorisable inner loop.
        for (size_t K = K0; K < K1; ++K) {
          float Av = Alpha * (S.TransA ? A[K * S.Lda + I] : A[I * S.Lda + K]);
          const float *BRow = B + K * S.Ldb + J0;
          for (size_t J = 0; J < Width; ++J)
            Row[J] += Av * BRow[J];
        }
      } else {
        // B is stored N x K: dot products along contiguous K.
        for (size_t J = 0; J < Width; ++J) {
          const float *BCol = B + (J0 + J) * S.Ldb;
          float Sum = 0.0f;
          if (!S.TransA) {
            const float *ARow = A + I * S.Lda;
            for (size_t K = K0; K < K1; ++K)
              Sum += ARow[K] * BCol[K];
          } else {
            for (size_t K = K0; K < K1; ++K)
              Sum += A[K * S.Lda + I] * BCol[K];
          }
          Row[J] += Alpha * Sum;
        }
      }
    }
  }
  if (Ep) // the tile is complete and still in cache
    for (size_t I = I0; I < I1; ++I)
      Ep->apply(C + I * S.Ldc + J0, Width);
}

} // namespace

void sgemm(const GemmShape &S, float Alpha, const float *A, const float *B, float Beta, float *C,
           const KernelContext *Ctx, const Epilogue *Ep) {
  if (Ep && !Ep->active())
    Ep = nullptr;
  if (S.M == 0 || S.N == 0)
    return;
  size_t TilesM = (S.M + TileM - 1) / TileM;
  size_t TilesN = (S.N + TileN - 1) / TileN;
  auto Body = [&](size_t Begin, size_t End) {
    for (size_t T = Begin; T < End; ++T) {
      size_t TM = T / TilesN, TN = T % TilesN;
      gemmTile(S, Alpha, A, B, Beta, C, TM * TileM, std::min(S.M, (TM + 1) * TileM), TN * TileN,
               std::min(S.N, (TN + 1) * TileN), Ep);
    }
  };
  size_t Tiles = TilesM * TilesN;
  // Small products are not worth a trip through the pool.
  bool Parallel = Ctx && Tiles > 1 && S.M * S.N * std::max<size_t>(S.K, 1) >= (size_t(1) << 15);
  if (Parallel)
    Ctx->parallelFor(Tiles, 1, Body);
  else
    Body(0, Tiles);
}

} // namespace optima_v2::native
