// Portable microkernel (any target; the compiler vectorises the fixed-width inner loop with the
// baseline ISA, e.g. SSE2 or NEON): up to 4 rows x 16 columns of C.
#include "GemmKernels.h"

namespace optima_v2::native::gemm {

namespace {

constexpr size_t MR = 4, NR = 16;

// Off: B's rows through an offset table.
template <int Rows>
void tile(size_t K, const float *Ap, const float *B, size_t BStride, const size_t *Off, float *C,
          size_t Ldc, size_t N, float Alpha, float Beta, const TileEnd *End) {
  float Acc[Rows][NR] = {};
  for (size_t Kk = 0; Kk < K; ++Kk) {
    const float *Bk = Off ? B + Off[Kk] : B + Kk * BStride;
    const float *Ak = Ap + Kk * MR;
    for (int R = 0; R < Rows; ++R) {
      const float Av = Ak[R];
      for (size_t J = 0; J < NR; ++J)
        Acc[R][J] += Av * Bk[J];
    }
  }
  storeTile(&Acc[0][0], NR, C, Ldc, Rows, N, Alpha, Beta, End);
}

void kernel(size_t K, const float *Ap, const float *B, size_t BStride, const size_t *Off,
            float *C, size_t Ldc, size_t M, size_t N, float Alpha, float Beta, const TileEnd *End) {
  switch (M) {
  case 1:
    return tile<1>(K, Ap, B, BStride, Off, C, Ldc, N, Alpha, Beta, End);
  case 2:
    return tile<2>(K, Ap, B, BStride, Off, C, Ldc, N, Alpha, Beta, End);
  case 3:
    return tile<3>(K, Ap, B, BStride, Off, C, Ldc, N, Alpha, Beta, End);
  default:
    return tile<4>(K, Ap, B, BStride, Off, C, Ldc, N, Alpha, Beta, End);
  }
}

// Up to MR pixels x NR columns, stored transposed with a column bias (see MicroKernelAOff).
void kernelAOff(size_t K, const float *A, const size_t *AOff, size_t Step, const float *B, float *C,
                size_t Ldc, size_t M, size_t N, const TileEnd *End) {
  float Acc[MR][NR] = {};
  float *Carry = End ? End->Carry : nullptr; // see TileEnd
  if (Carry)
    for (size_t R = 0; R < M; ++R)
      for (size_t J = 0; J < NR; ++J)
        Acc[R][J] = Carry[R * NR + J];
  for (size_t Kk = 0; Kk < K; ++Kk, B += NR) {
    const float *Ak = A + static_cast<ptrdiff_t>(AOff[Kk]); // signed: see MicroKernelAOff
    for (size_t R = 0; R < M; ++R) {
      const float Av = Ak[R * Step];
      for (size_t J = 0; J < NR; ++J)
        Acc[R][J] += Av * B[J];
    }
  }
  if (Carry && End->Keep) {
    for (size_t R = 0; R < M; ++R)
      for (size_t J = 0; J < NR; ++J)
        Carry[R * NR + J] = Acc[R][J];
    return;
  }
  storeTileTransposed(&Acc[0][0], NR, C, Ldc, M, N, End);
}

} // namespace

void storeTile(const float *Acc, size_t AccStride, float *C, size_t Ldc, size_t M, size_t N,
               float Alpha, float Beta, const TileEnd *End) {
  for (size_t R = 0; R < M; ++R) {
    float *Cp = C + R * Ldc;
    const float *Ar = Acc + R * AccStride;
    if (Beta == 0.0f) // C is not read: it may hold anything, NaN included
      for (size_t J = 0; J < N; ++J)
        Cp[J] = Alpha * Ar[J];
    else
      for (size_t J = 0; J < N; ++J)
        Cp[J] = Alpha * Ar[J] + Beta * Cp[J];
    if (End && End->Bias)
      for (size_t J = 0; J < N; ++J)
        Cp[J] += End->Bias[R];
    if (End && End->Clamp)
      for (size_t J = 0; J < N; ++J)
        Cp[J] = Cp[J] < End->Lo ? End->Lo : Cp[J] > End->Hi ? End->Hi : Cp[J];
  }
}

void storeTileTransposed(const float *Acc, size_t AccStride, float *C, size_t Ldc, size_t M,
                         size_t N, const TileEnd *End) {
  for (size_t J = 0; J < N; ++J)
    for (size_t R = 0; R < M; ++R) {
      float X = Acc[R * AccStride + J];
      if (End && End->Bias)
        X += End->Bias[J];
      if (End && End->Residual)
        X += End->Residual[J * Ldc + R];
      if (End && End->Clamp)
        X = X < End->Lo ? End->Lo : X > End->Hi ? End->Hi : X;
      C[J * Ldc + R] = X;
    }
}

extern const IsaTable GenericTable = {"generic", 0, MR, NR, kernel, kernelAOff, nullptr};

} // namespace optima_v2::native::gemm
