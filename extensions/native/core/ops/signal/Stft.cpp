// STFT (opset 17): frames of `frame_length` samples every `frame_step`, each multiplied by the
// optional window (a runtime input) and transformed with one FftPlan built at load. Output
// [batch, frames, bins, 2] with bins = frame_length / 2 + 1 when onesided (the default), else
// frame_length. F32, F16, BF16, F64; real ([..., 1]) or complex ([..., 2]) signals (onesided
// output of a complex signal keeps the first bins, as the ONNX reference does).
// frame_step and frame_length must be constants (they decide the output shape).
#include "../../OpRegistry.h"
#include "Fft.h"
#include "SignalCommon.h"

#include <algorithm>
#include <memory>

namespace optima_v2::native {

namespace {

constexpr int64_t MaxFrameLength = int64_t(1) << 24;
constexpr size_t MaxStftScratchBytes = size_t(64) << 20;

struct StftGeometry {
  size_t Batch = 1, Len = 1, InC = 1, Frames = 0, Step = 1, Bins = 1;
  int32_t Window = -1; // tensor id, -1 without one
};

template <typename T> class StftKernel final : public Kernel {
public:
  StftKernel(int32_t X, int32_t Y, const StftGeometry &G, size_t FrameLength)
      : XId(X), YId(Y), G(G), Plan(FrameLength) {
    Lines = G.Batch * G.Frames;
    size_t PerLine = (FrameLength + Plan.workCount()) * sizeof(Complex);
    Chunks = std::max<size_t>(1, std::min({Lines, MaxScratchChunks, MaxStftScratchBytes / PerLine}));
  }

  size_t scratchBytes() const override {
    return Chunks * (Plan.length() + Plan.workCount()) * sizeof(Complex);
  }

  void run(const KernelContext &Ctx) const override {
    if (Lines == 0)
      return;
    const T *X = Ctx.tensor<const T>(XId);
    const T *W = G.Window >= 0 ? Ctx.tensor<const T>(G.Window) : nullptr;
    T *Y = Ctx.tensor<T>(YId);
    Complex *Scratch = reinterpret_cast<Complex *>(Ctx.Scratch);
    size_t PerChunk = Plan.length() + Plan.workCount();
    Ctx.parallelFor(Chunks, 1, [&](size_t Begin, size_t End) {
      for (size_t C = Begin; C < End; ++C) {
        Complex *Data = Scratch + C * PerChunk;
        size_t From = Lines * C / Chunks, To = Lines * (C + 1) / Chunks;
        for (size_t L = From; L < To; ++L)
          frame(X, W, Y, L, Data, Data + Plan.length());
      }
    });
  }

private:
  void frame(const T *X, const T *W, T *Y, size_t Line, Complex *Data, Complex *Work) const {
    size_t B = Line / G.Frames, F = Line % G.Frames, N = Plan.length();
    const T *P = X + (B * G.Len + F * G.Step) * G.InC;
    for (size_t K = 0; K < N; ++K) {
      double Wk = W ? double(load(W[K])) : 1.0;
      double Re = double(load(P[K * G.InC]));
      double Im = G.InC == 2 ? double(load(P[K * G.InC + 1])) : 0.0;
      Data[K] = Complex(Re * Wk, Im * Wk);
    }
    Plan.transform(Data, Work, false);
    T *Out = Y + Line * G.Bins * 2;
    for (size_t K = 0; K < G.Bins; ++K) {
      Out[2 * K] = store<T>(ComputeType<T>(Data[K].real()));
      Out[2 * K + 1] = store<T>(ComputeType<T>(Data[K].imag()));
    }
  }

  int32_t XId, YId;
  StftGeometry G;
  FftPlan Plan;
  size_t Lines = 0, Chunks = 1;
};

std::unique_ptr<Kernel> makeStft(const NodeContext &Ctx) {
  Ctx.expectArity(2, 4, 1);
  Ctx.allowAttributes({"onesided"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_F64});
  const TensorInfo &X = *Ctx.input(0);
  if (X.Shape.size() != 3 || (X.Shape[2] != 1 && X.Shape[2] != 2))
    Ctx.invalid("signal \"" + X.Name + "\" must be [batch, length, 1|2], got " +
                describe(X.Type, X.Shape));
  int64_t Onesided = Ctx.getInt("onesided", 1);
  if (Onesided != 0 && Onesided != 1)
    Ctx.invalidAttribute("onesided", "must be 0 or 1, got " + std::to_string(Onesided));

  StftGeometry G;
  G.Batch = size_t(X.Shape[0]);
  G.Len = size_t(X.Shape[1]);
  G.InC = size_t(X.Shape[2]);
  int64_t Step = constantScalar(Ctx, 1, "frame_step");
  if (Step < 1)
    Ctx.invalid("frame_step must be positive, got " + std::to_string(Step));
  G.Step = size_t(Step);

  int64_t FrameLength = int64_t(G.Len);
  const TensorInfo *W = Ctx.input(2);
  if (W) {
    if (W->Type != X.Type || W->Shape.size() != 1)
      Ctx.invalid("window \"" + W->Name + "\" must be 1-D of the signal's type " +
                  typeName(X.Type) + ", got " + describe(W->Type, W->Shape));
    FrameLength = W->Shape[0];
    G.Window = Ctx.inputId(2);
  }
  if (Ctx.input(3)) {
    int64_t L = constantScalar(Ctx, 3, "frame_length");
    if (W && L != FrameLength)
      Ctx.invalid("frame_length " + std::to_string(L) + " differs from the window length " +
                  std::to_string(FrameLength));
    FrameLength = L;
  }
  if (FrameLength < 1 || FrameLength > int64_t(G.Len))
    Ctx.invalid("frame length " + std::to_string(FrameLength) + " must be in [1, " +
                std::to_string(G.Len) + "] (the signal length)");
  if (FrameLength > MaxFrameLength)
    Ctx.unsupported("frame length " + std::to_string(FrameLength) + " exceeds " +
                    std::to_string(MaxFrameLength));
  G.Frames = size_t((int64_t(G.Len) - FrameLength) / Step + 1);
  G.Bins = Onesided ? size_t(FrameLength / 2 + 1) : size_t(FrameLength);
  Ctx.expectOutput(0, X.Type, {int64_t(G.Batch), int64_t(G.Frames), int64_t(G.Bins), 2});

  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_floating_point_v<T> || isHalfLike<T>)
      K = std::make_unique<StftKernel<T>>(Ctx.inputId(0), Ctx.outputId(0), G,
                                          size_t(FrameLength));
  });
  return K;
}

} // namespace

void registerStftOps(OpRegistry &R) { R.add("STFT", makeStft); }

} // namespace optima_v2::native
