// DFT, STFT, HannWindow/HammingWindow/BlackmanWindow and MelWeightMatrix vs references written
// here: a direct O(n^2) DFT in long double (the oracle for the radix-2, direct and Bluestein
// paths, on power-of-two and odd sizes), the window formulas of the spec and a step-by-step
// port of the spec's MelWeightMatrix algorithm.
#include "NativeTestUtil.h"

#include "Half.h"
#include "ops/signal/Fft.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>

using namespace native_test;
using optima_v2::native::Complex;
using optima_v2::native::FftPlan;

namespace {

using CL = std::complex<long double>;

// y[k] = sum_n x[n] e^{-+2 pi i k n / N}; Inverse uses +, no 1/N.
std::vector<CL> naiveDft(const std::vector<CL> &X, bool Inverse) {
  size_t N = X.size();
  std::vector<CL> Y(N);
  const long double Pi = 3.141592653589793238462643383279502884L;
  std::vector<CL> Roots(N); // e^{-+2 pi i j / N}; the exponent k n is reduced mod N exactly
  for (size_t J = 0; J < N; ++J) {
    long double A = (Inverse ? 2 : -2) * Pi * (long double)J / (long double)N;
    Roots[J] = CL(std::cos(A), std::sin(A));
  }
  for (size_t K = 0; K < N; ++K) {
    CL Sum = 0;
    for (size_t I = 0; I < N; ++I)
      Sum += X[I] * Roots[(K * I) % N];
    Y[K] = Sum;
  }
  return Y;
}

std::vector<CL> randomComplex(size_t N, uint32_t Seed) {
  auto R = randomFloats(2 * N, Seed);
  std::vector<CL> X(N);
  for (size_t I = 0; I < N; ++I)
    X[I] = CL(R[2 * I], R[2 * I + 1]);
  return X;
}

} // namespace

TEST(NativeSignal, FftPlanMatchesNaiveDftOnAllPaths) {
  struct Case {
    size_t N;
    FftPlan::Method How;
  };
  const std::vector<Case> Cases = {
      {1, FftPlan::Method::Radix2},   {2, FftPlan::Method::Radix2},
      {8, FftPlan::Method::Radix2},   {256, FftPlan::Method::Radix2},
      {1024, FftPlan::Method::Radix2}, {3, FftPlan::Method::Direct},
      {7, FftPlan::Method::Direct},   {10, FftPlan::Method::Direct},
      {63, FftPlan::Method::Direct},  {65, FftPlan::Method::Bluestein},
      {97, FftPlan::Method::Bluestein}, {100, FftPlan::Method::Bluestein},
      {1000, FftPlan::Method::Bluestein}, {1023, FftPlan::Method::Bluestein}};
  for (const Case &C : Cases)
    for (bool Inverse : {false, true}) {
      SCOPED_TRACE("N=" + std::to_string(C.N) + (Inverse ? " inverse" : " forward"));
      FftPlan Plan(C.N);
      EXPECT_EQ(Plan.method(), C.How);
      auto X = randomComplex(C.N, uint32_t(C.N));
      auto Ref = naiveDft(X, Inverse);
      std::vector<Complex> Data(C.N), Work(Plan.workCount());
      for (size_t I = 0; I < C.N; ++I)
        Data[I] = Complex(double(X[I].real()), double(X[I].imag()));
      Plan.transform(Data.data(), Work.data(), Inverse);
      double Tol = 1e-12 * double(C.N);
      for (size_t K = 0; K < C.N; ++K) {
        ASSERT_NEAR(Data[K].real(), double(Ref[K].real()), Tol) << K;
        ASSERT_NEAR(Data[K].imag(), double(Ref[K].imag()), Tol) << K;
      }
    }
  // A small direct limit sends odd lengths to Bluestein too.
  FftPlan Small(9, 4);
  EXPECT_EQ(Small.method(), FftPlan::Method::Bluestein);
}

