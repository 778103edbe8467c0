// AVX-512F microkernel: up to 12 rows x 32 columns of C in 24 zmm accumulators; per k step two
// B vectors and twelve broadcasts of packed A feed 24 FMAs. Compiled with -mavx512f etc. and only
// reached through run-time dispatch: intrinsics and anonymous-namespace code only (ODR).
#include "GemmKernels.h"

#include <immintrin.h>

namespace optima_v2::native::gemm {

namespace {

constexpr size_t MR = 12, NR = 32;

// Off: B's rows through an offset table (see MicroKernel) instead of a fixed stride; AOff: A's
// rows through one instead (Offs is then A's table, see MicroKernelAOff), A read in place with
// its rows 1 (AOff) or 2 (AOff2) floats apart.
enum class Via { Packed, Off, AOff, AOff2 };

struct Params {
  float Alpha, Beta;
  const TileEnd *End;
};

// X[r][c] -> X[c][r] for a 16 x 16 block in 64 shuffles: pairs of rows interleaved, then pairs
// of pairs (as doubles), then 128-bit lanes gathered twice. The all-lanes maskz forms: GCC 12
// warns about the plain ones' undefined pass-through.
inline __attribute__((always_inline)) void transpose16(__m512 X[16]) {
  __m512 T[16];
#pragma GCC unroll 8
  for (int I = 0; I < 8; ++I) {
    T[2 * I] = _mm512_maskz_unpacklo_ps(0xFFFF, X[2 * I], X[2 * I + 1]);
    T[2 * I + 1] = _mm512_maskz_unpackhi_ps(0xFFFF, X[2 * I], X[2 * I + 1]);
  }
  // U[4i + k], 128-bit lane l: rows 4i..4i+3 at column 4l + k.
  __m512 U[16];
#pragma GCC unroll 4
  for (int I = 0; I < 4; ++I) {
    const __m512d A = _mm512_castps_pd(T[4 * I]), B = _mm512_castps_pd(T[4 * I + 1]);
    const __m512d C = _mm512_castps_pd(T[4 * I + 2]), D = _mm512_castps_pd(T[4 * I + 3]);
    U[4 * I] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, A, C));
    U[4 * I + 1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, A, C));
    U[4 * I + 2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(0xFF, B, D));
    U[4 * I + 3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(0xFF, B, D));
  }
  // Column 4l + k: lane l of U[k], U[4 + k], U[8 + k], U[12 + k].
