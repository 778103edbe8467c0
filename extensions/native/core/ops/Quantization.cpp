// QuantizeLinear / DequantizeLinear (per tensor, per axis, blocked; int8/uint8/int16/uint16,
// int4/uint4/int2/uint2, float8 E4M3FN/E4M3FNUZ/E5M2/E5M2FNUZ, float4 E2M1, and int32 input for
// DequantizeLinear) and DynamicQuantizeLinear (float32 -> uint8). Scales and zero points may be
// runtime tensors: they are converted to float/int32 into scratch once per run, so the element
// loops are typed only on the data and result types. As the ONNX reference: integer results are
// rint(x / scale) + zero point clamped to the type's range; float8 results are x / scale cast with
// `saturate` (their zero point must be 0 and is not read); float4 results are x / scale + zero
// point cast (always saturating); DequantizeLinear ignores float8/float4 zero points.
#include "../OpRegistry.h"
#include "conv/Staging.h"
#include "quant/QuantCommon.h"

namespace optima_v2::native {

void registerIntegerQuantOps(OpRegistry &R); // quant/IntegerOps.cpp

namespace {

// Common validation of (x, scale, zero_point) for both directions.
struct QuantPlan {
  QuantParamLayout Layout;
  int32_t X = -1, Scale = -1, Zero = -1, Y = -1;
  int32_t ScaleType = 0, ZeroType = 0;
  size_t Elements = 0;
  size_t ScaleOffset = 0, ZeroOffset = 0, ZeroFloatOffset = 0;
  bool ZeroIsFloat = false; // float8/float4 zero point: read as float (only float4 uses it)
  ScratchLayout Scratch;

  void plan(const NodeContext &Ctx) {
    const TensorInfo &XI = *Ctx.input(0);
    const TensorInfo &SI = *Ctx.input(1);
    const TensorInfo *ZI = Ctx.input(2);
    int64_t Axis = Ctx.getInt("axis", 1);
    int64_t Block = Ctx.getInt("block_size", 0);
    Layout = planQuantParams(Ctx, XI.Shape, SI, Axis, Block);
    if (ZI) {
      // A one-element zero point may be [1] for a scalar scale or vice versa (per tensor).
      bool BothSingle = ZI->Elements == 1 && SI.Elements == 1 && ZI->Shape.size() <= 1 &&
                        SI.Shape.size() <= 1;
      if (ZI->Shape != SI.Shape && !BothSingle)
        Ctx.invalid("zero point \"" + ZI->Name + "\" " + formatShape(ZI->Shape) +
                    " must have the shape of the scale " + formatShape(SI.Shape));
      Zero = Ctx.inputId(2);
      ZeroType = ZI->Type;
      ZeroIsFloat = isLowPrecisionType(ZI->Type) && !isLowPrecisionInt(ZI->Type);
    }
    X = Ctx.inputId(0);
    Scale = Ctx.inputId(1);
    ScaleType = SI.Type;
    Y = Ctx.outputId(0);
    Elements = XI.Elements;
    ScaleOffset = Scratch.add(Layout.Count * sizeof(float));
    ZeroOffset = Scratch.add(Layout.Count * sizeof(int32_t));
    ZeroFloatOffset = Scratch.add(Layout.Count * sizeof(float));
  }

  // Scale as float and zero point as int32 (zeros when absent), in scratch.
  // Float zero points (float4) go to ZF, all others to Z; the unused one is zeros.
  void loadParams(const KernelContext &Ctx, const float *&S, const int32_t *&Z,
                  const float *&ZF) const {
    float *SD = reinterpret_cast<float *>(Ctx.Scratch + ScaleOffset);
    int32_t *ZD = reinterpret_cast<int32_t *>(Ctx.Scratch + ZeroOffset);
    float *ZFD = reinterpret_cast<float *>(Ctx.Scratch + ZeroFloatOffset);
    paramsToFloat(ScaleType, Ctx.Tensors[Scale], SD, Layout.Count);
    std::fill(ZD, ZD + Layout.Count, 0);
    std::fill(ZFD, ZFD + Layout.Count, 0.0f);
    if (Zero >= 0 && ZeroIsFloat)
      paramsToFloat(ZeroType, Ctx.Tensors[Zero], ZFD, Layout.Count);
    else if (Zero >= 0)
      paramsToInt32(ZeroType, Ctx.Tensors[Zero], ZD, Layout.Count);
    S = SD;
    Z = ZD;
    ZF = ZFD;
  }

