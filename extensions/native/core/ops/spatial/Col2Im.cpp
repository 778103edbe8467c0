// Col2Im (opset 18): the inverse of im2col. Input [N, C * prod(block_shape), L] holds, for each
// of the L sliding-block positions, one column of block values; the output image
// [N, C, image_shape...] sums every column value that lands on a pixel (strides, pads,
// dilations as in Conv). image_shape and block_shape must be constants (they decide the output
// shape). Numeric element types; F16/BF16 sum in float.
//
// Computed as a gather: each output pixel visits the block offsets that can reach it, so the
// work parallelises over pixels without write conflicts.
#include "SpatialOps.h"

#include "../../TypeDispatch.h"
#include "../AxisUtil.h"

#include <algorithm>

namespace optima_v2::native {

namespace {

constexpr size_t MaxRank = 8;

struct Col2ImParams {
  int32_t In = -1, Out = -1;
  size_t Rank = 0, Planes = 0, ImagePlane = 0, BlockSize = 0, Columns = 0;
  int64_t Image[MaxRank] = {}, Block[MaxRank] = {}, Stride[MaxRank] = {}, PadBegin[MaxRank] = {},
          Dilation[MaxRank] = {}, Blocks[MaxRank] = {};
};

template <typename T> class Col2ImKernel final : public Kernel {
public:
  using C = ComputeType<T>;

  explicit Col2ImKernel(const Col2ImParams &P) : P(P) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(P.In);
    T *Y = Ctx.tensor<T>(P.Out);
    size_t Grain = std::max<size_t>(1, 4096 / std::max<size_t>(1, P.BlockSize));
    Ctx.parallelFor(P.Planes * P.ImagePlane, Grain, [&](size_t Begin, size_t End) {
      int64_t Pos[MaxRank], K[MaxRank];
      for (size_t Pixel = Begin; Pixel < End; ++Pixel) {
        size_t Plane = Pixel / P.ImagePlane, Rest = Pixel % P.ImagePlane;
        for (size_t D = P.Rank; D-- > 0;) {
          Pos[D] = int64_t(Rest % size_t(P.Image[D]));
          Rest /= size_t(P.Image[D]);
        }
        // Plane = n * C + c; its columns are rows [c * BlockSize, (c + 1) * BlockSize) of
        // batch n, i.e. one contiguous [BlockSize, Columns] slab.
        const T *Slab = X + Plane * P.BlockSize * P.Columns;
        C Sum = C(0);
        std::fill(K, K + P.Rank, 0);
        for (size_t Kf = 0; Kf < P.BlockSize; ++Kf) {
          size_t Col = 0;
          bool Hit = true;
          for (size_t D = 0; D < P.Rank && Hit; ++D) {
            int64_t Num = Pos[D] + P.PadBegin[D] - K[D] * P.Dilation[D];
            if (Num < 0 || Num % P.Stride[D] != 0 || Num / P.Stride[D] >= P.Blocks[D])
              Hit = false;
            else
              Col = Col * size_t(P.Blocks[D]) + size_t(Num / P.Stride[D]);
          }
          if (Hit)
            Sum += load(Slab[Kf * P.Columns + Col]);
          for (size_t D = P.Rank; D-- > 0;) { // next block offset (row-major)
            if (++K[D] < P.Block[D])
              break;
            K[D] = 0;
          }
        }
        Y[Pixel] = store<T>(Sum);
      }
    });
  }

private:
  Col2ImParams P;
};

} // namespace

