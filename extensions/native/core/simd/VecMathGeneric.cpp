// Portable table: the same algorithms one lane at a time, in baseline C++ (any CPU), except
// where plain libm loops are faster (below).
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
using K = bool; // the one lane is in range
inline K kRange(int Lo, int Hi) { return Lo == 0 && Hi >= 1; }
inline V vloadK(const float *P, K Mk) { return {Mk ? *P : 0.0f}; }
inline void vstoreK(float *P, V X, K Mk) {
  if (Mk)
    *P = X.R;
}
inline V vevens(V A, V) { return A; }
inline V vodds(V, V B) { return B; }
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

// One lane at a time the exp polynomial loses to libm's expf (~2.7x on 4096 floats), and the V
// wrapper keeps the compiler from vectorising a division by a scalar (~4x): plain loops there
// (libm's expf is within the table's stated accuracy). tanh keeps the polynomial: tanhf is
// slower than it.
void stdExp(const float *X, float *Y, size_t N, float, float) {
  for (size_t I = 0; I < N; ++I)
    Y[I] = std::exp(X[I]);
}
float stdExpSubSum(const float *X, float *Y, size_t N, float Sub) {
  float Sum = 0.0f;
  for (size_t I = 0; I < N; ++I) {
    Y[I] = std::exp(X[I] - Sub);
    Sum += Y[I];
  }
  return Sum;
}
void plainDivScalar(const float *A, float S, float *Out, size_t N) {
  for (size_t I = 0; I < N; ++I)
    Out[I] = A[I] / S;
}

VecMathTable makeGenericTable() {
  VecMathTable T = makeTable(Isa::Generic);
  T.Unary[UnaryExp] = stdExp;
  T.ExpSubSum = stdExpSubSum;
  T.BinaryScalarB[BinaryDiv] = plainDivScalar;
  return T;
}

const VecMathTable Table = makeGenericTable();

} // namespace

const VecMathTable *vecMathGenericTable() { return &Table; }

} // namespace optima_v2::native::simd