  // Calls F(X index, parameter index) over all elements, rows of Inner at a time.
  template <typename Fn> void forEach(const KernelContext &Ctx, const Fn &F) const {
    const QuantParamLayout &L = Layout;
    size_t Rows = L.Outer * L.Axis;
    bool Blocked = L.How == QuantParamLayout::Kind::Blocked;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 15) / std::max<size_t>(1, L.Inner));
    Ctx.parallelFor(Rows, Grain, [&](size_t Begin, size_t End) {
      for (size_t R = Begin; R < End; ++R) {
        size_t P = L.rowIndex(R / L.Axis, R % L.Axis);
        size_t Base = R * L.Inner;
        if (Blocked)
          for (size_t I = 0; I < L.Inner; ++I)
            F(Base + I, P + I);
        else
          for (size_t I = 0; I < L.Inner; ++I)
            F(Base + I, P);
      }
    });
  }
};

// The type x / scale is computed in (QuantizeLinear's `precision`, else numpy's promotion of the
// x and scale types, as the reference): the quotient is rounded to it.
enum class DivPrecision { F32, F16, BF16 };

inline float roundTo(DivPrecision P, float V) {
  if (P == DivPrecision::F16)
    return toFloat(toHalf(V));
  if (P == DivPrecision::BF16)
    return toFloat(toBFloat16(V));
  return V;
}

template <typename XT, typename YT> class QuantizeKernel final : public Kernel {
public:
  QuantizeKernel(const QuantPlan &P, bool Saturate, DivPrecision Prec)
      : P(P), Saturate(Saturate), Prec(Prec) {}
  size_t scratchBytes() const override { return P.Scratch.size(); }
  void run(const KernelContext &Ctx) const override {
    const float *S;
    const int32_t *Z;
    const float *ZF;
    P.loadParams(Ctx, S, Z, ZF);
    const XT *X = Ctx.tensor<const XT>(P.X);
    YT *Y = Ctx.tensor<YT>(P.Y);
    P.forEach(Ctx, [&](size_t I, size_t Pi) {
      double Q;
      if constexpr (std::is_integral_v<XT>)
        Q = double(X[I]) / double(S[Pi]); // int32 / float promotes to double in the reference
      else
        Q = double(roundTo(Prec, roundTo(Prec, float(load(X[I]))) / roundTo(Prec, S[Pi])));
      if constexpr (lowp::isMiniFloat<YT> && !std::is_same_v<YT, Float4E2M1>) {
        Y[I] = lowpFromDouble<YT>(Q, Saturate);
      } else if constexpr (std::is_same_v<YT, Float4E2M1>) {
        if constexpr (std::is_integral_v<XT>)
          Q += double(ZF[Pi]);
        else
          Q = double(float(Q) + ZF[Pi]);
        Y[I] = lowpFromDouble<YT>(Q, true);
      } else {
        Q = std::isnan(Q) ? Q : std::nearbyint(Q) + double(Z[Pi]);
        if constexpr (lowp::isSmallInt<YT>)
          Y[I] = std::isnan(Q) ? YT{0} : lowp::smallIntSaturate<YT>(int64_t(std::max(-1e9, std::min(1e9, Q))));
        else
          Y[I] = saturateRound<YT>(Q);
      }
    });
  }

private:
  QuantPlan P;
  bool Saturate;
  DivPrecision Prec;
};

// The value of a quantized element as float (exact).
template <typename XT> inline float quantValue(XT V) {
  if constexpr (lowp::isSmallInt<XT>)
    return float(lowp::smallIntValue(V));
  else if constexpr (lowp::isMiniFloat<XT>)
    return lowpToFloat(V);
  else
    return float(V);
}

template <typename XT, typename YT> class DequantizeKernel final : public Kernel {
public:
  explicit DequantizeKernel(const QuantPlan &P) : P(P) {}
  size_t scratchBytes() const override { return P.Scratch.size(); }
  void run(const KernelContext &Ctx) const override {
    const float *S;
    const int32_t *Z;
    const float *ZF;
    P.loadParams(Ctx, S, Z, ZF);
    const XT *X = Ctx.tensor<const XT>(P.X);
    YT *Y = Ctx.tensor<YT>(P.Y);
    P.forEach(Ctx, [&](size_t I, size_t Pi) {
      if constexpr (lowp::isMiniFloat<XT>) // float8/float4 zero points are not read (reference)
        Y[I] = store<YT>(quantValue(X[I]) * S[Pi]);
      else
        Y[I] = store<YT>((quantValue(X[I]) - float(Z[Pi])) * S[Pi]);
    });
  }

private:
  QuantPlan P;
};

