#include <OptimaV2/Runtime/Exception.h>
#include <OptimaV2/Runtime/Type.h>

namespace optima_v2::runtime {

size_t getSizeOfElement(ElementType Type) {
  switch (Type) {
  case ElementType::I8: case ElementType::U8: case ElementType::Q8: case ElementType::Bool:
    return 1;
  // Low-precision ONNX types are unpacked in memory: one byte per element.
  case ElementType::F8E4M3FN: case ElementType::F8E4M3FNUZ: case ElementType::F8E5M2:
  case ElementType::F8E5M2FNUZ: case ElementType::F8E8M0: case ElementType::I4:
  case ElementType::U4: case ElementType::F4E2M1: case ElementType::I2: case ElementType::U2:
    return 1;
  case ElementType::I16: case ElementType::U16: case ElementType::Q16: case ElementType::F16:
  case ElementType::BF16:
    return 2;
  case ElementType::I32: case ElementType::U32: case ElementType::F32:
    return 4;
  case ElementType::I64: case ElementType::U64: case ElementType::F64:
    return 8;
  }
  throwFormat<InvalidArgumentException>("getSizeOfElement: invalid element type value {}",
                                        static_cast<int32_t>(Type));
}

} // namespace optima_v2::runtime
