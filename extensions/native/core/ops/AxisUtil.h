// Axis helpers shared by the reduction, softmax, normalization, pooling and sort families:
// attribute/constant axis parsing with ONNX's negative-axis rule, and the [outer, axis, inner]
// split most of those kernels walk.
#pragma once

#include "../NodeContext.h"

#include <cstring>
#include <string>
#include <vector>

namespace optima_v2::native {

// Axis in [-Rank, Rank) -> [0, Rank); invalid otherwise (Name is the attribute named in errors).
inline size_t normalizeAxis(const NodeContext &Ctx, const char *Name, int64_t Axis, size_t Rank) {
  int64_t R = int64_t(Rank);
  if (Axis < -R || Axis >= R)
    Ctx.invalidAttribute(Name, "axis " + std::to_string(Axis) + " is out of range for rank " +
                                   std::to_string(Rank));
  return size_t(Axis < 0 ? Axis + R : Axis);
}

// The values of a constant integer (I32/I64) input; unsupported when it is not a constant
// (the output shape would depend on its values).
inline std::vector<int64_t> constantInts(const NodeContext &Ctx, size_t Index, const char *What) {
  const TensorInfo &T = *Ctx.input(Index);
  if (T.Type != OPTIMA_ELEMENT_I64 && T.Type != OPTIMA_ELEMENT_I32)
    Ctx.invalid(std::string(What) + " input \"" + T.Name + "\" must be I64 or I32, got " +
                describe(T.Type, T.Shape));
  if (T.Shape.size() > 1)
    Ctx.invalid(std::string(What) + " input \"" + T.Name + "\" must be a scalar or 1-D, got " +
                describe(T.Type, T.Shape));
  if (T.Where != Storage::Constant)
    Ctx.unsupported(std::string(What) + " input \"" + T.Name +
                    "\" must be a constant: output shape depends on its values");
  std::vector<int64_t> V(T.Elements);
  for (size_t I = 0; I < T.Elements; ++I) {
    if (T.Type == OPTIMA_ELEMENT_I64) {
      std::memcpy(&V[I], static_cast<const int64_t *>(T.Data) + I, sizeof(int64_t));
    } else {
      int32_t X;
      std::memcpy(&X, static_cast<const int32_t *>(T.Data) + I, sizeof X);
      V[I] = X;
    }
  }
  return V;
}

// Shape split around one axis: Outer = prod(dims before), Len = dims[Axis], Inner = prod(after).
struct AxisSplit {
  size_t Outer = 1, Len = 1, Inner = 1;
};

inline AxisSplit splitAt(const Dims &Shape, size_t Axis) {
  AxisSplit S;
  for (size_t I = 0; I < Shape.size(); ++I) {
    size_t D = size_t(Shape[I]);
    if (I < Axis)
      S.Outer *= D;
    else if (I == Axis)
      S.Len = D;
    else
      S.Inner *= D;
  }
  return S;
}

// Number of independent scratch regions a kernel with per-task scratch uses: work is split in
// at most this many chunks so scratch is sized at load without knowing the thread count.
constexpr size_t MaxScratchChunks = 64;

} // namespace optima_v2::native
