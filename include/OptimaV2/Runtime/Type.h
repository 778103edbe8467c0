#pragma once

#include <cstddef>
#include <cstdint>

namespace optima_v2::runtime {

// Values match OptimaElementType in the extension ABI. Q8/Q16 are quantized 8/16-bit integers;
// Bool is one byte per element (an addition to the reference list, needed by ONNX models).
// The ONNX low-precision types after Bool (float8 variants, float8 e8m0 scale, float4 e2m1 and
// 4/2-bit integers) are stored UNPACKED: one byte per element in memory, like ml_dtypes' numpy
// dtypes: the 4/2-bit code (F4E2M1, I4, U4, I2, U2; two's complement for I4/I2) sits in the low
// bits of its byte with the high bits zero, so arrays are shared with numpy without conversion.
enum class ElementType : int32_t {
  I8 = 0, U8 = 1, I16 = 2, U16 = 3, I32 = 4, U32 = 5, I64 = 6, U64 = 7,
  F16 = 8, F32 = 9, F64 = 10, Q8 = 11, Q16 = 12, BF16 = 13, Bool = 14,
  F8E4M3FN = 15, F8E4M3FNUZ = 16, F8E5M2 = 17, F8E5M2FNUZ = 18, F8E8M0 = 19,
  I4 = 20, U4 = 21, F4E2M1 = 22, I2 = 23, U2 = 24
};

// Bytes per element; throws InvalidArgumentException for a value outside the enum.
size_t getSizeOfElement(ElementType Type);

} // namespace optima_v2::runtime
