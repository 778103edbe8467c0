// The blocked GEMM driver (GotoBLAS/BLIS loop order): for each NC-wide column chunk and KC-deep
// panel, B is packed once (or taken pre-packed, or produced by a BPanelSource such as im2col, or
// read in place for GEMV-like products), then each MR-row block of A is packed (or taken
// pre-packed) and multiplied against every NR-wide B sliver by the ISA's microkernel. C is split
// into 2-D blocks across the host pool.
#include "../Gemm.h"
#include "../LargeAlloc.h"
#include "../ops/Epilogue.h"
#include "GemmKernels.h"

#include <algorithm>
#include <atomic>
#include <new>

namespace optima_v2::native {

using gemm::IsaTable;

namespace {

constexpr size_t KC = 256;  // panel depth: an MR x KC block of packed A stays in L1
constexpr size_t NC = 512;  // chunk width: a KC x NC packed B panel (512 KiB) stays in L2
constexpr size_t MinTaskWork = size_t(1) << 18; // multiply-adds per task worth a pool trip

std::atomic<size_t> PackedBytes{0};

constexpr size_t MaxMR = 16; // largest microkernel MR (the packed A block lives on the stack)
constexpr size_t MaxNR = 32; // largest microkernel NR (the fallback B sliver lives on the stack)

// Per-thread B packing buffer (KC x NC floats, 512 KiB), allocated by a thread's first sgemm
// that packs B and kept for the thread's life, so the hot path allocates nothing after warm-up.
// Allocation failure is reported as null (the caller then packs one sliver at a time on the
// stack).
struct ThreadBuffer {
  float *Ptr = nullptr;
  ~ThreadBuffer() { ::operator delete(Ptr, std::align_val_t(64)); }
  float *get() {
    if (!Ptr)
      Ptr = static_cast<float *>(
          ::operator new(KC * NC * sizeof(float), std::align_val_t(64), std::nothrow));
    return Ptr;
  }
};
thread_local ThreadBuffer BBuffer;

struct Problem {
  const IsaTable *Isa;
  size_t M, N, K;
  const float *A;
  size_t Lda;
  bool TransA;
  const float *B; // raw op(B) when Packed is null
  size_t Ldb;
  bool TransB;
  const PackedB *Packed;
  float Alpha, Beta;
  float *C;
  size_t Ldc;
  const Epilogue *Ep;
  const PackedA *PA = nullptr;       // pre-packed op(A) (A/Lda/TransA unused)
  const BPanelSource *Src = nullptr; // op(B) produced panel by panel (B/Ldb/TransB unused)
  const float *RowBias = nullptr;    // added to row i of C before the epilogue
  const size_t *ROff = nullptr;      // op(B) row k at B + ROff[k], read in place (BRowTable)
};

// Sliver-packs rows [K0, K0 + Kc) x columns [N0, N1) of a BRowTable view (columns past N1 zero).
void packRows(const Problem &P, size_t K0, size_t Kc, size_t N0, size_t N1, float *Dst) {
  const size_t NR = P.Isa->NR;
  for (size_t J0 = N0; J0 < N1; J0 += NR, Dst += NR * Kc) {
    const size_t Width = std::min(NR, N1 - J0);
    for (size_t K = 0; K < Kc; ++K) {
      std::copy_n(P.B + P.ROff[K0 + K] + J0, Width, Dst + K * NR);
      std::fill(Dst + K * NR + Width, Dst + (K + 1) * NR, 0.0f);
    }
  }
}

// The finished rows [I0, I0 + Rows) x [J0, J0 + Width) of C, still in cache: row bias, then the
// activation.
void finishRows(const Problem &P, size_t I0, size_t Rows, size_t J0, size_t Width) {
  for (size_t R = 0; R < Rows; ++R) {
    float *Row = P.C + (I0 + R) * P.Ldc + J0;
    if (P.RowBias) {
      const float Bv = P.RowBias[I0 + R];
      for (size_t J = 0; J < Width; ++J)
        Row[J] += Bv;
    }
    if (P.Ep)
      P.Ep->apply(Row, Width);
  }
}

// The bias and activation the microkernel applies itself at the last K panel (a Relu or Clip,
// with or without a row bias): End gets them and true is returned. False for any other
// activation, which finishRows applies after the tile.
bool tileEnd(const Problem &P, gemm::TileEnd &End) {
  End = gemm::TileEnd{};
  if (P.Ep && !clampBounds(*P.Ep, End.Lo, End.Hi))
    return false;
  End.Clamp = P.Ep != nullptr;
  return true;
}

// The packed MR x Kc block of A rows [I0, I0 + Rows) (I0 a multiple of MR) at depth K0.
const float *blockA(const Problem &P, size_t I0, size_t Rows, size_t K0, size_t Kc, float *Buf) {
  const size_t MR = P.Isa->MR;
  if (P.PA)
    return P.PA->data() + K0 * ((P.M + MR - 1) / MR * MR) + I0 * Kc;
  gemm::packA(*P.Isa, P.A, P.Lda, P.TransA, I0, Rows, K0, Kc, Buf);
  return Buf;
}

void packPanel(const Problem &P, size_t K0, size_t Kc, size_t N0, size_t N1, float *Dst) {
  if (P.ROff)
    packRows(P, K0, Kc, N0, N1, Dst);
  else if (P.Src)
    P.Src->Pack(P.Src->Self, K0, Kc, N0, N1, P.Isa->NR, Dst);
  else
    gemm::packB(P.B, P.Ldb, P.TransB, K0, Kc, N0, N1, P.Isa->NR, Dst);
}

// Rows per microkernel call for a block of Rows rows. Pre-packed A comes in MR-row blocks;
// packed here, the rows split evenly instead (49 = 10+10+10+10+9, not 4 x 12 + 1): a one-row
// tile keeps two accumulators and waits on FMA latency, several times slower per row.
size_t tileStep(const Problem &P, size_t Rows) {
  const size_t MR = P.Isa->MR;
  if (P.PA || Rows <= MR)
    return MR;
  const size_t Tiles = (Rows + MR - 1) / MR;
  return (Rows + Tiles - 1) / Tiles;
}

// Only when a thread's packing buffer cannot be allocated (B not pre-packed): one B sliver at a
// time on the stack, slower (A is re-packed per sliver) but the same results.
void sliverBlock(const Problem &P, size_t M0, size_t M1, size_t N0, size_t N1) {
  const size_t NR = P.Isa->NR;
  alignas(64) float ABuf[MaxMR * KC];
  alignas(64) float BBuf[MaxNR * KC];
  gemm::TileEnd End;
  const bool InKernel = tileEnd(P, End);
  for (size_t J0 = N0; J0 < N1; J0 += NR) {
    const size_t Width = std::min(NR, N1 - J0);
    for (size_t K0 = 0; K0 < P.K || K0 == 0; K0 += KC) {
      const size_t Kc = std::min(KC, P.K - K0);
      const bool Last = K0 + Kc >= P.K;
      if (Kc)
        packPanel(P, K0, Kc, J0, J0 + Width, BBuf);
      const float *Sliver = BBuf;
      const size_t Step = tileStep(P, M1 - M0);
      for (size_t I0 = M0; I0 < M1; I0 += Step) {
        const size_t Rows = std::min(Step, M1 - I0);
        const float *Ap = blockA(P, I0, Rows, K0, Kc, ABuf);
        float *CRow = P.C + I0 * P.Ldc + J0;
        End.Bias = P.RowBias ? P.RowBias + I0 : nullptr;
        P.Isa->Kernel(Kc, Ap, Sliver, NR, nullptr, CRow, P.Ldc, Rows, Width, P.Alpha,
                      K0 == 0 ? P.Beta : 1.0f, Last && InKernel ? &End : nullptr);
        if (Last && (P.Ep || P.RowBias) && !InKernel)
          finishRows(P, I0, Rows, J0, Width);
      }
      if (P.K == 0)
        break;
    }
  }
}

// C[M0:M1, N0:N1]; N0 is a multiple of NR.
void runBlock(const Problem &P, size_t M0, size_t M1, size_t N0, size_t N1) {
  const size_t MR = P.Isa->MR, NR = P.Isa->NR;
  alignas(64) float ABuf[MaxMR * KC]; // 16 KiB: one packed A block
  // Blocks of up to three row tiles (GEMV-like, small convs) read each B element up to 3 times:
  // read in place, B costs less than packing it would (a read and a write).
  const bool Direct = !P.Packed && !P.Src && !P.ROff && !P.TransB && M1 - M0 <= 3 * MR;
  // A BRowTable view: full slivers straight from its rows, only a narrow last one packed.
  const bool InPlace = P.ROff != nullptr;
  // Pre-packed B needs no buffer; in place, only a narrow last sliver is packed.
  float *BBuf = P.Packed ? nullptr : BBuffer.get();
  if (!P.Packed && !BBuf) {
    sliverBlock(P, M0, M1, N0, N1);
    return;
  }
  const size_t Npad = (P.N + NR - 1) / NR * NR;
  for (size_t Nc0 = N0; Nc0 < N1; Nc0 += NC) {
    const size_t Nc1 = std::min(N1, Nc0 + NC);
    // K == 0 still makes one pass: the microkernel then writes Beta * C.
    for (size_t K0 = 0; K0 < P.K || K0 == 0; K0 += KC) {
      const size_t Kc = std::min(KC, P.K - K0);
      const float Beta = K0 == 0 ? P.Beta : 1.0f;
      const bool Last = K0 + Kc >= P.K;
      const float *Panel;
      size_t ColStep, RowStride;
      if (P.Packed) {
        Panel = P.Packed->data() + K0 * Npad + Nc0 * Kc;
        ColStep = Kc;
        RowStride = NR;
      } else if (Direct) {
        Panel = P.B + K0 * P.Ldb + Nc0;
        ColStep = 1;
        RowStride = P.Ldb;
      } else if (InPlace) {
        Panel = P.B + Nc0; // row k of the sliver at Panel + column + ROff[K0 + k]
        ColStep = 1;
        RowStride = 0;
      } else {
        packPanel(P, K0, Kc, Nc0, Nc1, BBuf);
        Panel = BBuf;
        ColStep = Kc;
        RowStride = NR;
      }
      // In place, a last sliver narrower than NR would be read past the end of B: pack it.
      const size_t TailJ =
          (Direct || InPlace) && (Nc1 - Nc0) % NR ? Nc1 - (Nc1 - Nc0) % NR : Nc1;
      if (TailJ < Nc1 && InPlace)
        packRows(P, K0, Kc, TailJ, Nc1, BBuf);
      else if (TailJ < Nc1)
        gemm::packB(P.B, P.Ldb, false, K0, Kc, TailJ, Nc1, NR, BBuf);
      const size_t *Off = InPlace ? P.ROff + K0 : nullptr;
      gemm::TileEnd End;
      const bool InKernel = tileEnd(P, End);
      const size_t Step = tileStep(P, M1 - M0);
      for (size_t I0 = M0; I0 < M1; I0 += Step) {
        const size_t Rows = std::min(Step, M1 - I0);
        const float *Ap = blockA(P, I0, Rows, K0, Kc, ABuf);
        float *CRow = P.C + I0 * P.Ldc;
        End.Bias = P.RowBias ? P.RowBias + I0 : nullptr;
        for (size_t J0 = Nc0; J0 < Nc1; J0 += NR) {
          const float *Sliver = Panel + (J0 - Nc0) * ColStep;
          size_t Stride = RowStride;
          const size_t *SliverOff = Off;
          if (J0 >= TailJ) {
            Sliver = BBuf;
            Stride = NR;
            SliverOff = nullptr;
          }
          P.Isa->Kernel(Kc, Ap, Sliver, Stride, SliverOff, CRow + J0, P.Ldc, Rows,
                        std::min(NR, Nc1 - J0), P.Alpha, Beta, Last && InKernel ? &End : nullptr);
        }
        if (Last && (P.Ep || P.RowBias) && !InKernel) // the block's rows are final, in cache
          finishRows(P, I0, Rows, Nc0, Nc1 - Nc0);
      }
      if (P.K == 0)
        break;
    }
  }
}

size_t ceilDiv(size_t A, size_t B) { return (A + B - 1) / B; }

// Splits C into TM x TN blocks for Threads workers: the cheapest estimated critical path, where
// a block costs its padded multiply-adds plus its packing (splitting M repacks the same B).
void planGrid(const Problem &P, size_t Threads, size_t &TM, size_t &TN) {
  const size_t MR = P.Isa->MR, NR = P.Isa->NR;
  const size_t MB = ceilDiv(P.M, MR), NB = ceilDiv(P.N, NR), K = std::max<size_t>(P.K, 1);
  const bool PacksB = !P.Packed && !P.ROff && (P.Src || P.TransB || P.M > 3 * MR); // as runBlock
  const double PackA = P.PA ? 0.0 : 4.0;
  double Best = -1.0;
  TM = TN = 1;
  for (size_t Tm = 1; Tm <= std::min(MB, 2 * Threads); ++Tm) {
    for (size_t Tn = 1; Tn <= std::min(NB, 2 * Threads) && Tm * Tn <= 2 * Threads; ++Tn) {
      double Rows = double(ceilDiv(MB, Tm) * MR), Cols = double(ceilDiv(NB, Tn) * NR);
      double Cost = Rows * Cols * double(K) + Rows * double(K) * PackA * double(ceilDiv(size_t(Cols), NC));
      if (PacksB)
        Cost += Cols * double(K) * 4.0;
      Cost *= double(ceilDiv(Tm * Tn, Threads));
      if (Best < 0.0 || Cost < Best * 0.999) {
        Best = Cost;
        TM = Tm;
        TN = Tn;
      }
    }
  }
}

void runProblem(const Problem &P, const KernelContext *Ctx) {
  if (P.M == 0 || P.N == 0)
    return;
  size_t Work = P.M * P.N * std::max<size_t>(P.K, 1);
  // A one-row-tile product streams B at a few flops per byte: each multiply-add costs several
  // times one of a compute-bound product, and a second core brings its own cache bandwidth.
  if (P.M <= P.Isa->MR)
    Work *= 4;
  size_t Threads = Ctx ? std::min<size_t>(Ctx->threadCount(), Work / MinTaskWork) : 1;
  if (Threads <= 1) {
    runBlock(P, 0, P.M, 0, P.N);
    return;
  }
  size_t TM, TN;
  planGrid(P, Threads, TM, TN);
  const size_t MR = P.Isa->MR, NR = P.Isa->NR;
  const size_t MB = ceilDiv(P.M, MR), NB = ceilDiv(P.N, NR);
  auto Body = [&](size_t Begin, size_t End) {
    for (size_t T = Begin; T < End; ++T) {
      size_t Tm = T / TN, Tn = T % TN;
      size_t M0 = std::min(P.M, MB * Tm / TM * MR), M1 = std::min(P.M, MB * (Tm + 1) / TM * MR);
      size_t N0 = std::min(P.N, NB * Tn / TN * NR), N1 = std::min(P.N, NB * (Tn + 1) / TN * NR);
      if (M0 < M1 && N0 < N1)
        runBlock(P, M0, M1, N0, N1);
    }
  };
  Ctx->parallelFor(TM * TN, 1, Body);
}

} // namespace

void sgemm(const GemmShape &S, float Alpha, const float *A, const float *B, float Beta, float *C,
           const KernelContext *Ctx, const Epilogue *Ep) {
  if (Ep && !Ep->active())
    Ep = nullptr;
  Problem P{&gemm::activeTable(), S.M,  S.N,   S.K,   A, S.Lda, S.TransA, B, S.Ldb,
            S.TransB,             nullptr, Alpha, Beta, C, S.Ldc, Ep};
  if (S.N == 1 && S.M > 1 && S.Ldc == 1) {
    // A matrix-vector product: as C^T = op(B)^T op(A)^T it becomes one row of M columns,
    // instead of M rows that each fill 1 of the microkernel's NR columns.
    P.M = 1;
    P.N = S.M;
    P.A = B;
    P.Lda = S.Ldb;
    P.TransA = !S.TransB;
    P.B = A;
    P.Ldb = S.Lda;
    P.TransB = !S.TransA;
    P.Ldc = S.M;
  }
  runProblem(P, Ctx);
}

void sgemmPacked(const GemmShape &S, float Alpha, const float *A, const PackedB &B, float Beta,
                 float *C, const KernelContext *Ctx, const Epilogue *Ep) {
  if (Ep && !Ep->active())
    Ep = nullptr;
  if (S.K != B.k() || S.N != B.n() || (S.K && S.N && !B.data()))
    return; // a caller bug; never read out of bounds
  Problem P{B.isa(), S.M,   S.N,  S.K, A,     S.Lda, S.TransA, nullptr, 0,
            false,   &B,    Alpha, Beta, C, S.Ldc, Ep};
  runProblem(P, Ctx);
}

namespace {

// The depth rows one sgemmARowsToPlanes call reads: [K0 + i * Stride, K1 + i * Stride) for
// i < Count.
struct DepthSet {
  size_t K0, K1, Stride, Count;
};

// The rows [R0, R1) of a tile (the Rows pixels from X0) that read inside the input at depth row
// Kk (kernel column Kk / A.Run % A.Columns; A has column skipping).
std::pair<size_t, size_t> rowsReading(const ARowTable &A, size_t Kk, size_t X0, size_t Rows) {
  const size_t Col = Kk / A.Run % A.Columns;
  const size_t Lo = std::clamp(A.ColLo[Col], X0, X0 + Rows);
  const size_t Hi = std::clamp(A.ColHi[Col], Lo, X0 + Rows);
  return {Lo - X0, Hi - X0};
}

// Calls Fn(Kk, Next, R0, R1) for the runs of depth rows [Kk, Next) of D, each inside one
// range, that the tile rows [R0, R1) (of the Rows pixels from X0) read: with A's column
// skipping, a range splits where the rows reading inside the input change; without it, one run
// per range, every row.
template <typename Fn>
void forEachRun(const ARowTable &A, const DepthSet &D, size_t X0, size_t Rows, Fn &&F) {
  const bool Skips = A.ColLo && A.ColHi && A.Run && A.Columns;
  auto rowsOf = [&](size_t Kk) {
    return Skips ? rowsReading(A, Kk, X0, Rows) : std::make_pair(size_t(0), Rows);
  };
  for (size_t I = 0; I < D.Count; ++I) {
    const size_t End = D.K1 + I * D.Stride;
    for (size_t Kk = D.K0 + I * D.Stride; Kk < End;) {
      const auto Rows01 = rowsOf(Kk);
      size_t Next = Skips ? std::min(End, (Kk / A.Run + 1) * A.Run) : End;
      while (Next < End && rowsOf(Next) == Rows01)
        Next = std::min(End, Next + A.Run);
      if (Rows01.first < Rows01.second)
        F(Kk, Next, Rows01.first, Rows01.second);
      Kk = Next;
    }
  }
}

// One tile of sgemmARowsToPlanes (pixels [X0, X0 + Rows) of a line at Px, columns of the sliver
// at Sliver, depth rows D) that is not one product: its pixels do not all read every depth row,
// or D has several ranges. One product per run (forEachRun), accumulated in registers and a
// carry block between calls, then stored with End.
void borderTile(const IsaTable &Isa, const ARowTable &A, const float *Sliver, const DepthSet &D,
                size_t X0, size_t Rows, size_t Width, const float *Px, float *C, size_t Ldc,
                const gemm::TileEnd &End) {
  alignas(64) float Carry[MaxMR * MaxNR];
  std::fill(Carry, Carry + Rows * Isa.NR, 0.0f);
  gemm::TileEnd Keep;
  Keep.Keep = true;
  forEachRun(A, D, X0, Rows, [&](size_t Kk, size_t Next, size_t R0, size_t R1) {
    Keep.Carry = Carry + R0 * Isa.NR;
    Isa.KernelAOff(Next - Kk, Px + R0 * A.Step, A.Offsets + Kk, A.Step, Sliver + Kk * Isa.NR, C,
                   Ldc, R1 - R0, Width, &Keep);
  });
  gemm::TileEnd Store = End;
  Store.Carry = Carry;
  Isa.KernelAOff(0, Px, A.Offsets, A.Step, Sliver, C, Ldc, Rows, Width, &Store);
}

// Row-bands tiles that are all border tiles (small planes, e.g. 7x7 or 14x14 with a 3x3
// kernel), for one sliver whose depth is large: instead of tile by tile, which has the first
// tile stream the sliver from memory while it computes (twice its compute's bandwidth at 512
// channels), the depth runs go outermost (pieces: each range split at every kernel column) and
// each runs through every tile of a group, the accumulators in a carry block per tile, while
// the microkernel prefetches the next piece (or the next sliver's first) a share per tile.
constexpr size_t RunMajorGroup = 16;  // tiles whose carry blocks live on the stack (32 KiB)
constexpr size_t RunMajorPieces = 64; // at most this many pieces (3x3 kernels: 3 to 9)

struct RunMajorArgs {
  const IsaTable *Isa;
  const ARowTable *A;
  const float *Sliver, *NextSliver; // depth row 0 of this sliver and of the next (or null)
  const size_t (*Pieces)[2];        // depth ranges, from runMajorPieces()
  size_t PieceCount, Lines, Step, Width, OutStride, J0;
  float *Out;
  const float *Z;
};

// The pieces of D for runMajor(), or 0 when there would be more than RunMajorPieces.
size_t runMajorPieces(const ARowTable &A, const DepthSet &D, size_t (*Pieces)[2]) {
  size_t Count = 0;
  for (size_t I = 0; I < D.Count; ++I)
    for (size_t Kk = D.K0 + I * D.Stride, End = D.K1 + I * D.Stride; Kk < End;) {
      const size_t Next = std::min(End, (Kk / A.Run + 1) * A.Run);
      if (Count == RunMajorPieces)
        return 0;
      Pieces[Count][0] = Kk;
      Pieces[Count++][1] = Next;
      Kk = Next;
    }
  return Count;
}

void runMajor(const RunMajorArgs &R, const gemm::TileEnd &End) {
  const IsaTable &Isa = *R.Isa;
  const ARowTable &A = *R.A;
  const size_t NR = Isa.NR, PerLine = (A.Width + R.Step - 1) / R.Step, Total = R.Lines * PerLine;
  const size_t(*Pieces)[2] = R.Pieces;
  const size_t PieceCount = R.PieceCount;
  constexpr size_t Group = RunMajorGroup;
  alignas(64) float Carry[Group][MaxMR * MaxNR];
  for (size_t T0 = 0; T0 < Total; T0 += Group) {
    const size_t T1 = std::min(Total, T0 + Group), Count = T1 - T0;
    auto tile = [&](size_t T, size_t &X0, size_t &Rows) {
      const size_t Line = T / PerLine;
      X0 = T % PerLine * R.Step;
      Rows = std::min(R.Step, A.Width - X0);
      return A.Base + Line * A.Pitch + X0 * A.Step;
    };
    for (size_t T = T0; T < T1; ++T)
      std::fill(Carry[T - T0], Carry[T - T0] + MaxMR * NR, 0.0f);
    for (size_t P = 0; P < PieceCount; ++P) {
      const size_t Kk = Pieces[P][0], Next = Pieces[P][1];
      // What to prefetch meanwhile: the next piece of this sliver, or the next sliver's first.
      const float *Pf = P + 1 < PieceCount ? R.Sliver + Pieces[P + 1][0] * NR
                        : R.NextSliver     ? R.NextSliver + Pieces[0][0] * NR
                                           : nullptr;
      const size_t PfRows = P + 1 < PieceCount ? Pieces[P + 1][1] - Pieces[P + 1][0]
                            : R.NextSliver     ? Pieces[0][1] - Pieces[0][0]
                                               : 0;
      const size_t PfLines = PfRows * NR * sizeof(float) / 64, Share = (PfLines + Count - 1) / Count;
      for (size_t T = T0; T < T1; ++T) {
        size_t X0 = 0, Rows = 0;
        const float *Px = tile(T, X0, Rows);
        const auto [Lo, Hi] = rowsReading(A, Kk, X0, Rows);
        if (Lo >= Hi)
          continue;
        gemm::TileEnd Keep;
        Keep.Keep = true;
        Keep.Carry = Carry[T - T0] + Lo * NR;
        const size_t First = std::min(PfLines, (T - T0) * Share);
        Keep.Prefetch = Pf ? Pf + First * 16 : nullptr;
        Keep.PrefetchLines = std::min(PfLines, First + Share) - First;
        Isa.KernelAOff(Next - Kk, Px + Lo * A.Step, A.Offsets + Kk, A.Step, R.Sliver + Kk * NR,
                       nullptr, 0, Hi - Lo, R.Width, &Keep);
      }
    }
    for (size_t T = T0; T < T1; ++T) {
      size_t X0 = 0, Rows = 0;
      const float *Px = tile(T, X0, Rows);
      const size_t At = R.J0 * R.OutStride + T / PerLine * A.Width + X0;
      gemm::TileEnd Store = End;
      Store.Carry = Carry[T - T0];
      Store.Residual = R.Z ? R.Z + At : nullptr;
      Isa.KernelAOff(0, Px, A.Offsets, A.Step, R.Sliver, R.Out + At, R.OutStride, Rows, R.Width,
                     &Store);
    }
  }
}

} // namespace

void sgemmARowsToPlanes(const ARowTable &A, size_t M, const PackedSlivers &B, size_t K0, size_t K1,
                        float *Out, size_t OutStride, const float *Bias, const Epilogue *Ep,
                        size_t N0, size_t N1, const float *Z, size_t Ranges, size_t RangeStride) {
  const IsaTable *Isa = B.isa();
  N1 = std::min(N1, B.n());
  if (!Isa || !B.data() || N0 % Isa->NR || !A.Width || M % A.Width || !A.Base || !A.Offsets ||
      A.Step < 1 || A.Step > 2 || K0 > K1 || Ranges == 0 ||
      K1 + (Ranges - 1) * RangeStride > B.k() || (Ranges > 1 && RangeStride < K1 - K0))
    return; // a caller bug; never read out of bounds
  const DepthSet D{K0, K1, RangeStride, Ranges};
  if (Ep && !Ep->active())
    Ep = nullptr;
  gemm::TileEnd End;
  const bool InKernel = !Ep || clampBounds(*Ep, End.Lo, End.Hi);
  End.Clamp = Ep && InKernel;
  const size_t MR = Isa->MR, NR = Isa->NR, K = B.k();
  const size_t Lines = M / A.Width;
  // Even tiles within a line (14 = 7 + 7, not 12 + 2): a tile's rows are consecutive pixels
  // of one output row.
  const size_t Tiles = (A.Width + MR - 1) / MR, Step = (A.Width + Tiles - 1) / Tiles;
  // Pixels [Inner0, Inner1) read every depth row; tiles reaching outside take borderTile().
  const bool Skips = A.ColLo && A.ColHi && A.Run && A.Columns;
  size_t Inner0 = 0, Inner1 = A.Width;
  for (size_t Col = 0; Skips && Col < A.Columns; ++Col) {
    Inner0 = std::max(Inner0, A.ColLo[Col]);
    Inner1 = std::min(Inner1, A.ColHi[Col]);
  }
  // Every tile a border tile, and a sliver too large for the first tile to stream it from
  // memory at compute speed: see runMajor().
  bool AllBorder = Skips;
  for (size_t X0 = 0; AllBorder && X0 < A.Width; X0 += Step)
    AllBorder = !(X0 >= Inner0 && std::min(Step, A.Width - X0) + X0 <= Inner1);
  // Only for one group of tiles (runMajor): more would read the sliver once per group, in
  // more calls than tile by tile (14x14 at 256 channels: 2 % slower).
  size_t Pieces[RunMajorPieces][2];
  const bool RunMajor = AllBorder && Lines * Tiles <= RunMajorGroup &&
                        (K1 - K0) * Ranges * NR * sizeof(float) >= RunMajorMinBytes.load();
  const size_t PieceCount = RunMajor ? runMajorPieces(A, D, Pieces) : 0; // 0: too many
  for (size_t J0 = N0; J0 < N1; J0 += NR) {
    const size_t Width = std::min(NR, N1 - J0);
    const float *Sliver = B.data() + (J0 / NR * K + K0) * NR;
    End.Bias = Bias ? Bias + J0 : nullptr;
    if (PieceCount) {
      const float *Base = B.data() + J0 / NR * K * NR;
      runMajor(RunMajorArgs{Isa, &A, Base, J0 + NR < B.n() ? Base + K * NR : nullptr, Pieces,
                            PieceCount, Lines, Step, Width, OutStride, J0, Out, Z},
               End);
    }
    for (size_t Line = 0; !PieceCount && Line < Lines; ++Line)
      for (size_t X0 = 0; X0 < A.Width; X0 += Step) {
        const size_t Rows = std::min(Step, A.Width - X0);
        const float *Px = A.Base + Line * A.Pitch + X0 * A.Step;
        const size_t At = J0 * OutStride + Line * A.Width + X0;
        float *C = Out + At;
        End.Residual = Z ? Z + At : nullptr;
        if (Ranges == 1 && (!Skips || (X0 >= Inner0 && X0 + Rows <= Inner1)))
          Isa->KernelAOff(K1 - K0, Px, A.Offsets + K0, A.Step, Sliver, C, OutStride, Rows, Width,
                          &End);
        else
          borderTile(*Isa, A, B.data() + J0 / NR * K * NR, D, X0, Rows, Width, Px, C, OutStride,
                     End);
      }
    if (!InKernel)
      for (size_t Col = J0; Col < J0 + Width; ++Col)
        Ep->apply(Out + Col * OutStride, M);
  }
}

void sgemmPackedA(const GemmShape &S, float Alpha, const PackedA &A, const float *B, float Beta,
                  float *C, const KernelContext *Ctx, const Epilogue *Ep,
                  const BPanelSource *Src, const float *RowBias) {
  if (Ep && !Ep->active())
    Ep = nullptr;
  if (S.M != A.m() || S.K != A.k() || (S.M && S.K && !A.data()) || (Src && !Src->Pack))
    return; // a caller bug; never read out of bounds
  Problem P{A.isa(), S.M,   S.N,   S.K, nullptr, 0, false, Src ? nullptr : B, S.Ldb,
            S.TransB, nullptr, Alpha, Beta, C, S.Ldc, Ep, &A, Src, RowBias};
  runProblem(P, Ctx);
}

void sgemmPackedARows(const GemmShape &S, const PackedA &A, const BRowTable &B, float *C,
                      const KernelContext *Ctx, const Epilogue *Ep, const float *RowBias) {
  if (Ep && !Ep->active())
    Ep = nullptr;
  if (S.M != A.m() || S.K != A.k() || (S.M && S.K && !A.data()) ||
      (S.M && S.N && (!B.Base || (S.K && !B.Offsets))))
    return; // a caller bug; never read out of bounds
  Problem P{A.isa(), S.M, S.N, S.K, nullptr, 0, false, B.Base, 0, false, nullptr, 1.0f, 0.0f,
            C, S.Ldc, Ep, &A, nullptr, RowBias, B.Offsets};
  runProblem(P, Ctx);
}

// Pre-packed operands ---------------------------------------------------------------------

PackedStorage::PackedStorage(PackedStorage &&O) noexcept : Data(O.Data), Bytes(O.Bytes) {
  O.Data = nullptr;
  O.Bytes = 0;
}

PackedStorage &PackedStorage::operator=(PackedStorage &&O) noexcept {
  if (this != &O) {
    release();
    Data = O.Data;
    Bytes = O.Bytes;
    O.Data = nullptr;
    O.Bytes = 0;
  }
  return *this;
}

float *PackedStorage::allocate(size_t Floats, bool Huge) {
  release();
  Data = static_cast<float *>(allocateLarge(Floats * sizeof(float), Huge));
  if (!Data)
    throw std::bad_alloc();
  Bytes = Floats * sizeof(float);
  PackedBytes.fetch_add(Bytes, std::memory_order_relaxed);
  return Data;
}

void PackedStorage::release() noexcept {
  if (Data) {
    freeLarge(Data, Bytes);
    PackedBytes.fetch_sub(Bytes, std::memory_order_relaxed);
  }
  Data = nullptr;
  Bytes = 0;
}

void PackedB::pack(size_t K_, size_t N_, bool TransB, const float *B, size_t Ldb) {
  Store.release();
  Isa = &gemm::activeTable();
  K = K_;
  N = N_;
  const size_t NR = Isa->NR, Npad = (N + NR - 1) / NR * NR;
  if (K == 0 || N == 0)
    return;
  // Not on huge pages: a 1024^3 MatMul on 2 threads ran at 13-14.6 ms instead of 10.8 ms with
  // its 4 MiB of packed B on them, in two of two full benchmark runs (not reproduced alone).
  float *Data = Store.allocate(K * Npad, /*Huge=*/false);
  // Same layout runBlock reads: panel K0 at K0 * Npad, its sliver j at j * NR * Kc.
  for (size_t K0 = 0; K0 < K; K0 += KC)
    gemm::packB(B, Ldb, TransB, K0, std::min(KC, K - K0), 0, N, NR, Data + K0 * Npad);
}

void PackedA::pack(size_t M_, size_t K_, bool TransA, const float *A, size_t Lda) {
  Store.release();
  Isa = &gemm::activeTable();
  M = M_;
  K = K_;
  const size_t MR = Isa->MR, Mpad = (M + MR - 1) / MR * MR;
  if (K == 0 || M == 0)
    return;
  float *Data = Store.allocate(K * Mpad, /*Huge=*/true);
  std::fill(Data, Data + K * Mpad, 0.0f); // rows past M of the last block
  // Same layout blockA reads: panel K0 at K0 * Mpad, its row block I0 at I0 * Kc.
  for (size_t K0 = 0; K0 < K; K0 += KC) {
    const size_t Kc = std::min(KC, K - K0);
    for (size_t I0 = 0; I0 < M; I0 += MR)
      gemm::packA(*Isa, A, Lda, TransA, I0, std::min(MR, M - I0), K0, Kc,
                  Data + K0 * Mpad + I0 * Kc);
  }
}

void PackedSlivers::pack(size_t K_, size_t N_, const float *B, size_t Ldb) {
  Store.release();
  Isa = &gemm::activeTable();
  K = K_;
  N = N_;
  const size_t NR = Isa->NR, Slivers = (N + NR - 1) / NR;
  Width = NR;
  if (K == 0 || N == 0)
    return;
  float *Data = Store.allocate(Slivers * K * NR, /*Huge=*/true);
  for (size_t J = 0; J < Slivers; ++J)
    for (size_t Kk = 0; Kk < K; ++Kk)
      for (size_t C = 0; C < NR; ++C) {
        const size_t Col = J * NR + C;
        Data[(J * K + Kk) * NR + C] = Col < N ? B[Col * Ldb + Kk] : 0.0f;
      }
}

size_t packedGemmBytes() { return PackedBytes.load(std::memory_order_relaxed); }

} // namespace optima_v2::native
