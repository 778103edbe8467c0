// Numpy multidirectional broadcasting, planned at load time: output shape plus, for each input,
// element strides over a collapsed output index space (adjacent dims merged where both inputs
// stay contiguous), so the inner loop runs over a contiguous or scalar operand.
#pragma once

#include "Tensor.h"

#include <cstddef>

namespace optima_v2::native {

struct BroadcastPlan {
  size_t Rank = 0;                          // collapsed rank, >= 1
  size_t Dims[OPTIMA_EXT_MAX_DIMS] = {};    // collapsed output dims
  size_t StrideA[OPTIMA_EXT_MAX_DIMS] = {}; // element strides (0 = broadcast)
  size_t StrideB[OPTIMA_EXT_MAX_DIMS] = {};
  size_t Inner = 1;                         // Dims[Rank-1]
  size_t Outer = 0;                         // product of the other dims
};

// Output shape of broadcasting A and B; false when they are incompatible.
bool broadcastShape(const Dims &A, const Dims &B, Dims &Out);

// Plan for Out = f(A, B); Out must be broadcastShape(A, B).
BroadcastPlan planBroadcast(const Dims &A, const Dims &B, const Dims &Out);

} // namespace optima_v2::native
