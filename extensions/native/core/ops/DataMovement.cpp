// Op family: Transpose, Concat, Split, Slice, Pad, Tile, Expand, DepthToSpace, SpaceToDepth,
// Trilu, ReverseSequence. All move bytes, so they are type-agnostic (any element type); shapes
// are static, so every index map is planned at load.
#include "../Broadcast.h"
#include "../TypeDispatch.h"
#include "MoveUtil.h"

#include <algorithm>
#include <cstring>

namespace optima_v2::native {

using namespace move;

namespace {

size_t elemSize(const TensorInfo &T) { return elementSize(T.Type); }

// ---- Transpose -----------------------------------------------------------------------------

std::unique_ptr<Kernel> makeTranspose(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"perm"});
  const TensorInfo &X = *Ctx.input(0);
  size_t R = X.Shape.size();
  std::vector<int64_t> Perm(R);
  for (size_t I = 0; I < R; ++I)
    Perm[I] = int64_t(R - 1 - I);
  if (Ctx.hasAttribute("perm"))
    Perm = Ctx.getInts("perm", {});
  if (Perm.size() != R)
    Ctx.invalidAttribute("perm", "has " + std::to_string(Perm.size()) +
                                     " entries but the input has rank " + std::to_string(R));
  std::vector<bool> Seen(R, false);
  for (int64_t &P : Perm) {
    P = normalizeAxis(Ctx, P, int64_t(R), "perm");
    if (Seen[size_t(P)])
      Ctx.invalidAttribute("perm", "is not a permutation");
    Seen[size_t(P)] = true;
  }
  std::vector<int64_t> InStrides = stridesOf(X.Shape), Src(R);
  Dims Out(R);
  for (size_t I = 0; I < R; ++I) {
    Out[I] = X.Shape[size_t(Perm[I])];
    Src[I] = InStrides[size_t(Perm[I])];
  }
  Ctx.expectOutput(0, X.Type, Out);
  return makeStridedKernel(Ctx, planStrided(Out, Src, 0, elemSize(X)));
}

// ---- Concat --------------------------------------------------------------------------------

class ConcatKernel final : public Kernel {
public:
  struct Part {
    int32_t Id;
    size_t RowBytes;
  };
  ConcatKernel(std::vector<Part> Parts, int32_t Out, size_t Outer, size_t OutRowBytes)
      : Parts(std::move(Parts)), Out(Out), Outer(Outer), OutRowBytes(OutRowBytes) {}
  void run(const KernelContext &Ctx) const override {
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    size_t Grain = std::max<size_t>(1, (size_t(1) << 15) / std::max<size_t>(1, OutRowBytes));
    Ctx.parallelFor(Outer, Grain, [&](size_t Begin, size_t End) {
      for (size_t O = Begin; O < End; ++O) {
        std::byte *Dst = Y + O * OutRowBytes;
        for (const Part &P : Parts) {
          if (P.RowBytes)
            std::memcpy(Dst, Ctx.tensor<const std::byte>(P.Id) + O * P.RowBytes, P.RowBytes);
          Dst += P.RowBytes;
        }
      }
    });
  }

private:
  std::vector<Part> Parts;
  int32_t Out;
  size_t Outer, OutRowBytes;
};

