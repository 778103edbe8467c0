#include "ConvCommon.h"

namespace optima_v2::native {

std::vector<int64_t> convInts(const NodeContext &Ctx, const char *Name, size_t Size,
                              int64_t Default, int64_t Min) {
  std::vector<int64_t> V = Ctx.getInts(Name, std::vector<int64_t>(Size, Default));
  if (V.size() != Size)
    Ctx.invalidAttribute(Name, "expected " + std::to_string(Size) + " values, got " +
                                   std::to_string(V.size()));
  for (int64_t E : V)
    if (E < Min || E > INT32_MAX)
      Ctx.invalidAttribute(Name, "value " + std::to_string(E) + " out of range [" +
                                     std::to_string(Min) + ", " + std::to_string(INT32_MAX) + "]");
  return V;
}

Dims planConv(const NodeContext &Ctx, const Dims &X, const Dims &W, const TensorInfo *B,
              ConvGeometry &G) {
  if (X.size() < 3)
    Ctx.invalid("input X " + formatShape(X) + " needs at least 3 dims (N, C, spatial...)");
  if (W.size() != X.size())
    Ctx.invalid("weights W " + formatShape(W) + " must have the rank of X " + formatShape(X));
  G = ConvGeometry();
  G.Rank = X.size() - 2;
  G.Batch = size_t(X[0]);
  G.Channels = size_t(X[1]);
  G.Filters = size_t(W[0]);
  int64_t Group = Ctx.getInt("group", 1);
  if (Group < 1 || Group > INT32_MAX)
    Ctx.invalidAttribute("group", "expected a positive value");
  G.Groups = size_t(Group);
  if (G.Channels % G.Groups != 0 || G.Filters % G.Groups != 0)
    Ctx.invalid("group " + std::to_string(Group) + " does not divide the " +
                std::to_string(G.Channels) + " input channels and " + std::to_string(G.Filters) +
                " filters");
  G.GroupChannels = G.Channels / G.Groups;
  G.GroupFilters = G.Filters / G.Groups;
  if (size_t(W[1]) != G.GroupChannels)
    Ctx.invalid("weights W " + formatShape(W) + " must have " + std::to_string(G.GroupChannels) +
                " channels per group (dim 1)");
  if (B && (B->Shape.size() != 1 || size_t(B->Shape[0]) != G.Filters))
    Ctx.invalid("bias " + formatShape(B->Shape) + " must be [" + std::to_string(G.Filters) + "]");

  std::vector<int64_t> KernelShape(W.begin() + 2, W.end());
  if (Ctx.hasAttribute("kernel_shape") && Ctx.getInts("kernel_shape", {}) != KernelShape)
    Ctx.invalidAttribute("kernel_shape", "does not match the weights' spatial dims " +
                                             formatShape(KernelShape));
  std::vector<int64_t> Strides = convInts(Ctx, "strides", G.Rank, 1, 1);
  std::vector<int64_t> Dilations = convInts(Ctx, "dilations", G.Rank, 1, 1);
  std::string AutoPad = Ctx.getString("auto_pad", "NOTSET");
  if (AutoPad != "NOTSET" && AutoPad != "SAME_UPPER" && AutoPad != "SAME_LOWER" &&
      AutoPad != "VALID")
    Ctx.invalidAttribute("auto_pad", "expected NOTSET, SAME_UPPER, SAME_LOWER or VALID, got \"" +
                                         AutoPad + "\"");
  if (AutoPad != "NOTSET" && Ctx.hasAttribute("pads"))
    Ctx.invalidAttribute("pads", "cannot be combined with auto_pad " + AutoPad);
  std::vector<int64_t> Pads = convInts(Ctx, "pads", 2 * G.Rank, 0, 0);

  Dims OutShape{X[0], W[0]};
  for (size_t D = 0; D < G.Rank; ++D) {
    int64_t In = X[D + 2], K = KernelShape[D], S = Strides[D], Dil = Dilations[D];
    int64_t Effective = (K - 1) * Dil + 1;
    int64_t Out, PadBegin = Pads[D], PadEnd = Pads[D + G.Rank];
    if (K < 1)
      Ctx.invalid("weights W " + formatShape(W) + " have an empty kernel");
    if (AutoPad == "SAME_UPPER" || AutoPad == "SAME_LOWER") {
      Out = convCeilDiv(In, S);
      int64_t Total = std::max<int64_t>(0, (Out - 1) * S + Effective - In);
      PadBegin = AutoPad == "SAME_UPPER" ? Total / 2 : Total - Total / 2;
    } else {
      if (AutoPad == "VALID")
        PadBegin = PadEnd = 0;
      int64_t Span = In + PadBegin + PadEnd - Effective;
      if (Span < 0)
        Ctx.invalid("kernel (extent " + std::to_string(Effective) +
                    ") is larger than the padded input dim " + std::to_string(D + 2) + " (" +
                    std::to_string(In + PadBegin + PadEnd) + ")");
      Out = Span / S + 1;
    }
    G.In[D] = In;
    G.Out[D] = Out;
    G.Kernel[D] = K;
    G.Stride[D] = S;
    G.Dilation[D] = Dil;
    G.PadBegin[D] = PadBegin;
    OutShape.push_back(Out);
  }
  for (size_t D = G.Rank; D-- > 0;) {
    G.InStride[D] = int64_t(G.InPlane);
    G.OutStride[D] = int64_t(G.OutPlane);
    G.InPlane *= size_t(G.In[D]);
    G.OutPlane *= size_t(G.Out[D]);
    G.KernelSize *= size_t(G.Kernel[D]);
  }
  return OutShape;
}

} // namespace optima_v2::native
