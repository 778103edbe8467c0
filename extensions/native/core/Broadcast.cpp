#include "Broadcast.h"

#include <algorithm>

namespace optima_v2::native {

bool broadcastShape(const Dims &A, const Dims &B, Dims &Out) {
  size_t Rank = std::max(A.size(), B.size());
  Out.assign(Rank, 1);
  for (size_t I = 0; I < Rank; ++I) {
    int64_t DA = I < Rank - A.size() ? 1 : A[I - (Rank - A.size())];
    int64_t DB = I < Rank - B.size() ? 1 : B[I - (Rank - B.size())];
    if (DA != DB && DA != 1 && DB != 1)
      return false;
    Out[I] = DA == 1 ? DB : DA;
  }
  return true;
}

namespace {
// Natural element strides of Shape right-aligned to Rank dims, 0 where Shape broadcasts.
void broadcastStrides(const Dims &Shape, const Dims &Out, size_t *Strides) {
  size_t Rank = Out.size();
  size_t Stride = 1;
  for (size_t I = Rank; I-- > 0;) {
    size_t Offset = Rank - Shape.size();
    int64_t D = I < Offset ? 1 : Shape[I - Offset];
    Strides[I] = (D == 1 && Out[I] != 1) ? 0 : Stride;
    Stride *= size_t(D);
  }
}
} // namespace

BroadcastPlan planBroadcast(const Dims &A, const Dims &B, const Dims &Out) {
  size_t SA[OPTIMA_EXT_MAX_DIMS], SB[OPTIMA_EXT_MAX_DIMS];
  broadcastStrides(A, Out, SA);
  broadcastStrides(B, Out, SB);
  BroadcastPlan P;
  // Drop size-1 output dims, then merge a dim into the previous one when both inputs continue
  // contiguously (stride[prev] == stride[cur] * dim[cur], which also covers both-broadcast).
  for (size_t I = 0; I < Out.size(); ++I) {
    size_t D = size_t(Out[I]);
    if (D == 1)
      continue;
    if (P.Rank > 0 && P.StrideA[P.Rank - 1] == SA[I] * D && P.StrideB[P.Rank - 1] == SB[I] * D) {
      P.Dims[P.Rank - 1] *= D;
      P.StrideA[P.Rank - 1] = SA[I];
      P.StrideB[P.Rank - 1] = SB[I];
      continue;
    }
    P.Dims[P.Rank] = D;
    P.StrideA[P.Rank] = SA[I];
    P.StrideB[P.Rank] = SB[I];
    ++P.Rank;
  }
  if (P.Rank == 0) { // scalar result
    P.Rank = 1;
    P.Dims[0] = 1;
    P.StrideA[0] = P.StrideB[0] = 0;
  }
  P.Inner = P.Dims[P.Rank - 1];
  P.Outer = 1;
  for (size_t I = 0; I + 1 < P.Rank; ++I)
    P.Outer *= P.Dims[I];
  for (size_t I = 0; I < Out.size(); ++I)
    if (Out[I] == 0)
      P.Outer = 0; // empty result: nothing to run
  return P;
}

} // namespace optima_v2::native
