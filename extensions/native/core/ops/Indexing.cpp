// Op family: Gather, GatherElements, GatherND, ScatterElements, ScatterND, Scatter (deprecated
// alias of ScatterElements), OneHot, Compress. Index inputs are run-time data: every index is
// checked before it is used, and a bad one fails the request (KernelContext::fail) instead of
// reading or writing out of bounds.
#include "../TypeDispatch.h"
#include "MoveUtil.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace optima_v2::native {

using namespace move;

namespace {

size_t elemSize(const TensorInfo &T) { return elementSize(T.Type); }

bool isIndexType(int32_t T) { return T == OPTIMA_ELEMENT_I64 || T == OPTIMA_ELEMENT_I32; }

void requireIndices(const NodeContext &Ctx, size_t I) {
  const TensorInfo &T = *Ctx.input(I);
  if (!isIndexType(T.Type))
    Ctx.invalid("indices \"" + T.Name + "\" must be I64 or I32, got " + typeName(T.Type));
}

// Normalises a possibly negative index against Dim; false when out of [-Dim, Dim).
inline bool fixIndex(int64_t &I, int64_t Dim) noexcept {
  if (I < 0)
    I += Dim;
  return I >= 0 && I < Dim;
}

// ---- Gather --------------------------------------------------------------------------------

class GatherKernel final : public Kernel {
public:
  GatherKernel(int32_t Data, int32_t Idx, bool Is64, int32_t Out, size_t Outer, int64_t AxisDim,
               size_t Count, size_t BlockBytes)
      : Data(Data), Idx(Idx), Is64(Is64), Out(Out), Outer(Outer), AxisDim(AxisDim), Count(Count),
        BlockBytes(BlockBytes) {}
  void run(const KernelContext &Ctx) const override {
    const void *I = Ctx.tensor<const void>(Idx);
    for (size_t K = 0; K < Count; ++K) {
      int64_t V = loadIndex(I, K, Is64);
      if (!fixIndex(V, AxisDim))
        return Ctx.fail("indices[%zu] = %lld is out of range [-%lld, %lld)", K, (long long)loadIndex(I, K, Is64),
                        (long long)AxisDim, (long long)AxisDim);
    }
    const std::byte *X = Ctx.tensor<const std::byte>(Data);
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, BlockBytes));
    Ctx.parallelFor(Outer * Count, Grain, [&](size_t Begin, size_t End) {
      for (size_t J = Begin; J < End; ++J) {
        size_t O = J / Count, K = J % Count;
        int64_t V = loadIndex(I, K, Is64);
        fixIndex(V, AxisDim);
        std::memcpy(Y + J * BlockBytes, X + (O * size_t(AxisDim) + size_t(V)) * BlockBytes,
                    BlockBytes);
      }
    });
  }

private:
  int32_t Data, Idx;
  bool Is64;
  int32_t Out;
  size_t Outer;
  int64_t AxisDim;
  size_t Count, BlockBytes;
};

std::unique_ptr<Kernel> makeGather(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"axis"});
  const TensorInfo &X = *Ctx.input(0), &I = *Ctx.input(1);
  requireIndices(Ctx, 1);
  int64_t R = int64_t(X.Shape.size());
  if (R == 0)
    Ctx.invalid("data must have rank >= 1");
  size_t Axis = size_t(normalizeAxis(Ctx, Ctx.getInt("axis", 0), R, "axis"));
  Dims Out(X.Shape.begin(), X.Shape.begin() + Axis);
  Out.insert(Out.end(), I.Shape.begin(), I.Shape.end());
  Out.insert(Out.end(), X.Shape.begin() + Axis + 1, X.Shape.end());
  if (Out.size() > OPTIMA_EXT_MAX_DIMS)
    Ctx.invalid("output rank exceeds 8");
  Ctx.expectOutput(0, X.Type, Out);
  size_t Outer = 1, Inner = 1;
  for (size_t D = 0; D < Axis; ++D)
    Outer *= size_t(X.Shape[D]);
  for (size_t D = Axis + 1; D < size_t(R); ++D)
    Inner *= size_t(X.Shape[D]);
  return std::make_unique<GatherKernel>(Ctx.inputId(0), Ctx.inputId(1),
                                        I.Type == OPTIMA_ELEMENT_I64, Ctx.outputId(0), Outer,
                                        X.Shape[Axis], I.Elements, Inner * elemSize(X));
}

