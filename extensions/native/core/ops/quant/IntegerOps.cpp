// Integer and quantized-linear products: MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv.
// Operands are widened to int32 with their zero point subtracted (constant weights once at load,
// activations per run into scratch); products accumulate exactly in int32 through the generic
// GEMM / the convolution engine; QLinear* then requantize like the ONNX definitions
// (multiplier = a_scale * b_scale / y_scale in the scale type, product in double, rint, clip).
#include "../../Broadcast.h"
#include "../../OpRegistry.h"
#include "../conv/ConvCommon.h"
#include "../conv/Staging.h"
#include "QuantCommon.h"

namespace optima_v2::native {

namespace {

// Dst[i] = Src[i] - Zero[(i / Div) % ZeroCount] (ZeroCount 0: no zero point).
void widenInt32(int32_t Type, const void *Src, size_t N, const int32_t *Zero, size_t ZeroCount,
                size_t Div, int32_t *Dst) {
  dispatchType(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>) {
      const T *S = static_cast<const T *>(Src);
      if (ZeroCount == 0)
        for (size_t I = 0; I < N; ++I)
          Dst[I] = int32_t(S[I]);
      else if (ZeroCount == 1)
        for (size_t I = 0; I < N; ++I)
          Dst[I] = int32_t(S[I]) - Zero[0];
      else
        for (size_t I = 0; I < N; ++I)
          Dst[I] = int32_t(S[I]) - Zero[(I / Div) % ZeroCount];
    }
  });
}

float roundToType(int32_t Type, float V) {
  if (Type == OPTIMA_ELEMENT_F16)
    return toFloat(toHalf(V));
  if (Type == OPTIMA_ELEMENT_BF16)
    return toFloat(toBFloat16(V));
  return V;
}

// An 8-bit operand with an optional zero point, widened to int32: at load when both are
// constant, else per run into scratch.
struct WideOperand {
  int32_t Id = -1, Type = 0, ZeroId = -1, ZeroType = 0;
  size_t Elements = 0, ZeroCount = 0, Div = 1;
  size_t Offset = 0, ZeroOffset = 0;
  std::vector<int32_t> Const;

  // ZeroInput: index of the zero point input; Allowed: element count of a non-scalar zero
  // point (0: scalar only); Div: elements per zero point step.
  void plan(const NodeContext &Ctx, size_t Input, size_t ZeroInput, size_t Allowed, size_t D,
            ScratchLayout &Layout, const char *What) {
    const TensorInfo &T = *Ctx.input(Input);
    if (T.Type != OPTIMA_ELEMENT_I8 && T.Type != OPTIMA_ELEMENT_U8)
      Ctx.unsupported(std::string(typeName(T.Type)) + " input \"" + T.Name +
                      "\" (int8 and uint8 are supported)");
    Id = Ctx.inputId(Input);
    Type = T.Type;
    Elements = T.Elements;
    Div = D;
    const TensorInfo *Z = Ctx.input(ZeroInput);
    if (Z) {
      if (Z->Type != T.Type)
        Ctx.invalid(std::string(What) + " zero point \"" + Z->Name + "\" is " +
                    typeName(Z->Type) + " but its operand is " + typeName(T.Type));
      if (Z->Elements != 1 && (Allowed == 0 || Z->Elements != Allowed || Z->Shape.size() != 1))
        Ctx.unsupported(std::string(What) + " zero point \"" + Z->Name + "\" " +
                        formatShape(Z->Shape) + ": only a scalar" +
                        (Allowed ? " or 1-D [" + std::to_string(Allowed) + "]" : std::string()) +
                        " is supported");
      ZeroId = Ctx.inputId(ZeroInput);
      ZeroType = Z->Type;
      ZeroCount = Z->Elements;
      ZeroOffset = Layout.add(ZeroCount * sizeof(int32_t));
    }
    if (T.Where == Storage::Constant && (!Z || Z->Where == Storage::Constant)) {
      std::vector<int32_t> Zeros(ZeroCount);
      if (Z)
        paramsToInt32(Z->Type, Z->Data, Zeros.data(), ZeroCount);
      Const.resize(Elements);
      widenInt32(Type, T.Data, Elements, Zeros.data(), ZeroCount, Div, Const.data());
    } else {
      Offset = Layout.add(Elements * sizeof(int32_t));
    }
  }

