// CenterCropPad (opset 18): crops or zero-pads the listed axes (default all) to `shape`,
// centred; an odd difference removes (crop) or adds (pad) the extra element at the end, as
// onnx's reference does. `shape` must be a constant (it decides the output shape). Any element
// type (a byte copy; the low-precision types are stored one per byte).
//
// Output index o along an axis reads input index o + Delta (Delta > 0 crop, < 0 pad); each
// output row (innermost axis) is one memcpy of the overlap plus zero fills.
#include "SpatialOps.h"

#include "../AxisUtil.h"

#include <algorithm>
#include <cstring>

namespace optima_v2::native {

namespace {

class CenterCropPadKernel final : public Kernel {
public:
  CenterCropPadKernel(int32_t In, int32_t Out, size_t ElemBytes, Dims OutShape, Dims InShape,
                      Dims Delta)
      : In(In), Out(Out), ElemBytes(ElemBytes), OutShape(std::move(OutShape)),
        InShape(std::move(InShape)), Delta(std::move(Delta)) {
    size_t Rank = this->OutShape.size();
    InStrides.assign(Rank, 0);
    size_t Stride = 1;
    for (size_t D = Rank; D-- > 0;) {
      InStrides[D] = Stride;
      Stride *= size_t(this->InShape[D]);
    }
    Rows = 1;
    for (size_t D = 0; D + 1 < Rank; ++D)
      Rows *= size_t(this->OutShape[D]);
    RowLen = size_t(this->OutShape.back());
    int64_t Lo = std::max<int64_t>(0, -this->Delta.back());
    int64_t Hi = std::min<int64_t>(int64_t(RowLen), this->InShape.back() - this->Delta.back());
    CopyBegin = size_t(Lo);
    CopyEnd = size_t(std::max(Lo, Hi));
  }

  void run(const KernelContext &Ctx) const override {
    const std::byte *X = Ctx.tensor<const std::byte>(In);
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    if (Rows == 0 || RowLen == 0)
      return;
    size_t Rank = OutShape.size();
    size_t Grain = std::max<size_t>(1, 16384 / std::max<size_t>(1, RowLen * ElemBytes));
    Ctx.parallelFor(Rows, Grain, [&](size_t Begin, size_t End) {
      for (size_t Row = Begin; Row < End; ++Row) {
        std::byte *YR = Y + Row * RowLen * ElemBytes;
        // Source offset of this row's outer coordinates; absent when one lies in the padding.
        size_t Rest = Row, Src = 0;
        bool Inside = CopyEnd > CopyBegin;
        for (size_t D = Rank - 1; D-- > 0 && Inside;) {
          int64_t O = int64_t(Rest % size_t(OutShape[D]));
          Rest /= size_t(OutShape[D]);
          int64_t I = O + Delta[D];
          if (I < 0 || I >= InShape[D])
            Inside = false;
          else
            Src += size_t(I) * InStrides[D];
        }
        if (!Inside) {
          std::memset(YR, 0, RowLen * ElemBytes);
          continue;
        }
        std::memset(YR, 0, CopyBegin * ElemBytes);
        size_t First = size_t(int64_t(CopyBegin) + Delta.back());
        std::memcpy(YR + CopyBegin * ElemBytes, X + (Src + First) * ElemBytes,
                    (CopyEnd - CopyBegin) * ElemBytes);
        std::memset(YR + CopyEnd * ElemBytes, 0, (RowLen - CopyEnd) * ElemBytes);
      }
    });
  }

private:
  int32_t In, Out;
  size_t ElemBytes;
  Dims OutShape, InShape, Delta;
  std::vector<size_t> InStrides;
  size_t Rows = 0, RowLen = 0, CopyBegin = 0, CopyEnd = 0;
};

} // namespace

std::unique_ptr<Kernel> makeCenterCropPad(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"axes"});
  const TensorInfo &X = *Ctx.input(0);
  size_t ElemBytes = elementSize(X.Type);
  if (ElemBytes == 0)
    Ctx.unsupported(std::string(typeName(X.Type)) + " input \"" + X.Name + "\"");
  std::vector<int64_t> Shape = constantInts(Ctx, 1, "shape");
  size_t Rank = X.Shape.size();
  std::vector<int64_t> Axes;
  if (Ctx.hasAttribute("axes")) {
    for (int64_t A : Ctx.getInts("axes", {}))
      Axes.push_back(int64_t(normalizeAxis(Ctx, "axes", A, Rank)));
  } else {
    for (size_t D = 0; D < Rank; ++D)
      Axes.push_back(int64_t(D));
  }
  if (Shape.size() != Axes.size())
    Ctx.invalid("shape input \"" + Ctx.input(1)->Name + "\" has " + std::to_string(Shape.size()) +
                " values for " + std::to_string(Axes.size()) + " axes");
  Dims OutShape = X.Shape, Delta(Rank, 0);
  std::vector<bool> Seen(Rank, false);
  for (size_t I = 0; I < Axes.size(); ++I) {
    size_t A = size_t(Axes[I]);
    if (Seen[A])
      Ctx.invalidAttribute("axes", "axis " + std::to_string(A) + " is listed twice");
    Seen[A] = true;
    if (Shape[I] < 0)
      Ctx.invalid("shape input \"" + Ctx.input(1)->Name + "\" has a negative size " +
                  std::to_string(Shape[I]));
    int64_t Dim = X.Shape[A];
    OutShape[A] = Shape[I];
    Delta[A] = Shape[I] < Dim ? (Dim - Shape[I]) / 2 : -((Shape[I] - Dim) / 2);
  }
  size_t Elements = 0;
  if (!checkedElementCount(OutShape, ElemBytes, Elements))
    Ctx.invalid("output shape " + formatShape(OutShape) + " is too large");
  Ctx.expectOutput(0, X.Type, OutShape);
  Dims InShape = X.Shape;
  if (Rank == 0) { // a scalar is a 1-element row
    OutShape = InShape = {1};
    Delta = {0};
  }
  return std::make_unique<CenterCropPadKernel>(Ctx.inputId(0), Ctx.outputId(0), ElemBytes,
                                               OutShape, InShape, Delta);
}

} // namespace optima_v2::native