std::unique_ptr<Kernel> makeConcat(const NodeContext &Ctx) {
  if (Ctx.inputCount() < 1)
    Ctx.invalid("expected at least 1 input");
  Ctx.expectArity(Ctx.inputCount(), Ctx.inputCount(), 1);
  Ctx.allowAttributes({"axis"});
  if (!Ctx.hasAttribute("axis"))
    Ctx.invalidAttribute("axis", "is required");
  const TensorInfo &X0 = *Ctx.input(0);
  int64_t R = int64_t(X0.Shape.size());
  if (R == 0)
    Ctx.invalid("inputs must have rank >= 1");
  size_t Axis = size_t(normalizeAxis(Ctx, Ctx.getInt("axis", 0), R, "axis"));
  Dims Out = X0.Shape;
  Out[Axis] = 0;
  size_t Inner = 1, Outer = 1;
  for (size_t I = 0; I < size_t(R); ++I)
    (I < Axis ? Outer : Inner) *= I == Axis ? 1 : size_t(X0.Shape[I]);
  std::vector<ConcatKernel::Part> Parts;
  size_t E = elemSize(X0);
  for (size_t I = 0; I < Ctx.inputCount(); ++I) {
    const TensorInfo &X = *Ctx.input(I);
    if (X.Type != X0.Type || X.Shape.size() != size_t(R))
      Ctx.invalid("input \"" + X.Name + "\" is " + describe(X.Type, X.Shape) +
                  ", incompatible with \"" + X0.Name + "\" " + describe(X0.Type, X0.Shape));
    for (size_t D = 0; D < size_t(R); ++D)
      if (D != Axis && X.Shape[D] != X0.Shape[D])
        Ctx.invalid("input \"" + X.Name + "\" " + formatShape(X.Shape) +
                    " differs from the first input " + formatShape(X0.Shape) +
                    " outside the concat axis");
    Out[Axis] += X.Shape[Axis];
    Parts.push_back({Ctx.inputId(I), size_t(X.Shape[Axis]) * Inner * E});
  }
  Ctx.expectOutput(0, X0.Type, Out);
  return std::make_unique<ConcatKernel>(std::move(Parts), Ctx.outputId(0), Outer,
                                        size_t(Out[Axis]) * Inner * E);
}

// ---- Split ---------------------------------------------------------------------------------

class MultiStridedKernel final : public Kernel {
public:
  MultiStridedKernel(int32_t In, std::vector<std::pair<int32_t, StridedPlan>> Outs)
      : In(In), Outs(std::move(Outs)) {}
  void run(const KernelContext &Ctx) const override {
    for (const auto &[Id, P] : Outs)
      runStrided(P, Ctx.tensor<const std::byte>(In), Ctx.tensor<std::byte>(Id), Ctx);
  }

private:
  int32_t In;
  std::vector<std::pair<int32_t, StridedPlan>> Outs;
};

std::unique_ptr<Kernel> makeSplit(const NodeContext &Ctx) {
  size_t NOut = Ctx.outputCount();
  if (NOut < 1)
    Ctx.invalid("expected at least 1 output");
  Ctx.expectArity(1, 2, NOut);
  Ctx.allowAttributes({"axis", "split", "num_outputs"});
  const TensorInfo &X = *Ctx.input(0);
  int64_t R = int64_t(X.Shape.size());
  if (R == 0)
    Ctx.invalid("input must have rank >= 1");
  size_t Axis = size_t(normalizeAxis(Ctx, Ctx.getInt("axis", 0), R, "axis"));
  int64_t Dim = X.Shape[Axis];
  std::vector<int64_t> Sizes;
  if (Ctx.input(1)) {
    Sizes = constInts(Ctx, 1, "split");
  } else if (Ctx.hasAttribute("split")) {
    Sizes = Ctx.getInts("split", {});
  } else if (Ctx.hasAttribute("num_outputs")) {
    int64_t N = Ctx.getInt("num_outputs", 0);
    if (N < 1 || size_t(N) != NOut)
      Ctx.invalidAttribute("num_outputs", "is " + std::to_string(N) + " but the node has " +
                                              std::to_string(NOut) + " outputs");
    int64_t Chunk = (Dim + N - 1) / N;
    for (int64_t I = 0, Left = Dim; I < N; ++I, Left -= Chunk)
      Sizes.push_back(std::max<int64_t>(0, std::min(Chunk, Left)));
  } else {
    if (Dim % int64_t(NOut) != 0)
      Ctx.invalid("axis dim " + std::to_string(Dim) + " does not split evenly into " +
                  std::to_string(NOut) + " outputs");
    Sizes.assign(NOut, Dim / int64_t(NOut));
  }
  if (Sizes.size() != NOut)
    Ctx.invalid("split has " + std::to_string(Sizes.size()) + " entries but the node has " +
                std::to_string(NOut) + " outputs");
  int64_t Sum = 0;
  for (int64_t S : Sizes) {
    if (S < 0)
      Ctx.invalid("split sizes must be >= 0");
    Sum += S;
  }
  if (Sum != Dim)
    Ctx.invalid("split sizes sum to " + std::to_string(Sum) + " but the axis dim is " +
                std::to_string(Dim));
  std::vector<int64_t> Strides = stridesOf(X.Shape);
  std::vector<std::pair<int32_t, StridedPlan>> Outs;
  int64_t Start = 0;
  for (size_t I = 0; I < NOut; ++I) {
    Dims O = X.Shape;
    O[Axis] = Sizes[I];
    Ctx.expectOutput(I, X.Type, O);
    Outs.emplace_back(Ctx.outputId(I),
                      planStrided(O, Strides, Start * Strides[Axis], elemSize(X)));
    Start += Sizes[I];
  }
  return std::make_unique<MultiStridedKernel>(Ctx.inputId(0), std::move(Outs));
}

