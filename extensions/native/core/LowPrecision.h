// Storage types and conversions of the ONNX low-precision element types: float8 (E4M3FN,
// E4M3FNUZ, E5M2, E5M2FNUZ), the float8 E8M0 scale type, float4 E2M1 and the 4/2-bit integers.
// Every element takes one byte (unpacked), laid out as ml_dtypes does: the 4/2-bit code sits in the
// low bits with the high bits zero. Conversions reproduce ml_dtypes / the ONNX reference bit for
// bit: round to nearest even; overflow saturates or gives Inf/NaN as the format and `saturate`
// say; float -> 4/2-bit integer truncates toward zero and wraps, as ml_dtypes' astype does.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace optima_v2::native {

struct Float8E4M3FN { uint8_t Bits = 0; };
struct Float8E4M3FNUZ { uint8_t Bits = 0; };
struct Float8E5M2 { uint8_t Bits = 0; };
struct Float8E5M2FNUZ { uint8_t Bits = 0; };
struct Float8E8M0 { uint8_t Bits = 0; };
struct Float4E2M1 { uint8_t Bits = 0; };
struct Int4 { uint8_t Bits = 0; };
struct UInt4 { uint8_t Bits = 0; };
struct Int2 { uint8_t Bits = 0; };
struct UInt2 { uint8_t Bits = 0; };

