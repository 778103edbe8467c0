// Internal interface between the GEMM driver and the per-ISA microkernel translation units.
// Declarations and plain data only: ISA TUs include this, and nothing here may be an inline
// function or template that an -mavx512f TU could emit for the whole program (ODR).
#pragma once

#include <cstddef>
#include <cstdint>

namespace optima_v2::native::gemm {

// What a tile does last, while C is still in registers: add Bias[r] to row r (Bias may be
// null), then clamp to [Lo, Hi] if Clamp, NaN passing (x < Lo ? Lo : x > Hi ? Hi : x, bit for
// bit): a conv's bias and a fused Relu or Clip without another pass over the output.
struct TileEnd {
  const float *Bias = nullptr;
  bool Clamp = false;
  float Lo = 0.0f, Hi = 0.0f;
  // MicroKernelAOff only: with Carry set the accumulators start from it (row r at Carry + r * NR,
  // the ISA's NR) instead of zero, and with Keep they go back there and nothing else happens (no
  // bias, clamp or store into C): one tile's product split over several calls, e.g. over depth
  // ranges that only some of its rows read.
  float *Carry = nullptr;
  bool Keep = false;
  // MicroKernelAOff only: a residual laid out like C (element (n, r) at Residual[n * Ldc + r]),
  // added after Bias and before the clamp: a conv's fused skip connection, in the same pass.
  const float *Residual = nullptr;
  // MicroKernelAOff only: PrefetchLines cache lines, 64 bytes apart from Prefetch, to bring
  // towards L2 while the k loop runs (one per k step, two when there are more lines than
  // steps): weights the caller reads next, fetched while this product computes.
  const float *Prefetch = nullptr;
  size_t PrefetchLines = 0;
};

// One tile of C: C[M x N] = Alpha * Ap[M x K] * B[K x N] + Beta * C, M <= MR and N <= NR,
// M, N >= 1, then End (if not null). Ap is packed k-major (Ap[k * MR + r]); B holds K rows of NR
// floats (readable up to NR columns), consecutive rows BStride floats apart (NR when packed),
// or, when Off is not null, row k at B + Off[k] (an implicit-GEMM view of a convolution's
// input; BStride unused). Beta == 0 does not read C. C columns past N are neither read nor
// written.
using MicroKernel = void (*)(size_t K, const float *Ap, const float *B, size_t BStride,
                             const size_t *Off, float *C, size_t Ldc, size_t M, size_t N,
                             float Alpha, float Beta, const TileEnd *End);

// A tile whose rows are pixels and columns filters, stored transposed into planes: with
// A(r, k) = A[AOff[k] + r * Step] (AOff[k] read as signed, two's complement: an unpadded input
// whose tile base lies past the padding it skips), Step 1 or 2 (an implicit-GEMM view of a padded convolution
// input, read in place: no A packing) and B K rows of NR floats (a sliver of packed W^T),
// C[n * Ldc + r] = sum_k A(r, k) B(k, n) for r < M, n < N, then End with End->Bias indexed by
// column (a filter's bias). The whole depth in one call: nothing accumulates in C.
using MicroKernelAOff = void (*)(size_t K, const float *A, const size_t *AOff, size_t Step,
                                 const float *B, float *C, size_t Ldc, size_t M, size_t N,
                                 const TileEnd *End);

// Packs Rows <= MR rows of a row-major A (row r at A + r * Lda) over depth [0, Kc) into
// Dst[k * MR + r]; rows [Rows, MR) of each k step may be written (with zeros) or left alone.
using PackRowsFn = void (*)(const float *A, size_t Lda, size_t Rows, size_t Kc, float *Dst);

struct IsaTable {
  const char *Name;
  int Id; // GemmIsa
  size_t MR, NR;
  MicroKernel Kernel;
  MicroKernelAOff KernelAOff;
  PackRowsFn PackRows; // null: the portable packA loop
};

extern const IsaTable GenericTable;
#if defined(OPTIMA_V2_GEMM_X86)
extern const IsaTable Avx2Table;
extern const IsaTable Avx512Table;
#endif
#if defined(OPTIMA_V2_GEMM_NEON)
extern const IsaTable NeonTable;
#endif

// A tile's end from accumulators in memory (row r at Acc + r * AccStride), in plain loops
// (KernelGeneric.cpp, baseline flags: callable from any TU whose own flags are baseline too).
// storeTile: C = Alpha * Acc + Beta * C (C not read when Beta is 0), then End's bias and clamp,
// as MicroKernel. storeTileTransposed: C[n * Ldc + r] with End's column bias, residual and
// clamp, as MicroKernelAOff.
void storeTile(const float *Acc, size_t AccStride, float *C, size_t Ldc, size_t M, size_t N,
               float Alpha, float Beta, const TileEnd *End);
void storeTileTransposed(const float *Acc, size_t AccStride, float *C, size_t Ldc, size_t M,
                         size_t N, const TileEnd *End);

// The table sgemm uses now (Dispatch.cpp).
const IsaTable &activeTable();

// Packing (Pack.cpp). A block: rows [I0, I0 + Rows) x depth [K0, K0 + Kc) of op(A) into
// Dst[k * MR + r], MR and the row transpose from Isa. B panel: depth [K0, K0 + Kc) x columns [N0, N1) of op(B) into NR-wide
// slivers of Kc rows (sliver j at Dst + j * NR * Kc), columns past N1 zero.
void packA(const IsaTable &Isa, const float *A, size_t Lda, bool TransA, size_t I0, size_t Rows,
           size_t K0, size_t Kc, float *Dst);
void packB(const float *B, size_t Ldb, bool TransB, size_t K0, size_t Kc, size_t N0, size_t N1,
           size_t NR, float *Dst);

} // namespace optima_v2::native::gemm
