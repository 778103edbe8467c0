// DeformConv (opset 19/22), 2-D: a grouped convolution whose kernel taps are displaced by
// learned offsets and scaled by an optional mask. offset [N, offset_group * kh * kw * 2, oh, ow]
// holds (dy, dx) per tap; mask [N, offset_group * kh * kw, oh, ow]. A displaced tap samples X
// bilinearly, reading zero outside the image. F32, F16, BF16, F64 (sums in float / double).
//
// Per batch image the sampled (and masked) taps are written to a column buffer in scratch,
// [C * kh * kw, oh * ow] (parallel over rows), then Y = W x columns per group (parallel over
// output channels).
#include "SpatialOps.h"

#include "../../TypeDispatch.h"

#include <algorithm>
#include <cmath>

namespace optima_v2::native {

namespace {

struct DeformParams {
  int32_t X = -1, W = -1, Offset = -1, Bias = -1, Mask = -1, Y = -1;
  size_t Batch = 0, InCh = 0, OutCh = 0, Groups = 1, OffsetGroups = 1;
  int64_t H = 0, Wd = 0, KH = 0, KW = 0, OH = 0, OW = 0;
  int64_t StrideH = 1, StrideW = 1, PadT = 0, PadL = 0, DilH = 1, DilW = 1;
};

template <typename T> class DeformConvKernel final : public Kernel {
public:
  using C = ComputeType<T>;

  explicit DeformConvKernel(const DeformParams &P) : P(P) {
    Taps = size_t(P.KH * P.KW);
    Pixels = size_t(P.OH * P.OW);
  }

  size_t scratchBytes() const override { return P.InCh * Taps * Pixels * sizeof(C); }

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(P.X);
    const T *W = Ctx.tensor<const T>(P.W);
    const T *Off = Ctx.tensor<const T>(P.Offset);
    const T *B = P.Bias >= 0 ? Ctx.tensor<const T>(P.Bias) : nullptr;
    const T *M = P.Mask >= 0 ? Ctx.tensor<const T>(P.Mask) : nullptr;
    T *Y = Ctx.tensor<T>(P.Y);
    C *Cols = reinterpret_cast<C *>(Ctx.Scratch);
    size_t ChPerOffsetGroup = P.InCh / P.OffsetGroups;
    size_t InPerGroup = P.InCh / P.Groups, OutPerGroup = P.OutCh / P.Groups;
    size_t Plane = size_t(P.H * P.Wd);
    for (size_t N = 0; N < P.Batch; ++N) {
      const T *XN = X + N * P.InCh * Plane;
      const T *OffN = Off + N * P.OffsetGroups * Taps * 2 * Pixels;
      const T *MN = M ? M + N * P.OffsetGroups * Taps * Pixels : nullptr;
      Ctx.parallelFor(P.InCh * Taps, 1, [&](size_t Begin, size_t End) {
        for (size_t Row = Begin; Row < End; ++Row) {
          size_t Ch = Row / Taps, Tap = Row % Taps;
          size_t Og = Ch / ChPerOffsetGroup;
          int64_t A = int64_t(Tap) / P.KW, Bk = int64_t(Tap) % P.KW;
          const T *Dy = OffN + ((Og * Taps + Tap) * 2) * Pixels;
          const T *Dx = Dy + Pixels;
          const T *Mk = MN ? MN + (Og * Taps + Tap) * Pixels : nullptr;
          const T *Img = XN + Ch * Plane;
          C *Out = Cols + Row * Pixels;
          for (int64_t I = 0; I < P.OH; ++I)
            for (int64_t J = 0; J < P.OW; ++J) {
              size_t Px = size_t(I * P.OW + J);
              C Hc = C(I * P.StrideH - P.PadT + A * P.DilH) + load(Dy[Px]);
              C Wc = C(J * P.StrideW - P.PadL + Bk * P.DilW) + load(Dx[Px]);
              C V = sample(Img, Hc, Wc);
              Out[Px] = Mk ? V * load(Mk[Px]) : V;
            }
        }
      });
      T *YN = Y + N * P.OutCh * Pixels;
      Ctx.parallelFor(P.OutCh, 1, [&](size_t Begin, size_t End) {
        for (size_t Oc = Begin; Oc < End; ++Oc) {
          size_t G = Oc / OutPerGroup;
          T *YR = YN + Oc * Pixels;
          const T *WR = W + Oc * InPerGroup * Taps;
          const C *ColG = Cols + G * InPerGroup * Taps * Pixels;
          C Bias = B ? load(B[Oc]) : C(0);
          for (size_t Px = 0; Px < Pixels; ++Px) {
            C Sum = Bias;
            for (size_t K = 0; K < InPerGroup * Taps; ++K)
              Sum += load(WR[K]) * ColG[K * Pixels + Px];
            YR[Px] = store<T>(Sum);
          }
        }
      });
    }
  }

private:
  // Bilinear sample of one channel at (Hc, Wc); corners outside the image read zero.
  C sample(const T *Img, C Hc, C Wc) const {
    if (!(Hc > C(-1) && Hc < C(P.H) && Wc > C(-1) && Wc < C(P.Wd)))
      return C(0); // also NaN: no corner can be inside
    C H0f = std::floor(Hc), W0f = std::floor(Wc);
    int64_t H0 = int64_t(H0f), W0 = int64_t(W0f);
    C Lh = Hc - H0f, Lw = Wc - W0f;
    C Sum = C(0);
    for (int64_t Dh = 0; Dh < 2; ++Dh)
      for (int64_t Dw = 0; Dw < 2; ++Dw) {
        int64_t Hi = H0 + Dh, Wi = W0 + Dw;
        if (Hi < 0 || Hi >= P.H || Wi < 0 || Wi >= P.Wd)
          continue;
        C Wt = (Dh ? Lh : 1 - Lh) * (Dw ? Lw : 1 - Lw);
        Sum += Wt * load(Img[Hi * P.Wd + Wi]);
      }
    return Sum;
  }

