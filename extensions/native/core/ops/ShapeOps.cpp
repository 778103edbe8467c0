// Identity, Reshape, Flatten, Squeeze, Unsqueeze: the data is unchanged (row-major), so each is
// a byte copy; any element type. Reshape's shape must be a constant I64 tensor (static shapes
// only). Shape, Size, Constant, ConstantOfShape, Range, EyeLike: their values are known at load
// (static shapes, constant inputs), so run() writes bytes prepared then.
#include "../TypeDispatch.h"
#include "MoveUtil.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace optima_v2::native {

namespace {

std::unique_ptr<Kernel> makeCopy(const NodeContext &Ctx) { return move::makeCopyKernel(Ctx); }

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

using move::constInts;
using move::normalizeAxis;

std::unique_ptr<Kernel> makeSqueeze(const NodeContext &Ctx) {
  Ctx.expectArity(1, 2, 1);
  Ctx.allowAttributes({"axes"});
  const TensorInfo &X = *Ctx.input(0);
  int64_t R = int64_t(X.Shape.size());
  std::vector<int64_t> Axes = Ctx.input(1) ? constInts(Ctx, 1, "axes") : Ctx.getInts("axes", {});
  bool HasAxes = Ctx.input(1) || Ctx.hasAttribute("axes");
  std::vector<bool> Drop(size_t(R), false);
  if (HasAxes) {
    for (int64_t A : Axes) {
      size_t N = size_t(normalizeAxis(Ctx, A, R, "axes"));
      if (X.Shape[N] != 1)
        Ctx.invalid("cannot squeeze axis " + std::to_string(A) + " of " + formatShape(X.Shape) +
                    ": its dim is not 1");
      Drop[N] = true;
    }
  } else {
    for (size_t I = 0; I < size_t(R); ++I)
      Drop[I] = X.Shape[I] == 1;
  }
  Dims Out;
  for (size_t I = 0; I < size_t(R); ++I)
    if (!Drop[I])
      Out.push_back(X.Shape[I]);
  Ctx.expectOutput(0, X.Type, Out);
  return makeCopy(Ctx);
}

std::unique_ptr<Kernel> makeUnsqueeze(const NodeContext &Ctx) {
  Ctx.expectArity(1, 2, 1);
  Ctx.allowAttributes({"axes"});
  const TensorInfo &X = *Ctx.input(0);
  if (!Ctx.input(1) && !Ctx.hasAttribute("axes"))
    Ctx.invalid("axes are required (input 1 or attribute)");
  std::vector<int64_t> Axes = Ctx.input(1) ? constInts(Ctx, 1, "axes") : Ctx.getInts("axes", {});
  int64_t R = int64_t(X.Shape.size() + Axes.size());
  if (R > int64_t(OPTIMA_EXT_MAX_DIMS))
    Ctx.invalid("output rank " + std::to_string(R) + " exceeds 8");
  std::vector<bool> New(size_t(R), false);
  for (int64_t A : Axes) {
    size_t N = size_t(normalizeAxis(Ctx, A, R, "axes"));
    if (New[N])
      Ctx.invalid("axes repeat axis " + std::to_string(N));
    New[N] = true;
  }
  Dims Out;
  size_t Next = 0;
  for (size_t I = 0; I < size_t(R); ++I)
    Out.push_back(New[I] ? 1 : X.Shape[Next++]);
  Ctx.expectOutput(0, X.Type, Out);
  return makeCopy(Ctx);
}

// Writes bytes prepared at load (the op's result does not depend on input values).
class FillKernel final : public Kernel {
public:
  FillKernel(int32_t Out, std::vector<std::byte> Pattern, size_t Repeat)
      : Out(Out), Pattern(std::move(Pattern)), Repeat(Repeat) {}
  void run(const KernelContext &Ctx) const override {
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    size_t N = Pattern.size();
    if (N == 0)
      return;
    for (size_t I = 0; I < Repeat; ++I)
      std::memcpy(Y + I * N, Pattern.data(), N);
  }

private:
  int32_t Out;
  std::vector<std::byte> Pattern;
  size_t Repeat;
};

template <typename T> std::vector<std::byte> bytesOf(const std::vector<T> &V) {
  std::vector<std::byte> B(V.size() * sizeof(T));
  if (!B.empty())
    std::memcpy(B.data(), V.data(), B.size());
  return B;
}

std::unique_ptr<Kernel> makeShape(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"start", "end"});
  const TensorInfo &X = *Ctx.input(0);
  int64_t R = int64_t(X.Shape.size());
  int64_t Start = Ctx.getInt("start", 0), End = Ctx.getInt("end", R);
  Start = std::clamp<int64_t>(Start < 0 ? Start + R : Start, 0, R);
  End = std::clamp<int64_t>(End < 0 ? End + R : End, 0, R);
  std::vector<int64_t> V;
  for (int64_t I = Start; I < End; ++I)
    V.push_back(X.Shape[size_t(I)]);
  Ctx.expectOutput(0, OPTIMA_ELEMENT_I64, {int64_t(V.size())});
  return std::make_unique<FillKernel>(Ctx.outputId(0), bytesOf(V), 1);
}

