#include "Fft.h"

#include <cmath>

namespace optima_v2::native {

namespace {

bool isPowerOfTwo(size_t V) { return V && !(V & (V - 1)); }

void planRadix2(size_t Len, std::vector<uint32_t> &Reverse, std::vector<Complex> &Twiddles) {
  unsigned Bits = 0;
  while ((size_t(1) << Bits) < Len)
    ++Bits;
  Reverse.resize(Len);
  for (size_t I = 0; I < Len; ++I) {
    size_t R = 0;
    for (unsigned B = 0; B < Bits; ++B)
      R |= ((I >> B) & 1) << (Bits - 1 - B);
    Reverse[I] = uint32_t(R);
  }
  Twiddles.resize(Len / 2);
  for (size_t K = 0; K < Len / 2; ++K) {
    double A = -2.0 * M_PI * double(K) / double(Len);
    Twiddles[K] = Complex(std::cos(A), std::sin(A));
  }
}

} // namespace

void radix2Forward(Complex *Data, const std::vector<uint32_t> &Reverse,
                   const std::vector<Complex> &Twiddles) {
  size_t Len = Reverse.size();
  for (size_t I = 0; I < Len; ++I)
    if (I < Reverse[I])
      std::swap(Data[I], Data[Reverse[I]]);
  for (size_t Half = 1; Half < Len; Half *= 2) {
    size_t Stride = Len / (2 * Half); // twiddle step for this stage
    for (size_t Start = 0; Start < Len; Start += 2 * Half)
      for (size_t J = 0; J < Half; ++J) {
        Complex T = Twiddles[J * Stride] * Data[Start + J + Half];
        Complex U = Data[Start + J];
        Data[Start + J] = U + T;
        Data[Start + J + Half] = U - T;
      }
  }
}

FftPlan::FftPlan(size_t Length, size_t DirectLimit) : N(Length) {
  if (isPowerOfTwo(N)) {
    How = Method::Radix2;
    planRadix2(N, Reverse, Twiddles);
  } else if (N <= DirectLimit) {
    How = Method::Direct;
    Roots.resize(N);
    for (size_t J = 0; J < N; ++J) {
      double A = -2.0 * M_PI * double(J) / double(N);
      Roots[J] = Complex(std::cos(A), std::sin(A));
    }
  } else {
    How = Method::Bluestein;
    M = 1;
    while (M < 2 * N - 1)
      M *= 2;
    planRadix2(M, Reverse, Twiddles);
    Chirp.resize(N);
    for (size_t I = 0; I < N; ++I) {
      // n^2 mod 2N keeps the angle small, so the chirp is exact for large n.
      uint64_t Sq = (uint64_t(I) * uint64_t(I)) % (2 * uint64_t(N));
      double A = -M_PI * double(Sq) / double(N);
      Chirp[I] = Complex(std::cos(A), std::sin(A));
    }
    ChirpSpectrum.assign(M, Complex(0, 0));
    ChirpSpectrum[0] = std::conj(Chirp[0]);
    for (size_t I = 1; I < N; ++I)
      ChirpSpectrum[I] = ChirpSpectrum[M - I] = std::conj(Chirp[I]);
    radix2Forward(ChirpSpectrum.data(), Reverse, Twiddles);
    for (Complex &C : ChirpSpectrum)
      C /= double(M);
  }
}

size_t FftPlan::workCount() const noexcept {
  switch (How) {
  case Method::Radix2: return 0;
  case Method::Direct: return N;
  case Method::Bluestein: return M;
  }
  return 0;
}

void FftPlan::transform(Complex *Data, Complex *Work, bool Inverse) const {
  // The backward transform is conj(forward(conj(x))): one code path for both directions.
  if (Inverse)
    for (size_t I = 0; I < N; ++I)
      Data[I] = std::conj(Data[I]);
  forward(Data, Work);
  if (Inverse)
    for (size_t I = 0; I < N; ++I)
      Data[I] = std::conj(Data[I]);
}

void FftPlan::forward(Complex *Data, Complex *Work) const {
  switch (How) {
  case Method::Radix2:
    radix2Forward(Data, Reverse, Twiddles);
    return;
  case Method::Direct:
    for (size_t K = 0; K < N; ++K) {
      Complex Sum(0, 0);
      size_t J = 0; // (K * I) mod N, stepped without overflow
      for (size_t I = 0; I < N; ++I) {
        Sum += Data[I] * Roots[J];
        J += K;
        if (J >= N)
          J -= N;
      }
      Work[K] = Sum;
    }
    for (size_t K = 0; K < N; ++K)
      Data[K] = Work[K];
    return;
  case Method::Bluestein:
    for (size_t I = 0; I < N; ++I)
      Work[I] = Data[I] * Chirp[I];
    for (size_t I = N; I < M; ++I)
      Work[I] = Complex(0, 0);
    radix2Forward(Work, Reverse, Twiddles);
    // Pointwise product, then the inverse FFT as conj(forward(conj(.))).
    for (size_t I = 0; I < M; ++I)
      Work[I] = std::conj(Work[I] * ChirpSpectrum[I]);
    radix2Forward(Work, Reverse, Twiddles);
    for (size_t K = 0; K < N; ++K)
      Data[K] = std::conj(Work[K]) * Chirp[K];
    return;
  }
}

} // namespace optima_v2::native
