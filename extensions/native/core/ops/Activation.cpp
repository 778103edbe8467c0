// Unary activations: Relu (F32, I32, I64), Sigmoid (F32), Tanh (F32). Output shape and type
// equal the input's.
#include "../OpRegistry.h"

#include <algorithm>
#include <cmath>

namespace optima_v2::native {

namespace {

struct ReluOp {
  template <typename T> static T apply(T X) { return X > T(0) ? X : T(0); }
};
struct SigmoidOp {
  // Split by sign so exp never overflows.
  static float apply(float X) {
    if (X >= 0.0f)
      return 1.0f / (1.0f + std::exp(-X));
    float E = std::exp(X);
    return E / (1.0f + E);
  }
};
struct TanhOp {
  static float apply(float X) { return std::tanh(X); }
};

template <typename T, typename Op> class UnaryKernel final : public Kernel {
public:
  UnaryKernel(int32_t In, int32_t Out, size_t Count) : In(In), Out(Out), Count(Count) {}
  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(In);
    T *Y = Ctx.tensor<T>(Out);
    Ctx.parallelFor(Count, size_t(1) << 14, [&](size_t Begin, size_t End) {
      for (size_t I = Begin; I < End; ++I)
        Y[I] = Op::apply(X[I]);
    });
  }

private:
  int32_t In, Out;
  size_t Count;
};

const TensorInfo &checkUnary(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({});
  const TensorInfo &X = *Ctx.input(0);
  Ctx.expectOutput(0, X.Type, X.Shape);
  return X;
}

std::unique_ptr<Kernel> makeRelu(const NodeContext &Ctx) {
  const TensorInfo &X = checkUnary(Ctx);
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_I64});
  int32_t I = Ctx.inputId(0), O = Ctx.outputId(0);
  if (X.Type == OPTIMA_ELEMENT_F32)
    return std::make_unique<UnaryKernel<float, ReluOp>>(I, O, X.Elements);
  if (X.Type == OPTIMA_ELEMENT_I32)
    return std::make_unique<UnaryKernel<int32_t, ReluOp>>(I, O, X.Elements);
  return std::make_unique<UnaryKernel<int64_t, ReluOp>>(I, O, X.Elements);
}

template <typename Op> std::unique_ptr<Kernel> makeFloatUnary(const NodeContext &Ctx) {
  const TensorInfo &X = checkUnary(Ctx);
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32});
  return std::make_unique<UnaryKernel<float, Op>>(Ctx.inputId(0), Ctx.outputId(0), X.Elements);
}

} // namespace

void registerActivationOps(OpRegistry &R) {
  R.add("Relu", makeRelu);
  R.add("Sigmoid", makeFloatUnary<SigmoidOp>);
  R.add("Tanh", makeFloatUnary<TanhOp>);
}

} // namespace optima_v2::native
