// Op family: Softmax, LogSoftmax, Hardmax (F32, F16, BF16, F64).
//
// Semantics of opset >= 13: the op runs along the single axis `axis` (default -1). The model
// folder does not record the ONNX opset and the compiler does not rewrite older nodes, so the
// 2-D coerced semantics of opset < 13 (default axis 1, all trailing dims flattened) are not
// applied; for the common case of the last axis the two agree.
//
// Walk: [outer, len, inner]; for each outer index a block of up to 64 inner columns is handled
// together (contiguous loads), parallel over (outer, block). Max subtraction keeps exp finite;
// accumulation is in float (double for F64).
#include "../OpRegistry.h"
#include "../TypeDispatch.h"
#include "AxisUtil.h"
#include "../simd/VecMath.h"

#include <algorithm>
#include <cmath>

namespace optima_v2::native {

namespace {

enum class SoftmaxKind { Softmax, LogSoftmax, Hardmax };

template <typename T, SoftmaxKind Kind> class SoftmaxKernel final : public Kernel {
public:
  using A = ComputeType<T>;
  static constexpr size_t Block = 64;

  SoftmaxKernel(int32_t In, int32_t Out, AxisSplit S) : In(In), Out(Out), S(S) {
    Blocks = (S.Inner + Block - 1) / Block;
  }

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(In);
    T *Y = Ctx.tensor<T>(Out);
    if (S.Len == 0 || S.Inner == 0)
      return;
    if (S.Inner == 1) { // the common case (last axis): contiguous rows
      size_t RowGrain = std::max<size_t>(1, (size_t(1) << 14) / S.Len);
      Ctx.parallelFor(S.Outer, RowGrain, [&](size_t Begin, size_t End) {
        for (size_t R = Begin; R < End; ++R)
          row(X + R * S.Len, Y + R * S.Len);
      });
      return;
    }
    size_t Tasks = S.Outer * Blocks;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, S.Len * Block));
    Ctx.parallelFor(Tasks, Grain, [&](size_t Begin, size_t End) {
      A Max[Block], Sum[Block];
      size_t Arg[Block];
      for (size_t Task = Begin; Task < End; ++Task) {
        size_t O = Task / Blocks, B0 = (Task % Blocks) * Block;
        size_t W = std::min(Block, S.Inner - B0);
        size_t Base = O * S.Len * S.Inner + B0;
        const T *XB = X + Base;
        T *YB = Y + Base;
        for (size_t J = 0; J < W; ++J) {
          Max[J] = load(XB[J]);
          Arg[J] = 0;
        }
        for (size_t L = 1; L < S.Len; ++L)
          for (size_t J = 0; J < W; ++J) {
            A V = load(XB[L * S.Inner + J]);
            if (V > Max[J]) {
              Max[J] = V;
              Arg[J] = L;
            }
          }
        if constexpr (Kind == SoftmaxKind::Hardmax) {
          for (size_t L = 0; L < S.Len; ++L)
            for (size_t J = 0; J < W; ++J)
              YB[L * S.Inner + J] = store<T>(A(Arg[J] == L ? 1 : 0));
          continue;
        } else {
          for (size_t J = 0; J < W; ++J) {
            Sum[J] = A(0);
            if (!std::isfinite(Max[J]))
              Max[J] = Max[J] != Max[J] ? Max[J] : (Max[J] > 0 ? Max[J] : A(0));
          }
          for (size_t L = 0; L < S.Len; ++L)
            for (size_t J = 0; J < W; ++J) {
              A E = std::exp(load(XB[L * S.Inner + J]) - Max[J]);
              Sum[J] += E;
              if constexpr (Kind == SoftmaxKind::Softmax)
                YB[L * S.Inner + J] = store<T>(E); // rescaled below; avoids a third exp pass
            }
          if constexpr (Kind == SoftmaxKind::Softmax) {
            for (size_t J = 0; J < W; ++J)
              Sum[J] = A(1) / Sum[J];
            if constexpr (isHalfLike<T>) {
              // Stored exps were rounded to 16 bits; recompute for accuracy.
              for (size_t L = 0; L < S.Len; ++L)
                for (size_t J = 0; J < W; ++J)
                  YB[L * S.Inner + J] =
                      store<T>(std::exp(load(XB[L * S.Inner + J]) - Max[J]) * Sum[J]);
            } else {
              for (size_t L = 0; L < S.Len; ++L)
                for (size_t J = 0; J < W; ++J)
                  YB[L * S.Inner + J] = store<T>(load(YB[L * S.Inner + J]) * Sum[J]);
            }
          } else {
            // (x - max) - log(sum): subtracting log(sum) + max at once would cancel digits.
            for (size_t J = 0; J < W; ++J)
              Sum[J] = std::log(Sum[J]);
            for (size_t L = 0; L < S.Len; ++L)
              for (size_t J = 0; J < W; ++J)
                YB[L * S.Inner + J] = store<T>((load(XB[L * S.Inner + J]) - Max[J]) - Sum[J]);
          }
        }
      }
    });
  }