namespace lowp {

// How a small float format spends its top codes.
enum class Specials {
  IEEE, // E5M2: Inf and NaN as IEEE (exponent all ones)
  FN,   // E4M3FN: no Inf; S.1111.111 is NaN
  FNUZ, // no Inf, no -0; 0x80 is the only NaN
  None  // E2M1: finite values only
};

template <int ExpBits, int MantBits, int Bias, Specials Kind, unsigned MaxCode> struct MiniFloat {
  static constexpr int Exp = ExpBits, Mant = MantBits, ExpBias = Bias;
  static constexpr Specials Kind_ = Kind;
  static constexpr unsigned Max = MaxCode; // largest finite magnitude code
  static constexpr unsigned SignBit = 1u << (ExpBits + MantBits);
};

template <typename T> struct Format;
template <> struct Format<Float8E4M3FN> : MiniFloat<4, 3, 7, Specials::FN, 0x7E> {};
template <> struct Format<Float8E4M3FNUZ> : MiniFloat<4, 3, 8, Specials::FNUZ, 0x7F> {};
template <> struct Format<Float8E5M2> : MiniFloat<5, 2, 15, Specials::IEEE, 0x7B> {};
template <> struct Format<Float8E5M2FNUZ> : MiniFloat<5, 2, 16, Specials::FNUZ, 0x7F> {};
template <> struct Format<Float4E2M1> : MiniFloat<2, 1, 1, Specials::None, 0x7> {};

template <typename F> inline float decode(unsigned Bits) noexcept {
  constexpr unsigned MantMask = (1u << F::Mant) - 1, ExpMask = (1u << F::Exp) - 1;
  bool Neg = (Bits & F::SignBit) != 0;
  unsigned Mag = Bits & (F::SignBit - 1);
  unsigned E = Mag >> F::Mant, M = Mag & MantMask;
  if constexpr (F::Kind_ == Specials::FNUZ) {
    if (Bits == F::SignBit) // the NaN has the sign bit set: -NaN, as ml_dtypes decodes it
      return -std::numeric_limits<float>::quiet_NaN();
  } else if constexpr (F::Kind_ == Specials::FN) {
    if (Mag == (F::SignBit - 1))
      return Neg ? -std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::quiet_NaN();
  } else if constexpr (F::Kind_ == Specials::IEEE) {
    if (E == ExpMask) {
      float V = M ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
      return Neg ? -V : V;
    }
  }
  // Exact in float: at most 4 significant bits and exponents well inside float's range.
  float V = E == 0 ? std::ldexp(float(M), 1 - F::ExpBias - F::Mant)
                   : std::ldexp(float(M | (MantMask + 1)), int(E) - F::ExpBias - F::Mant);
  return Neg ? -V : V;
}

// X rounded to nearest even into format F. Overflow (and Inf) gives the largest finite value when
// Saturate (always for E2M1, which has no Inf/NaN), else Inf (E5M2) or NaN (FN, FNUZ).
template <typename F> inline uint8_t encode(double X, bool Saturate) noexcept {
  constexpr unsigned MantOne = 1u << F::Mant;
  constexpr int MinExp = 1 - F::ExpBias; // exponent of the smallest normal
  unsigned Sign = std::signbit(X) ? F::SignBit : 0u;
  if (std::isnan(X)) {
    if constexpr (F::Kind_ == Specials::FNUZ)
      return uint8_t(F::SignBit);
    else if constexpr (F::Kind_ == Specials::FN)
      return uint8_t(Sign | (F::SignBit - 1));
    else if constexpr (F::Kind_ == Specials::IEEE)
      return uint8_t(Sign | 0x7E);
    else // ml_dtypes maps NaN to E2M1 0x8 / -NaN to 0x0 (its "NaN" is the -0 code, sign flipped)
      return uint8_t(Sign ^ F::SignBit);
  }
  auto overflow = [&]() -> uint8_t {
    if (Saturate || F::Kind_ == Specials::None)
      return uint8_t(Sign | F::Max);
    if constexpr (F::Kind_ == Specials::IEEE)
      return uint8_t(Sign | (((1u << F::Exp) - 1) << F::Mant));
    else if constexpr (F::Kind_ == Specials::FNUZ)
      return uint8_t(F::SignBit);
    else
      return uint8_t(Sign | (F::SignBit - 1));
  };
  double A = std::fabs(X);
  if (std::isinf(A))
    return overflow();
  int Exp2 = 0;
  std::frexp(A, &Exp2); // A = f * 2^Exp2, f in [0.5, 1): floor(log2 A) = Exp2 - 1
  int E = Exp2 - 1 < MinExp ? MinExp : Exp2 - 1;
  if (E + F::ExpBias > (1 << F::Exp)) // far beyond the format (the field cannot even hold it)
    return overflow();
  double R = std::nearbyint(std::ldexp(A, F::Mant - E)); // ties to even (default rounding mode)
  unsigned Code;
  if (R < double(MantOne)) { // subnormal (or zero); only possible at E == MinExp
    Code = unsigned(R);
  } else {
    if (R >= double(2 * MantOne)) { // rounded up into the next binade
      ++E;
      R = double(MantOne);
    }
    Code = (unsigned(E + F::ExpBias) << F::Mant) | (unsigned(R) - MantOne);
  }
  if (Code > F::Max)
    return overflow();
  if constexpr (F::Kind_ == Specials::FNUZ)
    if (Code == 0)
      return 0; // no negative zero
  return uint8_t(Sign | Code);
}

// Float8 E8M0: 2^(code - 127), 0xFF is NaN, no zero or sign. Follows onnx.numpy_helper
// .to_float8e8m0: the float32 exponent field, rounded "up" (any fraction), "nearest" or "down";
// Saturate keeps 2^127 from rounding to NaN.
enum class E8M0Round { Up, Nearest, Down };

inline float decodeE8M0(uint8_t Bits) noexcept {
  if (Bits == 0xFF)
    return std::numeric_limits<float>::quiet_NaN();
  uint32_t B = Bits ? uint32_t(Bits) << 23 : 0x00400000u; // code 0 is 2^-127, a float subnormal
  float V;
  std::memcpy(&V, &B, 4);
  return V;
}

inline uint8_t encodeE8M0(float X, bool Saturate, E8M0Round Mode) noexcept {
  uint32_t B;
  std::memcpy(&B, &X, 4);
  unsigned E = (B >> 23) & 0xFF;
  if (E == 0xFF)
    return 0xFF;
  bool Up = false;
  if (Mode == E8M0Round::Up) {
    Up = (B & 0x7FFFFF) != 0;
  } else if (Mode == E8M0Round::Nearest) {
    bool G = B & 0x400000, R = B & 0x200000, S = (B & 0x1FFFFF) != 0, Lsb = E > 0;
    Up = G && (R || S || Lsb);
  }
  if (Up && Saturate && E == 0xFE)
    Up = false;
  return uint8_t(E + (Up ? 1 : 0)); // 0xFE + 1 = 0xFF: NaN without saturation
}

template <typename T> constexpr bool isMiniFloat =
    std::is_same_v<T, Float8E4M3FN> || std::is_same_v<T, Float8E4M3FNUZ> ||
    std::is_same_v<T, Float8E5M2> || std::is_same_v<T, Float8E5M2FNUZ> || std::is_same_v<T, Float4E2M1>;

template <typename T> constexpr bool isSmallInt =
    std::is_same_v<T, Int4> || std::is_same_v<T, UInt4> || std::is_same_v<T, Int2> || std::is_same_v<T, UInt2>;

template <typename T> constexpr int smallIntBits = std::is_same_v<T, Int4> || std::is_same_v<T, UInt4> ? 4 : 2;
template <typename T> constexpr bool smallIntSigned = std::is_same_v<T, Int4> || std::is_same_v<T, Int2>;

// Value of a 4/2-bit integer (high bits of the byte are ignored).
template <typename T> inline int32_t smallIntValue(T V) noexcept {
  constexpr unsigned Mask = (1u << smallIntBits<T>) - 1;
  unsigned Code = V.Bits & Mask;
  if constexpr (smallIntSigned<T>) {
    constexpr unsigned SignBit = 1u << (smallIntBits<T> - 1);
    return int32_t(Code ^ SignBit) - int32_t(SignBit);
  } else {
    return int32_t(Code);
  }
}

// The low bits of an integer (wrap modulo 2^bits), high bits zero.
template <typename T> inline T smallIntWrap(int64_t V) noexcept {
  return T{uint8_t(uint64_t(V) & ((1u << smallIntBits<T>) - 1))};
}

// ml_dtypes' float -> intN: C conversion to int32 (truncation; NaN and values outside int32 give
// INT32_MIN on x86-64, whose low bits are zero), then wrap.
template <typename T> inline T smallIntFromFloat(double V) noexcept {
  if (!(V > -2147483649.0 && V < 2147483648.0))
    return T{0};
  return smallIntWrap<T>(int64_t(V));
}

// Clamp to the type's range (QuantizeLinear's saturation).
template <typename T> inline T smallIntSaturate(int64_t V) noexcept {
  constexpr int64_t Lo = smallIntSigned<T> ? -(int64_t(1) << (smallIntBits<T> - 1)) : 0;
  constexpr int64_t Hi = smallIntSigned<T> ? (int64_t(1) << (smallIntBits<T> - 1)) - 1
                                           : (int64_t(1) << smallIntBits<T>) - 1;
  return smallIntWrap<T>(V < Lo ? Lo : V > Hi ? Hi : V);
}

} // namespace lowp

// Float value of a low-precision float (exact).
template <typename T> inline float lowpToFloat(T V) noexcept {
  if constexpr (std::is_same_v<T, Float8E8M0>)
    return lowp::decodeE8M0(V.Bits);
  else
    return lowp::decode<lowp::Format<T>>(V.Bits);
}

template <typename T> inline T lowpFromDouble(double X, bool Saturate) noexcept {
  return T{lowp::encode<lowp::Format<T>>(X, Saturate)};
}

} // namespace optima_v2::native