  const int32_t *get(const KernelContext &Ctx) const {
    if (!Const.empty() || Elements == 0)
      return Const.data();
    int32_t *Zeros = reinterpret_cast<int32_t *>(Ctx.Scratch + ZeroOffset);
    if (ZeroId >= 0)
      paramsToInt32(ZeroType, Ctx.Tensors[ZeroId], Zeros, ZeroCount);
    int32_t *Dst = reinterpret_cast<int32_t *>(Ctx.Scratch + Offset);
    widenInt32(Type, Ctx.Tensors[Id], Elements, Zeros, ZeroCount, Div, Dst);
    return Dst;
  }
};

// Requantization parameters: scalar in/weight scales, per-column (or channel) weight scale.
struct Requant {
  int32_t AScale = -1, BScale = -1, YScale = -1, YZero = -1;
  int32_t ScaleType = 0, YZeroType = 0, OutType = 0;
  size_t BScaleCount = 1;
  size_t MultOffset = 0, ParamOffset = 0;

  void plan(const NodeContext &Ctx, size_t A, size_t B, size_t Y, size_t YZ, size_t Columns,
            ScratchLayout &Layout) {
    const TensorInfo &AS = *Ctx.input(A), &BS = *Ctx.input(B), &YS = *Ctx.input(Y);
    for (const TensorInfo *S : {&AS, &BS, &YS})
      if (S->Type != OPTIMA_ELEMENT_F32 && S->Type != OPTIMA_ELEMENT_F16 &&
          S->Type != OPTIMA_ELEMENT_BF16)
        Ctx.unsupported(std::string(typeName(S->Type)) + " scale \"" + S->Name + "\"");
    if (AS.Type != BS.Type || AS.Type != YS.Type)
      Ctx.invalid("scales \"" + AS.Name + "\", \"" + BS.Name + "\", \"" + YS.Name +
                  "\" must have one type");
    if (AS.Elements != 1)
      Ctx.unsupported("scale \"" + AS.Name + "\" " + formatShape(AS.Shape) +
                      ": only a per-tensor (scalar) input scale is supported");
    if (YS.Elements != 1)
      Ctx.invalid("output scale \"" + YS.Name + "\" " + formatShape(YS.Shape) + " must be a scalar");
    if (BS.Elements != 1 && (BS.Shape.size() != 1 || size_t(BS.Shape[0]) != Columns))
      Ctx.invalid("weight scale \"" + BS.Name + "\" " + formatShape(BS.Shape) +
                  " must be a scalar or 1-D [" + std::to_string(Columns) + "]");
    AScale = Ctx.inputId(A);
    BScale = Ctx.inputId(B);
    YScale = Ctx.inputId(Y);
    ScaleType = AS.Type;
    BScaleCount = BS.Elements;
    const TensorInfo *Z = Ctx.input(YZ);
    OutType = Ctx.output(0).Type;
    if (OutType != OPTIMA_ELEMENT_I8 && OutType != OPTIMA_ELEMENT_U8)
      Ctx.unsupported(std::string(typeName(OutType)) + " output (int8 and uint8 are supported)");
    if (Z) {
      if (Z->Type != OutType || Z->Elements != 1)
        Ctx.invalid("output zero point \"" + Z->Name + "\" must be a scalar of the output type " +
                    typeName(OutType));
      YZero = Ctx.inputId(YZ);
      YZeroType = Z->Type;
    }
    MultOffset = Layout.add(Columns * sizeof(float));
    ParamOffset = Layout.add(4 * sizeof(float) + BScaleCount * sizeof(float));
  }

