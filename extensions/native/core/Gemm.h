// Single-precision GEMM used by Conv (im2col), MatMul, Gemm, Einsum and the recurrent ops:
//   C[M x N] = Alpha * op(A)[M x K] * op(B)[K x N] + Beta * C     (row-major, leading dims given)
// Packed and cache-blocked (gemm/Driver.cpp) with register-blocked microkernels for AVX-512,
// AVX2+FMA and portable C++, chosen once at run time (gemm/Dispatch.cpp).
#pragma once

#include "Kernel.h"

#include <atomic>
#include <cstddef>

namespace optima_v2::native {

struct Epilogue; // ops/Epilogue.h

struct GemmShape {
  size_t M = 0, N = 0, K = 0;
  bool TransA = false, TransB = false;
  size_t Lda = 0, Ldb = 0, Ldc = 0;
};

// Beta == 0 overwrites C (NaNs in C do not leak). Ctx may be null: runs serially.
// Ep (optional): a fused activation applied to each block of C once its last K panel is done.
void sgemm(const GemmShape &S, float Alpha, const float *A, const float *B, float Beta, float *C,
           const KernelContext *Ctx, const Epilogue *Ep = nullptr);

namespace gemm {
struct IsaTable; // gemm/GemmKernels.h
}

// 64-byte aligned storage of a pre-packed operand, counted in packedGemmBytes(). Move-only.
class PackedStorage {
public:
  PackedStorage() = default;
  PackedStorage(PackedStorage &&Other) noexcept;
  PackedStorage &operator=(PackedStorage &&Other) noexcept;
  PackedStorage(const PackedStorage &) = delete;
  PackedStorage &operator=(const PackedStorage &) = delete;
  ~PackedStorage() { release(); }

  // Drops what it held and allocates Floats floats (uninitialised), on huge pages if Huge (see
  // LargeAlloc.h); throws std::bad_alloc.
  float *allocate(size_t Floats, bool Huge);
  void release() noexcept;
  float *data() const { return Data; }
  size_t bytes() const { return Bytes; }

private:
  float *Data = nullptr;
  size_t Bytes = 0;
};

// op(B) packed once (e.g. constant weights at model load) into the microkernel's layout: K
// panels of NR-wide column slivers, zero-padded, 64-byte aligned. Immutable after pack(), so one
// object is shared by every request. Packed for the ISA active when pack() ran.
class PackedB {
public:
  // op(B) is K x N: B is K x N with leading dim Ldb, or N x K when TransB. Throws
  // std::bad_alloc when memory runs out (at load).
  void pack(size_t K, size_t N, bool TransB, const float *B, size_t Ldb);

  size_t k() const { return K; }
  size_t n() const { return N; }
  size_t bytes() const { return Store.bytes(); }
  const float *data() const { return Store.data(); }
  const gemm::IsaTable *isa() const { return Isa; }

private:
  PackedStorage Store;
  size_t K = 0, N = 0;
  const gemm::IsaTable *Isa = nullptr;
};

// Same as sgemm with op(B) given pre-packed (S.TransB and S.Ldb are ignored; S.K and S.N must
// equal B.k() and B.n()).
void sgemmPacked(const GemmShape &S, float Alpha, const float *A, const PackedB &B, float Beta,
                 float *C, const KernelContext *Ctx, const Epilogue *Ep = nullptr);

// op(A) packed once (constant conv weights at load) into the microkernel's A layout: K panels
// of MR-row slivers (k-major), zero-padded, 64-byte aligned; the mirror of PackedB. Immutable
// after pack(), shared by every request; packed for the ISA active when pack() ran.
class PackedA {
public:
  // op(A) is M x K: A is M x K with leading dim Lda, or K x M when TransA. Throws
  // std::bad_alloc when memory runs out (at load).
  void pack(size_t M, size_t K, bool TransA, const float *A, size_t Lda);

  size_t m() const { return M; }
  size_t k() const { return K; }
  size_t bytes() const { return Store.bytes(); }
  const float *data() const { return Store.data(); }
  const gemm::IsaTable *isa() const { return Isa; }

private:
  PackedStorage Store;
  size_t M = 0, K = 0;
  const gemm::IsaTable *Isa = nullptr;
};

// Fills one panel of op(B) in the packed layout: depth [K0, K0 + Kc) x columns [N0, N1) as
// NR-wide slivers of Kc rows (sliver j at Dst + j * NR * Kc), columns past N1 zero. Lets a caller
// produce B on the fly (e.g. im2col straight into the packed layout) instead of materialising it.
struct BPanelSource {
  void (*Pack)(const void *Self, size_t K0, size_t Kc, size_t N0, size_t N1, size_t NR,
               float *Dst) = nullptr;
  const void *Self = nullptr;
};

// op(A) as an implicit-GEMM view whose rows are the pixels of M / Width lines of Width
// pixels: A(i, k) = Base[Offsets[k] + Line(i) * Pitch + Column(i) * Step] (Step 1 or 2; Offsets
// read as signed, two's complement, for an unpadded input whose padding is skipped), e.g. a
// convolution's padded input, where row k of im2col is the input shifted by kernel position k
// and read with the conv's stride. Read in place by the microkernel (tiles never cross a line)
// instead of packed.
struct ARowTable {
  const float *Base = nullptr;
  const size_t *Offsets = nullptr;
  size_t Width = 0, Pitch = 0, Step = 1;
  // Optional (ColLo null: every pixel reads every depth row): depth row k belongs to column
  // (k / Run) % Columns (a conv's kernel column, rows in (kh, kw, c) order with Run = c's), and
  // only the pixels at x in [ColLo[col], ColHi[col]) of a line read inside the input there. Tiles
  // holding other pixels skip those rows for them (a border pixel's padding) in several products.
  const size_t *ColLo = nullptr, *ColHi = nullptr;
  size_t Run = 0, Columns = 0;
};

// op(B) (K x N) packed once for sgemmARowsToPlanes: per NR-wide column sliver, all K rows
// contiguous (K x NR, zero-padded), so a product over any range of rows is one microkernel
// call. Immutable after pack(); packed for the ISA active when pack() ran.
class PackedSlivers {
public:
  // op(B) = B^T with B N x K, leading dim Ldb (a conv's W, filters x depth). Throws
  // std::bad_alloc.
  void pack(size_t K, size_t N, const float *B, size_t Ldb);

