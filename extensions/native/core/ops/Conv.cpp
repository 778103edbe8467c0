// Conv (ONNX): NCHW-style layout with 1 to 6 spatial dims, groups (incl. depthwise), strides,
// dilations, explicit pads or auto_pad, optional bias. F32 only.
//
// Kernel choice, fixed at load:
//  - one input channel per group (depthwise and similar): direct accumulation, no scratch;
//  - 1x1 kernel, stride 1, no padding: the input already is the im2col matrix, GEMM only;
//  - otherwise: im2col into per-request scratch, then the blocked GEMM, per image and group.
#include "../Gemm.h"
#include "../OpRegistry.h"

#include <algorithm>
#include <cstring>

namespace optima_v2::native {

namespace {

constexpr size_t MaxSpatial = OPTIMA_EXT_MAX_DIMS - 2;

struct ConvGeometry {
  size_t Rank = 0; // spatial dims
  int64_t In[MaxSpatial] = {}, Out[MaxSpatial] = {}, Kernel[MaxSpatial] = {};
  int64_t Stride[MaxSpatial] = {}, Dilation[MaxSpatial] = {}, PadBegin[MaxSpatial] = {};
  int64_t InStride[MaxSpatial] = {}, OutStride[MaxSpatial] = {}; // within one channel plane
  size_t InPlane = 1, OutPlane = 1, KernelSize = 1;
  size_t Batch = 0, Channels = 0, Filters = 0, Groups = 1;
  size_t GroupChannels = 0, GroupFilters = 0; // per group
};

int64_t ceilDiv(int64_t A, int64_t B) { return (A + B - 1) / B; } // A >= 0, B > 0

// For kernel position KPos, walks every output row (all spatial dims but the last) and calls
// Row(OutRowOffset, Valid, InRowBase, Lo, Hi): output columns [Lo, Hi) read input element
// InRowBase + Col * Stride; columns outside that range, and whole rows with Valid == false,
// fall in the padding.
template <typename RowFn>
void sweepOutputRows(const ConvGeometry &G, const int64_t *KPos, const RowFn &Row) {
  const size_t L = G.Rank - 1;
  const int64_t Width = G.Out[L];
  const int64_t Shift = KPos[L] * G.Dilation[L] - G.PadBegin[L]; // input col = col*S + Shift
  int64_t Lo = Shift >= 0 ? 0 : ceilDiv(-Shift, G.Stride[L]);
  int64_t Hi = G.In[L] - 1 - Shift < 0 ? 0 : (G.In[L] - 1 - Shift) / G.Stride[L] + 1;
  Lo = std::min(Lo, Width);
  Hi = std::max(Lo, std::min(Hi, Width));
  const size_t Rows = G.OutPlane / size_t(Width);
  int64_t Index[MaxSpatial] = {};
  for (size_t R = 0; R < Rows; ++R) {
    bool Valid = true;
    int64_t InBase = Shift;
    for (size_t D = 0; D < L; ++D) {
      int64_t I = Index[D] * G.Stride[D] + KPos[D] * G.Dilation[D] - G.PadBegin[D];
      Valid = Valid && I >= 0 && I < G.In[D];
      InBase += I * G.InStride[D];
    }
    Row(R * size_t(Width), Valid, InBase, Lo, Hi);
    for (size_t D = L; D-- > 0;) {
      if (++Index[D] < G.Out[D])
        break;
      Index[D] = 0;
    }
  }
}

// Kernel coordinates of flat kernel position K.
void kernelCoords(const ConvGeometry &G, size_t K, int64_t *KPos) {
  for (size_t D = G.Rank; D-- > 0;) {
    KPos[D] = int64_t(K % size_t(G.Kernel[D]));
    K /= size_t(G.Kernel[D]);
  }
}

class ConvKernel final : public Kernel {
public:
  enum class Method { Direct, Pointwise, Im2Col };

