// MaxUnpool (opset 11/22): scatters X into a zero tensor through the flat indices I that
// MaxPool returned. Indices address the inferred (unpadded-pool inverse) shape
//   (in - 1) * stride - pad_begin - pad_end + kernel
// over the whole tensor (batch and channel included); with the optional output_shape input
// (a constant: it decides the output shape) that result sits at the start of each axis of the
// larger output, as onnx's reference does. F32, F16, BF16, F64 (a byte copy). An index out of
// range fails the run.
#include "SpatialOps.h"

#include "../AxisUtil.h"

#include <cstring>

namespace optima_v2::native {

namespace {

class MaxUnpoolKernel final : public Kernel {
public:
  MaxUnpoolKernel(int32_t X, int32_t I, int32_t Y, size_t ElemBytes, Dims Inferred, Dims Output,
                  size_t Count)
      : X(X), I(I), Y(Y), ElemBytes(ElemBytes), Inferred(std::move(Inferred)),
        Output(std::move(Output)), Count(Count) {
    InferredElems = 1;
    OutputElems = 1;
    for (int64_t D : this->Inferred)
      InferredElems *= size_t(D);
    for (int64_t D : this->Output)
      OutputElems *= size_t(D);
    Same = this->Inferred == this->Output;
  }

  void run(const KernelContext &Ctx) const override {
    const std::byte *Xd = Ctx.tensor<const std::byte>(X);
    const int64_t *Id = Ctx.tensor<const int64_t>(I);
    std::byte *Yd = Ctx.tensor<std::byte>(Y);
    for (size_t E = 0; E < Count; ++E)
      if (Id[E] < 0 || uint64_t(Id[E]) >= InferredElems) {
        Ctx.fail("index %lld at position %zu is outside the unpooled tensor of %zu elements",
                 static_cast<long long>(Id[E]), E, InferredElems);
        return;
      }
    std::memset(Yd, 0, OutputElems * ElemBytes);
    for (size_t E = 0; E < Count; ++E) {
      size_t Flat = size_t(Id[E]), Target = Flat;
      if (!Same) { // re-address the inferred coordinates inside the larger output
        Target = 0;
        size_t Stride = 1;
        for (size_t D = Inferred.size(); D-- > 0;) {
          Target += (Flat % size_t(Inferred[D])) * Stride;
          Flat /= size_t(Inferred[D]);
          Stride *= size_t(Output[D]);
        }
      }
      std::memcpy(Yd + Target * ElemBytes, Xd + E * ElemBytes, ElemBytes);
    }
  }

private:
  int32_t X, I, Y;
  size_t ElemBytes;
  Dims Inferred, Output;
  size_t Count, InferredElems = 0, OutputElems = 0;
  bool Same = true;
};

} // namespace

std::unique_ptr<Kernel> makeMaxUnpool(const NodeContext &Ctx) {
  Ctx.expectArity(2, 3, 1);
  Ctx.allowAttributes({"kernel_shape", "pads", "strides"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_F64});
  Ctx.requireType(1, {OPTIMA_ELEMENT_I64});
  const TensorInfo &X = *Ctx.input(0);
  const TensorInfo &I = *Ctx.input(1);
  if (X.Shape.size() < 3)
    Ctx.invalid("input \"" + X.Name + "\" must be [N, C, spatial...], got " +
                describe(X.Type, X.Shape));
  if (I.Shape != X.Shape)
    Ctx.invalid("indices \"" + I.Name + "\" " + describe(I.Type, I.Shape) +
                " must have the shape of input " + describe(X.Type, X.Shape));
  size_t Rank = X.Shape.size() - 2;
  if (!Ctx.hasAttribute("kernel_shape"))
    Ctx.invalid("attribute \"kernel_shape\" is required");
  std::vector<int64_t> KernelShape = Ctx.getInts("kernel_shape", {});
  std::vector<int64_t> Strides = Ctx.getInts("strides", std::vector<int64_t>(Rank, 1));
  std::vector<int64_t> Pads = Ctx.getInts("pads", std::vector<int64_t>(2 * Rank, 0));
  if (KernelShape.size() != Rank)
    Ctx.invalidAttribute("kernel_shape", "must have " + std::to_string(Rank) + " values");
  if (Strides.size() != Rank)
    Ctx.invalidAttribute("strides", "must have " + std::to_string(Rank) + " values");
  if (Pads.size() != 2 * Rank)
    Ctx.invalidAttribute("pads", "must have " + std::to_string(2 * Rank) + " values");
  Dims Inferred{X.Shape[0], X.Shape[1]};
  for (size_t D = 0; D < Rank; ++D) {
    if (KernelShape[D] < 1 || Strides[D] < 1 || Pads[D] < 0 || Pads[D + Rank] < 0 ||
        KernelShape[D] > (int64_t(1) << 32) || Strides[D] > (int64_t(1) << 32) ||
        Pads[D] > (int64_t(1) << 32) || Pads[D + Rank] > (int64_t(1) << 32))
      Ctx.invalid("kernel_shape and strides must be positive and pads non-negative");
    int64_t Size = (X.Shape[D + 2] - 1) * Strides[D] - Pads[D] - Pads[D + Rank] + KernelShape[D];
    if (Size < 0)
      Ctx.invalid("the unpooled size along axis " + std::to_string(D + 2) + " is negative");
    Inferred.push_back(Size);
  }
  size_t ElemBytes = elementSize(X.Type), Elements = 0;
  if (!checkedElementCount(Inferred, ElemBytes, Elements))
    Ctx.invalid("unpooled shape " + formatShape(Inferred) + " is too large");
  Dims Output = Inferred;
  if (Ctx.input(2)) {
    std::vector<int64_t> Shape = constantInts(Ctx, 2, "output_shape");
    if (Shape.size() != Inferred.size())
      Ctx.invalid("output_shape must have " + std::to_string(Inferred.size()) + " values, got " +
                  std::to_string(Shape.size()));
    for (size_t D = 0; D < Shape.size(); ++D)
      if (Shape[D] < Inferred[D] || (D < 2 && Shape[D] != Inferred[D]))
        Ctx.unsupported("output_shape " + formatShape(Shape) + " smaller than the unpooled shape " +
                        formatShape(Inferred) + " (or with other batch/channel sizes)");
    Output = Shape;
    if (!checkedElementCount(Output, ElemBytes, Elements))
      Ctx.invalid("output shape " + formatShape(Output) + " is too large");
  }
  Ctx.expectOutput(0, X.Type, Output);
  return std::make_unique<MaxUnpoolKernel>(Ctx.inputId(0), Ctx.inputId(1), Ctx.outputId(0),
                                           ElemBytes, Inferred, Output, X.Elements);
}

} // namespace optima_v2::native
