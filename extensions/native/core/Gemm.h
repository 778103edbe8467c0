// Single-precision GEMM used by Conv (im2col), MatMul and Gemm:
//   C[M x N] = Alpha * op(A)[M x K] * op(B)[K x N] + Beta * C     (row-major, leading dims given)
// Blocked for cache (tiles of C, panels of K) and parallel over tiles through the host pool.
#pragma once

#include "Kernel.h"

#include <cstddef>

namespace optima_v2::native {

struct Epilogue; // ops/Epilogue.h

struct GemmShape {
  size_t M = 0, N = 0, K = 0;
  bool TransA = false, TransB = false;
  size_t Lda = 0, Ldb = 0, Ldc = 0;
};

// Beta == 0 overwrites C (NaNs in C do not leak). Ctx may be null: runs serially.
// Ep (optional): a fused activation applied to each tile of C once its last K panel is done.
void sgemm(const GemmShape &S, float Alpha, const float *A, const float *B, float Beta, float *C,
           const KernelContext *Ctx, const Epilogue *Ep = nullptr);

} // namespace optima_v2::native