// ---- Slice ---------------------------------------------------------------------------------

std::unique_ptr<Kernel> makeSlice(const NodeContext &Ctx) {
  const TensorInfo &X = *Ctx.input(0);
  int64_t R = int64_t(X.Shape.size());
  std::vector<int64_t> Starts, Ends, Axes, Steps;
  if (Ctx.hasAttribute("starts") || Ctx.hasAttribute("ends")) { // opset 1
    Ctx.expectArity(1, 1, 1);
    Ctx.allowAttributes({"starts", "ends", "axes"});
    Starts = Ctx.getInts("starts", {});
    Ends = Ctx.getInts("ends", {});
    Axes = Ctx.getInts("axes", {});
  } else {
    Ctx.expectArity(3, 5, 1);
    Ctx.allowAttributes({});
    Starts = constInts(Ctx, 1, "starts");
    Ends = constInts(Ctx, 2, "ends");
    if (Ctx.input(3))
      Axes = constInts(Ctx, 3, "axes");
    if (Ctx.input(4))
      Steps = constInts(Ctx, 4, "steps");
  }
  if (Ends.size() != Starts.size())
    Ctx.invalid("starts and ends differ in length");
  if (Axes.empty())
    for (size_t I = 0; I < Starts.size(); ++I)
      Axes.push_back(int64_t(I));
  if (Steps.empty())
    Steps.assign(Starts.size(), 1);
  if (Axes.size() != Starts.size() || Steps.size() != Starts.size())
    Ctx.invalid("starts, ends, axes and steps differ in length");
  std::vector<int64_t> InStrides = stridesOf(X.Shape), Src = InStrides;
  Dims Out = X.Shape;
  std::vector<bool> Seen(size_t(R), false);
  int64_t Offset = 0;
  for (size_t I = 0; I < Starts.size(); ++I) {
    size_t A = size_t(normalizeAxis(Ctx, Axes[I], R, "axes"));
    if (Seen[A])
      Ctx.invalid("axis " + std::to_string(A) + " is sliced twice");
    Seen[A] = true;
    int64_t D = X.Shape[A], Step = Steps[I], S = Starts[I], E = Ends[I];
    if (Step == 0)
      Ctx.invalid("slice step must not be 0");
    if (S < 0)
      S = S < -D ? 0 : S + D; // saturating: INT64_MIN stays in range
    if (E < 0)
      E = E < -D ? -1 : E + D;
    int64_t Count;
    if (Step > 0) {
      S = std::clamp<int64_t>(S, 0, D);
      E = std::clamp<int64_t>(E, 0, D);
      Count = E > S ? (E - S + Step - 1) / Step : 0;
    } else {
      S = std::clamp<int64_t>(S, 0, D - 1);
      E = std::clamp<int64_t>(E, -1, D - 1);
      Count = S > E ? (S - E + (-Step) - 1) / (-Step) : 0;
    }
    Out[A] = Count;
    if (Count > 0)
      Offset += S * InStrides[A];
    Src[A] = Step * InStrides[A];
  }
  Ctx.expectOutput(0, X.Type, Out);
  return makeStridedKernel(Ctx, planStrided(Out, Src, Offset, elemSize(X)));
}

// ---- Expand, Tile --------------------------------------------------------------------------

std::unique_ptr<Kernel> makeExpand(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({});
  const TensorInfo &X = *Ctx.input(0);
  std::vector<int64_t> Shape = constInts(Ctx, 1, "shape");
  Dims Out;
  if (!broadcastShape(X.Shape, Shape, Out))
    Ctx.invalid("input " + formatShape(X.Shape) + " cannot broadcast to " + formatShape(Shape));
  Ctx.expectOutput(0, X.Type, Out);
  std::vector<int64_t> InStrides = stridesOf(X.Shape), Src(Out.size(), 0);
  size_t Lead = Out.size() - X.Shape.size();
  for (size_t I = 0; I < X.Shape.size(); ++I)
    Src[Lead + I] = X.Shape[I] == 1 ? 0 : InStrides[I];
  return makeStridedKernel(Ctx, planStrided(Out, Src, 0, elemSize(X)));
}