// ---- GatherElements / ScatterElements ------------------------------------------------------

// Walks every element of the index tensor (shape IdxShape) with the data offset of the same
// coordinates minus the axis term.
struct ElementWalk {
  Dims IdxShape;
  std::vector<int64_t> DataStrides; // of the data tensor
  size_t Axis = 0;
  int64_t AxisDim = 0;

  template <typename Fn> void forEach(const Fn &F) const {
    size_t R = IdxShape.size();
    size_t Total = 1;
    for (int64_t D : IdxShape)
      Total *= size_t(D);
    int64_t Idx[OPTIMA_EXT_MAX_DIMS] = {};
    int64_t Base = 0;
    for (size_t K = 0; K < Total; ++K) {
      if (!F(K, Base))
        return;
      for (size_t D = R; D-- > 0;) {
        if (D != Axis)
          Base += DataStrides[D];
        if (++Idx[D] < IdxShape[D])
          break;
        if (D != Axis)
          Base -= DataStrides[D] * IdxShape[D];
        Idx[D] = 0;
      }
    }
  }
};

ElementWalk planElementWalk(const NodeContext &Ctx, const TensorInfo &X, const TensorInfo &I,
                            int64_t AxisAttr) {
  int64_t R = int64_t(X.Shape.size());
  if (R == 0)
    Ctx.invalid("data must have rank >= 1");
  if (I.Shape.size() != X.Shape.size())
    Ctx.invalid("indices " + formatShape(I.Shape) + " must have the rank of data " +
                formatShape(X.Shape));
  ElementWalk W;
  W.Axis = size_t(normalizeAxis(Ctx, AxisAttr, R, "axis"));
  W.IdxShape = I.Shape;
  W.DataStrides = stridesOf(X.Shape);
  W.AxisDim = X.Shape[W.Axis];
  return W;
}

class GatherElementsKernel final : public Kernel {
public:
  GatherElementsKernel(int32_t Data, int32_t Idx, bool Is64, int32_t Out, size_t E, ElementWalk W)
      : Data(Data), Idx(Idx), Is64(Is64), Out(Out), E(E), W(std::move(W)) {}
  void run(const KernelContext &Ctx) const override {
    const std::byte *X = Ctx.tensor<const std::byte>(Data);
    const void *I = Ctx.tensor<const void>(Idx);
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    int64_t AxisStride = W.DataStrides[W.Axis];
    W.forEach([&](size_t K, int64_t Base) {
      int64_t V = loadIndex(I, K, Is64);
      if (!fixIndex(V, W.AxisDim)) {
        Ctx.fail("indices[%zu] = %lld is out of range for axis dim %lld", K,
                 (long long)loadIndex(I, K, Is64), (long long)W.AxisDim);
        return false;
      }
      std::memcpy(Y + K * E, X + size_t(Base + V * AxisStride) * E, E);
      return true;
    });
  }

private:
  int32_t Data, Idx;
  bool Is64;
  int32_t Out;
  size_t E;
  ElementWalk W;
};

std::unique_ptr<Kernel> makeGatherElements(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"axis"});
  const TensorInfo &X = *Ctx.input(0), &I = *Ctx.input(1);
  requireIndices(Ctx, 1);
  ElementWalk W = planElementWalk(Ctx, X, I, Ctx.getInt("axis", 0));
  Ctx.expectOutput(0, X.Type, I.Shape);
  return std::make_unique<GatherElementsKernel>(Ctx.inputId(0), Ctx.inputId(1),
                                                I.Type == OPTIMA_ELEMENT_I64, Ctx.outputId(0),
                                                elemSize(X), std::move(W));
}

enum class Reduction { None, Add, Mul, Max, Min };

