// IEEE half (F16) and bfloat16 (BF16) storage types. Kernels compute in float and convert at load
// and store; conversions round to nearest even and keep NaN/Inf.
#pragma once

#include <cstdint>
#include <cstring>

namespace optima_v2::native {

struct Half {
  uint16_t Bits = 0;
};
struct BFloat16 {
  uint16_t Bits = 0;
};

inline float toFloat(Half H) noexcept {
  uint32_t Sign = uint32_t(H.Bits & 0x8000u) << 16;
  uint32_t Exp = (H.Bits >> 10) & 0x1Fu;
  uint32_t Mant = H.Bits & 0x3FFu;
  uint32_t Out;
  if (Exp == 0) {
    if (Mant == 0) {
      Out = Sign;
    } else { // subnormal: normalise
      Exp = 127 - 15 + 1;
      while (!(Mant & 0x400u)) {
        Mant <<= 1;
        --Exp;
      }
      Mant &= 0x3FFu;
      Out = Sign | (Exp << 23) | (Mant << 13);
    }
  } else if (Exp == 0x1F) {
    Out = Sign | 0x7F800000u | (Mant << 13);
  } else {
    Out = Sign | ((Exp + 127 - 15) << 23) | (Mant << 13);
  }
  float F;
  std::memcpy(&F, &Out, 4);
  return F;
}

inline Half toHalf(float F) noexcept {
  uint32_t X;
  std::memcpy(&X, &F, 4);
  uint16_t Sign = uint16_t((X >> 16) & 0x8000u);
  uint32_t Abs = X & 0x7FFFFFFFu;
  if (Abs >= 0x7F800000u) // Inf or NaN (keep a quiet NaN)
    return Half{uint16_t(Sign | 0x7C00u | (Abs > 0x7F800000u ? 0x200u : 0u))};
  if (Abs >= 0x477FF000u) // rounds to >= 65520: overflow to Inf
    return Half{uint16_t(Sign | 0x7C00u)};
  if (Abs < 0x38800000u) { // below the smallest normal half: subnormal or zero
    if (Abs < 0x33000000u)
      return Half{Sign};
    // Value in units of the smallest subnormal (2^-24): the 24-bit significand shifted right.
    uint32_t Mant = (Abs & 0x7FFFFFu) | 0x800000u;
    uint32_t Shift = 126 - (Abs >> 23); // 14..24
    uint32_t Result = Mant >> Shift;
    uint32_t Rest = Mant & ((1u << Shift) - 1);
    uint32_t HalfWay = 1u << (Shift - 1);
    if (Rest > HalfWay || (Rest == HalfWay && (Result & 1u)))
      ++Result;
    return Half{uint16_t(Sign | Result)};
  }
  uint32_t Result = ((Abs - 0x38000000u) >> 13); // rebias exponent 127 -> 15
  uint32_t Rest = Abs & 0x1FFFu;
  if (Rest > 0x1000u || (Rest == 0x1000u && (Result & 1u)))
    ++Result;
  return Half{uint16_t(Sign | Result)};
}

inline float toFloat(BFloat16 B) noexcept {
  uint32_t X = uint32_t(B.Bits) << 16;
  float F;
  std::memcpy(&F, &X, 4);
  return F;
}

inline BFloat16 toBFloat16(float F) noexcept {
  uint32_t X;
  std::memcpy(&X, &F, 4);
  if ((X & 0x7FFFFFFFu) > 0x7F800000u) // NaN: keep it quiet
    return BFloat16{uint16_t((X >> 16) | 0x40u)};
  uint32_t Rounding = 0x7FFFu + ((X >> 16) & 1u);
  return BFloat16{uint16_t((X + Rounding) >> 16)};
}

} // namespace optima_v2::native