std::unique_ptr<Kernel> makeTile(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({});
  const TensorInfo &X = *Ctx.input(0);
  std::vector<int64_t> Repeats = constInts(Ctx, 1, "repeats");
  if (Repeats.size() != X.Shape.size())
    Ctx.invalid("repeats has " + std::to_string(Repeats.size()) +
                " entries but the input has rank " + std::to_string(X.Shape.size()));
  std::vector<int64_t> InStrides = stridesOf(X.Shape), ViewDims, Src;
  Dims Out;
  for (size_t I = 0; I < Repeats.size(); ++I) {
    if (Repeats[I] < 0)
      Ctx.invalid("repeats must be >= 0");
    Out.push_back(X.Shape[I] * Repeats[I]);
    ViewDims.push_back(Repeats[I]); // output dim I viewed as [repeat, dim]
    Src.push_back(0);
    ViewDims.push_back(X.Shape[I]);
    Src.push_back(InStrides[I]);
  }
  size_t Count;
  if (!checkedElementCount(Out, elemSize(X), Count))
    Ctx.invalid("output is too large");
  Ctx.expectOutput(0, X.Type, Out);
  return makeStridedKernel(Ctx, planStrided(ViewDims, Src, 0, elemSize(X)));
}

// ---- DepthToSpace, SpaceToDepth ------------------------------------------------------------

int64_t blockSize(const NodeContext &Ctx, const TensorInfo &X) {
  if (X.Shape.size() != 4)
    Ctx.invalid("input must be 4-D [N, C, H, W], got " + formatShape(X.Shape));
  if (!Ctx.hasAttribute("blocksize"))
    Ctx.invalidAttribute("blocksize", "is required");
  int64_t B = Ctx.getInt("blocksize", 0);
  if (B < 1)
    Ctx.invalidAttribute("blocksize", "must be >= 1");
  return B;
}

std::unique_ptr<Kernel> makeDepthToSpace(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"blocksize", "mode"});
  const TensorInfo &X = *Ctx.input(0);
  int64_t B = blockSize(Ctx, X);
  std::string Mode = Ctx.getString("mode", "DCR");
  if (Mode != "DCR" && Mode != "CRD")
    Ctx.invalidAttribute("mode", "expected DCR or CRD, got \"" + Mode + "\"");
  int64_t N = X.Shape[0], C = X.Shape[1], H = X.Shape[2], W = X.Shape[3];
  if (C % (B * B) != 0)
    Ctx.invalid("channels " + std::to_string(C) + " are not divisible by blocksize^2");
  int64_t Co = C / (B * B), HW = H * W;
  Ctx.expectOutput(0, X.Type, {N, Co, H * B, W * B});
  // Output viewed as [N, Co, H, b1, W, b2]; source channel = DCR: (b1*B + b2)*Co + c,
  // CRD: c*B*B + b1*B + b2.
  int64_t SC = Mode == "DCR" ? HW : B * B * HW;
  int64_t SB1 = Mode == "DCR" ? B * Co * HW : B * HW;
  int64_t SB2 = Mode == "DCR" ? Co * HW : HW;
  return makeStridedKernel(
      Ctx, planStrided({N, Co, H, B, W, B}, {C * HW, SC, W, SB1, 1, SB2}, 0, elemSize(X)));
}