Reduction parseReduction(const NodeContext &Ctx) {
  std::string S = Ctx.getString("reduction", "none");
  if (S == "none")
    return Reduction::None;
  if (S == "add")
    return Reduction::Add;
  if (S == "mul")
    return Reduction::Mul;
  if (S == "max")
    return Reduction::Max;
  if (S == "min")
    return Reduction::Min;
  Ctx.invalidAttribute("reduction", "expected none, add, mul, max or min, got \"" + S + "\"");
}

template <typename T> inline void combine(T *Dst, const T *Src, Reduction R) noexcept {
  T A, B;
  std::memcpy(&A, Dst, sizeof(T));
  std::memcpy(&B, Src, sizeof(T));
  if constexpr (std::is_same_v<T, bool>) {
    switch (R) {
    case Reduction::None: A = B; break;
    case Reduction::Add: case Reduction::Max: A = A || B; break;
    case Reduction::Mul: case Reduction::Min: A = A && B; break;
    }
  } else {
    auto X = load(A), Y = load(B);
    switch (R) {
    case Reduction::None: X = Y; break;
    case Reduction::Add: X = decltype(X)(X + Y); break;
    case Reduction::Mul: X = decltype(X)(X * Y); break;
    case Reduction::Max: X = std::max(X, Y); break;
    case Reduction::Min: X = std::min(X, Y); break;
    }
    A = store<T>(X);
  }
  std::memcpy(Dst, &A, sizeof(T));
}

using CombineFn = void (*)(std::byte *Dst, const std::byte *Src, size_t Count, Reduction R);

template <typename T> void combineRun(std::byte *Dst, const std::byte *Src, size_t N, Reduction R) {
  for (size_t K = 0; K < N; ++K)
    combine<T>(reinterpret_cast<T *>(Dst) + K, reinterpret_cast<const T *>(Src) + K, R);
}

CombineFn pickCombine(int32_t Type) {
  CombineFn F = nullptr;
  dispatchType(Type, [&](auto Tag) { F = combineRun<typename decltype(Tag)::type>; });
  return F;
}

class ScatterElementsKernel final : public Kernel {
public:
  ScatterElementsKernel(int32_t Data, int32_t Idx, bool Is64, int32_t Upd, int32_t Out, size_t E,
                        size_t DataBytes, ElementWalk W, Reduction R, CombineFn F)
      : Data(Data), Idx(Idx), Is64(Is64), Upd(Upd), Out(Out), E(E), DataBytes(DataBytes),
        W(std::move(W)), R(R), F(F) {}
  void run(const KernelContext &Ctx) const override {
    const void *I = Ctx.tensor<const void>(Idx);
    const std::byte *U = Ctx.tensor<const std::byte>(Upd);
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    bool Ok = true;
    W.forEach([&](size_t K, int64_t) {
      int64_t V = loadIndex(I, K, Is64);
      if (!fixIndex(V, W.AxisDim)) {
        Ctx.fail("indices[%zu] = %lld is out of range for axis dim %lld", K,
                 (long long)loadIndex(I, K, Is64), (long long)W.AxisDim);
        Ok = false;
      }
      return Ok;
    });
    if (!Ok)
      return;
    const std::byte *X = Ctx.tensor<const std::byte>(Data);
    if (X != Y && DataBytes)
      std::memcpy(Y, X, DataBytes);
    int64_t AxisStride = W.DataStrides[W.Axis];
    // Serial: duplicate indices must apply in order (last write wins for "none").
    W.forEach([&](size_t K, int64_t Base) {
      int64_t V = loadIndex(I, K, Is64);
      fixIndex(V, W.AxisDim);
      F(Y + size_t(Base + V * AxisStride) * E, U + K * E, 1, R);
      return true;
    });
  }

private:
  int32_t Data, Idx;
  bool Is64;
  int32_t Upd, Out;
  size_t E, DataBytes;
  ElementWalk W;
  Reduction R;
  CombineFn F;
};

