// Identity, Reshape, Flatten: the data is unchanged (row-major), so each is a byte copy; any
// element type. Reshape's shape must be a constant I64 tensor (static shapes only).
#include "../OpRegistry.h"

#include <cstring>

namespace optima_v2::native {

namespace {

class CopyKernel final : public Kernel {
public:
  CopyKernel(int32_t In, int32_t Out, size_t Bytes) : In(In), Out(Out), Bytes(Bytes) {}
  void run(const KernelContext &Ctx) const override {
    const void *X = Ctx.tensor<const void>(In);
    void *Y = Ctx.tensor<void>(Out);
    if (Bytes && X != Y)
      std::memcpy(Y, X, Bytes);
  }

private:
  int32_t In, Out;
  size_t Bytes;
};

std::unique_ptr<Kernel> makeCopy(const NodeContext &Ctx) {
  const TensorInfo &X = *Ctx.input(0);
  return std::make_unique<CopyKernel>(Ctx.inputId(0), Ctx.outputId(0), X.Bytes);
}

std::unique_ptr<Kernel> makeIdentity(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({});
  const TensorInfo &X = *Ctx.input(0);
  Ctx.expectOutput(0, X.Type, X.Shape);
  return makeCopy(Ctx);
}

std::unique_ptr<Kernel> makeReshape(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"allowzero"});
  const TensorInfo &X = *Ctx.input(0);
  const TensorInfo &ShapeT = *Ctx.input(1);
  int64_t AllowZero = Ctx.getInt("allowzero", 0);
  if (AllowZero != 0 && AllowZero != 1)
    Ctx.invalidAttribute("allowzero", "expected 0 or 1");
  if (ShapeT.Type != OPTIMA_ELEMENT_I64 || ShapeT.Shape.size() != 1)
    Ctx.invalid("shape input \"" + ShapeT.Name + "\" must be a 1-D I64 tensor, got " +
                describe(ShapeT.Type, ShapeT.Shape));
  if (ShapeT.Where != Storage::Constant)
    Ctx.unsupported("shape input \"" + ShapeT.Name + "\" is not a constant");
  size_t Rank = ShapeT.Elements;
  if (Rank > OPTIMA_EXT_MAX_DIMS)
    Ctx.invalid("target shape has " + std::to_string(Rank) + " dims, at most 8 allowed");
  const int64_t *Spec = static_cast<const int64_t *>(ShapeT.Data);
  Dims Out(Rank);
  int64_t Infer = -1;
  uint64_t Known = 1;
  for (size_t I = 0; I < Rank; ++I) {
    int64_t D;
    std::memcpy(&D, Spec + I, sizeof D); // weights are only guaranteed 64-aligned per blob
    if (D == -1) {
      if (Infer >= 0)
        Ctx.invalid("target shape has more than one -1");
      Infer = int64_t(I);
      continue;
    }
    if (D == 0 && !AllowZero) {
      if (I >= X.Shape.size())
        Ctx.invalid("target shape copies dim " + std::to_string(I) + " (0) but the input has rank " +
                    std::to_string(X.Shape.size()));
      D = X.Shape[I];
    }
    if (D < 0 || D > INT32_MAX)
      Ctx.invalid("target shape has invalid dim " + std::to_string(D));
    Out[I] = D;
    if (D != 0 && Known > MaxTensorBytes / uint64_t(D))
      Ctx.invalid("target shape is too large");
    Known *= uint64_t(D);
  }
  if (Infer >= 0) {
    if (Known == 0 || X.Elements % Known != 0)
      Ctx.invalid("cannot infer the -1 dim: " + std::to_string(X.Elements) +
                  " elements do not divide into the other dims");
    Out[size_t(Infer)] = int64_t(X.Elements / Known);
  } else if (Known != X.Elements) {
    Ctx.invalid("target shape " + formatShape(Out) + " has " + std::to_string(Known) +
                " elements but the input " + formatShape(X.Shape) + " has " +
                std::to_string(X.Elements));
  }
  Ctx.expectOutput(0, X.Type, Out);
  return makeCopy(Ctx);
}

std::unique_ptr<Kernel> makeFlatten(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"axis"});
  const TensorInfo &X = *Ctx.input(0);
  int64_t Rank = int64_t(X.Shape.size());
  int64_t Axis = Ctx.getInt("axis", 1);
  if (Axis < -Rank || Axis > Rank)
    Ctx.invalidAttribute("axis", "expected a value in [" + std::to_string(-Rank) + ", " +
                                     std::to_string(Rank) + "]");
  if (Axis < 0)
    Axis += Rank;
  int64_t Outer = 1, Inner = 1;
  for (int64_t I = 0; I < Rank; ++I) {
    int64_t &P = I < Axis ? Outer : Inner;
    if (__builtin_mul_overflow(P, X.Shape[size_t(I)], &P))
      Ctx.invalid("flattened shape overflows"); // only possible with a zero-sized dim elsewhere
  }
  Ctx.expectOutput(0, X.Type, {Outer, Inner});
  return makeCopy(Ctx);
}

} // namespace

void registerShapeOps(OpRegistry &R) {
  R.add("Identity", makeIdentity);
  R.add("Reshape", makeReshape);
  R.add("Flatten", makeFlatten);
}

} // namespace optima_v2::native