  // Multiplier per column (Columns of them) into scratch; returns it and the output zero point.
  const float *multipliers(const KernelContext &Ctx, size_t Columns, int32_t &Zero) const {
    float *P = reinterpret_cast<float *>(Ctx.Scratch + ParamOffset);
    paramsToFloat(ScaleType, Ctx.Tensors[AScale], P, 1);
    paramsToFloat(ScaleType, Ctx.Tensors[YScale], P + 1, 1);
    paramsToFloat(ScaleType, Ctx.Tensors[BScale], P + 4, BScaleCount);
    Zero = 0;
    if (YZero >= 0)
      paramsToInt32(YZeroType, Ctx.Tensors[YZero], &Zero, 1);
    float *M = reinterpret_cast<float *>(Ctx.Scratch + MultOffset);
    for (size_t J = 0; J < Columns; ++J) {
      float Bs = P[4 + (BScaleCount == 1 ? 0 : J)];
      M[J] = roundToType(ScaleType, roundToType(ScaleType, P[0] * Bs) / P[1]);
    }
    return M;
  }

  template <typename T>
  void apply(const int32_t *Acc, const float *Mult, int32_t Zero, size_t Rows, size_t Columns,
             bool ColumnsInner, size_t Inner, T *Y) const {
    // ColumnsInner: Acc is [Rows, Columns]; else [Rows, Columns, Inner] (conv planes).
    if (ColumnsInner) {
      for (size_t R = 0; R < Rows; ++R)
        for (size_t J = 0; J < Columns; ++J)
          Y[R * Columns + J] =
              saturateRound<T>(double(Acc[R * Columns + J]) * double(Mult[J]) + double(Zero));
    } else {
      for (size_t R = 0; R < Rows; ++R)
        for (size_t J = 0; J < Columns; ++J) {
          size_t Base = (R * Columns + J) * Inner;
          for (size_t I = 0; I < Inner; ++I)
            Y[Base + I] = saturateRound<T>(double(Acc[Base + I]) * double(Mult[J]) + double(Zero));
        }
    }
  }
};

// int32 batched matmul of widened operands (numpy MatMul shapes).
struct IntMatMul {
  GemmShape Shape;
  BroadcastPlan Batch;
  size_t BatchCount = 1;
  WideOperand A, B;

  Dims plan(const NodeContext &Ctx, size_t AIn, size_t AZero, size_t BIn, size_t BZero,
            ScratchLayout &Layout) {
    const TensorInfo &AI = *Ctx.input(AIn), &BI = *Ctx.input(BIn);
    if (AI.Shape.empty() || BI.Shape.empty())
      Ctx.invalid("inputs must have at least 1 dim");
    Dims SA = AI.Shape, SB = BI.Shape;
    bool VecA = SA.size() == 1, VecB = SB.size() == 1;
    if (VecA)
      SA.insert(SA.begin(), 1);
    if (VecB)
      SB.push_back(1);
    int64_t M = SA[SA.size() - 2], K = SA.back(), KB = SB[SB.size() - 2], N = SB.back();
    if (K != KB)
      Ctx.invalid("inner dims differ: " + formatShape(AI.Shape) + " x " + formatShape(BI.Shape));
    Dims BatchA(SA.begin(), SA.end() - 2), BatchB(SB.begin(), SB.end() - 2), BatchOut;
    if (!broadcastShape(BatchA, BatchB, BatchOut))
      Ctx.invalid("batch dims of " + formatShape(AI.Shape) + " and " + formatShape(BI.Shape) +
                  " cannot be broadcast together");
    Dims OutShape = BatchOut;
    if (!VecA)
      OutShape.push_back(M);
    if (!VecB)
      OutShape.push_back(N);
    Shape.M = size_t(M);
    Shape.N = size_t(N);
    Shape.K = size_t(K);
    Shape.Lda = Shape.K;
    Shape.Ldb = Shape.N;
    Shape.Ldc = Shape.N;
    for (int64_t D : BatchOut)
      BatchCount *= size_t(D);
    Batch = planBroadcast(BatchA, BatchB, BatchOut);
    // Per-row zero point of A: element i is in row (i / K) % M; per column of B: i % N.
    A.plan(Ctx, AIn, AZero, VecA ? 0 : Shape.M, Shape.K, Layout, "A");
    B.plan(Ctx, BIn, BZero, VecB ? 0 : Shape.N, 1, Layout, "B");
    return OutShape;
  }

