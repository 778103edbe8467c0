// Conv (ONNX): 1 to 6 spatial dims, groups (incl. depthwise), strides, dilations, explicit pads or
// auto_pad, optional bias, optional fused activation (Epilogue.h), and an optional fourth input Z
// shaped like Y (a following Add folded in by the compiler): Y = act(conv(X, W) + B + Z). F32 and F64 compute in their own type; F16/BF16 are converted to float
// (constant weights once at load, activations per run into scratch).
#include "../OpRegistry.h"
#include "conv/ConvCommon.h"
#include "Epilogue.h"
#include "conv/Staging.h"

namespace optima_v2::native {

namespace {

template <typename S> class ConvKernel final : public Kernel {
  using C = ComputeType<S>;
  static constexpr bool Staged = !std::is_same_v<S, C>;

public:
  ConvKernel(const NodeContext &Ctx, const ConvGeometry &G, const Epilogue &Ep)
      : Engine(G), X(Ctx.inputId(0)), W(Ctx.inputId(1)), B(Ctx.input(2) ? Ctx.inputId(2) : -1),
        Z(Ctx.input(3) ? Ctx.inputId(3) : -1), Y(Ctx.outputId(0)) {
    Engine.checkScratch(Ctx);
    if (Z >= 0)
      Engine.setResidual();
    Engine.setEpilogue(Ep);
    const TensorInfo &WI = *Ctx.input(1);
    const TensorInfo *BI = Ctx.input(2);
    if constexpr (Staged) {
      if (WI.Where == Storage::Constant) {
        ConstW = constantAsFloat(WI);
        Engine.packWeights(ConstW.data());
      }
    } else if (WI.Where == Storage::Constant) {
      Engine.packWeights(static_cast<const S *>(WI.Data));
    }
    if (Engine.weightsPacked()) { // run() reads only the packed copy
      std::vector<C>().swap(ConstW);
      Ctx.releaseConstantInput(1);
    }
    EngineOffset = Layout.add(Engine.scratchBytes());
    if constexpr (Staged) {
      XElems = G.Batch * G.Channels * G.InPlane;
      YElems = G.Batch * G.Filters * G.OutPlane;
      WElems = WI.Elements;
      XOffset = Layout.add(XElems * sizeof(C));
      YOffset = Layout.add(YElems * sizeof(C));
      if (Z >= 0)
        ZOffset = Layout.add(YElems * sizeof(C));
      if (WI.Where != Storage::Constant)
        WOffset = Layout.add(WElems * sizeof(C));
      if (BI) {
        if (BI->Where == Storage::Constant)
          ConstB = constantAsFloat(*BI);
        else
          BOffset = Layout.add(G.Filters * sizeof(C));
      }
    }
  }

  size_t scratchBytes() const override { return Layout.size(); }

  void run(const KernelContext &Ctx) const override {
    const S *PX = Ctx.tensor<const S>(X);
    const S *PW = Ctx.tensor<const S>(W);
    const S *PB = B >= 0 ? Ctx.tensor<const S>(B) : nullptr;
    S *PY = Ctx.tensor<S>(Y);
    const S *PZ = Z >= 0 ? Ctx.tensor<const S>(Z) : nullptr;
    std::byte *Scratch = Ctx.Scratch;
    if constexpr (!Staged) {
      Engine.run(Ctx, PX, PW, PB, PY, Scratch + EngineOffset, PZ);
    } else {
      const ConvGeometry &G = Engine.geometry();
      C *XC = reinterpret_cast<C *>(Scratch + XOffset);
      C *YC = reinterpret_cast<C *>(Scratch + YOffset);
      convertArray(PX, XC, XElems);
      const C *WC = ConstW.data(); // null when packed: the engine then reads its own copy
      if (ConstW.empty() && !Engine.weightsPacked()) {
        C *Tmp = reinterpret_cast<C *>(Scratch + WOffset);
        convertArray(PW, Tmp, WElems);
        WC = Tmp;
      }
      const C *BC = nullptr;
      if (PB) {
        BC = ConstB.data();
        if (ConstB.empty()) {
          C *Tmp = reinterpret_cast<C *>(Scratch + BOffset);
          convertArray(PB, Tmp, G.Filters);
          BC = Tmp;
        }
      }
      C *ZC = nullptr;
      if (PZ) {
        ZC = reinterpret_cast<C *>(Scratch + ZOffset);
        convertArray(PZ, ZC, YElems);
      }
      Engine.run(Ctx, XC, WC, BC, YC, Scratch + EngineOffset, ZC);
      convertArray(YC, PY, YElems);
    }
  }

private:
  ConvEngine<C> Engine;
  int32_t X, W, B, Z, Y;
  ScratchLayout Layout;
  size_t EngineOffset = 0, XOffset = 0, YOffset = 0, ZOffset = 0, WOffset = 0, BOffset = 0;
  size_t XElems = 0, YElems = 0, WElems = 0;
  std::vector<C> ConstW, ConstB; // staged types: constant weights/bias converted at load
};

std::unique_ptr<Kernel> makeConv(const NodeContext &Ctx) {
  Ctx.expectArity(2, 4, 1);
  Ctx.allowAttributes({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides",
                       OPTIMA_V2_EPILOGUE_ATTRIBUTES});
  const std::initializer_list<int32_t> Types = {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F64,
                                                OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16};
  Ctx.requireType(0, Types);
  int32_t Type = Ctx.input(0)->Type;
  for (size_t I = 1; I < 3; ++I)
    if (Ctx.input(I) && Ctx.input(I)->Type != Type)
      Ctx.invalid(std::string("input ") + std::to_string(I) + " \"" + Ctx.input(I)->Name +
                  "\" is " + typeName(Ctx.input(I)->Type) + " but X is " + typeName(Type));
  ConvGeometry G;
  Dims OutShape = planConv(Ctx, Ctx.input(0)->Shape, Ctx.input(1)->Shape, Ctx.input(2), G);
  Ctx.expectOutput(0, Type, OutShape);
  if (const TensorInfo *ZI = Ctx.input(3)) {
    if (ZI->Type != Type)
      Ctx.invalid("residual input 3 \"" + ZI->Name + "\" is " + typeName(ZI->Type) + " but X is " +
                  typeName(Type));
    if (ZI->Shape != OutShape)
      Ctx.invalid("residual input 3 \"" + ZI->Name + "\" has shape " + formatShape(ZI->Shape) +
                  " but the output is " + formatShape(OutShape));
  }
  Epilogue Ep = readEpilogue(Ctx, Type);
  std::unique_ptr<Kernel> K;
  dispatchType(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || isHalfLike<T>)
      K = std::make_unique<ConvKernel<T>>(Ctx, G, Ep);
  });
  return K;
}

} // namespace

void registerConvOps(OpRegistry &R) { R.add("Conv", makeConv); }

} // namespace optima_v2::native