std::unique_ptr<Kernel> makeScatterElements(const NodeContext &Ctx) {
  Ctx.expectArity(3, 3, 1);
  Ctx.allowAttributes({"axis", "reduction"});
  const TensorInfo &X = *Ctx.input(0), &I = *Ctx.input(1), &U = *Ctx.input(2);
  requireIndices(Ctx, 1);
  if (U.Type != X.Type || U.Shape != I.Shape)
    Ctx.invalid("updates " + describe(U.Type, U.Shape) + " must have the type of data (" +
                typeName(X.Type) + ") and the shape of indices " + formatShape(I.Shape));
  ElementWalk W = planElementWalk(Ctx, X, I, Ctx.getInt("axis", 0));
  for (size_t D = 0; D < X.Shape.size(); ++D)
    if (D != W.Axis && I.Shape[D] > X.Shape[D])
      Ctx.invalid("indices " + formatShape(I.Shape) + " exceed data " + formatShape(X.Shape) +
                  " outside the axis");
  Ctx.expectOutput(0, X.Type, X.Shape);
  return std::make_unique<ScatterElementsKernel>(
      Ctx.inputId(0), Ctx.inputId(1), I.Type == OPTIMA_ELEMENT_I64, Ctx.inputId(2),
      Ctx.outputId(0), elemSize(X), X.Bytes, std::move(W), parseReduction(Ctx),
      pickCombine(X.Type));
}

// ---- GatherND / ScatterND ------------------------------------------------------------------

// Index tuples of length K address slices of SliceElems elements; batch_dims leading dims are
// shared by data and indices.
struct NDPlan {
  size_t Batch = 1;          // product of the batch dims
  size_t Tuples = 1;         // index tuples per batch
  size_t K = 0;              // tuple length
  std::vector<int64_t> Dims; // data dims addressed by a tuple
  std::vector<int64_t> Strides; // their element strides within one batch block
  size_t SliceElems = 1;
  size_t BatchElems = 1; // data elements per batch
};

bool checkTuples(const KernelContext &Ctx, const NDPlan &P, const void *I, bool Is64) {
  for (size_t T = 0; T < P.Batch * P.Tuples; ++T)
    for (size_t J = 0; J < P.K; ++J) {
      int64_t V = loadIndex(I, T * P.K + J, Is64);
      if (!fixIndex(V, P.Dims[J])) {
        Ctx.fail("index tuple %zu, component %zu = %lld is out of range for dim %lld", T, J,
                 (long long)loadIndex(I, T * P.K + J, Is64), (long long)P.Dims[J]);
        return false;
      }
    }
  return true;
}

size_t tupleOffset(const NDPlan &P, const void *I, size_t T, bool Is64) {
  size_t Off = 0;
  for (size_t J = 0; J < P.K; ++J) {
    int64_t V = loadIndex(I, T * P.K + J, Is64);
    fixIndex(V, P.Dims[J]);
    Off += size_t(V * P.Strides[J]);
  }
  return Off;
}

NDPlan planND(const NodeContext &Ctx, const TensorInfo &X, const TensorInfo &I, int64_t BatchDims) {
  size_t R = X.Shape.size(), Q = I.Shape.size();
  if (R < 1 || Q < 1)
    Ctx.invalid("data and indices must have rank >= 1");
  if (BatchDims < 0 || size_t(BatchDims) >= std::min(R, Q))
    Ctx.invalidAttribute("batch_dims", "must be in [0, min(rank(data), rank(indices)))");
  size_t B = size_t(BatchDims);
  NDPlan P;
  P.K = size_t(I.Shape.back());
  if (I.Shape.back() < 1 || P.K > R - B)
    Ctx.invalid("indices last dim " + std::to_string(I.Shape.back()) + " must be in [1, " +
                std::to_string(R - B) + "]");
  for (size_t D = 0; D < B; ++D) {
    if (X.Shape[D] != I.Shape[D])
      Ctx.invalid("batch dim " + std::to_string(D) + " differs between data and indices");
    P.Batch *= size_t(X.Shape[D]);
  }
  for (size_t D = B; D + 1 < Q; ++D)
    P.Tuples *= size_t(I.Shape[D]);
  std::vector<int64_t> S = stridesOf(X.Shape);
  for (size_t J = 0; J < P.K; ++J) {
    P.Dims.push_back(X.Shape[B + J]);
    P.Strides.push_back(S[B + J]);
  }
  for (size_t D = B + P.K; D < R; ++D)
    P.SliceElems *= size_t(X.Shape[D]);
  for (size_t D = B; D < R; ++D)
    P.BatchElems *= size_t(X.Shape[D]);
  return P;
}