private:
  void row(const T *X, T *Y) const {
    if constexpr (std::is_same_v<T, float> && Kind == SoftmaxKind::Softmax) {
      // Vectorised float32 row: the same three passes (max, exp and sum, scale).
      const simd::VecMathTable &VM = simd::vecMath();
      float Max = VM.ReduceMax(X, S.Len);
      if (!std::isfinite(Max) && Max == Max)
        Max = Max > 0 ? Max : 0.0f;
      float Scale = 1.0f / VM.ExpSubSum(X, Y, S.Len, Max);
      VM.BinaryScalarB[simd::BinaryMul](Y, Scale, Y, S.Len);
      return;
    }
    size_t Len = S.Len, Arg = 0;
    A Max = load(X[0]);
    for (size_t L = 1; L < Len; ++L) {
      A V = load(X[L]);
      if (V > Max) {
        Max = V;
        Arg = L;
      }
    }
    if constexpr (Kind == SoftmaxKind::Hardmax) {
      for (size_t L = 0; L < Len; ++L)
        Y[L] = store<T>(A(L == Arg ? 1 : 0));
    } else {
      if (!std::isfinite(Max) && Max == Max)
        Max = Max > 0 ? Max : A(0);
      A Sum = A(0);
      if constexpr (Kind == SoftmaxKind::Softmax && !isHalfLike<T>) {
        for (size_t L = 0; L < Len; ++L) {
          A E = std::exp(load(X[L]) - Max);
          Y[L] = E;
          Sum += E;
        }
        A Scale = A(1) / Sum;
        for (size_t L = 0; L < Len; ++L)
          Y[L] = Y[L] * Scale;
      } else {
        for (size_t L = 0; L < Len; ++L)
          Sum += std::exp(load(X[L]) - Max);
        if constexpr (Kind == SoftmaxKind::Softmax) {
          A Scale = A(1) / Sum;
          for (size_t L = 0; L < Len; ++L)
            Y[L] = store<T>(std::exp(load(X[L]) - Max) * Scale);
        } else {
          A LogSum = std::log(Sum);
          for (size_t L = 0; L < Len; ++L)
            Y[L] = store<T>((load(X[L]) - Max) - LogSum);
        }
      }
    }
  }

  int32_t In, Out;
  AxisSplit S;
  size_t Blocks = 0;
};

template <SoftmaxKind Kind> std::unique_ptr<Kernel> makeSoftmax(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"axis"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_F64});
  const TensorInfo &X = *Ctx.input(0);
  Ctx.expectOutput(0, X.Type, X.Shape);
  if (X.Shape.empty())
    Ctx.invalid("input \"" + X.Name + "\" must have rank >= 1");
  size_t Axis = normalizeAxis(Ctx, "axis", Ctx.getInt("axis", -1), X.Shape.size());
  AxisSplit S = splitAt(X.Shape, Axis);
  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_floating_point_v<T> || isHalfLike<T>)
      K = std::make_unique<SoftmaxKernel<T, Kind>>(Ctx.inputId(0), Ctx.outputId(0), S);
  });
  return K;
}

} // namespace

void registerSoftmaxOps(OpRegistry &R) {
  R.add("Softmax", makeSoftmax<SoftmaxKind::Softmax>);
  R.add("LogSoftmax", makeSoftmax<SoftmaxKind::LogSoftmax>);
  R.add("Hardmax", makeSoftmax<SoftmaxKind::Hardmax>);
}

} // namespace optima_v2::native
