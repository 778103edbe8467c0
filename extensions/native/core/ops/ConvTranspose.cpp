// ConvTranspose (ONNX): 1 to 6 spatial dims, groups, strides, dilations, pads, output_padding,
// output_shape and auto_pad. Per image and group: Col = W_g^T * X_g through the GEMM (weights
// pre-packed at load when constant), then col2im scatter-adds Col into the output planes.
// F32/F64 compute in their own type; F16/BF16 in float. Optional fused activation (Epilogue.h)
// applied per output plane right after its scatter.
#include "../OpRegistry.h"
#include "conv/ConvCommon.h"
#include "Epilogue.h"
#include "conv/Staging.h"

namespace optima_v2::native {

namespace {

int64_t floorDiv2(int64_t V) { return V >= 0 ? V / 2 : -((-V + 1) / 2); }

// Geometry of the transposed problem. Scatter describes the col2im walk with the roles of input
// and output swapped, so that sweepOutputRows visits, for one kernel position, every input
// element and the output element it lands on.
struct TransposeGeometry {
  ConvGeometry Scatter;  // In = output dims, Out = input dims
  size_t Batch = 0, Channels = 0, Filters = 0, Groups = 1, GroupChannels = 0, GroupFilters = 0;
  size_t InPlane = 1, OutPlane = 1, KernelSize = 1;
};

template <typename S> class ConvTransposeKernel final : public Kernel {
  using C = ComputeType<S>;
  static constexpr bool Staged = !std::is_same_v<S, C>;

public:
  ConvTransposeKernel(const NodeContext &Ctx, const TransposeGeometry &Geo, const Epilogue &Ep)
      : G(Geo), Ep(Ep), X(Ctx.inputId(0)), W(Ctx.inputId(1)), B(Ctx.input(2) ? Ctx.inputId(2) : -1),
        Y(Ctx.outputId(0)) {
    const TensorInfo &WI = *Ctx.input(1);
    const TensorInfo *BI = Ctx.input(2);
    size_t ColRows = G.GroupFilters * G.KernelSize;
    if (uint64_t(ColRows) * G.InPlane > MaxTensorBytes / sizeof(C))
      Ctx.unsupported("col2im buffer would exceed " + std::to_string(MaxTensorBytes) + " bytes");
    ColOffset = Layout.add(ColRows * G.InPlane * sizeof(C));
    XElems = G.Batch * G.Channels * G.InPlane;
    YElems = G.Batch * G.Filters * G.OutPlane;
    if (WI.Where == Storage::Constant) {
      std::vector<C> Plain(WI.Elements);
      dispatchType(WI.Type, [&](auto Tag) {
        using E = typename decltype(Tag)::type;
        if constexpr (!std::is_same_v<E, bool>)
          convertArray(static_cast<const E *>(WI.Data), Plain.data(), WI.Elements);
      });
      ConstW = true;
      if constexpr (std::is_same_v<C, float>) {
        // Packed once here in the GEMM's A layout: op(A) = W_g^T, read transposed from W.
        PackedWT.resize(G.Groups);
        for (size_t Gi = 0; Gi < G.Groups; ++Gi)
          PackedWT[Gi].pack(ColRows, G.GroupChannels, /*TransA=*/true,
                            Plain.data() + Gi * G.GroupChannels * ColRows, ColRows);
      } else {
        // W [C, Mg*K] per group -> WT [G][Mg*K][Cg]: the generic GEMM reads A row-major.
        ConstWT.resize(Plain.size());
        for (size_t Gi = 0; Gi < G.Groups; ++Gi)
          for (size_t Ci = 0; Ci < G.GroupChannels; ++Ci)
            for (size_t R = 0; R < ColRows; ++R)
              ConstWT[(Gi * ColRows + R) * G.GroupChannels + Ci] =
                  Plain[(Gi * G.GroupChannels + Ci) * ColRows + R];
      }
    } else if (Staged) {
      WOffset = Layout.add(WI.Elements * sizeof(C));
    }
    WElems = WI.Elements;
    if constexpr (Staged) {
      XOffset = Layout.add(XElems * sizeof(C));
      YOffset = Layout.add(YElems * sizeof(C));
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
    std::byte *Scratch = Ctx.Scratch;
    if constexpr (!Staged) {
      compute(Ctx, PX, ConstW ? nullptr : PW, PB, PY, Scratch);
    } else {
      C *XC = reinterpret_cast<C *>(Scratch + XOffset);
      C *YC = reinterpret_cast<C *>(Scratch + YOffset);
      convertArray(PX, XC, XElems);
      C *WC = nullptr;
      if (!ConstW) {
        WC = reinterpret_cast<C *>(Scratch + WOffset);
        convertArray(PW, WC, WElems);
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
      compute(Ctx, XC, WC, BC, YC, Scratch);
      convertArray(YC, PY, YElems);
    }
  }

private:
  // PlainW: W in its ONNX layout when not pre-transposed (nullptr otherwise).
  void compute(const KernelContext &Ctx, const C *PX, const C *PlainW, const C *PB, C *PY,
               std::byte *Scratch) const {
    C *Col = reinterpret_cast<C *>(Scratch + ColOffset);
    size_t ColRows = G.GroupFilters * G.KernelSize;
    GemmShape Shape;
    Shape.M = ColRows;
    Shape.N = G.InPlane;
    Shape.K = G.GroupChannels;
    Shape.Ldb = G.InPlane;
    Shape.Ldc = G.InPlane;
    if (PlainW) {
      Shape.TransA = true;
      Shape.Lda = ColRows;
    } else {
      Shape.Lda = G.GroupChannels;
    }
    const ConvGeometry &SG = G.Scatter;
    const int64_t St = SG.Stride[SG.Rank - 1];
    for (size_t N = 0; N < G.Batch; ++N) {
      for (size_t Gi = 0; Gi < G.Groups; ++Gi) {
        const C *In = PX + (N * G.Channels + Gi * G.GroupChannels) * G.InPlane;
        if (PlainW)
          gemmAny<C>(Shape, PlainW + Gi * G.GroupChannels * ColRows, In, false, Col, &Ctx);
        else if constexpr (std::is_same_v<C, float>)
          sgemmPackedA(Shape, 1.0f, PackedWT[Gi], In, 0.0f, Col, &Ctx);
        else
          gemmAny<C>(Shape, ConstWT.data() + Gi * ColRows * G.GroupChannels, In, false, Col, &Ctx);
        C *Out = PY + (N * G.Filters + Gi * G.GroupFilters) * G.OutPlane;
        size_t Grain = std::max<size_t>(
            1, (size_t(1) << 14) / std::max<size_t>(1, G.InPlane * G.KernelSize));
        Ctx.parallelFor(G.GroupFilters, Grain, [&](size_t Begin, size_t End) {
          int64_t KPos[ConvMaxSpatial];
          for (size_t M = Begin; M < End; ++M) {
            C *Plane = Out + M * G.OutPlane;
            std::fill(Plane, Plane + G.OutPlane, PB ? PB[Gi * G.GroupFilters + M] : C(0));
            for (size_t K = 0; K < G.KernelSize; ++K) {
              const C *Src = Col + (M * G.KernelSize + K) * G.InPlane;
              convKernelCoords(SG, K, KPos);
              sweepOutputRows(SG, KPos, [&](size_t InOff, bool Valid, int64_t OutBase,
                                            int64_t Lo, int64_t Hi) {
                if (!Valid || Hi <= Lo)
                  return;
                const C *I = Src + InOff;
                C *O = Plane + (OutBase + Lo * St);
                for (int64_t Cc = Lo; Cc < Hi; ++Cc)
                  O[(Cc - Lo) * St] += I[Cc];
              });
            }
            Ep.apply(Plane, G.OutPlane); // fused activation while the plane is in cache
          }
        });
      }
    }
  }

  TransposeGeometry G;
  Epilogue Ep;
  int32_t X, W, B, Y;
  ScratchLayout Layout;
  size_t ColOffset = 0, XOffset = 0, YOffset = 0, WOffset = 0, BOffset = 0;
  size_t XElems = 0, YElems = 0, WElems = 0;
  bool ConstW = false;             // W constant: PackedWT (float compute) or ConstWT (double)
  std::vector<C> ConstWT, ConstB; // ConstWT: constant W_g^T per group, double compute only
  std::vector<PackedA> PackedWT;   // constant W_g^T per group, float compute
};

std::unique_ptr<Kernel> makeConvTranspose(const NodeContext &Ctx) {
  Ctx.expectArity(2, 3, 1);
  Ctx.allowAttributes({"auto_pad", "dilations", "group", "kernel_shape", "output_padding",
                       "output_shape", "pads", "strides", OPTIMA_V2_EPILOGUE_ATTRIBUTES});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F64, OPTIMA_ELEMENT_F16,
                      OPTIMA_ELEMENT_BF16});
  int32_t Type = Ctx.input(0)->Type;
  for (size_t I = 1; I < 3; ++I)
    if (Ctx.input(I) && Ctx.input(I)->Type != Type)
      Ctx.invalid(std::string("input ") + std::to_string(I) + " \"" + Ctx.input(I)->Name +
                  "\" is " + typeName(Ctx.input(I)->Type) + " but X is " + typeName(Type));
  const Dims &XS = Ctx.input(0)->Shape, &WS = Ctx.input(1)->Shape;
  const TensorInfo *BI = Ctx.input(2);
  if (XS.size() < 3)
    Ctx.invalid("input X " + formatShape(XS) + " needs at least 3 dims (N, C, spatial...)");
  if (WS.size() != XS.size())
    Ctx.invalid("weights W " + formatShape(WS) + " must have the rank of X " + formatShape(XS));
  TransposeGeometry G;
  size_t Rank = XS.size() - 2;
  int64_t Group = Ctx.getInt("group", 1);
  if (Group < 1 || Group > INT32_MAX)
    Ctx.invalidAttribute("group", "expected a positive value");
  G.Groups = size_t(Group);
  G.Batch = size_t(XS[0]);
  G.Channels = size_t(XS[1]);
  if (size_t(WS[0]) != G.Channels)
    Ctx.invalid("weights W " + formatShape(WS) + " must have " + std::to_string(G.Channels) +
                " input channels (dim 0)");
  if (G.Channels % G.Groups != 0)
    Ctx.invalid("group " + std::to_string(Group) + " does not divide the " +
                std::to_string(G.Channels) + " input channels");
  G.GroupChannels = G.Channels / G.Groups;
  G.GroupFilters = size_t(WS[1]);
  G.Filters = G.GroupFilters * G.Groups;
  if (BI && (BI->Shape.size() != 1 || size_t(BI->Shape[0]) != G.Filters))
    Ctx.invalid("bias " + formatShape(BI->Shape) + " must be [" + std::to_string(G.Filters) + "]");
  std::vector<int64_t> KernelShape(WS.begin() + 2, WS.end());
  if (Ctx.hasAttribute("kernel_shape") && Ctx.getInts("kernel_shape", {}) != KernelShape)
    Ctx.invalidAttribute("kernel_shape", "does not match the weights' spatial dims " +
                                             formatShape(KernelShape));
  std::vector<int64_t> Strides = convInts(Ctx, "strides", Rank, 1, 1);
  std::vector<int64_t> Dilations = convInts(Ctx, "dilations", Rank, 1, 1);
  std::vector<int64_t> OutPadding = convInts(Ctx, "output_padding", Rank, 0, 0);
  std::string AutoPad = Ctx.getString("auto_pad", "NOTSET");
  if (AutoPad != "NOTSET" && AutoPad != "SAME_UPPER" && AutoPad != "SAME_LOWER" &&
      AutoPad != "VALID")
    Ctx.invalidAttribute("auto_pad", "expected NOTSET, SAME_UPPER, SAME_LOWER or VALID, got \"" +
                                         AutoPad + "\"");
  std::vector<int64_t> Pads = convInts(Ctx, "pads", 2 * Rank, 0, 0);
  std::vector<int64_t> OutputShape;
  if (Ctx.hasAttribute("output_shape")) {
    OutputShape = Ctx.getInts("output_shape", {});
    if (OutputShape.size() == Rank + 2)
      OutputShape.erase(OutputShape.begin(), OutputShape.begin() + 2);
    if (OutputShape.size() != Rank)
      Ctx.invalidAttribute("output_shape", "expected " + std::to_string(Rank) + " values");
    for (int64_t V : OutputShape)
      if (V < 1 || V > INT32_MAX)
        Ctx.invalidAttribute("output_shape", "value " + std::to_string(V) + " out of range");
  } else if (AutoPad == "SAME_UPPER" || AutoPad == "SAME_LOWER") {
    for (size_t D = 0; D < Rank; ++D)
      OutputShape.push_back(XS[D + 2] * Strides[D]);
  }
  Dims OutShape{XS[0], int64_t(G.Filters)};
  ConvGeometry &SG = G.Scatter;
  SG.Rank = Rank;
  for (size_t D = 0; D < Rank; ++D) {
    int64_t In = XS[D + 2], K = KernelShape[D], S = Strides[D], Dil = Dilations[D];
    if (K < 1)
      Ctx.invalid("weights W " + formatShape(WS) + " have an empty kernel");
    int64_t Effective = (K - 1) * Dil + 1;
    int64_t Full = S * (In - 1) + OutPadding[D] + Effective;
    int64_t PadBegin, Out;
    if (!OutputShape.empty()) {
      Out = OutputShape[D];
      int64_t Total = Full - Out;
      PadBegin = AutoPad == "SAME_UPPER" ? floorDiv2(Total) : Total - floorDiv2(Total);
    } else {
      PadBegin = AutoPad == "VALID" ? 0 : Pads[D];
      int64_t PadEnd = AutoPad == "VALID" ? 0 : Pads[D + Rank];
      Out = Full - PadBegin - PadEnd;
      if (Out < 1)
        Ctx.invalid("pads leave an empty output in spatial dim " + std::to_string(D + 2));
    }
    SG.In[D] = Out;
    SG.Out[D] = In;
    SG.Kernel[D] = K;
    SG.Stride[D] = S;
    SG.Dilation[D] = Dil;
    SG.PadBegin[D] = PadBegin;
    OutShape.push_back(Out);
  }
  Ctx.expectOutput(0, Type, OutShape);
  Epilogue Ep = readEpilogue(Ctx, Type);
  for (size_t D = Rank; D-- > 0;) {
    SG.InStride[D] = int64_t(SG.InPlane);
    SG.OutStride[D] = int64_t(SG.OutPlane);
    SG.InPlane *= size_t(SG.In[D]);
    SG.OutPlane *= size_t(SG.Out[D]);
    SG.KernelSize *= size_t(SG.Kernel[D]);
  }
  G.InPlane = SG.OutPlane;
  G.OutPlane = SG.InPlane;
  G.KernelSize = SG.KernelSize;
  std::unique_ptr<Kernel> Kn;
  dispatchType(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double> || isHalfLike<T>)
      Kn = std::make_unique<ConvTransposeKernel<T>>(Ctx, G, Ep);
  });
  return Kn;
}

} // namespace

void registerConvTransposeOps(OpRegistry &R) { R.add("ConvTranspose", makeConvTranspose); }

} // namespace optima_v2::native