  void run(const KernelContext &Ctx, int32_t *Out) const {
    const int32_t *PA = A.get(Ctx), *PB = B.get(Ctx);
    size_t SizeA = Shape.M * Shape.K, SizeB = Shape.K * Shape.N, SizeO = Shape.M * Shape.N;
    for (size_t Bi = 0; Bi < BatchCount; ++Bi) {
      size_t OffA = 0, OffB = 0;
      for (size_t D = Batch.Rank, R = Bi; D-- > 0;) {
        size_t I = R % Batch.Dims[D];
        R /= Batch.Dims[D];
        OffA += I * Batch.StrideA[D];
        OffB += I * Batch.StrideB[D];
      }
      gemmAny<int32_t>(Shape, PA + OffA * SizeA, PB + OffB * SizeB, false, Out + Bi * SizeO,
                       &Ctx);
    }
  }
};

class MatMulIntegerKernel final : public Kernel {
public:
  explicit MatMulIntegerKernel(const NodeContext &Ctx) : Y(Ctx.outputId(0)) {
    Dims Out = Core.plan(Ctx, 0, 2, 1, 3, Layout);
    Ctx.expectOutput(0, OPTIMA_ELEMENT_I32, Out);
  }
  size_t scratchBytes() const override { return Layout.size(); }
  void run(const KernelContext &Ctx) const override { Core.run(Ctx, Ctx.tensor<int32_t>(Y)); }

private:
  ScratchLayout Layout;
  IntMatMul Core;
  int32_t Y;
};

std::unique_ptr<Kernel> makeMatMulInteger(const NodeContext &Ctx) {
  Ctx.expectArity(2, 4, 1);
  Ctx.allowAttributes({});
  return std::make_unique<MatMulIntegerKernel>(Ctx);
}

class QLinearMatMulKernel final : public Kernel {
public:
  explicit QLinearMatMulKernel(const NodeContext &Ctx) : Y(Ctx.outputId(0)) {
    Dims Out = Core.plan(Ctx, 0, 2, 3, 5, Layout);
    Q.plan(Ctx, 1, 4, 6, 7, Core.Shape.N, Layout);
    Ctx.expectOutput(0, Q.OutType, Out);
    Elements = Ctx.output(0).Elements;
    AccOffset = Layout.add(Elements * sizeof(int32_t));
  }
  size_t scratchBytes() const override { return Layout.size(); }
  void run(const KernelContext &Ctx) const override {
    int32_t *Acc = reinterpret_cast<int32_t *>(Ctx.Scratch + AccOffset);
    Core.run(Ctx, Acc);
    int32_t Zero;
    const float *Mult = Q.multipliers(Ctx, Core.Shape.N, Zero);
    size_t Rows = Core.Shape.N ? Elements / Core.Shape.N : 0;
    if (Q.OutType == OPTIMA_ELEMENT_U8)
      Q.apply(Acc, Mult, Zero, Rows, Core.Shape.N, true, 1, Ctx.tensor<uint8_t>(Y));
    else
      Q.apply(Acc, Mult, Zero, Rows, Core.Shape.N, true, 1, Ctx.tensor<int8_t>(Y));
  }

private:
  ScratchLayout Layout;
  IntMatMul Core;
  Requant Q;
  int32_t Y;
  size_t Elements = 0, AccOffset = 0;
};

std::unique_ptr<Kernel> makeQLinearMatMul(const NodeContext &Ctx) {
  Ctx.expectArity(8, 8, 1);
  Ctx.allowAttributes({});
  for (size_t I : {2, 5})
    if (!Ctx.input(I))
      Ctx.invalid("zero point input " + std::to_string(I) + " is required");
  return std::make_unique<QLinearMatMulKernel>(Ctx);
}