#pragma GCC unroll 4
  for (int K = 0; K < 4; ++K) {
    const __m512 X01 = _mm512_maskz_shuffle_f32x4(0xFFFF, U[K], U[4 + K], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 X23 = _mm512_maskz_shuffle_f32x4(0xFFFF, U[K], U[4 + K], _MM_SHUFFLE(3, 2, 3, 2));
    const __m512 Y01 = _mm512_maskz_shuffle_f32x4(0xFFFF, U[8 + K], U[12 + K], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 Y23 = _mm512_maskz_shuffle_f32x4(0xFFFF, U[8 + K], U[12 + K], _MM_SHUFFLE(3, 2, 3, 2));
    X[K] = _mm512_maskz_shuffle_f32x4(0xFFFF, X01, Y01, _MM_SHUFFLE(2, 0, 2, 0));
    X[4 + K] = _mm512_maskz_shuffle_f32x4(0xFFFF, X01, Y01, _MM_SHUFFLE(3, 1, 3, 1));
    X[8 + K] = _mm512_maskz_shuffle_f32x4(0xFFFF, X23, Y23, _MM_SHUFFLE(2, 0, 2, 0));
    X[12 + K] = _mm512_maskz_shuffle_f32x4(0xFFFF, X23, Y23, _MM_SHUFFLE(3, 1, 3, 1));
  }
}

template <int Rows, int Vecs, Via Mode>
void tile(size_t K, const float *Ap, const float *B, size_t BStride, const size_t *Offs, float *C,
          size_t Ldc, size_t N, const Params *Pm) {
  constexpr bool Off = Mode == Via::Off, AOff = Mode == Via::AOff || Mode == Via::AOff2;
  constexpr int AStep = Mode == Via::AOff2 ? 2 : 1;
  const float *const B0Row = B;
  const float *const A0 = Ap;
  __m512 Acc[Rows][Vecs];
  const float *Carry = AOff && Pm->End ? Pm->End->Carry : nullptr; // see TileEnd
#pragma GCC unroll 12
  for (int R = 0; R < Rows; ++R)
#pragma GCC unroll 2
    for (int V = 0; V < Vecs; ++V)
      Acc[R][V] = Carry ? _mm512_loadu_ps(Carry + R * NR + V * 16) : _mm512_setzero_ps();
  const float *const Pf = AOff && Pm->End ? Pm->End->Prefetch : nullptr;
  const size_t PfLines = Pf ? Pm->End->PrefetchLines : 0;
  size_t KStart = 0;
  if constexpr (Rows == 1 && !AOff) {
    // One row: each accumulator would wait on its previous FMA every step (a latency chain,
    // 4 cycles a step); four independent partial sums per vector keep the FMA unit busy.
    __m512 P[4][Vecs];
#pragma GCC unroll 4
    for (int U = 0; U < 4; ++U)
#pragma GCC unroll 2
      for (int V = 0; V < Vecs; ++V)
        P[U][V] = U == 0 ? Acc[0][V] : _mm512_setzero_ps();
    for (; KStart + 4 <= K; KStart += 4) {
#pragma GCC unroll 4
      for (int U = 0; U < 4; ++U) {
        const float *Bu = Off ? B0Row + Offs[KStart + U] : B + U * BStride;
        const __m512 Av = _mm512_set1_ps(Ap[U * MR]);
        P[U][0] = _mm512_fmadd_ps(Av, _mm512_loadu_ps(Bu), P[U][0]);
        if (Vecs > 1)
          P[U][Vecs - 1] = _mm512_fmadd_ps(Av, _mm512_loadu_ps(Bu + 16), P[U][Vecs - 1]);
      }
      Ap += 4 * MR;
      if (!Off)
        B += 4 * BStride;
    }
#pragma GCC unroll 2
    for (int V = 0; V < Vecs; ++V)
      Acc[0][V] = _mm512_add_ps(_mm512_add_ps(P[0][V], P[1][V]), _mm512_add_ps(P[2][V], P[3][V]));
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
    __m512 B0 = _mm512_loadu_ps(B);
    __m512 B1 = Vecs > 1 ? _mm512_loadu_ps(B + 16) : B0;
#pragma GCC unroll 12
    for (int R = 0; R < Rows; ++R) {
      __m512 Av = _mm512_set1_ps(Ap[R * AStep]);
      Acc[R][0] = _mm512_fmadd_ps(Av, B0, Acc[R][0]);
      if (Vecs > 1)
        Acc[R][Vecs - 1] = _mm512_fmadd_ps(Av, B1, Acc[R][Vecs - 1]);
    }
    if (!AOff)
      Ap += MR;
    if (!Off)
      B += BStride;
  }
  __mmask16 Mask[2];
  if (Vecs == 1) {
    Mask[0] = N >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << N) - 1);
  } else {
    Mask[0] = 0xFFFF;
    Mask[1] = N >= 32 ? __mmask16(0xFFFF) : __mmask16((1u << (N - 16)) - 1);
  }
  const float Beta = Pm->Beta;
  const __m512 VAlpha = _mm512_set1_ps(Pm->Alpha), VBeta = _mm512_set1_ps(Beta);
  const TileEnd *End = Pm->End;
  const float *Bias = End ? End->Bias : nullptr;
  const bool Clamp = End && End->Clamp;
  const __m512 Lo = _mm512_set1_ps(Clamp ? End->Lo : 0.0f), Hi = _mm512_set1_ps(Clamp ? End->Hi : 0.0f);
  if constexpr (AOff) { // stored transposed, column bias: see MicroKernelAOff
    if (End && End->Carry && End->Keep) {
#pragma GCC unroll 12
      for (int R = 0; R < Rows; ++R)
#pragma GCC unroll 2
        for (int V = 0; V < Vecs; ++V)
          _mm512_storeu_ps(End->Carry + R * NR + V * 16, Acc[R][V]);
      return;
    }
    // Per 16 filters: bias per lane, then the 16 x 16 block (rows past Rows zero) transposed in
    // registers, so each filter's Rows pixels leave in one masked store (a scalar transpose
    // through memory cost 2.4 % of a 56x56 conv), the residual and clamp applied on the way.
    const __mmask16 RowMask = __mmask16((1u << Rows) - 1);
    const float *Z = End ? End->Residual : nullptr;
#pragma GCC unroll 2
    for (int V = 0; V < Vecs; ++V) {
      const __m512 BiasV = Bias ? _mm512_maskz_loadu_ps(Mask[V], Bias + V * 16) : _mm512_setzero_ps();
      __m512 X[16];
#pragma GCC unroll 16
      for (int R = 0; R < 16; ++R)
        X[R] = R < Rows ? _mm512_add_ps(Acc[R < Rows ? R : 0][V], BiasV) : _mm512_setzero_ps();
      transpose16(X);
      const size_t Cols = N - size_t(V) * 16 < 16 ? N - size_t(V) * 16 : 16;
#pragma GCC unroll 16
      for (int Col = 0; Col < 16; ++Col) {
        if (size_t(Col) >= Cols)
          break;
        const size_t At = (size_t(V) * 16 + size_t(Col)) * Ldc;
        __m512 Y = X[Col];
        if (Z)
          Y = _mm512_add_ps(Y, _mm512_maskz_loadu_ps(RowMask, Z + At));
        if (Clamp)
          Y = _mm512_maskz_min_ps(0xFFFF, Hi, _mm512_maskz_max_ps(0xFFFF, Lo, Y));
        _mm512_mask_storeu_ps(C + At, RowMask, Y);
      }
    }
    return;
  }
