// AVX-512F table (this file alone is compiled with -mavx512f -mavx2 -mfma; reached only through
// vecMath() after a CPU check).
#include "VecMath.h"

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

#include <cstdint>

namespace optima_v2::native::simd {
namespace {

constexpr size_t L = 16;
using V = __m512;
using M = __mmask16;

inline V vload(const float *P) { return _mm512_loadu_ps(P); }
inline void vstore(float *P, V X) { _mm512_storeu_ps(P, X); }
inline V vloadEven(const float *P) {
  const __m512i Idx = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  return _mm512_permutex2var_ps(_mm512_loadu_ps(P), Idx, _mm512_loadu_ps(P + 16));
}
// Lane masks for partial vectors: masked-off lanes load as zero and are never touched, so a
// masked access may start before or run past an array.
using K = __mmask16;
inline K kRange(int Lo, int Hi) { // lanes Lo <= i < Hi, 0 <= Lo <= Hi <= L
  return K(((1u << Hi) - 1u) & ~((1u << Lo) - 1u));
}
inline V vloadK(const float *P, K Mk) { return _mm512_maskz_loadu_ps(Mk, P); }
inline void vstoreK(float *P, V X, K Mk) { _mm512_mask_storeu_ps(P, Mk, X); }
// Even / odd elements of the 2L floats A:B.
inline V vevens(V A, V B) {
  const __m512i Idx = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  return _mm512_permutex2var_ps(A, Idx, B);
}
inline V vodds(V A, V B) {
  const __m512i Idx = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  return _mm512_permutex2var_ps(A, Idx, B);
}
inline V vset(float X) { return _mm512_set1_ps(X); }
inline V vadd(V A, V B) { return _mm512_add_ps(A, B); }
inline V vsub(V A, V B) { return _mm512_sub_ps(A, B); }
inline V vmul(V A, V B) { return _mm512_mul_ps(A, B); }
inline V vdiv(V A, V B) { return _mm512_div_ps(A, B); }
inline V vfma(V A, V B, V C) { return _mm512_fmadd_ps(A, B, C); }
inline V vmax(V A, V B) { return _mm512_max_ps(A, B); }
inline V vmin(V A, V B) { return _mm512_min_ps(A, B); }
inline V vabs(V A) { return _mm512_abs_ps(A); }
inline V vneg(V A) {
  return _mm512_castsi512_ps(
      _mm512_xor_si512(_mm512_castps_si512(A), _mm512_set1_epi32(int32_t(0x80000000u))));
}
inline V vcopysign(V Mag, V Sgn) {
  const __m512i S = _mm512_set1_epi32(int32_t(0x80000000u));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_andnot_si512(S, _mm512_castps_si512(Mag)),
                                             _mm512_and_si512(S, _mm512_castps_si512(Sgn))));
}
inline M vlt(V A, V B) { return _mm512_cmp_ps_mask(A, B, _CMP_LT_OQ); }
inline M vge(V A, V B) { return _mm512_cmp_ps_mask(A, B, _CMP_GE_OQ); }
inline V vblend(M Mask, V A, V B) { return _mm512_mask_blend_ps(Mask, B, A); }
inline V vround(V A) { return _mm512_roundscale_ps(A, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
// scalef rounds once, denormal results included.
inline V vscale2(V P, V N) { return _mm512_scalef_ps(P, N); }
inline float hsum(V A) {
  __m256 H = _mm256_add_ps(_mm512_castps512_ps256(A),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(A), 1)));
  __m128 S = _mm_add_ps(_mm256_castps256_ps128(H), _mm256_extractf128_ps(H, 1));
  S = _mm_add_ps(S, _mm_movehl_ps(S, S));
  S = _mm_add_ss(S, _mm_movehdup_ps(S));
  return _mm_cvtss_f32(S);
}
inline float hmax(V A) {
  __m256 H = _mm256_max_ps(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(A), 1)),
                           _mm512_castps512_ps256(A));
  __m128 S = _mm_max_ps(_mm256_extractf128_ps(H, 1), _mm256_castps256_ps128(H));
  S = _mm_max_ps(_mm_movehl_ps(S, S), S);
  S = _mm_max_ss(_mm_movehdup_ps(S), S);
  return _mm_cvtss_f32(S);
}

#include "VecMathKernels.inc"

const VecMathTable Table = makeTable(Isa::Avx512);

} // namespace

const VecMathTable *vecMathAvx512Table() { return &Table; }

} // namespace optima_v2::native::simd

#else
namespace optima_v2::native::simd {
const VecMathTable *vecMathAvx512Table() { return nullptr; }
} // namespace optima_v2::native::simd
#endif
