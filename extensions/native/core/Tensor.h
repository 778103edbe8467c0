// Tensor metadata of a loaded native graph: element types, shapes and where each tensor lives.
#pragma once

#include "OptimaV2/Extension/Extension.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace optima_v2::native {

using Dims = std::vector<int64_t>;

// Where a tensor's memory comes from during execute().
enum class Storage : uint8_t {
  GraphInput,   // caller's pointer Inputs[Slot]
  GraphOutput,  // caller's pointer Outputs[Slot]
  Constant,     // the mapped weights file
  Intermediate, // the request arena at ArenaOffset
  Unused        // declared but never produced or read
};

struct TensorInfo {
  std::string Name;
  int32_t Type = OPTIMA_ELEMENT_F32; // OptimaElementType
  Dims Shape;
  size_t Elements = 0;
  size_t Bytes = 0;
  Storage Where = Storage::Unused;
  uint32_t Slot = 0;            // input/output index
  size_t ArenaOffset = 0;       // intermediates
  const void *Data = nullptr;   // constants (inside the mapped weights)
};

// Tensor byte sizes are capped (as in model.meta) so arithmetic on them cannot overflow.
constexpr uint64_t MaxTensorBytes = uint64_t(1) << 34;

size_t elementSize(int32_t Type) noexcept;     // 0 for an unknown type
const char *typeName(int32_t Type) noexcept;   // "F32", or "?" when unknown
bool parseTypeName(const std::string &Name, int32_t &Type) noexcept;
std::string formatShape(const Dims &Shape);    // "[1, 3, 224, 224]"
std::string describe(int32_t Type, const Dims &Shape); // "F32 [1, 3]"

// Element count of Shape; false when it or its byte size exceeds MaxTensorBytes.
bool checkedElementCount(const Dims &Shape, size_t ElementBytes, size_t &Elements) noexcept;

} // namespace optima_v2::native