#pragma GCC unroll 12
  for (int R = 0; R < Rows; ++R) {
#pragma GCC unroll 2
    for (int V = 0; V < Vecs; ++V) {
      float *Cp = C + size_t(R) * Ldc + V * 16;
      __m512 X = _mm512_mul_ps(Acc[R][V], VAlpha);
      if (Beta != 0.0f)
        X = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(Mask[V], Cp), VBeta, X);
      if (Bias)
        X = _mm512_add_ps(X, _mm512_set1_ps(Bias[R]));
      // max(Lo, x), min(Hi, x): the second operand (x) wins for NaN and equal values. The
      // all-lanes maskz forms: GCC 12 warns about the plain ones' undefined pass-through.
      if (Clamp)
        X = _mm512_maskz_min_ps(0xFFFF, Hi, _mm512_maskz_max_ps(0xFFFF, Lo, X));
      _mm512_mask_storeu_ps(Cp, Mask[V], X);
    }
  }
}

// Alpha, Beta and the tile's end come through memory: passed in registers they would stay live
// across the k loop and push an accumulator out to the stack (seen with GCC 12 on the
// 16-register AVX2 tile).
using TileFn = void (*)(size_t, const float *, const float *, size_t, const size_t *, float *,
                        size_t, size_t, const Params *);

template <int Vecs, Via Off>
constexpr TileFn Tiles[MR] = {tile<1, Vecs, Off>,  tile<2, Vecs, Off>,  tile<3, Vecs, Off>,
                              tile<4, Vecs, Off>,  tile<5, Vecs, Off>,  tile<6, Vecs, Off>,
                              tile<7, Vecs, Off>,  tile<8, Vecs, Off>,  tile<9, Vecs, Off>,
                              tile<10, Vecs, Off>, tile<11, Vecs, Off>, tile<12, Vecs, Off>};

void kernel(size_t K, const float *Ap, const float *B, size_t BStride, const size_t *Off,
            float *C, size_t Ldc, size_t M, size_t N, float Alpha, float Beta, const TileEnd *End) {
  const Params Pm{Alpha, Beta, End};
  const bool Wide = N > 16;
  TileFn Fn = Off ? (Wide ? Tiles<2, Via::Off> : Tiles<1, Via::Off>)[M - 1]
                  : (Wide ? Tiles<2, Via::Packed> : Tiles<1, Via::Packed>)[M - 1];
  Fn(K, Ap, B, BStride, Off, C, Ldc, N, &Pm);
}

void kernelAOff(size_t K, const float *A, const size_t *AOff, size_t Step, const float *B, float *C,
                size_t Ldc, size_t M, size_t N, const TileEnd *End) {
  const Params Pm{1.0f, 0.0f, End};
  TileFn Fn = Step == 2 ? (N > 16 ? Tiles<2, Via::AOff2> : Tiles<1, Via::AOff2>)[M - 1]
                        : (N > 16 ? Tiles<2, Via::AOff> : Tiles<1, Via::AOff>)[M - 1];
  Fn(K, A, B, NR, AOff, C, Ldc, N, &Pm);
}

// 16 depth steps at a time: Rows rows of 16 floats (the rest zero) transposed in registers,
// each step's MR floats in one masked store.
void packRows(const float *A, size_t Lda, size_t Rows, size_t Kc, float *Dst) {
  constexpr __mmask16 Out = (1u << MR) - 1;
  for (size_t K0 = 0; K0 < Kc; K0 += 16) {
    const size_t W = Kc - K0 < 16 ? Kc - K0 : 16;
    const __mmask16 In = W == 16 ? __mmask16(0xFFFF) : __mmask16((1u << W) - 1);
    __m512 X[16];
#pragma GCC unroll 16
    for (size_t R = 0; R < 16; ++R)
      X[R] = R < Rows ? _mm512_maskz_loadu_ps(In, A + R * Lda + K0) : _mm512_setzero_ps();
    transpose16(X);
#pragma GCC unroll 16
    for (size_t K = 0; K < 16; ++K)
      if (K < W)
        _mm512_mask_storeu_ps(Dst + (K0 + K) * MR, Out, X[K]);
  }
}

} // namespace

extern const IsaTable Avx512Table = {"avx512", 2, MR, NR, kernel, kernelAOff, packRows};

} // namespace optima_v2::native::gemm
