// Helpers shared by the signal ops (DFT, STFT, windows, MelWeightMatrix) and BitCast: constant
// scalar inputs, ONNX data-type codes, and storing a double into any element type.
#pragma once

#include "../../NodeContext.h"
#include "../../TypeDispatch.h"
#include "../AxisUtil.h"

#include <string>
#include <type_traits>

namespace optima_v2::native {

// The value of a constant integer scalar (or 1-element) input; unsupported when not a constant.
inline int64_t constantScalar(const NodeContext &Ctx, size_t Index, const char *What) {
  std::vector<int64_t> V = constantInts(Ctx, Index, What);
  if (V.size() != 1)
    Ctx.invalid(std::string(What) + " input \"" + Ctx.input(Index)->Name +
                "\" must hold one value, got " + std::to_string(V.size()));
  return V[0];
}

// ONNX TensorProto.DataType -> element type; -1 for a type this backend has no storage for.
inline int32_t elementTypeFromOnnx(int64_t T) noexcept {
  switch (T) {
  case 1: return OPTIMA_ELEMENT_F32;
  case 2: return OPTIMA_ELEMENT_U8;
  case 3: return OPTIMA_ELEMENT_I8;
  case 4: return OPTIMA_ELEMENT_U16;
  case 5: return OPTIMA_ELEMENT_I16;
  case 6: return OPTIMA_ELEMENT_I32;
  case 7: return OPTIMA_ELEMENT_I64;
  case 9: return OPTIMA_ELEMENT_BOOL;
  case 10: return OPTIMA_ELEMENT_F16;
  case 11: return OPTIMA_ELEMENT_F64;
  case 12: return OPTIMA_ELEMENT_U32;
  case 13: return OPTIMA_ELEMENT_U64;
  case 16: return OPTIMA_ELEMENT_BF16;
  default: return -1;
  }
}

// The element type named by an "output_datatype" attribute (default 1 = FLOAT); unsupported for
// types without storage here, invalid for bool/unknown codes (not in the ops' type lists).
inline int32_t outputDatatype(const NodeContext &Ctx) {
  int64_t Code = Ctx.getInt("output_datatype", 1);
  int32_t Type = elementTypeFromOnnx(Code);
  if (Type == OPTIMA_ELEMENT_BOOL || (Type < 0 && (Code <= 0 || Code > 26)))
    Ctx.invalidAttribute("output_datatype", "ONNX data type " + std::to_string(Code) +
                                                " is not allowed for this op");
  if (Type < 0)
    Ctx.unsupported("output_datatype " + std::to_string(Code) +
                    " has no element type in this backend");
  return Type;
}

// double -> T the way numpy's astype does it (float rounding; truncation toward zero for
// integers, values are in range for the window/matrix ops that use this).
template <typename T> inline T storeFromDouble(double V) noexcept {
  if constexpr (std::is_integral_v<T>)
    return T(V);
  else if constexpr (isHalfLike<T>)
    return store<T>(float(V));
  else
    return T(V);
}

} // namespace optima_v2::native