  ConvKernel(int32_t X, int32_t W, int32_t B, int32_t Y, const ConvGeometry &G, Method M)
      : X(X), W(W), B(B), Y(Y), G(G), How(M) {}

  size_t scratchBytes() const override {
    return How == Method::Im2Col ? G.GroupChannels * G.KernelSize * G.OutPlane * sizeof(float) : 0;
  }

  void run(const KernelContext &Ctx) const override {
    const float *PX = Ctx.tensor<const float>(X);
    const float *PW = Ctx.tensor<const float>(W);
    const float *PB = B >= 0 ? Ctx.tensor<const float>(B) : nullptr;
    float *PY = Ctx.tensor<float>(Y);
    if (How == Method::Direct)
      runDirect(Ctx, PX, PW, PB, PY);
    else
      runGemm(Ctx, PX, PW, PB, PY);
  }

private:
  void fillBias(const float *PB, float *Plane, size_t Filter) const {
    std::fill(Plane, Plane + G.OutPlane, PB ? PB[Filter] : 0.0f);
  }

  // One output plane per task: bias, then one sweep per kernel position.
  void runDirect(const KernelContext &Ctx, const float *PX, const float *PW, const float *PB,
                 float *PY) const {
    size_t Planes = G.Batch * G.Filters;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, G.OutPlane * G.KernelSize));
    const int64_t S = G.Stride[G.Rank - 1];
    Ctx.parallelFor(Planes, Grain, [&](size_t Begin, size_t End) {
      int64_t KPos[MaxSpatial];
      for (size_t P = Begin; P < End; ++P) {
        size_t N = P / G.Filters, M = P % G.Filters;
        size_t C = M / G.GroupFilters; // the group's only input channel
        const float *In = PX + (N * G.Channels + C) * G.InPlane;
        float *Out = PY + P * G.OutPlane;
        fillBias(PB, Out, M);
        for (size_t K = 0; K < G.KernelSize; ++K) {
          float Wv = PW[M * G.KernelSize + K];
          kernelCoords(G, K, KPos);
          sweepOutputRows(G, KPos, [&](size_t OutOff, bool Valid, int64_t InBase, int64_t Lo, int64_t Hi) {
            if (!Valid || Hi <= Lo)
              return;
            float *O = Out + OutOff + Lo;
            const float *I = In + (InBase + Lo * S); // first in-range input element
            int64_t Count = Hi - Lo;
            if (S == 1)
              for (int64_t C = 0; C < Count; ++C)
                O[C] += Wv * I[C];
            else
              for (int64_t C = 0; C < Count; ++C)
                O[C] += Wv * I[C * S];
          });
        }
      }
    });
  }

