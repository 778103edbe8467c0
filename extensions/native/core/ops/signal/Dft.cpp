// DFT (opsets 17 and 20): forward/inverse, full or one-sided (RFFT / IRFFT), real ([..., 1]) or
// complex ([..., 2]) input, dft_length padding/truncation. F32, F16, BF16, F64.
//
// The axis comes from the `axis` input (opset 20) or attribute (opset 17). With neither, the
// opset 20 default -2 is used: the model folder does not record the opset; for the usual rank-3
// [batch, length, 1|2] input it is the same axis as opset 17's default 1. dft_length and the
// axis input must be constants (they decide the output shape).
//
// The transform of each line along the axis runs through one FftPlan built at load (radix-2,
// direct or Bluestein, in double); lines are split into at most MaxScratchChunks tasks, each
// with its own line buffer in scratch.
#include "../../OpRegistry.h"
#include "Fft.h"
#include "SignalCommon.h"

#include <algorithm>
#include <memory>

namespace optima_v2::native {

namespace {

// Lengths above this are refused: the plan and scratch grow with the length.
constexpr int64_t MaxDftLength = int64_t(1) << 24;
// Upper bound of the scratch of all chunks together (fewer chunks for long transforms).
constexpr size_t MaxDftScratchBytes = size_t(64) << 20;

struct DftGeometry {
  size_t Outer = 1, Len = 1, Inner = 1; // input around the axis (last dim excluded)
  size_t InC = 1, OutLen = 1, OutC = 2;
  bool Inverse = false, Onesided = false;
};

template <typename T> class DftKernel final : public Kernel {
public:
  DftKernel(int32_t X, int32_t Y, const DftGeometry &G, size_t N)
      : XId(X), YId(Y), G(G), Plan(N) {
    Lines = G.Outer * G.Inner;
    size_t PerLine = (N + Plan.workCount()) * sizeof(Complex);
    Chunks = std::max<size_t>(1, std::min({Lines, MaxScratchChunks, MaxDftScratchBytes / PerLine}));
  }

  size_t scratchBytes() const override {
    return Chunks * (Plan.length() + Plan.workCount()) * sizeof(Complex);
  }

  void run(const KernelContext &Ctx) const override {
    if (Lines == 0)
      return;
    const T *X = Ctx.tensor<const T>(XId);
    T *Y = Ctx.tensor<T>(YId);
    Complex *Scratch = reinterpret_cast<Complex *>(Ctx.Scratch);
    size_t PerChunk = Plan.length() + Plan.workCount();
    Ctx.parallelFor(Chunks, 1, [&](size_t Begin, size_t End) {
      for (size_t C = Begin; C < End; ++C) {
        Complex *Data = Scratch + C * PerChunk;
        size_t From = Lines * C / Chunks, To = Lines * (C + 1) / Chunks;
        for (size_t L = From; L < To; ++L)
          line(X, Y, L, Data, Data + Plan.length());
      }
    });
  }

private:
  Complex at(const T *X, size_t O, size_t K, size_t I) const {
    const T *P = X + ((O * G.Len + K) * G.Inner + I) * G.InC;
    return Complex(double(load(P[0])), G.InC == 2 ? double(load(P[1])) : 0.0);
  }

  void line(const T *X, T *Y, size_t Line, Complex *Data, Complex *Work) const {
    size_t O = Line / G.Inner, I = Line % G.Inner, N = Plan.length();
    if (G.Inverse && G.Onesided) {
      // IRFFT: rebuild the Hermitian spectrum from bins [0, N/2] (missing ones are zero); the
      // imaginary parts of bin 0 and of the Nyquist bin cannot contribute to a real signal.
      for (size_t K = 0; K < N; ++K) {
        bool Mirror = K > N / 2;
        size_t S = Mirror ? N - K : K;
        Complex V = S < G.Len ? at(X, O, S, I) : Complex(0, 0);
        Data[K] = Mirror ? std::conj(V) : V;
      }
      Data[0] = Complex(Data[0].real(), 0);
      if (N % 2 == 0)
        Data[N / 2] = Complex(Data[N / 2].real(), 0);
    } else {
      size_t Used = std::min(G.Len, N);
      for (size_t K = 0; K < Used; ++K)
        Data[K] = at(X, O, K, I);
      for (size_t K = Used; K < N; ++K)
        Data[K] = Complex(0, 0);
    }
    Plan.transform(Data, Work, G.Inverse);
    double Scale = G.Inverse ? 1.0 / double(N) : 1.0;
    for (size_t K = 0; K < G.OutLen; ++K) {
      T *P = Y + ((O * G.OutLen + K) * G.Inner + I) * G.OutC;
      P[0] = store<T>(ComputeType<T>(Data[K].real() * Scale));
      if (G.OutC == 2)
        P[1] = store<T>(ComputeType<T>(Data[K].imag() * Scale));
    }
  }

  int32_t XId, YId;
  DftGeometry G;
  FftPlan Plan;
  size_t Lines = 0, Chunks = 1;
};

bool flag(const NodeContext &Ctx, const char *Name) {
  int64_t V = Ctx.getInt(Name, 0);
  if (V != 0 && V != 1)
    Ctx.invalidAttribute(Name, "must be 0 or 1, got " + std::to_string(V));
  return V == 1;
}

std::unique_ptr<Kernel> makeDft(const NodeContext &Ctx) {
  Ctx.expectArity(1, 3, 1);
  Ctx.allowAttributes({"axis", "inverse", "onesided"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_F64});
  const TensorInfo &X = *Ctx.input(0);
  size_t Rank = X.Shape.size();
  if (Rank < 2 || (X.Shape.back() != 1 && X.Shape.back() != 2))
    Ctx.invalid("input \"" + X.Name + "\" must have rank >= 2 and a last dimension of 1 (real) "
                "or 2 (complex), got " + describe(X.Type, X.Shape));
  int64_t Axis = -2;
  if (Ctx.input(2)) {
    if (Ctx.hasAttribute("axis"))
      Ctx.invalid("axis is given both as an attribute and as an input");
    Axis = constantScalar(Ctx, 2, "axis");
  } else {
    Axis = Ctx.getInt("axis", -2);
  }
  int64_t R = int64_t(Rank);
  int64_t A = Axis < 0 ? Axis + R : Axis;
  if (A < 0 || A > R - 2)
    Ctx.invalid("axis " + std::to_string(Axis) + " is out of range for input " +
                describe(X.Type, X.Shape) + " (the last dimension holds real/imaginary parts)");

  DftGeometry G;
  G.Inverse = flag(Ctx, "inverse");
  G.Onesided = flag(Ctx, "onesided");
  G.InC = size_t(X.Shape.back());
  Dims Signal(X.Shape.begin(), X.Shape.end() - 1);
  AxisSplit S = splitAt(Signal, size_t(A));
  G.Outer = S.Outer;
  G.Len = S.Len;
  G.Inner = S.Inner;

  int64_t N;
  if (Ctx.input(1)) {
    N = constantScalar(Ctx, 1, "dft_length");
    if (N < 1)
      Ctx.invalid("dft_length must be positive, got " + std::to_string(N));
  } else {
    N = G.Inverse && G.Onesided ? 2 * (int64_t(G.Len) - 1) : int64_t(G.Len);
    if (N < 1)
      Ctx.invalid("the transform length (from input " + describe(X.Type, X.Shape) +
                  " along axis " + std::to_string(A) + ") is not positive; give dft_length");
  }
  if (N > MaxDftLength)
    Ctx.unsupported("dft_length " + std::to_string(N) + " exceeds " +
                    std::to_string(MaxDftLength));
  G.OutLen = !G.Inverse && G.Onesided ? size_t(N / 2 + 1) : size_t(N);
  G.OutC = G.Inverse && G.Onesided ? 1 : 2;
  Dims OutShape = X.Shape;
  OutShape[size_t(A)] = int64_t(G.OutLen);
  OutShape.back() = int64_t(G.OutC);
  Ctx.expectOutput(0, X.Type, OutShape);

  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_floating_point_v<T> || isHalfLike<T>)
      K = std::make_unique<DftKernel<T>>(Ctx.inputId(0), Ctx.outputId(0), G, size_t(N));
  });
  return K;
}

} // namespace

void registerDftOps(OpRegistry &R) { R.add("DFT", makeDft); }

} // namespace optima_v2::native
