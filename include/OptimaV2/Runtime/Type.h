#pragma once

#include <cstddef>
#include <cstdint>

namespace optima_v2::runtime {

// Values match OptimaElementType in the extension ABI. Q8/Q16 are quantized 8/16-bit integers;
// Bool is one byte per element (an addition to the reference list, needed by ONNX models).
enum class ElementType : int32_t {
  I8 = 0, U8 = 1, I16 = 2, U16 = 3, I32 = 4, U32 = 5, I64 = 6, U64 = 7,
  F16 = 8, F32 = 9, F64 = 10, Q8 = 11, Q16 = 12, BF16 = 13, Bool = 14
};

// Bytes per element; throws InvalidArgumentException for a value outside the enum.
size_t getSizeOfElement(ElementType Type);

} // namespace optima_v2::runtime
