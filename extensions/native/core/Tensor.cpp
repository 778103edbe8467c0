#include "Tensor.h"

namespace optima_v2::native {

namespace {
struct TypeEntry {
  const char *Name;
  size_t Size;
};
// Indexed by OptimaElementType.
constexpr TypeEntry Types[] = {{"I8", 1},  {"U8", 1},  {"I16", 2}, {"U16", 2},  {"I32", 4},
                               {"U32", 4}, {"I64", 8}, {"U64", 8}, {"F16", 2},  {"F32", 4},
                               {"F64", 8}, {"Q8", 1},  {"Q16", 2}, {"BF16", 2}, {"BOOL", 1},
                               // ONNX low-precision types: one byte per element in memory.
                               {"F8E4M3FN", 1}, {"F8E4M3FNUZ", 1}, {"F8E5M2", 1}, {"F8E5M2FNUZ", 1},
                               {"F8E8M0", 1}, {"I4", 1}, {"U4", 1}, {"F4E2M1", 1}, {"I2", 1}, {"U2", 1}};
constexpr int32_t TypeCount = int32_t(sizeof(Types) / sizeof(Types[0]));
} // namespace

size_t elementSize(int32_t Type) noexcept {
  return Type >= 0 && Type < TypeCount ? Types[Type].Size : 0;
}

const char *typeName(int32_t Type) noexcept {
  return Type >= 0 && Type < TypeCount ? Types[Type].Name : "?";
}

bool parseTypeName(const std::string &Name, int32_t &Type) noexcept {
  for (int32_t I = 0; I < TypeCount; ++I)
    if (Name == Types[I].Name) {
      Type = I;
      return true;
    }
  return false;
}

std::string formatShape(const Dims &Shape) {
  std::string S = "[";
  for (size_t I = 0; I < Shape.size(); ++I) {
    if (I)
      S += ", ";
    S += std::to_string(Shape[I]);
  }
  return S + "]";
}

std::string describe(int32_t Type, const Dims &Shape) {
  return std::string(typeName(Type)) + " " + formatShape(Shape);
}

bool checkedElementCount(const Dims &Shape, size_t ElementBytes, size_t &Elements) noexcept {
  uint64_t N = 1;
  bool Empty = false;
  for (int64_t D : Shape) {
    if (D < 0)
      return false;
    if (D == 0)
      Empty = true;
  }
  if (Empty) {
    Elements = 0;
    return true;
  }
  for (int64_t D : Shape) {
    // N * D * ElementBytes <= MaxTensorBytes, tested without overflow.
    if (uint64_t(D) > MaxTensorBytes / (N * (ElementBytes ? ElementBytes : 1)))
      return false;
    N *= uint64_t(D);
  }
  if (N * (ElementBytes ? ElementBytes : 1) > MaxTensorBytes)
    return false;
  Elements = size_t(N);
  return true;
}

} // namespace optima_v2::native