class GatherNDKernel final : public Kernel {
public:
  GatherNDKernel(int32_t Data, int32_t Idx, bool Is64, int32_t Out, size_t E, NDPlan P)
      : Data(Data), Idx(Idx), Is64(Is64), Out(Out), E(E), P(std::move(P)) {}
  void run(const KernelContext &Ctx) const override {
    const void *I = Ctx.tensor<const void>(Idx);
    if (!checkTuples(Ctx, P, I, Is64))
      return;
    const std::byte *X = Ctx.tensor<const std::byte>(Data);
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    size_t Slice = P.SliceElems * E;
    for (size_t T = 0; T < P.Batch * P.Tuples; ++T) {
      size_t Batch = T / P.Tuples;
      std::memcpy(Y + T * Slice, X + (Batch * P.BatchElems + tupleOffset(P, I, T, Is64)) * E,
                  Slice);
    }
  }

private:
  int32_t Data, Idx;
  bool Is64;
  int32_t Out;
  size_t E;
  NDPlan P;
};

std::unique_ptr<Kernel> makeGatherND(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"batch_dims"});
  const TensorInfo &X = *Ctx.input(0), &I = *Ctx.input(1);
  requireIndices(Ctx, 1);
  int64_t B = Ctx.getInt("batch_dims", 0);
  NDPlan P = planND(Ctx, X, I, B);
  Dims Out(I.Shape.begin(), I.Shape.end() - 1);
  Out.insert(Out.end(), X.Shape.begin() + B + int64_t(P.K), X.Shape.end());
  Ctx.expectOutput(0, X.Type, Out);
  return std::make_unique<GatherNDKernel>(Ctx.inputId(0), Ctx.inputId(1),
                                          I.Type == OPTIMA_ELEMENT_I64, Ctx.outputId(0),
                                          elemSize(X), std::move(P));
}

class ScatterNDKernel final : public Kernel {
public:
  ScatterNDKernel(int32_t Data, int32_t Idx, bool Is64, int32_t Upd, int32_t Out, size_t E,
                  size_t DataBytes, NDPlan P, Reduction R, CombineFn F)
      : Data(Data), Idx(Idx), Is64(Is64), Upd(Upd), Out(Out), E(E), DataBytes(DataBytes),
        P(std::move(P)), R(R), F(F) {}
  void run(const KernelContext &Ctx) const override {
    const void *I = Ctx.tensor<const void>(Idx);
    if (!checkTuples(Ctx, P, I, Is64))
      return;
    const std::byte *X = Ctx.tensor<const std::byte>(Data);
    const std::byte *U = Ctx.tensor<const std::byte>(Upd);
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    if (X != Y && DataBytes)
      std::memcpy(Y, X, DataBytes);
    for (size_t T = 0; T < P.Tuples; ++T)
      F(Y + tupleOffset(P, I, T, Is64) * E, U + T * P.SliceElems * E, P.SliceElems, R);
  }

private:
  int32_t Data, Idx;
  bool Is64;
  int32_t Upd, Out;
  size_t E, DataBytes;
  NDPlan P;
  Reduction R;
  CombineFn F;
};

std::unique_ptr<Kernel> makeScatterND(const NodeContext &Ctx) {
  Ctx.expectArity(3, 3, 1);
  Ctx.allowAttributes({"reduction"});
  const TensorInfo &X = *Ctx.input(0), &I = *Ctx.input(1), &U = *Ctx.input(2);
  requireIndices(Ctx, 1);
  NDPlan P = planND(Ctx, X, I, 0);
  Dims UShape(I.Shape.begin(), I.Shape.end() - 1);
  UShape.insert(UShape.end(), X.Shape.begin() + int64_t(P.K), X.Shape.end());
  if (U.Type != X.Type || U.Shape != UShape)
    Ctx.invalid("updates is " + describe(U.Type, U.Shape) + ", expected " +
                describe(X.Type, UShape));
  Ctx.expectOutput(0, X.Type, X.Shape);
  return std::make_unique<ScatterNDKernel>(Ctx.inputId(0), Ctx.inputId(1),
                                           I.Type == OPTIMA_ELEMENT_I64, Ctx.inputId(2),
                                           Ctx.outputId(0), elemSize(X), X.Bytes, std::move(P),
                                           parseReduction(Ctx), pickCombine(X.Type));
}

