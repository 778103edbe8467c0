// Row-major coordinate helpers for the spatial op tests' naive references.
#pragma once

#include "NativeTestUtil.h"

namespace native_test {

// Coordinates of flat index F in shape S.
inline std::vector<int64_t> coordsOf(size_t F, const Shape &S) {
  std::vector<int64_t> C(S.size());
  for (size_t D = S.size(); D-- > 0;) {
    C[D] = int64_t(F % size_t(S[D]));
    F /= size_t(S[D]);
  }
  return C;
}

// Flat index of coordinates C in shape S.
inline size_t flatOf(const std::vector<int64_t> &C, const Shape &S) {
  size_t F = 0;
  for (size_t D = 0; D < S.size(); ++D)
    F = F * size_t(S[D]) + size_t(C[D]);
  return F;
}

} // namespace native_test