  DeformParams P;
  size_t Taps = 0, Pixels = 0;
};

} // namespace

std::unique_ptr<Kernel> makeDeformConv(const NodeContext &Ctx) {
  Ctx.expectArity(3, 5, 1);
  Ctx.allowAttributes({"dilations", "group", "kernel_shape", "offset_group", "pads", "strides"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_F64});
  const TensorInfo &X = *Ctx.input(0);
  const TensorInfo &W = *Ctx.input(1);
  const TensorInfo &Off = *Ctx.input(2);
  for (size_t I = 1; I < 5; ++I)
    if (const TensorInfo *T = Ctx.input(I); T && T->Type != X.Type)
      Ctx.invalid("input \"" + T->Name + "\" is " + typeName(T->Type) + " but X \"" + X.Name +
                  "\" is " + typeName(X.Type));
  if (X.Shape.size() != 4)
    Ctx.unsupported("X \"" + X.Name + "\" " + describe(X.Type, X.Shape) +
                    ": only 2-D DeformConv (rank 4) is supported");
  if (W.Shape.size() != 4)
    Ctx.invalid("W \"" + W.Name + "\" must be [M, C / group, kh, kw], got " +
                describe(W.Type, W.Shape));
  DeformParams P;
  int64_t Group = Ctx.getInt("group", 1), OffsetGroup = Ctx.getInt("offset_group", 1);
  std::vector<int64_t> KernelShape = Ctx.getInts("kernel_shape", {W.Shape[2], W.Shape[3]});
  std::vector<int64_t> Strides = Ctx.getInts("strides", {1, 1});
  std::vector<int64_t> Dil = Ctx.getInts("dilations", {1, 1});
  std::vector<int64_t> Pads = Ctx.getInts("pads", {0, 0, 0, 0});
  if (KernelShape.size() != 2 || KernelShape[0] != W.Shape[2] || KernelShape[1] != W.Shape[3])
    Ctx.invalidAttribute("kernel_shape", "must match W's spatial shape");
  if (Strides.size() != 2 || Strides[0] < 1 || Strides[1] < 1)
    Ctx.invalidAttribute("strides", "must be 2 positive values");
  if (Dil.size() != 2 || Dil[0] < 1 || Dil[1] < 1)
    Ctx.invalidAttribute("dilations", "must be 2 positive values");
  if (Pads.size() != 4 || *std::min_element(Pads.begin(), Pads.end()) < 0)
    Ctx.invalidAttribute("pads", "must be 4 non-negative values");
  for (int64_t V : {Strides[0], Strides[1], Dil[0], Dil[1], Pads[0], Pads[1], Pads[2], Pads[3]})
    if (V > (int64_t(1) << 24))
      Ctx.invalid("strides, dilations or pads too large");
  int64_t InCh = X.Shape[1], OutCh = W.Shape[0];
  if (Group < 1 || InCh % Group != 0 || OutCh % Group != 0 || W.Shape[1] * Group != InCh)
    Ctx.invalid("group " + std::to_string(Group) + " does not fit X " + describe(X.Type, X.Shape) +
                " and W " + describe(W.Type, W.Shape));
  if (OffsetGroup < 1 || InCh % OffsetGroup != 0)
    Ctx.invalidAttribute("offset_group", "must divide the input channels");
  int64_t KH = W.Shape[2], KW = W.Shape[3];
  int64_t OH = (X.Shape[2] + Pads[0] + Pads[2] - ((KH - 1) * Dil[0] + 1)) / Strides[0] + 1;
  int64_t OW = (X.Shape[3] + Pads[1] + Pads[3] - ((KW - 1) * Dil[1] + 1)) / Strides[1] + 1;
  if (KH < 1 || KW < 1 || OH < 1 || OW < 1)
    Ctx.invalid("the kernel does not fit the padded input");
  Dims OffShape{X.Shape[0], OffsetGroup * KH * KW * 2, OH, OW};
  if (Off.Shape != OffShape)
    Ctx.invalid("offset \"" + Off.Name + "\" must be " + formatShape(OffShape) + ", got " +
                describe(Off.Type, Off.Shape));
  if (const TensorInfo *B = Ctx.input(3); B && B->Shape != Dims{OutCh})
    Ctx.invalid("B \"" + B->Name + "\" must be [" + std::to_string(OutCh) + "], got " +
                describe(B->Type, B->Shape));
  Dims MaskShape{X.Shape[0], OffsetGroup * KH * KW, OH, OW};
  if (const TensorInfo *Mk = Ctx.input(4); Mk && Mk->Shape != MaskShape)
    Ctx.invalid("mask \"" + Mk->Name + "\" must be " + formatShape(MaskShape) + ", got " +
                describe(Mk->Type, Mk->Shape));
  Ctx.expectOutput(0, X.Type, Dims{X.Shape[0], OutCh, OH, OW});
  // The column buffer of one image (scratch) must stay within the tensor size cap.
  if (double(InCh) * double(KH * KW) * double(OH * OW) * 8 > double(MaxTensorBytes))
    Ctx.unsupported("the column buffer of C * kh * kw * oh * ow elements is too large");
  P.X = Ctx.inputId(0);
  P.W = Ctx.inputId(1);
  P.Offset = Ctx.inputId(2);
  P.Bias = Ctx.inputId(3);
  P.Mask = Ctx.inputId(4);
  P.Y = Ctx.outputId(0);
  P.Batch = size_t(X.Shape[0]);
  P.InCh = size_t(InCh);
  P.OutCh = size_t(OutCh);
  P.Groups = size_t(Group);
  P.OffsetGroups = size_t(OffsetGroup);
  P.H = X.Shape[2];
  P.Wd = X.Shape[3];
  P.KH = KH;
  P.KW = KW;
  P.OH = OH;
  P.OW = OW;
  P.StrideH = Strides[0];
  P.StrideW = Strides[1];
  P.PadT = Pads[0];
  P.PadL = Pads[1];
  P.DilH = Dil[0];
  P.DilW = Dil[1];
  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_floating_point_v<T> || isHalfLike<T>)
      K = std::make_unique<DeformConvKernel<T>>(P);
  });
  return K;
}

} // namespace optima_v2::native