// ---- OneHot --------------------------------------------------------------------------------

using IndexLoader = int64_t (*)(const void *Base, size_t I);

template <typename T> int64_t loadAsIndex(const void *Base, size_t I) {
  T V;
  std::memcpy(&V, static_cast<const std::byte *>(Base) + I * sizeof(T), sizeof(T));
  if constexpr (std::is_floating_point_v<T> || isHalfLike<T>) {
    double D = double(load(V));
    if (!(D > -9.2e18 && D < 9.2e18))
      return INT64_MIN; // NaN/huge: never a valid index, so the row stays "off"
    return int64_t(std::trunc(D));
  } else {
    return int64_t(V);
  }
}

class OneHotKernel final : public Kernel {
public:
  OneHotKernel(int32_t Idx, IndexLoader Load, int32_t Values, int32_t Out, size_t E, size_t Outer,
               int64_t Depth, size_t Inner)
      : Idx(Idx), Load(Load), Values(Values), Out(Out), E(E), Outer(Outer), Depth(Depth),
        Inner(Inner) {}
  void run(const KernelContext &Ctx) const override {
    const void *I = Ctx.tensor<const void>(Idx);
    const std::byte *V = Ctx.tensor<const std::byte>(Values);
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    for (size_t O = 0; O < Outer; ++O)
      for (int64_t D = 0; D < Depth; ++D)
        for (size_t In = 0; In < Inner; ++In)
          std::memcpy(Y + ((O * size_t(Depth) + size_t(D)) * Inner + In) * E, V, E);
    for (size_t O = 0; O < Outer; ++O)
      for (size_t In = 0; In < Inner; ++In) {
        int64_t K = Load(I, O * Inner + In);
        if (K < -Depth || K >= Depth)
          continue; // out of range: the whole row stays "off" (ONNX)
        if (K < 0)
          K += Depth;
        std::memcpy(Y + ((O * size_t(Depth) + size_t(K)) * Inner + In) * E, V + E, E);
      }
  }

private:
  int32_t Idx;
  IndexLoader Load;
  int32_t Values, Out;
  size_t E, Outer;
  int64_t Depth;
  size_t Inner;
};

std::unique_ptr<Kernel> makeOneHot(const NodeContext &Ctx) {
  Ctx.expectArity(3, 3, 1);
  Ctx.allowAttributes({"axis"});
  const TensorInfo &I = *Ctx.input(0), &Vals = *Ctx.input(2);
  const TensorInfo &DepthT = *Ctx.input(1);
  if (DepthT.Elements != 1)
    Ctx.invalid("depth must hold one value");
  int64_t Depth;
  if (isIndexType(DepthT.Type)) {
    Depth = constInts(Ctx, 1, "depth")[0];
  } else {
    double D = constFloats(Ctx, 1, "depth")[0];
    if (!(D >= 1 && D < 1e9))
      Ctx.invalid("depth must be >= 1");
    Depth = int64_t(D);
  }
  if (Depth < 1)
    Ctx.invalid("depth must be >= 1, got " + std::to_string(Depth));
  if (Vals.Elements != 2 || Vals.Shape.size() != 1)
    Ctx.invalid("values must be a 2-element 1-D tensor [off, on], got " + formatShape(Vals.Shape));
  IndexLoader Load = nullptr;
  dispatchType(I.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (!std::is_same_v<T, bool>)
      Load = loadAsIndex<T>;
  });
  if (!Load)
    Ctx.unsupported(std::string(typeName(I.Type)) + " indices");
  int64_t R = int64_t(I.Shape.size());
  int64_t Axis = Ctx.getInt("axis", -1);
  if (Axis < -(R + 1) || Axis > R)
    Ctx.invalidAttribute("axis", "is out of range for output rank " + std::to_string(R + 1));
  if (Axis < 0)
    Axis += R + 1;
  Dims Out = I.Shape;
  Out.insert(Out.begin() + Axis, Depth);
  size_t Count;
  if (!checkedElementCount(Out, elemSize(Vals), Count))
    Ctx.invalid("output is too large");
  Ctx.expectOutput(0, Vals.Type, Out);
  size_t Outer = 1, Inner = 1;
  for (int64_t D = 0; D < R; ++D)
    (D < Axis ? Outer : Inner) *= size_t(I.Shape[size_t(D)]);
  return std::make_unique<OneHotKernel>(Ctx.inputId(0), Load, Ctx.inputId(2), Ctx.outputId(0),
                                        elemSize(Vals), Outer, Depth, Inner);
}