std::unique_ptr<Kernel> makeSize(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({});
  Ctx.expectOutput(0, OPTIMA_ELEMENT_I64, {});
  return std::make_unique<FillKernel>(
      Ctx.outputId(0), bytesOf(std::vector<int64_t>{int64_t(Ctx.input(0)->Elements)}), 1);
}

std::vector<std::byte> tensorBytes(const TensorInfo &T) {
  std::vector<std::byte> B(T.Bytes);
  if (T.Bytes)
    std::memcpy(B.data(), T.Data, T.Bytes);
  return B;
}

std::unique_ptr<Kernel> makeConstantOfShape(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"value"});
  std::vector<int64_t> Shape = constInts(Ctx, 0, "shape");
  for (int64_t D : Shape)
    if (D < 0)
      Ctx.invalid("shape has a negative dim");
  int32_t Type = OPTIMA_ELEMENT_F32;
  std::vector<std::byte> Pattern(4, std::byte{0});
  if (const TensorInfo *V = Ctx.getTensor("value")) {
    if (V->Elements != 1)
      Ctx.invalidAttribute("value", "must hold exactly one element");
    Type = V->Type;
    Pattern = tensorBytes(*V);
  }
  size_t Count;
  if (!checkedElementCount(Shape, elementSize(Type), Count))
    Ctx.invalid("output is too large");
  Ctx.expectOutput(0, Type, Shape);
  return std::make_unique<FillKernel>(Ctx.outputId(0), std::move(Pattern), Count);
}

std::unique_ptr<Kernel> makeConstant(const NodeContext &Ctx) {
  Ctx.expectArity(0, 0, 1);
  Ctx.allowAttributes({"value", "value_float", "value_floats", "value_int", "value_ints"});
  if (Ctx.node().Attributes.size() != 1)
    Ctx.invalid("expected exactly one value attribute");
  const std::string &Name = Ctx.node().Attributes[0].Name;
  if (const TensorInfo *V = Ctx.getTensor("value")) {
    Ctx.expectOutput(0, V->Type, V->Shape);
    return std::make_unique<FillKernel>(Ctx.outputId(0), tensorBytes(*V), 1);
  }
  if (Name == "value_float") {
    Ctx.expectOutput(0, OPTIMA_ELEMENT_F32, {});
    return std::make_unique<FillKernel>(
        Ctx.outputId(0), bytesOf(std::vector<float>{float(Ctx.getFloat("value_float", 0))}), 1);
  }
  if (Name == "value_floats") {
    std::vector<double> D = Ctx.getFloats("value_floats", {});
    Ctx.expectOutput(0, OPTIMA_ELEMENT_F32, {int64_t(D.size())});
    return std::make_unique<FillKernel>(Ctx.outputId(0),
                                        bytesOf(std::vector<float>(D.begin(), D.end())), 1);
  }
  if (Name == "value_int") {
    Ctx.expectOutput(0, OPTIMA_ELEMENT_I64, {});
    return std::make_unique<FillKernel>(
        Ctx.outputId(0), bytesOf(std::vector<int64_t>{Ctx.getInt("value_int", 0)}), 1);
  }
  std::vector<int64_t> I = Ctx.getInts("value_ints", {});
  Ctx.expectOutput(0, OPTIMA_ELEMENT_I64, {int64_t(I.size())});
  return std::make_unique<FillKernel>(Ctx.outputId(0), bytesOf(I), 1);
}