namespace {

struct DftCase {
  Shape In;
  int64_t Axis; // normalised, < rank - 1
  bool Inverse = false, Onesided = false;
  int64_t Length = -1; // dft_length input, -1 = none
};

// Reference for one DFT node on a [.., 1|2] tensor in double (spec semantics, numpy-style
// padding/truncation, IRFFT via the Hermitian extension).
std::vector<double> referenceDft(const DftCase &C, const std::vector<double> &X, Shape &OutShape) {
  size_t Rank = C.In.size(), InC = size_t(C.In.back()), A = size_t(C.Axis);
  size_t Outer = 1, Inner = 1, L = size_t(C.In[A]);
  for (size_t D = 0; D < A; ++D)
    Outer *= size_t(C.In[D]);
  for (size_t D = A + 1; D + 1 < Rank; ++D)
    Inner *= size_t(C.In[D]);
  size_t N = C.Length > 0 ? size_t(C.Length) : (C.Inverse && C.Onesided ? 2 * (L - 1) : L);
  size_t OutLen = !C.Inverse && C.Onesided ? N / 2 + 1 : N;
  size_t OutC = C.Inverse && C.Onesided ? 1 : 2;
  OutShape = C.In;
  OutShape[A] = int64_t(OutLen);
  OutShape.back() = int64_t(OutC);
  std::vector<double> Y(Outer * OutLen * Inner * OutC);
  for (size_t O = 0; O < Outer; ++O)
    for (size_t I = 0; I < Inner; ++I) {
      auto In = [&](size_t K) {
        size_t P = ((O * L + K) * Inner + I) * InC;
        return CL(X[P], InC == 2 ? X[P + 1] : 0.0);
      };
      std::vector<CL> Line(N, CL(0));
      if (C.Inverse && C.Onesided) {
        for (size_t K = 0; K <= N / 2 && K < L; ++K)
          Line[K] = In(K);
        Line[0] = CL(Line[0].real(), 0);
        if (N % 2 == 0)
          Line[N / 2] = CL(Line[N / 2].real(), 0);
        for (size_t K = N / 2 + 1; K < N; ++K)
          Line[K] = std::conj(Line[N - K]);
      } else {
        for (size_t K = 0; K < std::min(N, L); ++K)
          Line[K] = In(K);
      }
      auto R = naiveDft(Line, C.Inverse);
      for (size_t K = 0; K < OutLen; ++K) {
        CL V = C.Inverse ? R[K] / (long double)N : R[K];
        size_t P = ((O * OutLen + K) * Inner + I) * OutC;
        Y[P] = double(V.real());
        if (OutC == 2)
          Y[P + 1] = double(V.imag());
      }
    }
  return Y;
}

template <typename T> Bytes encode(const std::vector<double> &V) {
  std::vector<T> Out;
  for (double X : V) {
    if constexpr (std::is_same_v<T, optima_v2::native::Half>)
      Out.push_back(optima_v2::native::toHalf(float(X)));
    else
      Out.push_back(T(X));
  }
  return toBytes(Out);
}

template <typename T> std::vector<double> decode(const Bytes &B) {
  std::vector<double> Out;
  for (T X : fromBytes<T>(B)) {
    if constexpr (std::is_same_v<T, optima_v2::native::Half>)
      Out.push_back(double(optima_v2::native::toFloat(X)));
    else
      Out.push_back(double(X));
  }
  return Out;
}

// Runs one DFT node; AxisAsInput: opset 20 form (constant axis input), else opset 17 attribute.
template <typename T>
void checkDft(const DftCase &C, const std::string &Type, bool AxisAsInput, double Tol,
              unsigned Threads = 1) {
  std::vector<float> Xf = randomFloats(elementCount(C.In), uint32_t(elementCount(C.In) + C.Axis));
  std::vector<double> X(Xf.begin(), Xf.end());
  if constexpr (std::is_same_v<T, optima_v2::native::Half>)
    for (double &V : X)
      V = double(optima_v2::native::toFloat(optima_v2::native::toHalf(float(V))));
  Shape OutShape;
  auto Ref = referenceDft(C, X, OutShape);
  GraphSpec G;
  G.tensor("x", C.In, Type).tensor("y", OutShape, Type).input("x").output("y");
  std::vector<std::string> Ins = {"x"};
  std::vector<std::string> Attrs = {attrInt("inverse", C.Inverse),
                                    attrInt("onesided", C.Onesided)};
  if (C.Length > 0) {
    G.constantI64("len", {}, {C.Length});
    Ins.push_back("len");
  } else if (AxisAsInput) {
    Ins.push_back("");
  }
  if (AxisAsInput) {
    // A negative axis exercises the normalisation.
    G.constantI64("axis", {}, {C.Axis - int64_t(C.In.size())});
    Ins.push_back("axis");
  } else {
    Attrs.push_back(attrInt("axis", C.Axis));
  }
  G.node("d", "DFT", Ins, {"y"}, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  auto Y = decode<T>(run(*Graph, {encode<T>(X)}, Threads)[0]);
  ASSERT_EQ(Y.size(), Ref.size());
  double Scale = 0;
  for (double V : Ref)
    Scale = std::max(Scale, std::fabs(V));
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], Tol * std::max(1.0, Scale)) << I;
}

} // namespace