bool isQuantType(int32_t T) {
  return T == OPTIMA_ELEMENT_I8 || T == OPTIMA_ELEMENT_U8 || T == OPTIMA_ELEMENT_I16 ||
         T == OPTIMA_ELEMENT_U16 || (isLowPrecisionType(T) && T != OPTIMA_ELEMENT_F8E8M0);
}

// Calls F(TypeTag<T>) for a quantized type (isQuantType).
template <typename Fn> void dispatchQuant(int32_t T, Fn &&F) {
  bool Low = dispatchLowPrecision(T, [&](auto Tag) {
    if constexpr (!std::is_same_v<typename decltype(Tag)::type, Float8E8M0>)
      F(Tag);
  });
  if (!Low)
    dispatchType(T, [&](auto Tag) {
      using Q = typename decltype(Tag)::type;
      if constexpr (isQuantStorage<Q>())
        F(Tag);
    });
}

DivPrecision divPrecision(const NodeContext &Ctx, int32_t XType, int32_t ScaleType) {
  if (Ctx.hasAttribute("precision")) {
    switch (Ctx.getInt("precision", 0)) {
    case 1: return DivPrecision::F32;
    case 10: return DivPrecision::F16;
    case 16: return DivPrecision::BF16;
    default:
      Ctx.invalidAttribute("precision", "must be FLOAT (1), FLOAT16 (10) or BFLOAT16 (16), got " +
                                            std::to_string(Ctx.getInt("precision", 0)));
    }
  }
  if (XType == ScaleType && XType == OPTIMA_ELEMENT_F16)
    return DivPrecision::F16;
  if (XType == ScaleType && XType == OPTIMA_ELEMENT_BF16)
    return DivPrecision::BF16;
  return DivPrecision::F32;
}
bool isScaleType(int32_t T) {
  return T == OPTIMA_ELEMENT_F32 || T == OPTIMA_ELEMENT_F16 || T == OPTIMA_ELEMENT_BF16;
}

std::unique_ptr<Kernel> makeQuantizeLinear(const NodeContext &Ctx) {
  Ctx.expectArity(2, 3, 1);
  Ctx.allowAttributes({"axis", "block_size", "output_dtype", "saturate", "precision"});
  int64_t Saturate = Ctx.getInt("saturate", 1);
  if (Saturate != 0 && Saturate != 1)
    Ctx.invalidAttribute("saturate", "must be 0 or 1, got " + std::to_string(Saturate));
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_I32});
  const TensorInfo &XI = *Ctx.input(0);
  const TensorInfo &SI = *Ctx.input(1);
  if (!isScaleType(SI.Type) && SI.Type != OPTIMA_ELEMENT_F64)
    Ctx.unsupported(std::string(typeName(SI.Type)) + " scale \"" + SI.Name + "\"");
  const TensorInfo &YI = Ctx.output(0);
  if (!isQuantType(YI.Type))
    refuseQuantType(Ctx, YI);
  if (Ctx.input(2) && Ctx.input(2)->Type != YI.Type)
    Ctx.invalid("zero point \"" + Ctx.input(2)->Name + "\" is " + typeName(Ctx.input(2)->Type) +
                " but the output is " + typeName(YI.Type));
  Ctx.expectOutput(0, YI.Type, XI.Shape);
  QuantPlan P;
  P.plan(Ctx);
  DivPrecision Prec = divPrecision(Ctx, XI.Type, SI.Type);
  std::unique_ptr<Kernel> K;
  dispatchType(XI.Type, [&](auto XTag) {
    using XT = typename decltype(XTag)::type;
    if constexpr (std::is_same_v<XT, float> || isHalfLike<XT> || std::is_same_v<XT, int32_t>)
      dispatchQuant(YI.Type, [&](auto YTag) {
        using YT = typename decltype(YTag)::type;
        K = std::make_unique<QuantizeKernel<XT, YT>>(P, Saturate == 1, Prec);
      });
  });
  return K;
}