std::unique_ptr<Kernel> makeSpaceToDepth(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"blocksize", "mode"});
  const TensorInfo &X = *Ctx.input(0);
  int64_t B = blockSize(Ctx, X);
  std::string Mode = Ctx.getString("mode", "DCR");
  if (Mode != "DCR" && Mode != "CRD")
    Ctx.invalidAttribute("mode", "expected DCR or CRD, got \"" + Mode + "\"");
  int64_t N = X.Shape[0], C = X.Shape[1], H = X.Shape[2], W = X.Shape[3];
  if (H % B != 0 || W % B != 0)
    Ctx.invalid("spatial dims " + formatShape(X.Shape) + " are not divisible by blocksize");
  int64_t Ho = H / B, Wo = W / B;
  Ctx.expectOutput(0, X.Type, {N, C * B * B, Ho, Wo});
  // Output viewed as [N, b1, b2, C, Ho, Wo] (DCR) or [N, C, b1, b2, Ho, Wo] (CRD) reading
  // X[n, c, ho*B + b1, wo*B + b2].
  if (Mode == "CRD")
    return makeStridedKernel(Ctx, planStrided({N, C, B, B, Ho, Wo},
                                              {C * H * W, H * W, W, 1, B * W, B}, 0, elemSize(X)));
  return makeStridedKernel(Ctx, planStrided({N, B, B, C, Ho, Wo},
                                            {C * H * W, W, 1, H * W, B * W, B}, 0, elemSize(X)));
}

// ---- Pad -----------------------------------------------------------------------------------

int64_t floorMod(int64_t A, int64_t M) {
  int64_t R = A % M;
  return R < 0 ? R + M : R;
}

std::unique_ptr<Kernel> makePad(const NodeContext &Ctx) {
  const TensorInfo &X = *Ctx.input(0);
  size_t R = X.Shape.size();
  std::vector<int64_t> Pads, Axes;
  int32_t ValueId = -1;
  std::vector<std::byte> StaticFill; // opset-2 "value" attribute
  std::string Mode = Ctx.getString("mode", "constant");
  if (Ctx.hasAttribute("pads")) { // opset 2
    Ctx.expectArity(1, 1, 1);
    Ctx.allowAttributes({"mode", "pads", "value"});
    Pads = Ctx.getInts("pads", {});
    double V = Ctx.getFloat("value", 0);
    StaticFill.resize(elemSize(X));
    dispatchType(X.Type, [&](auto Tag) {
      using T = typename decltype(Tag)::type;
      T C;
      if constexpr (std::is_same_v<T, bool>)
        C = V != 0;
      else
        C = store<T>(ComputeType<T>(V));
      std::memcpy(StaticFill.data(), &C, sizeof C);
    });
  } else {
    Ctx.expectArity(2, 4, 1);
    Ctx.allowAttributes({"mode"});
    Pads = constInts(Ctx, 1, "pads");
    if (const TensorInfo *V = Ctx.input(2)) {
      if (V->Type != X.Type || V->Elements != 1)
        Ctx.invalid("constant_value \"" + V->Name + "\" must be one " + typeName(X.Type) +
                    " element, got " + describe(V->Type, V->Shape));
      ValueId = Ctx.inputId(2);
    }
    if (Ctx.input(3))
      Axes = constInts(Ctx, 3, "axes");
  }
  if (Mode != "constant" && Mode != "reflect" && Mode != "edge" && Mode != "wrap")
    Ctx.invalidAttribute("mode", "expected constant, reflect, edge or wrap, got \"" + Mode + "\"");
  if (Axes.empty())
    for (size_t I = 0; I < R; ++I)
      Axes.push_back(int64_t(I));
  if (Pads.size() != 2 * Axes.size())
    Ctx.invalid("pads has " + std::to_string(Pads.size()) + " entries, expected " +
                std::to_string(2 * Axes.size()));
  std::vector<int64_t> Begin(R, 0), End(R, 0);
  for (size_t I = 0; I < Axes.size(); ++I) {
    size_t A = size_t(normalizeAxis(Ctx, Axes[I], int64_t(R), "axes"));
    Begin[A] = Pads[I];
    End[A] = Pads[I + Axes.size()];
  }
  Dims Out(R);
  std::vector<std::vector<int64_t>> Tables(R);
  for (size_t A = 0; A < R; ++A) {
    int64_t D = X.Shape[A];
    Out[A] = D + Begin[A] + End[A];
    if (Out[A] < 0)
      Ctx.invalid("pads remove more than axis " + std::to_string(A) + " holds");
    if (Out[A] > 0 && D == 0 && Mode != "constant")
      Ctx.invalid("cannot " + Mode + "-pad an empty axis");
    Tables[A].resize(size_t(Out[A]));
    for (int64_t J = 0; J < Out[A]; ++J) {
      int64_t I = J - Begin[A], S;
      if (I >= 0 && I < D)
        S = I;
      else if (Mode == "constant")
        S = -1;
      else if (Mode == "edge")
        S = std::clamp<int64_t>(I, 0, D - 1);
      else if (Mode == "wrap")
        S = floorMod(I, D);
      else if (D == 1)
        S = 0;
      else {
        S = floorMod(I, 2 * (D - 1));
        if (S >= D)
          S = 2 * (D - 1) - S;
      }
      Tables[A][size_t(J)] = S;
    }
  }
  size_t Count;
  if (!checkedElementCount(Out, elemSize(X), Count))
    Ctx.invalid("output is too large");
  Ctx.expectOutput(0, X.Type, Out);
  return std::make_unique<TableGatherKernel>(Ctx.inputId(0), ValueId, std::move(StaticFill),
                                             Ctx.outputId(0), elemSize(X), Out,
                                             stridesOf(X.Shape), std::move(Tables));
}