TEST(NativeSignal, DftForwardInverseOnesidedF32) {
  const std::vector<DftCase> Cases = {
      {{1, 10, 10, 1}, 1},                  // conformance shape, real, forward
      {{1, 10, 10, 1}, 2},                  // other axis
      {{1, 10, 10, 2}, 1, true},            // inverse complex
      {{1, 10, 10, 1}, 1, false, true},     // rfft
      {{1, 6, 10, 2}, 1, true, true},       // irfft (default length 10)
      {{2, 7, 1}, 1, true, true},           // irfft, odd input, default even length 12
      {{3, 16, 2}, 1},                      // radix-2 complex
      {{2, 128, 1}, 1, false, true},        // radix-2 rfft
      {{2, 100, 2}, 1, true},               // Bluestein inverse
      {{3, 5, 4, 2}, 0},                    // axis 0
      {{2, 9, 1}, 1, false, false, 16},     // zero-padded to 16
      {{2, 9, 2}, 1, false, false, 5},      // truncated to 5
      {{2, 9, 2}, 1, true, true, 9},        // irfft of odd length 9 (uses 5 bins)
      {{2, 4, 2}, 1, true, true, 11},       // irfft longer than the bins given
      {{2, 70, 1}, 1, false, true, 67},     // rfft through Bluestein
  };
  for (const DftCase &C : Cases)
    for (bool AxisAsInput : {false, true}) {
      SCOPED_TRACE(::testing::PrintToString(C.In) + " axis " + std::to_string(C.Axis) +
                   " inverse " + std::to_string(C.Inverse) + " onesided " +
                   std::to_string(C.Onesided) + " length " + std::to_string(C.Length) +
                   (AxisAsInput ? " (axis input)" : " (axis attribute)"));
      checkDft<float>(C, "F32", AxisAsInput, 2e-6);
    }
}

TEST(NativeSignal, DftF64F16AndThreads) {
  checkDft<double>({{2, 33, 2}, 1, false}, "F64", true, 1e-13);
  checkDft<double>({{2, 64, 3, 2}, 1, true}, "F64", false, 1e-13);
  checkDft<optima_v2::native::Half>({{2, 12, 1}, 1, false, true}, "F16", true, 2e-3);
  checkDft<float>({{5, 3, 40, 2}, 2, false}, "F32", true, 2e-6, 4);
  checkDft<float>({{7, 96, 3, 2}, 1, true}, "F32", false, 2e-6, 4);
}

TEST(NativeSignal, DftDefaultAxisIsMinusTwo) {
  // No axis attribute and no axis input: opset 20's default -2 (the last signal axis).
  Shape In{2, 3, 8, 1};
  std::vector<float> Xf = randomFloats(elementCount(In), 5);
  std::vector<double> X(Xf.begin(), Xf.end());
  Shape OutShape;
  auto Ref = referenceDft({In, 2}, X, OutShape);
  GraphSpec G;
  G.tensor("x", In).tensor("y", OutShape).input("x").output("y");
  G.node("d", "DFT", {"x"}, {"y"});
  TempDir Dir;
  auto Y = fromBytes<float>(run(*load(G, Dir), {toBytes(Xf)})[0]);
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], 1e-5) << I;
}