  // Col[(c, k), p] for one image and group, rows split across tasks.
  void im2col(const KernelContext &Ctx, const float *In, float *Col) const {
    size_t Rows = G.GroupChannels * G.KernelSize;
    const int64_t S = G.Stride[G.Rank - 1];
    const int64_t Width = G.Out[G.Rank - 1];
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, G.OutPlane));
    Ctx.parallelFor(Rows, Grain, [&](size_t Begin, size_t End) {
      int64_t KPos[MaxSpatial];
      for (size_t R = Begin; R < End; ++R) {
        const float *Channel = In + (R / G.KernelSize) * G.InPlane;
        float *Dst = Col + R * G.OutPlane;
        kernelCoords(G, R % G.KernelSize, KPos);
        sweepOutputRows(G, KPos, [&](size_t OutOff, bool Valid, int64_t InBase, int64_t Lo, int64_t Hi) {
          float *O = Dst + OutOff;
          if (!Valid || Hi <= Lo) {
            std::fill(O, O + Width, 0.0f);
            return;
          }
          std::fill(O, O + Lo, 0.0f);
          const float *I = Channel + (InBase + Lo * S); // first in-range input element
          int64_t Count = Hi - Lo;
          if (S == 1)
            std::memcpy(O + Lo, I, size_t(Count) * sizeof(float));
          else
            for (int64_t C = 0; C < Count; ++C)
              O[Lo + C] = I[C * S];
          std::fill(O + Hi, O + Width, 0.0f);
        });
      }
    });
  }

  void runGemm(const KernelContext &Ctx, const float *PX, const float *PW, const float *PB,
               float *PY) const {
    size_t KRows = G.GroupChannels * G.KernelSize;
    GemmShape Shape;
    Shape.M = G.GroupFilters;
    Shape.N = G.OutPlane;
    Shape.K = KRows;
    Shape.Lda = KRows;
    Shape.Ldb = G.OutPlane;
    Shape.Ldc = G.OutPlane;
    float *Col = reinterpret_cast<float *>(Ctx.Scratch);
    for (size_t N = 0; N < G.Batch; ++N) {
      for (size_t Gi = 0; Gi < G.Groups; ++Gi) {
        const float *In = PX + (N * G.Channels + Gi * G.GroupChannels) * G.InPlane;
        const float *Wg = PW + Gi * G.GroupFilters * KRows;
        float *Out = PY + (N * G.Filters + Gi * G.GroupFilters) * G.OutPlane;
        const float *Matrix = In;
        if (How == Method::Im2Col) {
          im2col(Ctx, In, Col);
          Matrix = Col;
        }
        if (PB)
          for (size_t M = 0; M < G.GroupFilters; ++M)
            fillBias(PB, Out + M * G.OutPlane, Gi * G.GroupFilters + M);
        sgemm(Shape, 1.0f, Wg, Matrix, PB ? 1.0f : 0.0f, Out, &Ctx);
      }
    }
  }

  int32_t X, W, B, Y;
  ConvGeometry G;
  Method How;
};