  size_t k() const { return K; }
  size_t n() const { return N; }
  // Columns per sliver: the width of the ISA it was packed for (not necessarily the active one).
  size_t sliverWidth() const { return Width; }
  const float *data() const { return Store.data(); }
  const gemm::IsaTable *isa() const { return Isa; }

private:
  PackedStorage Store;
  size_t K = 0, N = 0, Width = 0;
  const gemm::IsaTable *Isa = nullptr;
};

// sgemmARowsToPlanes takes the depth runs outermost (see Driver.cpp, runMajor) when every tile
// skips padded columns and a sliver holds at least this many bytes. Tests lower it.
inline std::atomic<size_t> RunMajorMinBytes{size_t(128) << 10};

// The transposed product written straight into planes, serially: for the M pixels of A and the
// columns n in [N0, N1), Out[n * OutStride + i] = act(sum_{k in S} A(i, k) B(k, n) + Bias[n]),
// S the depth rows [K0 + r * RangeStride, K1 + r * RangeStride) for r < Ranges (Bias may be
// null; A reads A.Offsets[k] for k in S). M must be a multiple of A.Width, N0 of
// B.sliverWidth(). With Z (planes laid out like Out, not aliasing it), Z's element is added
// after Bias, before act. A Relu or Clip is applied by the microkernel, another activation over
// the planes afterwards.
void sgemmARowsToPlanes(const ARowTable &A, size_t M, const PackedSlivers &B, size_t K0, size_t K1,
                        float *Out, size_t OutStride, const float *Bias, const Epilogue *Ep,
                        size_t N0, size_t N1, const float *Z = nullptr, size_t Ranges = 1,
                        size_t RangeStride = 0);

// Same as sgemm with op(A) given pre-packed (S.TransA and S.Lda are ignored; S.M and S.K must
// equal A.m() and A.k()). With Src set, op(B) comes from Src.Pack and B/S.TransB/S.Ldb are
// ignored. RowBias (S.M values, or null) is added to each row of C before Ep, while the tile is
// in cache: a conv bias without a separate pass over the output.
void sgemmPackedA(const GemmShape &S, float Alpha, const PackedA &A, const float *B, float Beta,
                  float *C, const KernelContext *Ctx, const Epilogue *Ep = nullptr,
                  const BPanelSource *Src = nullptr, const float *RowBias = nullptr);

// op(B) as K rows of N contiguous floats, row k at Base + Offsets[k] (K offsets): an implicit
// GEMM view, e.g. a stride-1 convolution's padded input, whose row k is the input shifted by
// kernel position k. Read in place by the microkernel instead of being packed.
struct BRowTable {
  const float *Base = nullptr;
  const size_t *Offsets = nullptr;
};

// C = op(A) B with op(A) pre-packed (as sgemmPackedA) and B given as a BRowTable (Alpha 1,
// Beta 0). RowBias as in sgemmPackedA.
void sgemmPackedARows(const GemmShape &S, const PackedA &A, const BRowTable &B, float *C,
                      const KernelContext *Ctx, const Epilogue *Ep = nullptr,
                      const float *RowBias = nullptr);

// Bytes held by all live PackedB and PackedA objects of the process (memory accounting; no logging).
size_t packedGemmBytes();

// Microkernel families. The active one is the best the CPU supports, or the one named by the
// environment variable OPTIMA_V2_NATIVE_ISA=generic|avx2|avx512|neon (read once; an unknown or
// unsupported value falls back to the best available). Neon: AArch64 builds only.
enum class GemmIsa { Generic, Avx2, Avx512, Neon };
// Every family, supported here or not (for loops over them).
inline constexpr GemmIsa AllGemmIsas[] = {GemmIsa::Generic, GemmIsa::Avx2, GemmIsa::Avx512,
                                          GemmIsa::Neon};
bool gemmIsaSupported(GemmIsa Isa);
GemmIsa activeGemmIsa();
// Column width (NR) of the active microkernel's tile: callers shaping products around it.
size_t gemmTileWidth();
// Row height (MR) of the active microkernel's tile.
size_t gemmTileHeight();
const char *gemmIsaName(GemmIsa Isa);
// Tests and benchmarks: selects Isa for sgemm calls that start afterwards (PackedB objects keep
// the ISA they were packed for). Returns false and changes nothing when unsupported.
bool setGemmIsa(GemmIsa Isa);

} // namespace optima_v2::native
