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
  for (size_t Kk = 0; Kk < K; ++Kk) {
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
    alignas(64) float T[Rows][Vecs * 16];
#pragma GCC unroll 12
    for (int R = 0; R < Rows; ++R)
#pragma GCC unroll 2
      for (int V = 0; V < Vecs; ++V) {
        __m512 X = Acc[R][V];
        if (Bias)
          X = _mm512_add_ps(X, _mm512_maskz_loadu_ps(Mask[V], Bias + V * 16));
        if (Clamp)
          X = _mm512_maskz_min_ps(0xFFFF, Hi, _mm512_maskz_max_ps(0xFFFF, Lo, X));
        _mm512_store_ps(&T[R][V * 16], X);
      }
    for (size_t Col = 0; Col < N; ++Col) {
      float *Out = C + Col * Ldc;
#pragma GCC unroll 12
      for (int R = 0; R < Rows; ++R)
        Out[R] = T[R][Col];
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

} // namespace

extern const IsaTable Avx512Table = {"avx512", 2, MR, NR, kernel, kernelAOff};

} // namespace optima_v2::native::gemm