// ---- Trilu ---------------------------------------------------------------------------------

class TriluKernel final : public Kernel {
public:
  TriluKernel(int32_t In, int32_t K, bool KIs64, int32_t Out, size_t E, size_t Batch, int64_t N,
              int64_t M, bool Upper)
      : In(In), K(K), KIs64(KIs64), Out(Out), E(E), Batch(Batch), N(N), M(M), Upper(Upper) {}
  void run(const KernelContext &Ctx) const override {
    int64_t Kv = K >= 0 ? loadIndex(Ctx.tensor<const void>(K), 0, KIs64) : 0;
    // Clamp so i + k cannot overflow; beyond +-(N + M) every diagonal offset acts the same.
    Kv = std::clamp<int64_t>(Kv, -(N + M + 1), N + M + 1);
    const std::byte *X = Ctx.tensor<const std::byte>(In);
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    Ctx.parallelFor(Batch * size_t(N), 64, [&](size_t Begin, size_t End) {
      for (size_t Row = Begin; Row < End; ++Row) {
        int64_t I = int64_t(Row % size_t(N));
        // Keep columns [Lo, Hi): upper keeps j >= i + k, lower keeps j <= i + k.
        int64_t Lo = Upper ? std::clamp<int64_t>(I + Kv, 0, M) : 0;
        int64_t Hi = Upper ? M : std::clamp<int64_t>(I + Kv + 1, 0, M);
        if (Hi < Lo)
          Hi = Lo;
        size_t Off = Row * size_t(M) * E;
        std::memset(Y + Off, 0, size_t(Lo) * E);
        std::memcpy(Y + Off + size_t(Lo) * E, X + Off + size_t(Lo) * E, size_t(Hi - Lo) * E);
        std::memset(Y + Off + size_t(Hi) * E, 0, size_t(M - Hi) * E);
      }
    });
  }

private:
  int32_t In, K;
  bool KIs64;
  int32_t Out;
  size_t E, Batch;
  int64_t N, M;
  bool Upper;
};

std::unique_ptr<Kernel> makeTrilu(const NodeContext &Ctx) {
  Ctx.expectArity(1, 2, 1);
  Ctx.allowAttributes({"upper"});
  const TensorInfo &X = *Ctx.input(0);
  if (X.Shape.size() < 2)
    Ctx.invalid("input must have rank >= 2, got " + formatShape(X.Shape));
  int32_t KId = -1;
  bool KIs64 = true;
  if (const TensorInfo *K = Ctx.input(1)) {
    if ((K->Type != OPTIMA_ELEMENT_I64 && K->Type != OPTIMA_ELEMENT_I32) || K->Elements != 1)
      Ctx.invalid("k \"" + K->Name + "\" must be one I64 element, got " +
                  describe(K->Type, K->Shape));
    KId = Ctx.inputId(1);
    KIs64 = K->Type == OPTIMA_ELEMENT_I64;
  }
  Ctx.expectOutput(0, X.Type, X.Shape);
  int64_t N = X.Shape[X.Shape.size() - 2], M = X.Shape.back();
  size_t Batch = N * M != 0 ? X.Elements / size_t(N * M) : 0;
  return std::make_unique<TriluKernel>(Ctx.inputId(0), KId, KIs64, Ctx.outputId(0), elemSize(X),
                                       Batch, N, M, Ctx.getInt("upper", 1) != 0);
}