std::vector<int64_t> intsOr(const NodeContext &Ctx, const char *Name, size_t Size, int64_t Default,
                            int64_t Min) {
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

std::unique_ptr<Kernel> makeConv(const NodeContext &Ctx) {
  Ctx.expectArity(2, 3, 1);
  Ctx.allowAttributes({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  for (size_t I = 0; I < 3; ++I)
    Ctx.requireType(I, {OPTIMA_ELEMENT_F32});
  const TensorInfo &X = *Ctx.input(0);
  const TensorInfo &W = *Ctx.input(1);
  const TensorInfo *B = Ctx.input(2);
  if (X.Shape.size() < 3)
    Ctx.invalid("input X " + formatShape(X.Shape) + " needs at least 3 dims (N, C, spatial...)");
  if (W.Shape.size() != X.Shape.size())
    Ctx.invalid("weights W " + formatShape(W.Shape) + " must have the rank of X " +
                formatShape(X.Shape));
  ConvGeometry G;
  G.Rank = X.Shape.size() - 2;
  G.Batch = size_t(X.Shape[0]);
  G.Channels = size_t(X.Shape[1]);
  G.Filters = size_t(W.Shape[0]);
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
  if (size_t(W.Shape[1]) != G.GroupChannels)
    Ctx.invalid("weights W " + formatShape(W.Shape) + " must have " +
                std::to_string(G.GroupChannels) + " channels per group (dim 1)");
  if (B && (B->Shape.size() != 1 || size_t(B->Shape[0]) != G.Filters))
    Ctx.invalid("bias " + formatShape(B->Shape) + " must be [" + std::to_string(G.Filters) + "]");

  std::vector<int64_t> KernelShape(W.Shape.begin() + 2, W.Shape.end());
  if (Ctx.hasAttribute("kernel_shape") && Ctx.getInts("kernel_shape", {}) != KernelShape)
    Ctx.invalidAttribute("kernel_shape", "does not match the weights' spatial dims " +
                                             formatShape(KernelShape));
  std::vector<int64_t> Strides = intsOr(Ctx, "strides", G.Rank, 1, 1);
  std::vector<int64_t> Dilations = intsOr(Ctx, "dilations", G.Rank, 1, 1);
  std::string AutoPad = Ctx.getString("auto_pad", "NOTSET");
  if (AutoPad != "NOTSET" && AutoPad != "SAME_UPPER" && AutoPad != "SAME_LOWER" &&
      AutoPad != "VALID")
    Ctx.invalidAttribute("auto_pad", "expected NOTSET, SAME_UPPER, SAME_LOWER or VALID, got \"" +
                                         AutoPad + "\"");
  if (AutoPad != "NOTSET" && Ctx.hasAttribute("pads"))
    Ctx.invalidAttribute("pads", "cannot be combined with auto_pad " + AutoPad);
  std::vector<int64_t> Pads = intsOr(Ctx, "pads", 2 * G.Rank, 0, 0);

  Dims OutShape{X.Shape[0], W.Shape[0]};
  for (size_t D = 0; D < G.Rank; ++D) {
    int64_t In = X.Shape[D + 2], K = KernelShape[D], S = Strides[D], Dil = Dilations[D];
    int64_t Effective = (K - 1) * Dil + 1;
    int64_t Out, PadBegin = Pads[D], PadEnd = Pads[D + G.Rank];
    if (K < 1)
      Ctx.invalid("weights W " + formatShape(W.Shape) + " have an empty kernel");
    if (AutoPad == "SAME_UPPER" || AutoPad == "SAME_LOWER") {
      Out = ceilDiv(In, S);
      int64_t Total = std::max<int64_t>(0, (Out - 1) * S + Effective - In);
      PadBegin = AutoPad == "SAME_UPPER" ? Total / 2 : Total - Total / 2;
    } else {
      if (AutoPad == "VALID")
        PadBegin = PadEnd = 0;
      int64_t Span = In + PadBegin + PadEnd - Effective;
      if (Span < 0)
        Ctx.invalid("kernel (extent " + std::to_string(Effective) + ") is larger than the padded input dim " +
                    std::to_string(D + 2) + " (" + std::to_string(In + PadBegin + PadEnd) + ")");
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
  Ctx.expectOutput(0, OPTIMA_ELEMENT_F32, OutShape);
  for (size_t D = G.Rank; D-- > 0;) {
    G.InStride[D] = int64_t(G.InPlane);
    G.OutStride[D] = int64_t(G.OutPlane);
    G.InPlane *= size_t(G.In[D]);
    G.OutPlane *= size_t(G.Out[D]);
    G.KernelSize *= size_t(G.Kernel[D]);
  }
  bool Pointwise = G.KernelSize == 1;
  for (size_t D = 0; D < G.Rank; ++D)
    Pointwise = Pointwise && G.Stride[D] == 1 && G.PadBegin[D] == 0 && G.Out[D] == G.In[D];
  ConvKernel::Method How = G.GroupChannels == 1 ? ConvKernel::Method::Direct
                           : Pointwise          ? ConvKernel::Method::Pointwise
                                                : ConvKernel::Method::Im2Col;
  if (G.OutPlane == 0 || G.Batch == 0 || G.Filters == 0)
    How = ConvKernel::Method::Direct; // empty output: nothing to compute, no scratch
  if (How == ConvKernel::Method::Im2Col &&
      uint64_t(G.GroupChannels) * G.KernelSize * G.OutPlane > MaxTensorBytes / sizeof(float))
    Ctx.unsupported("im2col buffer would exceed " + std::to_string(MaxTensorBytes) + " bytes");
  return std::make_unique<ConvKernel>(Ctx.inputId(0), Ctx.inputId(1), B ? Ctx.inputId(2) : -1,
                                      Ctx.outputId(0), G, How);
}

} // namespace

void registerConvOps(OpRegistry &R) { R.add("Conv", makeConv); }

} // namespace optima_v2::native
