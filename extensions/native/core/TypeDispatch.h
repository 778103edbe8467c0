// Element type <-> C++ storage type, and dispatch of a generic lambda on a runtime element type.
// Used by factories at load time to pick a kernel instantiation (never per element).
#pragma once

#include "Half.h"
#include "LowPrecision.h"

#include "OptimaV2/Extension/Extension.h"

#include <cstdint>
#include <type_traits>

namespace optima_v2::native {

template <typename T> struct TypeTag {
  using type = T;
};

// The OptimaElementType of a storage type (Q8/Q16 share int8_t/int16_t with I8/I16 and are not
// produced by this mapping).
template <typename T> constexpr int32_t elementTypeOf() noexcept {
  if constexpr (std::is_same_v<T, int8_t>) return OPTIMA_ELEMENT_I8;
  else if constexpr (std::is_same_v<T, uint8_t>) return OPTIMA_ELEMENT_U8;
  else if constexpr (std::is_same_v<T, int16_t>) return OPTIMA_ELEMENT_I16;
  else if constexpr (std::is_same_v<T, uint16_t>) return OPTIMA_ELEMENT_U16;
  else if constexpr (std::is_same_v<T, int32_t>) return OPTIMA_ELEMENT_I32;
  else if constexpr (std::is_same_v<T, uint32_t>) return OPTIMA_ELEMENT_U32;
  else if constexpr (std::is_same_v<T, int64_t>) return OPTIMA_ELEMENT_I64;
  else if constexpr (std::is_same_v<T, uint64_t>) return OPTIMA_ELEMENT_U64;
  else if constexpr (std::is_same_v<T, Half>) return OPTIMA_ELEMENT_F16;
  else if constexpr (std::is_same_v<T, float>) return OPTIMA_ELEMENT_F32;
  else if constexpr (std::is_same_v<T, double>) return OPTIMA_ELEMENT_F64;
  else if constexpr (std::is_same_v<T, BFloat16>) return OPTIMA_ELEMENT_BF16;
  else if constexpr (std::is_same_v<T, bool>) return OPTIMA_ELEMENT_BOOL;
  else static_assert(!sizeof(T), "no element type for this C++ type");
}

template <typename T> constexpr bool isHalfLike = std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

// The type arithmetic is done in: float for F16/BF16, the type itself otherwise.
template <typename T> using ComputeType = std::conditional_t<isHalfLike<T>, float, T>;

template <typename T> inline ComputeType<T> load(T V) noexcept {
  if constexpr (isHalfLike<T>)
    return toFloat(V);
  else
    return V;
}

template <typename T> inline T store(ComputeType<T> V) noexcept {
  if constexpr (std::is_same_v<T, Half>)
    return toHalf(V);
  else if constexpr (std::is_same_v<T, BFloat16>)
    return toBFloat16(V);
  else
    return V;
}

// Calls Fn(TypeTag<T>{}) for the storage type of Type and returns true; false for a type outside
// the enum. Q8/Q16 dispatch as int8_t/int16_t.
template <typename Fn> bool dispatchType(int32_t Type, Fn &&F) {
  switch (Type) {
  case OPTIMA_ELEMENT_I8: case OPTIMA_ELEMENT_Q8: F(TypeTag<int8_t>{}); return true;
  case OPTIMA_ELEMENT_U8: F(TypeTag<uint8_t>{}); return true;
  case OPTIMA_ELEMENT_I16: case OPTIMA_ELEMENT_Q16: F(TypeTag<int16_t>{}); return true;
  case OPTIMA_ELEMENT_U16: F(TypeTag<uint16_t>{}); return true;
  case OPTIMA_ELEMENT_I32: F(TypeTag<int32_t>{}); return true;
  case OPTIMA_ELEMENT_U32: F(TypeTag<uint32_t>{}); return true;
  case OPTIMA_ELEMENT_I64: F(TypeTag<int64_t>{}); return true;
  case OPTIMA_ELEMENT_U64: F(TypeTag<uint64_t>{}); return true;
  case OPTIMA_ELEMENT_F16: F(TypeTag<Half>{}); return true;
  case OPTIMA_ELEMENT_F32: F(TypeTag<float>{}); return true;
  case OPTIMA_ELEMENT_F64: F(TypeTag<double>{}); return true;
  case OPTIMA_ELEMENT_BF16: F(TypeTag<BFloat16>{}); return true;
  case OPTIMA_ELEMENT_BOOL: F(TypeTag<bool>{}); return true;
  default: return false;
  }
}

// The ONNX low-precision types (one byte per element, LowPrecision.h). They are NOT part of
// dispatchType, so kernels written for the classic types never see them; the ops that support
// them (Cast, CastLike, QuantizeLinear, DequantizeLinear, data movement) dispatch here.
template <typename T> constexpr int32_t lowPrecisionTypeOf() noexcept {
  if constexpr (std::is_same_v<T, Float8E4M3FN>) return OPTIMA_ELEMENT_F8E4M3FN;
  else if constexpr (std::is_same_v<T, Float8E4M3FNUZ>) return OPTIMA_ELEMENT_F8E4M3FNUZ;
  else if constexpr (std::is_same_v<T, Float8E5M2>) return OPTIMA_ELEMENT_F8E5M2;
  else if constexpr (std::is_same_v<T, Float8E5M2FNUZ>) return OPTIMA_ELEMENT_F8E5M2FNUZ;
  else if constexpr (std::is_same_v<T, Float8E8M0>) return OPTIMA_ELEMENT_F8E8M0;
  else if constexpr (std::is_same_v<T, Int4>) return OPTIMA_ELEMENT_I4;
  else if constexpr (std::is_same_v<T, UInt4>) return OPTIMA_ELEMENT_U4;
  else if constexpr (std::is_same_v<T, Float4E2M1>) return OPTIMA_ELEMENT_F4E2M1;
  else if constexpr (std::is_same_v<T, Int2>) return OPTIMA_ELEMENT_I2;
  else if constexpr (std::is_same_v<T, UInt2>) return OPTIMA_ELEMENT_U2;
  else static_assert(!sizeof(T), "not a low-precision storage type");
}

inline bool isLowPrecisionType(int32_t Type) noexcept {
  return Type >= OPTIMA_ELEMENT_F8E4M3FN && Type <= OPTIMA_ELEMENT_U2;
}

// INT4, UINT4, INT2, UINT2.
inline bool isLowPrecisionInt(int32_t Type) noexcept {
  return Type == OPTIMA_ELEMENT_I4 || Type == OPTIMA_ELEMENT_U4 || Type == OPTIMA_ELEMENT_I2 ||
         Type == OPTIMA_ELEMENT_U2;
}

// Calls Fn(TypeTag<T>{}) for a low-precision type and returns true; false for any other type.
template <typename Fn> bool dispatchLowPrecision(int32_t Type, Fn &&F) {
  switch (Type) {
  case OPTIMA_ELEMENT_F8E4M3FN: F(TypeTag<Float8E4M3FN>{}); return true;
  case OPTIMA_ELEMENT_F8E4M3FNUZ: F(TypeTag<Float8E4M3FNUZ>{}); return true;
  case OPTIMA_ELEMENT_F8E5M2: F(TypeTag<Float8E5M2>{}); return true;
  case OPTIMA_ELEMENT_F8E5M2FNUZ: F(TypeTag<Float8E5M2FNUZ>{}); return true;
  case OPTIMA_ELEMENT_F8E8M0: F(TypeTag<Float8E8M0>{}); return true;
  case OPTIMA_ELEMENT_I4: F(TypeTag<Int4>{}); return true;
  case OPTIMA_ELEMENT_U4: F(TypeTag<UInt4>{}); return true;
  case OPTIMA_ELEMENT_F4E2M1: F(TypeTag<Float4E2M1>{}); return true;
  case OPTIMA_ELEMENT_I2: F(TypeTag<Int2>{}); return true;
  case OPTIMA_ELEMENT_U2: F(TypeTag<UInt2>{}); return true;
  default: return false;
  }
}

} // namespace optima_v2::native
