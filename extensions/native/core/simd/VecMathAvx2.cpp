// AVX2 + FMA table (this file alone is compiled with -mavx2 -mfma; reached only through
// vecMath() after a CPU check).
#include "VecMath.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include <cstdint>

namespace optima_v2::native::simd {
namespace {

constexpr size_t L = 8;
using V = __m256;
using M = __m256;

inline V vload(const float *P) { return _mm256_loadu_ps(P); }
inline void vstore(float *P, V X) { _mm256_storeu_ps(P, X); }
inline V vloadEven(const float *P) {
  __m256 T = _mm256_shuffle_ps(_mm256_loadu_ps(P), _mm256_loadu_ps(P + 8), _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(T), _MM_SHUFFLE(3, 1, 2, 0)));
}
// Lane masks for partial vectors: masked-off lanes load as zero and are never touched, so a
// masked access may start before or run past an array.
using K = __m256i;
inline K kRange(int Lo, int Hi) { // lanes Lo <= i < Hi, 0 <= Lo <= Hi <= L
  const __m256i Iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_and_si256(_mm256_cmpgt_epi32(Iota, _mm256_set1_epi32(Lo - 1)),
                          _mm256_cmpgt_epi32(_mm256_set1_epi32(Hi), Iota));
}
inline V vloadK(const float *P, K Mk) { return _mm256_maskload_ps(P, Mk); }
inline void vstoreK(float *P, V X, K Mk) { _mm256_maskstore_ps(P, Mk, X); }
// Even / odd elements of the 2L floats A:B (in-lane shuffle, then the 64-bit halves in order).
inline V vevens(V A, V B) {
  __m256 T = _mm256_shuffle_ps(A, B, _MM_SHUFFLE(2, 0, 2, 0));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(T), _MM_SHUFFLE(3, 1, 2, 0)));
}
inline V vodds(V A, V B) {
  __m256 T = _mm256_shuffle_ps(A, B, _MM_SHUFFLE(3, 1, 3, 1));
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(T), _MM_SHUFFLE(3, 1, 2, 0)));
}
inline V vset(float X) { return _mm256_set1_ps(X); }
inline V vadd(V A, V B) { return _mm256_add_ps(A, B); }
inline V vsub(V A, V B) { return _mm256_sub_ps(A, B); }
inline V vmul(V A, V B) { return _mm256_mul_ps(A, B); }
inline V vdiv(V A, V B) { return _mm256_div_ps(A, B); }
inline V vfma(V A, V B, V C) { return _mm256_fmadd_ps(A, B, C); }
inline V vmax(V A, V B) { return _mm256_max_ps(A, B); }
inline V vmin(V A, V B) { return _mm256_min_ps(A, B); }
inline V vabs(V A) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), A); }
inline V vneg(V A) { return _mm256_xor_ps(_mm256_set1_ps(-0.0f), A); }
inline V vcopysign(V Mag, V Sgn) {
  const V S = _mm256_set1_ps(-0.0f);
  return _mm256_or_ps(_mm256_andnot_ps(S, Mag), _mm256_and_ps(S, Sgn));
}
inline M vlt(V A, V B) { return _mm256_cmp_ps(A, B, _CMP_LT_OQ); }
inline M vge(V A, V B) { return _mm256_cmp_ps(A, B, _CMP_GE_OQ); }
inline V vblend(M Mask, V A, V B) { return _mm256_blendv_ps(B, A, Mask); }
inline V vround(V A) { return _mm256_round_ps(A, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
inline V vscale2(V P, V N) {
  __m256i Ni = _mm256_cvtps_epi32(N);
  __m256i N1 = _mm256_srai_epi32(Ni, 1);
  __m256i N2 = _mm256_sub_epi32(Ni, N1);
  const __m256i Bias = _mm256_set1_epi32(127);
  V S1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(N1, Bias), 23));
  V S2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(N2, Bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(P, S1), S2);
}
inline float hsum(V A) {
  __m128 S = _mm_add_ps(_mm256_castps256_ps128(A), _mm256_extractf128_ps(A, 1));
  S = _mm_add_ps(S, _mm_movehl_ps(S, S));
  S = _mm_add_ss(S, _mm_movehdup_ps(S));
  return _mm_cvtss_f32(S);
}
inline float hmax(V A) {
  __m128 S = _mm_max_ps(_mm256_extractf128_ps(A, 1), _mm256_castps256_ps128(A));
  S = _mm_max_ps(_mm_movehl_ps(S, S), S);
  S = _mm_max_ss(_mm_movehdup_ps(S), S);
  return _mm_cvtss_f32(S);
}

#include "VecMathKernels.inc"

const VecMathTable Table = makeTable(Isa::Avx2);

} // namespace

const VecMathTable *vecMathAvx2Table() { return &Table; }

} // namespace optima_v2::native::simd

#else
namespace optima_v2::native::simd {
const VecMathTable *vecMathAvx2Table() { return nullptr; }
} // namespace optima_v2::native::simd
#endif