std::unique_ptr<Kernel> makeCol2Im(const NodeContext &Ctx) {
  Ctx.expectArity(3, 3, 1);
  Ctx.allowAttributes({"strides", "pads", "dilations"});
  const TensorInfo &X = *Ctx.input(0);
  if (X.Type == OPTIMA_ELEMENT_BOOL || X.Type == OPTIMA_ELEMENT_Q8 || X.Type == OPTIMA_ELEMENT_Q16)
    Ctx.unsupported(std::string(typeName(X.Type)) + " input \"" + X.Name + "\"");
  std::vector<int64_t> Image = constantInts(Ctx, 1, "image_shape");
  std::vector<int64_t> Block = constantInts(Ctx, 2, "block_shape");
  size_t Rank = Image.size();
  if (Rank == 0 || Rank > MaxRank || Block.size() != Rank)
    Ctx.invalid("image_shape and block_shape must have the same 1 to 8 values, got " +
                std::to_string(Image.size()) + " and " + std::to_string(Block.size()));
  if (X.Shape.size() != 3)
    Ctx.invalid("input \"" + X.Name + "\" must be [N, C * prod(block_shape), L], got " +
                describe(X.Type, X.Shape));
  std::vector<int64_t> Strides = Ctx.getInts("strides", std::vector<int64_t>(Rank, 1));
  std::vector<int64_t> Dilations = Ctx.getInts("dilations", std::vector<int64_t>(Rank, 1));
  std::vector<int64_t> Pads = Ctx.getInts("pads", std::vector<int64_t>(2 * Rank, 0));
  if (Strides.size() != Rank)
    Ctx.invalidAttribute("strides", "must have " + std::to_string(Rank) + " values");
  if (Dilations.size() != Rank)
    Ctx.invalidAttribute("dilations", "must have " + std::to_string(Rank) + " values");
  if (Pads.size() != 2 * Rank)
    Ctx.invalidAttribute("pads", "must have " + std::to_string(2 * Rank) + " values");
  Col2ImParams P;
  P.In = Ctx.inputId(0);
  P.Out = Ctx.outputId(0);
  P.Rank = Rank;
  int64_t BlockSize = 1, Columns = 1, ImagePlane = 1;
  for (size_t D = 0; D < Rank; ++D) {
    if (Image[D] < 1 || Block[D] < 1 || Image[D] > (int64_t(1) << 32) ||
        Block[D] > (int64_t(1) << 32))
      Ctx.invalid("image_shape and block_shape values must be positive");
    if (Strides[D] < 1)
      Ctx.invalidAttribute("strides", "must be positive");
    if (Dilations[D] < 1)
      Ctx.invalidAttribute("dilations", "must be positive");
    if (Pads[D] < 0 || Pads[D + Rank] < 0)
      Ctx.invalidAttribute("pads", "must be non-negative");
    int64_t Span = Dilations[D] * (Block[D] - 1) + 1;
    int64_t Blocks = (Image[D] + Pads[D] + Pads[D + Rank] - Span) / Strides[D] + 1;
    if (Image[D] + Pads[D] + Pads[D + Rank] < Span || Blocks < 1)
      Ctx.invalid("block_shape does not fit the padded image along axis " + std::to_string(D));
    P.Image[D] = Image[D];
    P.Block[D] = Block[D];
    P.Stride[D] = Strides[D];
    P.Dilation[D] = Dilations[D];
    P.PadBegin[D] = Pads[D];
    P.Blocks[D] = Blocks;
    BlockSize *= Block[D];
    Columns *= Blocks;
    ImagePlane *= Image[D];
    if (BlockSize > (int64_t(1) << 40) || Columns > (int64_t(1) << 40) ||
        ImagePlane > (int64_t(1) << 40))
      Ctx.invalid("image_shape or block_shape is too large");
  }
  if (X.Shape[1] % BlockSize != 0 || X.Shape[2] != Columns)
    Ctx.invalid("input \"" + X.Name + "\" " + describe(X.Type, X.Shape) +
                " must be [N, C * " + std::to_string(BlockSize) + ", " + std::to_string(Columns) +
                "] for these image_shape, block_shape, strides, pads and dilations");
  Dims OutShape{X.Shape[0], X.Shape[1] / BlockSize};
  OutShape.insert(OutShape.end(), Image.begin(), Image.end());
  size_t Elements = 0;
  if (!checkedElementCount(OutShape, std::max<size_t>(1, elementSize(X.Type)), Elements))
    Ctx.invalid("output shape " + formatShape(OutShape) + " is too large");
  Ctx.expectOutput(0, X.Type, OutShape);
  P.Planes = size_t(OutShape[0] * OutShape[1]);
  P.ImagePlane = size_t(ImagePlane);
  P.BlockSize = size_t(BlockSize);
  P.Columns = size_t(Columns);
  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (!std::is_same_v<T, bool>)
      K = std::make_unique<Col2ImKernel<T>>(P);
  });
  if (!K)
    Ctx.unsupported(std::string(typeName(X.Type)) + " input \"" + X.Name + "\"");
  return K;
}

} // namespace optima_v2::native
