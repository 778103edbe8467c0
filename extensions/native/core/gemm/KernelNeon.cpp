// AArch64 NEON microkernel: up to 6 rows x 16 columns of C in 24 q-register accumulators; per
// k step four B vectors and six packed A values (two q loads, used lane by lane) feed 24 FMAs.
// The tiles' ends (Alpha/Beta, bias, residual, clamp, transposed stores) run on a copy of the
// accumulators in memory: a few hundred operations per tile against 24 * K FMAs, in the portable
// kernel's loops (storeTile / storeTileTransposed). Only built for AArch64, where NEON is mandatory.
#include "GemmKernels.h"

#include <arm_neon.h>

namespace optima_v2::native::gemm {

namespace {

constexpr size_t MR = 6, NR = 16;

// Off: B's rows through an offset table (see MicroKernel); AOff: A's rows through one instead
// (Offs is then A's table, see MicroKernelAOff), A read in place with its rows Step floats apart.
enum class Via { Packed, Off, AOff };

// Rows x NR products over K steps into Out[r * NR + j] (Out holds the start values when Carry).
template <int Rows, Via Mode>
void accumulate(size_t K, const float *A, const float *B, size_t BStride, const size_t *Offs,
                size_t Step, const float *Carry, float *Out) {
  float32x4_t Acc[Rows][4];
  for (int R = 0; R < Rows; ++R)
    for (int V = 0; V < 4; ++V)
      Acc[R][V] = Carry ? vld1q_f32(Carry + R * NR + V * 4) : vdupq_n_f32(0.0f);
  for (size_t Kk = 0; Kk < K; ++Kk) {
    const float *Bk = Mode == Via::Off ? B + Offs[Kk] : B + Kk * BStride;
    const float32x4_t B0 = vld1q_f32(Bk), B1 = vld1q_f32(Bk + 4);
    const float32x4_t B2 = vld1q_f32(Bk + 8), B3 = vld1q_f32(Bk + 12);
    if constexpr (Mode == Via::AOff) {
      const float *Ak = A + static_cast<ptrdiff_t>(Offs[Kk]); // signed: see MicroKernelAOff
      for (int R = 0; R < Rows; ++R) {
        const float Av = Ak[size_t(R) * Step];
        Acc[R][0] = vfmaq_n_f32(Acc[R][0], B0, Av);
        Acc[R][1] = vfmaq_n_f32(Acc[R][1], B1, Av);
        Acc[R][2] = vfmaq_n_f32(Acc[R][2], B2, Av);
        Acc[R][3] = vfmaq_n_f32(Acc[R][3], B3, Av);
      }
    } else {
      // Packed A: MR floats per step; two loads (4 + 2 floats: never past the block's end).
      const float *Ak = A + Kk * MR;
      const float32x4_t A0 = vld1q_f32(Ak);
      const float32x4_t A1 = vcombine_f32(vld1_f32(Ak + 4), vdup_n_f32(0.0f));
#define OPTIMA_V2_NEON_ROW(R, Vec, Lane)                                                       \
  if (R < Rows) {                                                                              \
    Acc[R < Rows ? R : 0][0] = vfmaq_laneq_f32(Acc[R < Rows ? R : 0][0], B0, Vec, Lane);       \
    Acc[R < Rows ? R : 0][1] = vfmaq_laneq_f32(Acc[R < Rows ? R : 0][1], B1, Vec, Lane);       \
    Acc[R < Rows ? R : 0][2] = vfmaq_laneq_f32(Acc[R < Rows ? R : 0][2], B2, Vec, Lane);       \
    Acc[R < Rows ? R : 0][3] = vfmaq_laneq_f32(Acc[R < Rows ? R : 0][3], B3, Vec, Lane);       \
  }
      OPTIMA_V2_NEON_ROW(0, A0, 0)
      OPTIMA_V2_NEON_ROW(1, A0, 1)
      OPTIMA_V2_NEON_ROW(2, A0, 2)
      OPTIMA_V2_NEON_ROW(3, A0, 3)
      OPTIMA_V2_NEON_ROW(4, A1, 0)
      OPTIMA_V2_NEON_ROW(5, A1, 1)
#undef OPTIMA_V2_NEON_ROW
    }
  }
  for (int R = 0; R < Rows; ++R)
    for (int V = 0; V < 4; ++V)
      vst1q_f32(Out + R * NR + V * 4, Acc[R][V]);
}

template <Via Mode>
void accumulateRows(size_t M, size_t K, const float *A, const float *B, size_t BStride,
                    const size_t *Offs, size_t Step, const float *Carry, float *Out) {
  switch (M) {
  case 1:
    return accumulate<1, Mode>(K, A, B, BStride, Offs, Step, Carry, Out);
  case 2:
    return accumulate<2, Mode>(K, A, B, BStride, Offs, Step, Carry, Out);
  case 3:
    return accumulate<3, Mode>(K, A, B, BStride, Offs, Step, Carry, Out);
  case 4:
    return accumulate<4, Mode>(K, A, B, BStride, Offs, Step, Carry, Out);
  case 5:
    return accumulate<5, Mode>(K, A, B, BStride, Offs, Step, Carry, Out);
  default:
    return accumulate<6, Mode>(K, A, B, BStride, Offs, Step, Carry, Out);
  }
}

void kernel(size_t K, const float *Ap, const float *B, size_t BStride, const size_t *Off,
            float *C, size_t Ldc, size_t M, size_t N, float Alpha, float Beta, const TileEnd *End) {
  alignas(16) float Acc[MR * NR];
  if (Off)
    accumulateRows<Via::Off>(M, K, Ap, B, BStride, Off, 1, nullptr, Acc);
  else
    accumulateRows<Via::Packed>(M, K, Ap, B, BStride, nullptr, 1, nullptr, Acc);
  storeTile(Acc, NR, C, Ldc, M, N, Alpha, Beta, End);
}

// Up to MR pixels x NR columns, stored transposed with a column bias (see MicroKernelAOff).
void kernelAOff(size_t K, const float *A, const size_t *AOff, size_t Step, const float *B, float *C,
                size_t Ldc, size_t M, size_t N, const TileEnd *End) {
  float *Carry = End ? End->Carry : nullptr; // see TileEnd
  if (Carry && End->Keep) {
    accumulateRows<Via::AOff>(M, K, A, B, NR, AOff, Step, Carry, Carry);
    return;
  }
  alignas(16) float Acc[MR * NR];
  accumulateRows<Via::AOff>(M, K, A, B, NR, AOff, Step, Carry, Acc);
  storeTileTransposed(Acc, NR, C, Ldc, M, N, End);
}

} // namespace

extern const IsaTable NeonTable = {"neon", 3, MR, NR, kernel, kernelAOff, nullptr};

} // namespace optima_v2::native::gemm