TEST(NativeSignal, DftRejectsBadNodes) {
  auto Spec = [](Shape In, Shape Out, std::vector<std::string> Attrs, bool LengthInput = false) {
    GraphSpec G;
    G.tensor("x", In).tensor("y", Out).input("x").output("y");
    if (LengthInput) {
      G.tensor("n", {}, "I64").input("n");
      G.node("d", "DFT", {"x", "n"}, {"y"}, Attrs);
    } else {
      G.node("d", "DFT", {"x"}, {"y"}, Attrs);
    }
    return G;
  };
  expectLoadError(Spec({2, 8, 1}, {2, 8, 2}, {attrInt("axis", 2)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"axis 2 is out of range"});
  expectLoadError(Spec({2, 8, 3}, {2, 8, 2}, {}), OPTIMA_STATUS_INVALID_MODEL,
                  {"last dimension of 1 (real) or 2 (complex)"});
  expectLoadError(Spec({2, 8, 1}, {2, 8, 1}, {attrInt("axis", 1)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"y"});
  expectLoadError(Spec({2, 8, 1}, {2, 8, 2}, {attrInt("inverse", 2)}),
                  OPTIMA_STATUS_INVALID_MODEL, {"inverse", "0 or 1"});
  expectLoadError(Spec({2, 8, 1}, {2, 8, 2}, {attrInt("axis", 1)}, true),
                  OPTIMA_STATUS_UNSUPPORTED, {"dft_length", "must be a constant"});
}

namespace {

// STFT reference: frames of the (optionally windowed) signal through the naive DFT.
std::vector<double> referenceStft(const std::vector<double> &X, const Shape &S, size_t Step,
                                  size_t FrameLen, const std::vector<double> *Window,
                                  bool Onesided, Shape &OutShape) {
  size_t B = size_t(S[0]), Len = size_t(S[1]), C = size_t(S[2]);
  size_t Frames = (Len - FrameLen) / Step + 1, Bins = Onesided ? FrameLen / 2 + 1 : FrameLen;
  OutShape = {int64_t(B), int64_t(Frames), int64_t(Bins), 2};
  std::vector<double> Y;
  for (size_t Bi = 0; Bi < B; ++Bi)
    for (size_t F = 0; F < Frames; ++F) {
      std::vector<CL> Line(FrameLen);
      for (size_t K = 0; K < FrameLen; ++K) {
        size_t P = (Bi * Len + F * Step + K) * C;
        double W = Window ? (*Window)[K] : 1.0;
        Line[K] = CL(X[P] * W, C == 2 ? X[P + 1] * W : 0.0);
      }
      auto R = naiveDft(Line, false);
      for (size_t K = 0; K < Bins; ++K) {
        Y.push_back(double(R[K].real()));
        Y.push_back(double(R[K].imag()));
      }
    }
  return Y;
}

} // namespace

TEST(NativeSignal, StftMatchesNaiveFrames) {
  struct Case {
    Shape S;
    int64_t Step, FrameLen;
    bool WithWindow, WithLength, Onesided;
  };
  const std::vector<Case> Cases = {{{1, 128, 1}, 8, 16, false, true, true},
                                   {{1, 128, 1}, 8, 16, true, false, true},
                                   {{2, 50, 1}, 7, 13, true, true, false},
                                   {{2, 61, 2}, 5, 12, true, false, false},
                                   {{3, 40, 1}, 3, 40, false, false, true}};
  for (const Case &C : Cases) {
    SCOPED_TRACE(::testing::PrintToString(C.S) + " step " + std::to_string(C.Step) + " frame " +
                 std::to_string(C.FrameLen));
    auto Xf = randomFloats(elementCount(C.S), 9);
    std::vector<double> X(Xf.begin(), Xf.end());
    auto Wf = randomFloats(size_t(C.FrameLen), 10, 0.0f, 1.0f);
    std::vector<double> W(Wf.begin(), Wf.end());
    Shape OutShape;
    auto Ref = referenceStft(X, C.S, size_t(C.Step), size_t(C.FrameLen),
                             C.WithWindow ? &W : nullptr, C.Onesided, OutShape);
    GraphSpec G;
    G.tensor("x", C.S).tensor("y", OutShape).input("x").output("y");
    G.constantI64("step", {}, {C.Step});
    std::vector<std::string> Ins = {"x", "step"};
    std::vector<Bytes> Inputs = {toBytes(Xf)};
    if (C.WithWindow) {
      G.tensor("w", {C.FrameLen}).input("w");
      Ins.push_back("w");
      Inputs.push_back(toBytes(Wf));
    } else {
      Ins.push_back("");
    }
    if (C.WithLength) {
      G.constantI64("len", {}, {C.FrameLen});
      Ins.push_back("len");
    }
    G.node("s", "STFT", Ins, {"y"}, {attrInt("onesided", C.Onesided)});
    TempDir Dir;
    auto Graph = load(G, Dir);
    for (unsigned Threads : {1u, 3u}) {
      auto Y = fromBytes<float>(run(*Graph, Inputs, Threads)[0]);
      ASSERT_EQ(Y.size(), Ref.size());
      for (size_t I = 0; I < Y.size(); ++I)
        ASSERT_NEAR(Y[I], Ref[I], 1e-5 * std::max(1.0, std::fabs(Ref[I]))) << I;
    }
  }
}

TEST(NativeSignal, StftRejectsMismatchedWindow) {
  GraphSpec G;
  G.tensor("x", {1, 32, 1}).tensor("w", {8}).tensor("y", {1, 5, 5, 2}).input("x").input("w");
  G.output("y").constantI64("step", {}, {4}).constantI64("len", {}, {9});
  G.node("s", "STFT", {"x", "step", "w", "len"}, {"y"});
  expectLoadError(G, OPTIMA_STATUS_INVALID_MODEL, {"frame_length 9", "window length 8"});
}

namespace {

// The spec's window definitions (N = size when periodic, size - 1 when symmetric).
double windowRef(const std::string &Op, size_t I, size_t Size, bool Periodic) {
  double N = double(Periodic ? Size : Size - 1);
  if (N == 0)
    return 1.0;
  const double Pi = 3.14159265358979323846;
  if (Op == "HannWindow")
    return 0.5 - 0.5 * std::cos(2 * Pi * double(I) / N);
  if (Op == "HammingWindow")
    return 0.54347826086956519 - 0.45652173913043481 * std::cos(2 * Pi * double(I) / N);
  return 0.42 - 0.5 * std::cos(2 * Pi * double(I) / N) + 0.08 * std::cos(4 * Pi * double(I) / N);
}

} // namespace

TEST(NativeSignal, WindowsWithConstantSize) {
  for (const char *Op : {"HannWindow", "HammingWindow", "BlackmanWindow"})
    for (int64_t Size : {1, 2, 10, 17})
      for (bool Periodic : {true, false})
        for (const char *SizeType : {"I32", "I64"}) {
          SCOPED_TRACE(std::string(Op) + " size " + std::to_string(Size) +
                       (Periodic ? " periodic " : " symmetric ") + SizeType);
          GraphSpec G;
          if (std::string(SizeType) == "I32")
            G.constant("n", {}, toBytes(std::vector<int32_t>{int32_t(Size)}), "I32");
          else
            G.constantI64("n", {}, {Size});
          G.tensor("y", {Size}).tensor("y64", {Size}, "F64").output("y").output("y64");
          G.node("w", Op, {"n"}, {"y"}, {attrInt("periodic", Periodic)});
          G.node("w64", Op, {"n"}, {"y64"},
                 {attrInt("periodic", Periodic), attrInt("output_datatype", 11)});
          TempDir Dir;
          auto Out = run(*load(G, Dir), {});
          auto Y = fromBytes<float>(Out[0]);
          auto Y64 = fromBytes<double>(Out[1]);
          for (size_t I = 0; I < size_t(Size); ++I) {
            double R = windowRef(Op, I, size_t(Size), Periodic);
            ASSERT_NEAR(Y[I], R, 1e-6) << I;
            ASSERT_NEAR(Y64[I], R, 1e-14) << I;
          }
        }
}

TEST(NativeSignal, WindowIntegerOutputAndErrors) {
  // Integer output truncates like numpy's astype: only the symmetric window's centre is 1.
  GraphSpec G;
  G.constantI64("n", {}, {5}).tensor("y", {5}, "I32").output("y");
  G.node("w", "HannWindow", {"n"}, {"y"}, {attrInt("periodic", 0), attrInt("output_datatype", 6)});
  TempDir Dir;
  EXPECT_EQ(fromBytes<int32_t>(run(*load(G, Dir), {})[0]), (std::vector<int32_t>{0, 0, 1, 0, 0}));

  GraphSpec Dyn;
  Dyn.tensor("n", {}, "I64").tensor("y", {5}).input("n").output("y");
  Dyn.node("w", "HannWindow", {"n"}, {"y"});
  expectLoadError(Dyn, OPTIMA_STATUS_UNSUPPORTED, {"size", "must be a constant"});

  GraphSpec Neg;
  Neg.constantI64("n", {}, {-1}).tensor("y", {0}).output("y");
  Neg.node("w", "BlackmanWindow", {"n"}, {"y"});
  expectLoadError(Neg, OPTIMA_STATUS_INVALID_MODEL, {"window size -1"});

  GraphSpec Bool;
  Bool.constantI64("n", {}, {4}).tensor("y", {4}, "BOOL").output("y");
  Bool.node("w", "HammingWindow", {"n"}, {"y"}, {attrInt("output_datatype", 9)});
  expectLoadError(Bool, OPTIMA_STATUS_INVALID_MODEL, {"output_datatype"});
}

namespace {

// The MelWeightMatrix algorithm of the ONNX specification, step by step.
std::vector<double> referenceMel(int64_t Bins, int64_t DftLength, int64_t Rate, double Low,
                                 double High) {
  int64_t Spec = DftLength / 2 + 1;
  auto Mel = [](double Hz) { return 2595.0 * std::log10(1.0 + Hz / 700.0); };
  double LowMel = Mel(Low), HighMel = Mel(High), Step = (HighMel - LowMel) / double(Bins + 2);
  std::vector<int64_t> Edge;
  for (int64_t I = 0; I < Bins + 2; ++I) {
    double Hz = 700.0 * (std::pow(10.0, (double(I) * Step + LowMel) / 2595.0) - 1.0);
    Edge.push_back(int64_t(std::floor(double(DftLength + 1) * Hz / double(Rate))));
  }
  std::vector<double> W(size_t(Spec * Bins), 0.0);
  for (int64_t I = 0; I < Bins; ++I) {
    int64_t L = Edge[size_t(I)], C = Edge[size_t(I + 1)], H = Edge[size_t(I + 2)];
    if (C == L)
      W[size_t(C * Bins + I)] = 1;
    for (int64_t J = L; C > L && J <= C; ++J)
      W[size_t(J * Bins + I)] = double(J - L) / double(C - L);
    for (int64_t J = C; J < H; ++J)
      W[size_t(J * Bins + I)] = double(H - J) / double(H - C);
  }
  return W;
}

} // namespace

TEST(NativeSignal, MelWeightMatrixMatchesSpecAlgorithm) {
  struct Case {
    int64_t Bins, DftLength, Rate;
    float Low, High;
  };
  for (const Case &C : std::vector<Case>{{8, 16, 8192, 0, 4096},
                                         {5, 64, 16000, 100, 7000},
                                         {10, 255, 22050, 30, 11000},
                                         {3, 1024, 44100, 0, 20000}}) {
    SCOPED_TRACE(std::to_string(C.Bins) + " bins, dft " + std::to_string(C.DftLength));
    auto Ref = referenceMel(C.Bins, C.DftLength, C.Rate, C.Low, C.High);
    int64_t Spec = C.DftLength / 2 + 1;
    GraphSpec G;
    G.constantI64("bins", {}, {C.Bins}).constantI64("len", {}, {C.DftLength});
    G.tensor("rate", {}, "I32").tensor("low", {}).tensor("high", {});
    G.input("rate").input("low").input("high");
    G.tensor("y", {Spec, C.Bins}).tensor("y64", {Spec, C.Bins}, "F64").output("y").output("y64");
    G.node("m", "MelWeightMatrix", {"bins", "len", "rate", "low", "high"}, {"y"});
    G.node("m64", "MelWeightMatrix", {"bins", "len", "rate", "low", "high"}, {"y64"},
           {attrInt("output_datatype", 11)});
    TempDir Dir;
    auto Out = run(*load(G, Dir), {toBytes(std::vector<int32_t>{int32_t(C.Rate)}),
                                   toBytes(std::vector<float>{C.Low}),
                                   toBytes(std::vector<float>{C.High})});
    auto Y = fromBytes<float>(Out[0]);
    auto Y64 = fromBytes<double>(Out[1]);
    for (size_t I = 0; I < Ref.size(); ++I) {
      ASSERT_NEAR(Y[I], Ref[I], 1e-6) << I;
      ASSERT_NEAR(Y64[I], Ref[I], 1e-12) << I;
    }
  }
}

TEST(NativeSignal, MelWeightMatrixEdgeBeyondNyquistFailsTheRun) {
  GraphSpec G;
  G.constantI64("bins", {}, {4}).constantI64("len", {}, {16});
  G.tensor("rate", {}, "I64").tensor("low", {}).tensor("high", {});
  G.input("rate").input("low").input("high").tensor("y", {9, 4}).output("y");
  G.node("m", "MelWeightMatrix", {"bins", "len", "rate", "low", "high"}, {"y"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  optima_v2::native::GraphInstance Instance(Graph);
  int64_t Rate = 8000;
  float Low = 0, High = 16000; // far above Nyquist: edges beyond the last bin
  std::vector<float> Y(36);
  void *In[] = {&Rate, &Low, &High};
  void *Out[] = {Y.data()};
  EXPECT_EQ(Instance.execute(In, Out, optima_v2::native::ExecHooks{}),
            OPTIMA_STATUS_EXECUTION_FAILED);
}