// ---- Compress ------------------------------------------------------------------------------

class CompressKernel final : public Kernel {
public:
  CompressKernel(int32_t In, int32_t Out, size_t Outer, size_t AxisDim, size_t BlockBytes,
                 std::vector<size_t> Keep)
      : In(In), Out(Out), Outer(Outer), AxisDim(AxisDim), BlockBytes(BlockBytes),
        Keep(std::move(Keep)) {}
  void run(const KernelContext &Ctx) const override {
    const std::byte *X = Ctx.tensor<const std::byte>(In);
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    for (size_t O = 0; O < Outer; ++O)
      for (size_t K = 0; K < Keep.size(); ++K)
        std::memcpy(Y + (O * Keep.size() + K) * BlockBytes,
                    X + (O * AxisDim + Keep[K]) * BlockBytes, BlockBytes);
  }

private:
  int32_t In, Out;
  size_t Outer, AxisDim, BlockBytes;
  std::vector<size_t> Keep;
};

std::unique_ptr<Kernel> makeCompress(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"axis"});
  const TensorInfo &X = *Ctx.input(0), &C = *Ctx.input(1);
  if (C.Type != OPTIMA_ELEMENT_BOOL || C.Shape.size() != 1)
    Ctx.invalid("condition must be a 1-D BOOL tensor, got " + describe(C.Type, C.Shape));
  if (C.Where != Storage::Constant)
    Ctx.unsupported("condition input \"" + C.Name +
                    "\" must be a constant: output shape depends on its values");
  size_t Outer = 1, AxisDim = X.Elements, Inner = 1;
  Dims Out;
  bool HasAxis = Ctx.hasAttribute("axis");
  size_t Axis = 0;
  if (HasAxis) {
    Axis = size_t(normalizeAxis(Ctx, Ctx.getInt("axis", 0), int64_t(X.Shape.size()), "axis"));
    AxisDim = size_t(X.Shape[Axis]);
    for (size_t D = 0; D < X.Shape.size(); ++D)
      if (D < Axis)
        Outer *= size_t(X.Shape[D]);
      else if (D > Axis)
        Inner *= size_t(X.Shape[D]);
  }
  std::vector<size_t> Keep;
  const uint8_t *Cond = static_cast<const uint8_t *>(C.Data);
  for (size_t I = 0; I < C.Elements && I < AxisDim; ++I)
    if (Cond[I])
      Keep.push_back(I);
  if (HasAxis) {
    Out = X.Shape;
    Out[Axis] = int64_t(Keep.size());
  } else {
    Out = {int64_t(Keep.size())};
  }
  Ctx.expectOutput(0, X.Type, Out);
  return std::make_unique<CompressKernel>(Ctx.inputId(0), Ctx.outputId(0), Outer, AxisDim,
                                          Inner * elemSize(X), std::move(Keep));
}

std::unique_ptr<Kernel> makeScatter(const NodeContext &Ctx) {
  if (Ctx.hasAttribute("reduction"))
    Ctx.unsupported("attribute \"reduction\" on deprecated Scatter");
  return makeScatterElements(Ctx);
}

} // namespace

void registerIndexingOps(OpRegistry &R) {
  R.add("Gather", makeGather);
  R.add("GatherElements", makeGatherElements);
  R.add("GatherND", makeGatherND);
  R.add("ScatterElements", makeScatterElements);
  R.add("Scatter", makeScatter);
  R.add("ScatterND", makeScatterND);
  R.add("OneHot", makeOneHot);
  R.add("Compress", makeCompress);
}

} // namespace optima_v2::native