// ConvInteger and QLinearConv: conv of widened x and w in int32 (+ int32 bias for QLinearConv).
class IntConvKernel final : public Kernel {
public:
  IntConvKernel(const NodeContext &Ctx, bool QLinear)
      : QLinear(QLinear), Y(Ctx.outputId(0)) {
    const size_t XIn = 0, XZ = 2, WIn = QLinear ? 3 : 1, WZ = QLinear ? 5 : 3;
    const TensorInfo *BI = QLinear ? Ctx.input(8) : nullptr;
    if (BI && BI->Type != OPTIMA_ELEMENT_I32)
      Ctx.invalid("bias \"" + BI->Name + "\" must be I32, got " + typeName(BI->Type));
    ConvGeometry G;
    Dims Out = planConv(Ctx, Ctx.input(XIn)->Shape, Ctx.input(WIn)->Shape, BI, G);
    Engine = ConvEngine<int32_t>(G);
    Engine.checkScratch(Ctx);
    EngineOffset = Layout.add(Engine.scratchBytes());
    X.plan(Ctx, XIn, XZ, 0, 1, Layout, "x");
    W.plan(Ctx, WIn, WZ, G.Filters, G.GroupChannels * G.KernelSize, Layout, "w");
    Bias = BI ? Ctx.inputId(8) : -1;
    Elements = G.Batch * G.Filters * G.OutPlane;
    if (QLinear) {
      Q.plan(Ctx, 1, 4, 6, 7, G.Filters, Layout);
      Ctx.expectOutput(0, Q.OutType, Out);
      AccOffset = Layout.add(Elements * sizeof(int32_t));
    } else {
      Ctx.expectOutput(0, OPTIMA_ELEMENT_I32, Out);
    }
  }
  size_t scratchBytes() const override { return Layout.size(); }
  void run(const KernelContext &Ctx) const override {
    const ConvGeometry &G = Engine.geometry();
    int32_t *Acc = QLinear ? reinterpret_cast<int32_t *>(Ctx.Scratch + AccOffset)
                           : Ctx.tensor<int32_t>(Y);
    const int32_t *PB = Bias >= 0 ? Ctx.tensor<const int32_t>(Bias) : nullptr;
    Engine.run(Ctx, X.get(Ctx), W.get(Ctx), PB, Acc, Ctx.Scratch + EngineOffset);
    if (!QLinear)
      return;
    int32_t Zero;
    const float *Mult = Q.multipliers(Ctx, G.Filters, Zero);
    if (Q.OutType == OPTIMA_ELEMENT_U8)
      Q.apply(Acc, Mult, Zero, G.Batch, G.Filters, false, G.OutPlane, Ctx.tensor<uint8_t>(Y));
    else
      Q.apply(Acc, Mult, Zero, G.Batch, G.Filters, false, G.OutPlane, Ctx.tensor<int8_t>(Y));
  }

private:
  bool QLinear;
  int32_t Y, Bias = -1;
  ScratchLayout Layout;
  ConvEngine<int32_t> Engine;
  WideOperand X, W;
  Requant Q;
  size_t EngineOffset = 0, AccOffset = 0, Elements = 0;
};

const std::initializer_list<const char *> ConvAttributes = {
    "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"};

std::unique_ptr<Kernel> makeConvInteger(const NodeContext &Ctx) {
  Ctx.expectArity(2, 4, 1);
  Ctx.allowAttributes(ConvAttributes);
  return std::make_unique<IntConvKernel>(Ctx, false);
}

std::unique_ptr<Kernel> makeQLinearConv(const NodeContext &Ctx) {
  Ctx.expectArity(8, 9, 1);
  Ctx.allowAttributes(ConvAttributes);
  return std::make_unique<IntConvKernel>(Ctx, true);
}

} // namespace

void registerIntegerQuantOps(OpRegistry &R) {
  R.add("MatMulInteger", makeMatMulInteger);
  R.add("QLinearMatMul", makeQLinearMatMul);
  R.add("ConvInteger", makeConvInteger);
  R.add("QLinearConv", makeQLinearConv);
}

} // namespace optima_v2::native