std::unique_ptr<Kernel> makeRange(const NodeContext &Ctx) {
  Ctx.expectArity(3, 3, 1);
  Ctx.allowAttributes({});
  int32_t Type = Ctx.input(0)->Type;
  for (size_t I = 0; I < 3; ++I) {
    const TensorInfo &T = *Ctx.input(I);
    if (T.Type != Type || T.Elements != 1)
      Ctx.invalid("start, limit and delta must be scalars of one type");
    if (T.Where != Storage::Constant)
      Ctx.unsupported("input \"" + T.Name +
                      "\" must be a constant: output shape depends on its values");
  }
  std::vector<std::byte> Bytes;
  bool Ok = false;
  int64_t Count = 0;
  dispatchType(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      return;
    } else {
      // F16/BF16 are computed in float (ComputeType), the others in their own type.
      using C = ComputeType<T>;
      C V[3];
      for (size_t I = 0; I < 3; ++I) {
        T Raw;
        std::memcpy(&Raw, Ctx.input(I)->Data, sizeof(T));
        V[I] = load(Raw);
      }
      if (V[2] == C(0))
        Ctx.invalid("delta must not be 0");
      double N = std::ceil((double(V[1]) - double(V[0])) / double(V[2]));
      if (!(N < 1e9))
        Ctx.invalid("range is too large");
      Count = N > 0 ? int64_t(N) : 0;
      std::vector<T> Out(static_cast<size_t>(Count));
      for (int64_t I = 0; I < Count; ++I)
        Out[size_t(I)] = store<T>(C(V[0] + C(I) * V[2]));
      Bytes = bytesOf(Out);
      Ok = true;
    }
  });
  if (!Ok)
    Ctx.unsupported(std::string(typeName(Type)) + " inputs");
  Ctx.expectOutput(0, Type, {Count});
  return std::make_unique<FillKernel>(Ctx.outputId(0), std::move(Bytes), 1);
}

std::unique_ptr<Kernel> makeEyeLike(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"dtype", "k"});
  const TensorInfo &X = *Ctx.input(0);
  if (X.Shape.size() != 2)
    Ctx.invalid("input must be 2-D, got " + formatShape(X.Shape));
  int32_t Type = X.Type;
  if (Ctx.hasAttribute("dtype") && !move::onnxTypeToElement(Ctx.getInt("dtype", 0), Type))
    Ctx.unsupported("dtype " + std::to_string(Ctx.getInt("dtype", 0)));
  int64_t K = Ctx.getInt("k", 0);
  Ctx.expectOutput(0, Type, X.Shape);
  size_t E = elementSize(Type);
  std::vector<std::byte> One(E);
  dispatchType(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    T V = store<T>(ComputeType<T>(1));
    std::memcpy(One.data(), &V, E);
  });
  int64_t N = X.Shape[0], M = X.Shape[1];
  std::vector<std::byte> Bytes(size_t(N * M) * E, std::byte{0});
  for (int64_t I = 0; I < N; ++I) {
    int64_t J = I + K;
    if (J >= 0 && J < M)
      std::memcpy(Bytes.data() + size_t(I * M + J) * E, One.data(), E);
  }
  return std::make_unique<FillKernel>(Ctx.outputId(0), std::move(Bytes), 1);
}

} // namespace

void registerShapeOps(OpRegistry &R) {
  R.add("Identity", makeIdentity);
  R.add("Reshape", makeReshape);
  R.add("Flatten", makeFlatten);
  R.add("Squeeze", makeSqueeze);
  R.add("Unsqueeze", makeUnsqueeze);
  R.add("Shape", makeShape);
  R.add("Size", makeSize);
  R.add("ConstantOfShape", makeConstantOfShape);
  R.add("Constant", makeConstant);
  R.add("Range", makeRange);
  R.add("EyeLike", makeEyeLike);
}

} // namespace optima_v2::native