std::unique_ptr<Kernel> makeDequantizeLinear(const NodeContext &Ctx) {
  Ctx.expectArity(2, 3, 1);
  Ctx.allowAttributes({"axis", "block_size", "output_dtype"});
  const TensorInfo &XI = *Ctx.input(0);
  const TensorInfo &SI = *Ctx.input(1);
  if (!isQuantType(XI.Type) && XI.Type != OPTIMA_ELEMENT_I32)
    refuseQuantType(Ctx, XI);
  if (!isScaleType(SI.Type))
    Ctx.unsupported(std::string(typeName(SI.Type)) + " scale \"" + SI.Name + "\"");
  const TensorInfo *ZI = Ctx.input(2);
  if (ZI && ZI->Type != XI.Type)
    Ctx.invalid("zero point \"" + ZI->Name + "\" is " + typeName(ZI->Type) + " but x is " +
                typeName(XI.Type));
  const TensorInfo &YI = Ctx.output(0);
  if (!isScaleType(YI.Type))
    Ctx.unsupported(std::string(typeName(YI.Type)) + " output \"" + YI.Name + "\"");
  Ctx.expectOutput(0, YI.Type, XI.Shape);
  QuantPlan P;
  P.plan(Ctx);
  std::unique_ptr<Kernel> K;
  auto WithX = [&](auto XTag) {
    using XT = typename decltype(XTag)::type;
    dispatchType(YI.Type, [&](auto YTag) {
      using YT = typename decltype(YTag)::type;
      if constexpr (std::is_same_v<YT, float> || isHalfLike<YT>)
        K = std::make_unique<DequantizeKernel<XT, YT>>(P);
    });
  };
  if (XI.Type == OPTIMA_ELEMENT_I32)
    WithX(TypeTag<int32_t>{});
  else
    dispatchQuant(XI.Type, WithX);
  return K;
}

// y_scale = (max(0, max x) - min(0, min x)) / 255; zero point and y as the ONNX definition.
class DynamicQuantizeKernel final : public Kernel {
public:
  DynamicQuantizeKernel(int32_t X, int32_t Y, int32_t Scale, int32_t Zero, size_t N)
      : X(X), Y(Y), Scale(Scale), Zero(Zero), N(N) {}
  void run(const KernelContext &Ctx) const override {
    const float *PX = Ctx.tensor<const float>(X);
    float Lo = 0.0f, Hi = 0.0f;
    for (size_t I = 0; I < N; ++I) {
      Lo = std::min(Lo, PX[I]);
      Hi = std::max(Hi, PX[I]);
    }
    // As the ONNX definition: a zero range uses scale 1/255 (everything is 0 then).
    float S = (Hi == Lo ? 1.0f : Hi - Lo) / 255.0f;
    float Zf = std::min(255.0f, std::max(0.0f, 0.0f - Lo / S));
    float Zp = std::nearbyint(Zf);
    *Ctx.tensor<float>(Scale) = S;
    *Ctx.tensor<uint8_t>(Zero) = uint8_t(Zp);
    uint8_t *PY = Ctx.tensor<uint8_t>(Y);
    Ctx.parallelFor(N, size_t(1) << 15, [&](size_t Begin, size_t End) {
      for (size_t I = Begin; I < End; ++I)
        PY[I] = saturateRound<uint8_t>(double(std::nearbyint(PX[I] / S) + Zp));
    });
  }

private:
  int32_t X, Y, Scale, Zero;
  size_t N;
};

std::unique_ptr<Kernel> makeDynamicQuantizeLinear(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 3);
  Ctx.allowAttributes({});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32});
  const TensorInfo &XI = *Ctx.input(0);
  Ctx.expectOutput(0, OPTIMA_ELEMENT_U8, XI.Shape);
  Ctx.expectOutput(1, OPTIMA_ELEMENT_F32, {});
  Ctx.expectOutput(2, OPTIMA_ELEMENT_U8, {});
  return std::make_unique<DynamicQuantizeKernel>(Ctx.inputId(0), Ctx.outputId(0), Ctx.outputId(1),
                                                 Ctx.outputId(2), XI.Elements);
}

} // namespace

void registerQuantizationOps(OpRegistry &R) {
  R.add("QuantizeLinear", makeQuantizeLinear);
  R.add("DequantizeLinear", makeDequantizeLinear);
  R.add("DynamicQuantizeLinear", makeDynamicQuantizeLinear);
  registerIntegerQuantOps(R);
}

} // namespace optima_v2::native
