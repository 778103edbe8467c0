// Shared helpers of the data-movement families (shape ops, data movement, indexing, resize):
// reading constant index lists at load, axis normalisation, and the strided byte-copy plan that
// Transpose, Slice, Expand, Tile, Split and DepthToSpace all reduce to.
#pragma once

#include "../OpRegistry.h"

#include <cstring>
#include <string>
#include <vector>

namespace optima_v2::native::move {

// Rank of a strided plan: Tile views its output as [repeat, dim] pairs, so twice the max rank.
constexpr size_t MaxPlanRank = 2 * OPTIMA_EXT_MAX_DIMS;

// Reads a constant integer tensor (I64 or I32, any shape) at load. Refuses a non-constant input
// as unsupported: What names why its values are needed ("output shape depends on its values").
std::vector<int64_t> constInts(const NodeContext &Ctx, size_t Input, const char *Role);
// Same for a constant float tensor (F32, F64, F16, BF16).
std::vector<double> constFloats(const NodeContext &Ctx, size_t Input, const char *Role);

// Axis in [-Rank, Rank) -> [0, Rank); INVALID_MODEL naming Attr otherwise.
int64_t normalizeAxis(const NodeContext &Ctx, int64_t Axis, int64_t Rank, const char *Attr);

// Row-major element strides of Shape.
std::vector<int64_t> stridesOf(const Dims &Shape);

// Reads element I of a runtime integer tensor (I32 or I64) without alignment assumptions.
inline int64_t loadIndex(const void *Base, size_t I, bool Is64) noexcept {
  if (Is64) {
    int64_t V;
    std::memcpy(&V, static_cast<const std::byte *>(Base) + I * 8, 8);
    return V;
  }
  int32_t V;
  std::memcpy(&V, static_cast<const std::byte *>(Base) + I * 4, 4);
  return V;
}

// Out[i0..ik] = In[Offset + sum(i_j * Src_j)] over a row-major output of shape Dims (element
// strides, possibly 0 or negative). Adjacent dims are merged at plan time where possible.
struct StridedPlan {
  size_t Rank = 0;
  int64_t Dims[MaxPlanRank] = {};
  int64_t Src[MaxPlanRank] = {};
  int64_t Offset = 0;
  size_t ElemSize = 1;
  size_t Total = 0;
};

StridedPlan planStrided(const std::vector<int64_t> &Dims, const std::vector<int64_t> &Src,
                        int64_t Offset, size_t ElemSize);
void runStrided(const StridedPlan &P, const std::byte *In, std::byte *Out,
                const KernelContext &Ctx);

// A kernel that is exactly one strided copy from input 0 to output 0.
std::unique_ptr<Kernel> makeStridedKernel(const NodeContext &Ctx, const StridedPlan &P);
// A plain byte copy of input 0 to output 0 (Reshape-like ops).
std::unique_ptr<Kernel> makeCopyKernel(const NodeContext &Ctx);

// Out[j0..jk] = In[T0[j0], ..., Tk[jk]] with one source-index table per output axis (-1 = the
// fill value: input Value when >= 0, else StaticFill, else zero). Pad and nearest Resize.
class TableGatherKernel final : public Kernel {
public:
  TableGatherKernel(int32_t In, int32_t Value, std::vector<std::byte> StaticFill, int32_t Out,
                    size_t ElemSize, Dims OutShape, std::vector<int64_t> InStrides,
                    std::vector<std::vector<int64_t>> Tables)
      : In(In), Value(Value), StaticFill(std::move(StaticFill)), Out(Out), E(ElemSize),
        OutShape(std::move(OutShape)), InStrides(std::move(InStrides)), Tables(std::move(Tables)) {}

  void run(const KernelContext &Ctx) const override;

private:
  int32_t In, Value;
  std::vector<std::byte> StaticFill;
  int32_t Out;
  size_t E;
  Dims OutShape;
  std::vector<int64_t> InStrides;
  std::vector<std::vector<int64_t>> Tables;
};

// Maps an ONNX TensorProto data type code to an OptimaElementType; false for none.
bool onnxTypeToElement(int64_t OnnxType, int32_t &Type) noexcept;

} // namespace optima_v2::native::move
