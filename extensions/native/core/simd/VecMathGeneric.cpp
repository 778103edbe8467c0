// Portable table: the same algorithms one lane at a time, in baseline C++ (any CPU).
#include "VecMath.h"

#include <cmath>
#include <cstdint>

namespace optima_v2::native::simd {
namespace {

constexpr size_t L = 1;
struct V { // distinct from float so the binary functors' float overloads stay separate
  float R;
};
using M = bool;

inline V vload(const float *P) { return {*P}; }
inline void vstore(float *P, V X) { *P = X.R; }
inline V vloadEven(const float *P) { return {*P}; }
inline V vset(float X) { return {X}; }
inline V vadd(V A, V B) { return {A.R + B.R}; }
inline V vsub(V A, V B) { return {A.R - B.R}; }
inline V vmul(V A, V B) { return {A.R * B.R}; }
inline V vdiv(V A, V B) { return {A.R / B.R}; }
inline V vfma(V A, V B, V C) { return {A.R * B.R + C.R}; }
inline V vmax(V A, V B) { return {A.R > B.R ? A.R : B.R}; }
inline V vmin(V A, V B) { return {A.R < B.R ? A.R : B.R}; }
inline V vabs(V A) { return {std::fabs(A.R)}; }
inline V vneg(V A) { return {-A.R}; }
inline V vcopysign(V Mag, V Sgn) { return {std::copysign(Mag.R, Sgn.R)}; }
inline M vlt(V A, V B) { return A.R < B.R; }
inline M vge(V A, V B) { return A.R >= B.R; }
inline V vblend(M Mask, V A, V B) { return Mask ? A : B; }
inline V vround(V A) { return {std::nearbyint(A.R)}; }
inline V vscale2(V P, V N) { // N is NaN only when P is
  return {N.R == N.R ? std::ldexp(P.R, int(N.R)) : P.R};
}
inline float hsum(V A) { return A.R; }
inline float hmax(V A) { return A.R; }

#include "VecMathKernels.inc"

const VecMathTable Table = makeTable(Isa::Generic);

} // namespace

const VecMathTable *vecMathGenericTable() { return &Table; }

} // namespace optima_v2::native::simd
