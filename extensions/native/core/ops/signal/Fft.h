// A complex DFT of one fixed length, planned once at load: radix-2 (power-of-two lengths),
// direct O(n^2) with a twiddle table (short odd lengths, where it beats the padding of
// Bluestein), or Bluestein's chirp-z through a power-of-two FFT (long non-power-of-two lengths).
// Computed in double so that F32 results stay accurate to a few ulps for any length.
#pragma once

#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace optima_v2::native {

using Complex = std::complex<double>;

class FftPlan {
public:
  enum class Method { Radix2, Direct, Bluestein };

  // Length >= 1. DirectLimit: non-power-of-two lengths up to it use the direct method.
  explicit FftPlan(size_t Length, size_t DirectLimit = 64);

  size_t length() const noexcept { return N; }
  Method method() const noexcept { return How; }
  // Complex values of work space transform() needs besides the data.
  size_t workCount() const noexcept;

  // In place on Data[0, length()): the unnormalised forward transform (sign -1), or with Inverse
  // the unnormalised backward one (sign +1; divide by length() for the inverse DFT). No allocation.
  void transform(Complex *Data, Complex *Work, bool Inverse) const;

private:
  void forward(Complex *Data, Complex *Work) const;

  size_t N;
  Method How;
  // Radix-2 (of length N, or of the Bluestein length M): bit-reversal table and twiddles
  // exp(-2 pi i k / len), k < len / 2.
  std::vector<uint32_t> Reverse;
  std::vector<Complex> Twiddles;
  // Direct: exp(-2 pi i j / N), j < N.
  std::vector<Complex> Roots;
  // Bluestein: chirp exp(-i pi n^2 / N) (n < N) and the transform of its conjugate, padded to M
  // and already divided by M.
  size_t M = 0;
  std::vector<Complex> Chirp, ChirpSpectrum;
};

// Radix-2 forward transform in place of length Reverse.size() (a power of two).
void radix2Forward(Complex *Data, const std::vector<uint32_t> &Reverse,
                   const std::vector<Complex> &Twiddles);

} // namespace optima_v2::native
