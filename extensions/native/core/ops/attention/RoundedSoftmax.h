// One softmax row as ONNX's reference (numpy) computes it in a given precision R: for F16/BF16
// every step (x - max, exp, sum, divide) is rounded to R, because the conformance data and the
// _expanded graphs are produced that way and a single-rounding float softmax is off by ulps.
// numpy sums F16 in float (one rounding) but BF16 (ml_dtypes) element by element, rounding each
// partial sum; both are mirrored. A row whose max is -inf softmaxes to zeros (no NaN).
#pragma once

#include "../../TypeDispatch.h"

#include <cmath>
#include <cstddef>
#include <limits>

namespace optima_v2::native {

template <typename R> inline float roundTo(float X) noexcept {
  if constexpr (isHalfLike<R>)
    return load(store<R>(X));
  else
    return X;
}

// NaN-propagating max, like numpy's.
inline float rowMax(const float *Row, size_t N) noexcept {
  float Max = -std::numeric_limits<float>::infinity();
  for (size_t J = 0; J < N; ++J)
    if (Row[J] > Max || Row[J] != Row[J])
      Max = Row[J];
  return Max;
}

// In place: Row holds the logits on entry and the probabilities (representable in R) on exit.
template <typename R> void roundedSoftmax(float *Row, size_t N) noexcept {
  constexpr float NegInf = -std::numeric_limits<float>::infinity();
  if constexpr (std::is_same_v<R, double>) {
    double Max = rowMax(Row, N);
    if (Max == double(NegInf))
      Max = 0;
    double Sum = 0;
    for (size_t J = 0; J < N; ++J)
      Sum += std::exp(double(Row[J]) - Max);
    if (Sum == 0)
      Sum = 1;
    for (size_t J = 0; J < N; ++J)
      Row[J] = float(std::exp(double(Row[J]) - Max) / Sum);
  } else {
    for (size_t J = 0; J < N; ++J)
      Row[J] = roundTo<R>(Row[J]); // the cast to the softmax precision
    float Max = rowMax(Row, N);
    if (Max == NegInf)
      Max = 0;
    float Sum = 0;
    for (size_t J = 0; J < N; ++J) {
      float E = roundTo<R>(std::exp(roundTo<R>(Row[J] - Max)));
      Row[J] = E;
      if constexpr (std::is_same_v<R, BFloat16>)
        Sum = roundTo<R>(Sum + E);
      else
        Sum += E;
    }
    Sum = roundTo<R>(Sum);
    if (Sum == 0)
      Sum = 1;
    for (size_t J = 0; J < N; ++J)
      Row[J] = roundTo<R>(Row[J] / Sum);
  }
}

} // namespace optima_v2::native