// ---- ReverseSequence -----------------------------------------------------------------------

class ReverseSequenceKernel final : public Kernel {
public:
  ReverseSequenceKernel(int32_t In, int32_t Lens, bool LensIs64, int32_t Out, size_t E,
                        int64_t Batch, int64_t Time, int64_t BatchStride, int64_t TimeStride,
                        int64_t Inner)
      : In(In), Lens(Lens), LensIs64(LensIs64), Out(Out), E(E), Batch(Batch), Time(Time),
        BatchStride(BatchStride), TimeStride(TimeStride), Inner(Inner) {}
  void run(const KernelContext &Ctx) const override {
    const std::byte *X = Ctx.tensor<const std::byte>(In);
    std::byte *Y = Ctx.tensor<std::byte>(Out);
    const void *L = Ctx.tensor<const void>(Lens);
    for (int64_t B = 0; B < Batch; ++B) {
      int64_t Len = loadIndex(L, size_t(B), LensIs64);
      if (Len < 0 || Len > Time) {
        Ctx.fail("sequence_lens[%lld] = %lld is outside [0, %lld]", (long long)B, (long long)Len,
                 (long long)Time);
        return;
      }
    }
    for (int64_t B = 0; B < Batch; ++B) {
      int64_t Len = loadIndex(L, size_t(B), LensIs64);
      for (int64_t T = 0; T < Time; ++T) {
        int64_t SrcT = T < Len ? Len - 1 - T : T;
        size_t Dst = size_t(B * BatchStride + T * TimeStride) * E;
        size_t Src = size_t(B * BatchStride + SrcT * TimeStride) * E;
        std::memcpy(Y + Dst, X + Src, size_t(Inner) * E);
      }
    }
  }

private:
  int32_t In, Lens;
  bool LensIs64;
  int32_t Out;
  size_t E;
  int64_t Batch, Time, BatchStride, TimeStride, Inner; // Inner: trailing dims, contiguous
};

std::unique_ptr<Kernel> makeReverseSequence(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"batch_axis", "time_axis"});
  const TensorInfo &X = *Ctx.input(0);
  const TensorInfo &L = *Ctx.input(1);
  if (X.Shape.size() < 2)
    Ctx.invalid("input must have rank >= 2");
  int64_t BA = Ctx.getInt("batch_axis", 1), TA = Ctx.getInt("time_axis", 0);
  if ((BA != 0 && BA != 1) || (TA != 0 && TA != 1) || BA == TA)
    Ctx.invalidAttribute("batch_axis", "batch_axis and time_axis must be 0 and 1 in some order");
  if (L.Type != OPTIMA_ELEMENT_I64 && L.Type != OPTIMA_ELEMENT_I32)
    Ctx.invalid("sequence_lens must be I64");
  if (L.Shape != Dims{X.Shape[size_t(BA)]})
    Ctx.invalid("sequence_lens is " + formatShape(L.Shape) + ", expected [" +
                std::to_string(X.Shape[size_t(BA)]) + "]");
  Ctx.expectOutput(0, X.Type, X.Shape);
  // Batch and time are dims 0 and 1, so the trailing dims form one contiguous block.
  std::vector<int64_t> S = stridesOf(X.Shape);
  return std::make_unique<ReverseSequenceKernel>(
      Ctx.inputId(0), Ctx.inputId(1), L.Type == OPTIMA_ELEMENT_I64, Ctx.outputId(0), elemSize(X),
      X.Shape[size_t(BA)], X.Shape[size_t(TA)], S[size_t(BA)], S[size_t(TA)], S[1]);
}

} // namespace

void registerDataMovementOps(OpRegistry &R) {
  R.add("Transpose", makeTranspose);
  R.add("Concat", makeConcat);
  R.add("Split", makeSplit);
  R.add("Slice", makeSlice);
  R.add("Expand", makeExpand);
  R.add("Tile", makeTile);
  R.add("DepthToSpace", makeDepthToSpace);
  R.add("SpaceToDepth", makeSpaceToDepth);
  R.add("Pad", makePad);
  R.add("Trilu", makeTrilu);
  R.add("ReverseSequence", makeReverseSequence);
}

} // namespace optima_v2::native
