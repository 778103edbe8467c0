// AVX2+FMA microkernel: up to 6 rows x 16 columns of C in 12 ymm accumulators. Compiled with
// -mavx2 -mfma and only reached through run-time dispatch: intrinsics and anonymous-namespace
// code only (ODR).
#include "GemmKernels.h"

#include <immintrin.h>

namespace optima_v2::native::gemm {

namespace {

constexpr size_t MR = 6, NR = 16;

// Lane masks for maskload/maskstore: the first N lanes of (MaskTable + 8 - N).
alignas(64) const int MaskTable[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

// Off: B's rows through an offset table (see MicroKernel) instead of a fixed stride; AOff: A's
// rows through one instead (Offs is then A's table, see MicroKernelAOff), A read in place with
// its rows 1 (AOff) or 2 (AOff2) floats apart.
enum class Via { Packed, Off, AOff, AOff2 };

struct Params {
  float Alpha, Beta;
  const TileEnd *End;
};

template <int Rows, int Vecs, Via Mode>
void tile(size_t K, const float *Ap, const float *B, size_t BStride, const size_t *Offs, float *C,
          size_t Ldc, size_t N, const Params *Pm) {
  constexpr bool Off = Mode == Via::Off, AOff = Mode == Via::AOff || Mode == Via::AOff2;
  constexpr int AStep = Mode == Via::AOff2 ? 2 : 1;
  const float *const B0Row = B;
  const float *const A0 = Ap;
  __m256 Acc[Rows][Vecs];
  const float *Carry = AOff && Pm->End ? Pm->End->Carry : nullptr; // see TileEnd
#pragma GCC unroll 6
  for (int R = 0; R < Rows; ++R)
#pragma GCC unroll 2
    for (int V = 0; V < Vecs; ++V)
      Acc[R][V] = Carry ? _mm256_loadu_ps(Carry + R * NR + V * 8) : _mm256_setzero_ps();
  const float *const Pf = AOff && Pm->End ? Pm->End->Prefetch : nullptr;
  const size_t PfLines = Pf ? Pm->End->PrefetchLines : 0;
  size_t KStart = 0;
  if constexpr (Rows == 1 && !AOff) {
    // One row: four independent partial sums per vector instead of one FMA latency chain.
    __m256 P[4][Vecs];
#pragma GCC unroll 4
    for (int U = 0; U < 4; ++U)
#pragma GCC unroll 2
      for (int V = 0; V < Vecs; ++V)
        P[U][V] = U == 0 ? Acc[0][V] : _mm256_setzero_ps();
    for (; KStart + 4 <= K; KStart += 4) {
#pragma GCC unroll 4
      for (int U = 0; U < 4; ++U) {
        const float *Bu = Off ? B0Row + Offs[KStart + U] : B + U * BStride;
        const __m256 Av = _mm256_broadcast_ss(Ap + U * MR);
        P[U][0] = _mm256_fmadd_ps(Av, _mm256_loadu_ps(Bu), P[U][0]);
        if (Vecs > 1)
          P[U][Vecs - 1] = _mm256_fmadd_ps(Av, _mm256_loadu_ps(Bu + 8), P[U][Vecs - 1]);
      }
      Ap += 4 * MR;
      if (!Off)
        B += 4 * BStride;
    }
#pragma GCC unroll 2
    for (int V = 0; V < Vecs; ++V)
      Acc[0][V] = _mm256_add_ps(_mm256_add_ps(P[0][V], P[1][V]), _mm256_add_ps(P[2][V], P[3][V]));
  }
  for (size_t Kk = KStart; Kk < K; ++Kk) {
    if (AOff && Pf) {
      if (Kk < PfLines)
        _mm_prefetch(reinterpret_cast<const char *>(Pf + Kk * 16), _MM_HINT_T1);
      if (Kk + K < PfLines)
        _mm_prefetch(reinterpret_cast<const char *>(Pf + (Kk + K) * 16), _MM_HINT_T1);
    }
    if (Off)
      B = B0Row + Offs[Kk];
    if (AOff)
      Ap = A0 + static_cast<ptrdiff_t>(Offs[Kk]); // signed: see MicroKernelAOff
    __m256 B0 = _mm256_loadu_ps(B);
    __m256 B1 = Vecs > 1 ? _mm256_loadu_ps(B + 8) : B0;
#pragma GCC unroll 6
    for (int R = 0; R < Rows; ++R) {
      __m256 Av = _mm256_broadcast_ss(Ap + R * AStep);
      Acc[R][0] = _mm256_fmadd_ps(Av, B0, Acc[R][0]);
      if (Vecs > 1)
        Acc[R][Vecs - 1] = _mm256_fmadd_ps(Av, B1, Acc[R][Vecs - 1]);
    }
    if (!AOff)
      Ap += MR;
    if (!Off)
      B += BStride;
  }
  __m256i Mask[2];
  if (Vecs == 1) {
    size_t L = N >= 8 ? 8 : N;
    Mask[0] = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(MaskTable + 8 - L));
  } else {
    size_t L = N >= 16 ? 8 : N - 8;
    Mask[0] = _mm256_set1_epi32(-1);
    Mask[1] = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(MaskTable + 8 - L));
  }
  const float Beta = Pm->Beta;
  const __m256 VAlpha = _mm256_set1_ps(Pm->Alpha), VBeta = _mm256_set1_ps(Beta);
  const TileEnd *End = Pm->End;
  const float *Bias = End ? End->Bias : nullptr;
  const bool Clamp = End && End->Clamp;
  const __m256 Lo = _mm256_set1_ps(Clamp ? End->Lo : 0.0f), Hi = _mm256_set1_ps(Clamp ? End->Hi : 0.0f);
  if constexpr (AOff) { // stored transposed, column bias: see MicroKernelAOff
    if (End && End->Carry && End->Keep) {
#pragma GCC unroll 6
      for (int R = 0; R < Rows; ++R)
#pragma GCC unroll 2
        for (int V = 0; V < Vecs; ++V)
          _mm256_storeu_ps(End->Carry + R * NR + V * 8, Acc[R][V]);
      return;
    }
    const float *Z = End ? End->Residual : nullptr;
    alignas(32) float T[Rows][Vecs * 8];
#pragma GCC unroll 6
    for (int R = 0; R < Rows; ++R)
#pragma GCC unroll 2
      for (int V = 0; V < Vecs; ++V) {
        __m256 X = Acc[R][V];
        if (Bias)
          X = _mm256_add_ps(X, _mm256_maskload_ps(Bias + V * 8, Mask[V]));
        if (Clamp && !Z)
          X = _mm256_min_ps(Hi, _mm256_max_ps(Lo, X));
        _mm256_store_ps(&T[R][V * 8], X);
      }
    for (size_t Col = 0; Col < N; ++Col) {
      float *Out = C + Col * Ldc;
      if (!Z) {
#pragma GCC unroll 6
        for (int R = 0; R < Rows; ++R)
          Out[R] = T[R][Col];
        continue;
      }
      const float *ZCol = Z + Col * Ldc; // the residual goes in before the clamp
#pragma GCC unroll 6
      for (int R = 0; R < Rows; ++R) {
        const float Y = T[R][Col] + ZCol[R];
        Out[R] = !Clamp ? Y : Y < End->Lo ? End->Lo : Y > End->Hi ? End->Hi : Y;
      }
    }
    return;
  }
#pragma GCC unroll 6
  for (int R = 0; R < Rows; ++R) {
#pragma GCC unroll 2
    for (int V = 0; V < Vecs; ++V) {
      float *Cp = C + size_t(R) * Ldc + V * 8;
      __m256 X = _mm256_mul_ps(Acc[R][V], VAlpha);
      if (Beta != 0.0f)
        X = _mm256_fmadd_ps(_mm256_maskload_ps(Cp, Mask[V]), VBeta, X);
      if (Bias)
        X = _mm256_add_ps(X, _mm256_set1_ps(Bias[R]));
      if (Clamp) // max(Lo, x), min(Hi, x): the second operand (x) wins for NaN and equal values
        X = _mm256_min_ps(Hi, _mm256_max_ps(Lo, X));
      _mm256_maskstore_ps(Cp, Mask[V], X);
    }
  }
}

// Alpha, Beta and the tile's end come through memory: passed in registers they would stay live
// across the k loop and push an accumulator out to the stack (seen with GCC 12 on the
// 16-register AVX2 tile).
using TileFn = void (*)(size_t, const float *, const float *, size_t, const size_t *, float *,
                        size_t, size_t, const Params *);

template <int Vecs, Via Off>
constexpr TileFn Tiles[MR] = {tile<1, Vecs, Off>, tile<2, Vecs, Off>, tile<3, Vecs, Off>,
                              tile<4, Vecs, Off>, tile<5, Vecs, Off>, tile<6, Vecs, Off>};

void kernel(size_t K, const float *Ap, const float *B, size_t BStride, const size_t *Off,
            float *C, size_t Ldc, size_t M, size_t N, float Alpha, float Beta, const TileEnd *End) {
  const Params Pm{Alpha, Beta, End};
  const bool Wide = N > 8;
  TileFn Fn = Off ? (Wide ? Tiles<2, Via::Off> : Tiles<1, Via::Off>)[M - 1]
                  : (Wide ? Tiles<2, Via::Packed> : Tiles<1, Via::Packed>)[M - 1];
  Fn(K, Ap, B, BStride, Off, C, Ldc, N, &Pm);
}

void kernelAOff(size_t K, const float *A, const size_t *AOff, size_t Step, const float *B, float *C,
                size_t Ldc, size_t M, size_t N, const TileEnd *End) {
  const Params Pm{1.0f, 0.0f, End};
  TileFn Fn = Step == 2 ? (N > 8 ? Tiles<2, Via::AOff2> : Tiles<1, Via::AOff2>)[M - 1]
                        : (N > 8 ? Tiles<2, Via::AOff> : Tiles<1, Via::AOff>)[M - 1];
  Fn(K, A, B, NR, AOff, C, Ldc, N, &Pm);
}

// 8 depth steps at a time: Rows rows of 8 floats (the rest zero) transposed in registers (an
// 8 x 8 transpose in 24 shuffles), each step's MR = 6 floats in a 4- and a 2-float store.
void packRows(const float *A, size_t Lda, size_t Rows, size_t Kc, float *Dst) {
  static_assert(MR == 6, "the stores below write 4 + 2 floats per depth step");
  for (size_t K0 = 0; K0 < Kc; K0 += 8) {
    const size_t W = Kc - K0 < 8 ? Kc - K0 : 8;
    const __m256i In = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(MaskTable + 8 - W));
    __m256 X[8];
#pragma GCC unroll 8
    for (size_t R = 0; R < 8; ++R)
      X[R] = R < Rows ? _mm256_maskload_ps(A + R * Lda + K0, In) : _mm256_setzero_ps();
    __m256 T[8], U[8];
#pragma GCC unroll 4
    for (int I = 0; I < 4; ++I) {
      T[2 * I] = _mm256_unpacklo_ps(X[2 * I], X[2 * I + 1]);
      T[2 * I + 1] = _mm256_unpackhi_ps(X[2 * I], X[2 * I + 1]);
    }
    // U[4i + k], 128-bit lane l: rows 4i..4i+3 at column 4l + k.
#pragma GCC unroll 2
    for (int I = 0; I < 2; ++I) {
      const __m256d A0 = _mm256_castps_pd(T[4 * I]), B0 = _mm256_castps_pd(T[4 * I + 1]);
      const __m256d C0 = _mm256_castps_pd(T[4 * I + 2]), D0 = _mm256_castps_pd(T[4 * I + 3]);
      U[4 * I] = _mm256_castpd_ps(_mm256_unpacklo_pd(A0, C0));
      U[4 * I + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(A0, C0));
      U[4 * I + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(B0, D0));
      U[4 * I + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(B0, D0));
    }
#pragma GCC unroll 8
    for (size_t K = 0; K < 8; ++K) {
      if (K >= W)
        break;
      // Column K = 4l + k: lane l of U[k] (rows 0-3) and of U[4 + k] (rows 4-7).
      const int L = int(K / 4), Kk = int(K % 4);
      const __m128 Lo = L ? _mm256_extractf128_ps(U[Kk], 1) : _mm256_castps256_ps128(U[Kk]);
      const __m128 Hi = L ? _mm256_extractf128_ps(U[4 + Kk], 1) : _mm256_castps256_ps128(U[4 + Kk]);
      _mm_storeu_ps(Dst + (K0 + K) * MR, Lo);
      _mm_storel_pi(reinterpret_cast<__m64 *>(Dst + (K0 + K) * MR + 4), Hi);
    }
  }
}

} // namespace

extern const IsaTable Avx2Table = {"avx2", 1, MR, NR, kernel, kernelAOff, packRows};

} // namespace optima_v2::native::gemm
