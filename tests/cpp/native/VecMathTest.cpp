// The float32 vector math layer (core/simd/VecMath.h), for every ISA this machine runs, vs naive
// references written here (std:: in double, plain loops): odd lengths and tails, special values
// (NaN, +-inf, signed zeros, denormals, overflow/underflow edges), depthwise 3x3 and max-pool
// planes on odd sizes, strides and paddings.
#include "simd/VecMath.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <vector>

using namespace optima_v2::native::simd;

namespace {

const size_t Lengths[] = {0, 1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 47, 64, 100, 1000, 1023};

std::vector<const VecMathTable *> tables() {
  std::vector<const VecMathTable *> T;
  for (Isa I : {Isa::Generic, Isa::Avx2, Isa::Avx512})
    if (const VecMathTable *P = vecMathFor(I))
      T.push_back(P);
  return T;
}

// Distance in representable floats (finite values; denormals and signed zeros included).
int64_t ulpDiff(float A, float B) {
  auto Key = [](float F) {
    int32_t I;
    std::memcpy(&I, &F, 4);
    return I < 0 ? -int64_t(I & 0x7fffffff) : int64_t(I);
  };
  return std::llabs(Key(A) - Key(B));
}

std::vector<float> specials() {
  const float Inf = std::numeric_limits<float>::infinity();
  const float NaN = std::numeric_limits<float>::quiet_NaN();
  return {0.0f,     -0.0f,   NaN,      Inf,     -Inf,    1e-40f,   -1e-40f, 1e-30f, -1e-8f,
          0.5f,     -0.5f,   0.624f,   0.625f,  -0.626f, 1.0f,     -1.0f,   3.9f,   4.1f,
          -4.1f,    10.0f,   -10.0f,   20.0f,   88.7f,   88.73f,   89.5f,   -87.4f, -95.0f,
          -103.2f,  -103.9f, -104.5f,  -200.0f, 200.0f,  1e30f,    -1e30f,  2.5e-3f, 7.0f};
}

std::vector<float> inputs(size_t N, float Lo, float Hi, unsigned Seed) {
  std::mt19937 Gen(Seed);
  std::uniform_real_distribution<float> D(Lo, Hi);
  std::vector<float> X(N);
  std::vector<float> S = specials();
  for (size_t I = 0; I < N; ++I)
    X[I] = (I % 5 == 3) ? S[(I / 5) % S.size()] : D(Gen);
  return X;
}

bool sameBits(float A, float B) {
  if (std::isnan(A) || std::isnan(B))
    return std::isnan(A) && std::isnan(B);
  return std::memcmp(&A, &B, 4) == 0;
}

// Checks a transcendental against a double reference within MaxUlp.
void checkMath(UnaryOp Op, const std::function<double(double)> &Ref, int64_t MaxUlp, float Lo,
               float Hi) {
  for (const VecMathTable *T : tables()) {
    SCOPED_TRACE(isaName(T->Which));
    for (size_t N : Lengths) {
      std::vector<float> X = inputs(N, Lo, Hi, unsigned(N) + 1), Y(N + 1, 12345.0f);
      T->Unary[Op](X.data(), Y.data(), N, 0.0f, 0.0f);
      EXPECT_EQ(Y[N], 12345.0f) << "wrote past the end, N=" << N;
      for (size_t I = 0; I < N; ++I) {
        float Want = float(Ref(double(X[I])));
        if (std::isnan(Want)) {
          EXPECT_TRUE(std::isnan(Y[I])) << "x=" << X[I];
        } else if (std::isinf(Want)) {
          EXPECT_EQ(Y[I], Want) << "x=" << X[I];
        } else {
          EXPECT_LE(ulpDiff(Y[I], Want), MaxUlp) << "x=" << X[I] << " got " << Y[I] << " want " << Want;
        }
      }
    }
  }
}

TEST(VecMath, TablesAndDispatch) {
  ASSERT_NE(vecMathFor(Isa::Generic), nullptr);
  const VecMathTable &Active = vecMath();
  EXPECT_NE(vecMathFor(Active.Which), nullptr);
  for (const VecMathTable *T : tables()) {
    for (int I = 0; I < UnaryOpCount; ++I)
      EXPECT_NE(T->Unary[I], nullptr);
    EXPECT_NE(T->Depthwise3x3, nullptr);
    EXPECT_NE(T->MaxPool2d, nullptr);
  }
}

TEST(VecMath, Exp) { checkMath(UnaryExp, [](double X) { return std::exp(X); }, 2, -110, 90); }
TEST(VecMath, ExpSmallRange) { checkMath(UnaryExp, [](double X) { return std::exp(X); }, 2, -2, 2); }
TEST(VecMath, Erf) { checkMath(UnaryErf, [](double X) { return std::erf(X); }, 8, -5, 5); }
TEST(VecMath, ErfSmall) { checkMath(UnaryErf, [](double X) { return std::erf(X); }, 4, -0.1f, 0.1f); }
TEST(VecMath, Tanh) { checkMath(UnaryTanh, [](double X) { return std::tanh(X); }, 4, -12, 12); }
TEST(VecMath, TanhSmall) { checkMath(UnaryTanh, [](double X) { return std::tanh(X); }, 4, -1, 1); }
TEST(VecMath, Sigmoid) {
  checkMath(UnarySigmoid, [](double X) { return 1.0 / (1.0 + std::exp(-X)); }, 4, -110, 30);
}

TEST(VecMath, GeluErf) {
  for (const VecMathTable *T : tables()) {
    SCOPED_TRACE(isaName(T->Which));
    for (size_t N : Lengths) {
      std::vector<float> X = inputs(N, -8, 8, 7), Y(N);
      T->Unary[UnaryGeluErf](X.data(), Y.data(), N, 0, 0);
      for (size_t I = 0; I < N; ++I) {
        double Want = 0.5 * double(X[I]) * (1.0 + std::erf(double(X[I]) / std::sqrt(2.0)));
        if (std::isnan(Want))
          EXPECT_TRUE(std::isnan(Y[I])) << X[I];
        else if (std::isinf(Want))
          EXPECT_EQ(Y[I], float(Want)) << X[I];
        else // 1 + erf cancels for x << 0: absolute error relative to |x|
          EXPECT_NEAR(Y[I], Want, 2e-6 * std::max(1.0, std::fabs(double(X[I])))) << X[I];
      }
    }
  }
}

// The piecewise-linear ones must match their scalar formulas bit for bit.
TEST(VecMath, PiecewiseExact) {
  struct Case {
    UnaryOp Op;
    float P0, P1;
    std::function<float(float)> Ref;
  };
  const Case Cases[] = {
      {UnaryRelu, 0, 0, [](float X) { return X > 0.0f ? X : 0.0f; }},
      {UnaryReluKeepNaN, 0, 0, [](float X) { return X < 0.0f ? 0.0f : X; }},
      {UnaryLeakyRelu, 0.1f, 0, [](float X) { return X < 0.0f ? 0.1f * X : X; }},
      {UnaryClip, 0.0f, 6.0f, [](float X) { return X < 0.0f ? 0.0f : X > 6.0f ? 6.0f : X; }},
      {UnaryClip, -1.5f, 2.5f, [](float X) { return X < -1.5f ? -1.5f : X > 2.5f ? 2.5f : X; }},
  };
  for (const VecMathTable *T : tables()) {
    SCOPED_TRACE(isaName(T->Which));
    for (const Case &C : Cases)
      for (size_t N : Lengths) {
        std::vector<float> X = inputs(N, -10, 10, 3), Y(N), InPlace = X;
        T->Unary[C.Op](X.data(), Y.data(), N, C.P0, C.P1);
        T->Unary[C.Op](InPlace.data(), InPlace.data(), N, C.P0, C.P1);
        for (size_t I = 0; I < N; ++I) {
          EXPECT_TRUE(sameBits(Y[I], C.Ref(X[I]))) << "op " << C.Op << " x=" << X[I] << " got " << Y[I];
          EXPECT_TRUE(sameBits(InPlace[I], Y[I]));
        }
      }
  }
}

TEST(VecMath, BinaryExact) {
  const std::function<float(float, float)> Ref[BinaryOpCount] = {
      [](float A, float B) { return A + B; }, [](float A, float B) { return A - B; },
      [](float A, float B) { return A * B; }, [](float A, float B) { return A / B; }};
  for (const VecMathTable *T : tables()) {
    SCOPED_TRACE(isaName(T->Which));
    for (int Op = 0; Op < BinaryOpCount; ++Op)
      for (size_t N : Lengths) {
        std::vector<float> A = inputs(N, -5, 5, 11), B = inputs(N, -3, 3, 13), Out(N + 1, 7.0f);
        T->Binary[Op](A.data(), B.data(), Out.data(), N);
        for (size_t I = 0; I < N; ++I)
          EXPECT_TRUE(sameBits(Out[I], Ref[Op](A[I], B[I]))) << Op << " " << A[I] << " " << B[I];
        EXPECT_EQ(Out[N], 7.0f);
        T->BinaryScalarB[Op](A.data(), 1.75f, Out.data(), N);
        for (size_t I = 0; I < N; ++I)
          EXPECT_TRUE(sameBits(Out[I], Ref[Op](A[I], 1.75f)));
        T->BinaryScalarA[Op](-0.3f, B.data(), Out.data(), N);
        for (size_t I = 0; I < N; ++I)
          EXPECT_TRUE(sameBits(Out[I], Ref[Op](-0.3f, B[I])));
        std::vector<float> Acc = A; // in place, as the variadic ops use it
        T->Binary[Op](Acc.data(), B.data(), Acc.data(), N);
        for (size_t I = 0; I < N; ++I)
          EXPECT_TRUE(sameBits(Acc[I], Ref[Op](A[I], B[I])));
      }
  }
}

std::vector<float> plain(size_t N, float Lo, float Hi, unsigned Seed) {
  std::mt19937 Gen(Seed);
  std::uniform_real_distribution<float> D(Lo, Hi);
  std::vector<float> X(N);
  for (float &V : X)
    V = D(Gen);
  return X;
}

TEST(VecMath, Reductions) {
  for (const VecMathTable *T : tables()) {
    SCOPED_TRACE(isaName(T->Which));
    for (size_t N : Lengths) {
      std::vector<float> X = plain(N, -4, 4, unsigned(N));
      double Sum = 0, Abs = 0;
      for (float V : X) {
        Sum += V;
        Abs += std::fabs(V);
      }
      EXPECT_NEAR(T->ReduceSum(X.data(), N), Sum, 1e-6 * Abs + 1e-30) << N;
      if (N == 0)
        continue;
      float Max = X[0];
      for (float V : X)
        Max = std::max(Max, V);
      EXPECT_EQ(T->ReduceMax(X.data(), N), Max) << N;
      X[N - 1] = 100.0f; // the max in the tail
      EXPECT_EQ(T->ReduceMax(X.data(), N), 100.0f) << N;
      X[0] = 200.0f;
      EXPECT_EQ(T->ReduceMax(X.data(), N), 200.0f) << N;
    }
  }
}

TEST(VecMath, ExpSubSum) {
  for (const VecMathTable *T : tables()) {
    SCOPED_TRACE(isaName(T->Which));
    for (size_t N : Lengths) {
      std::vector<float> X = plain(N, -20, 5, 5), Y(N + 1, -1.0f);
      float Sum = T->ExpSubSum(X.data(), Y.data(), N, 3.0f);
      double Want = 0;
      for (size_t I = 0; I < N; ++I) {
        float E = float(std::exp(double(X[I] - 3.0f)));
        EXPECT_LE(ulpDiff(Y[I], E), 2) << X[I];
        Want += E;
      }
      EXPECT_NEAR(Sum, Want, 1e-6 * Want + 1e-30);
      EXPECT_EQ(Y[N], -1.0f);
    }
  }
}

TEST(VecMath, LayerNormRow) {
  for (const VecMathTable *T : tables()) {
    SCOPED_TRACE(isaName(T->Which));
    for (size_t N : Lengths) {
      if (N == 0)
        continue;
      for (bool WithBias : {false, true}) {
        std::vector<float> X = plain(N, -3, 5, 21), S = plain(N, 0.5f, 2, 22), B = plain(N, -1, 1, 23);
        std::vector<float> Y(N);
        float Mean = 0, Inv = 0;
        T->LayerNormRow(X.data(), Y.data(), N, S.data(), WithBias ? B.data() : nullptr, 1e-5f,
                        &Mean, &Inv);
        double M = 0, V = 0;
        for (float Xv : X)
          M += Xv;
        M /= double(N);
        for (float Xv : X)
          V += (Xv - M) * (Xv - M);
        double RInv = 1.0 / std::sqrt(V / double(N) + 1e-5);
        EXPECT_NEAR(Mean, M, 1e-5);
        EXPECT_NEAR(Inv, RInv, 1e-5 * RInv);
        for (size_t I = 0; I < N; ++I) {
          double Want = (X[I] - M) * RInv * S[I] + (WithBias ? B[I] : 0.0);
          EXPECT_NEAR(Y[I], Want, 2e-5 * (1 + std::fabs(Want))) << N << " " << I;
        }
      }
    }
  }
}

// Naive depthwise 3x3 plane in double, then the activation.
double depthwiseRef(const float *X, const float *Wt, double Bias, size_t H, size_t W, size_t Stride,
                    size_t PadT, size_t PadL, size_t Oh, size_t Ow, int Act, float Lo, float Hi) {
  double Acc = Bias;
  for (int64_t Kh = 0; Kh < 3; ++Kh)
    for (int64_t Kw = 0; Kw < 3; ++Kw) {
      int64_t Ih = int64_t(Oh * Stride) - int64_t(PadT) + Kh;
      int64_t Iw = int64_t(Ow * Stride) - int64_t(PadL) + Kw;
      if (Ih >= 0 && Ih < int64_t(H) && Iw >= 0 && Iw < int64_t(W))
        Acc += double(Wt[Kh * 3 + Kw]) * X[size_t(Ih) * W + size_t(Iw)];
    }
  if (Act == DwActRelu)
    return Acc < 0 ? 0 : Acc;
  if (Act == DwActClip)
    return Acc < Lo ? Lo : Acc > Hi ? Hi : Acc;
  return Acc;
}

TEST(VecMath, Depthwise3x3) {
  // Every width 1..60 (vector tails, rows narrower than a vector, interior blocks), heights
  // below and above the rows-per-pass counts, strides 1/2, symmetric, asymmetric and wide pads,
  // several planes per call, with and without bias, each in-register activation.
  const size_t Heights[] = {1, 2, 3, 4, 5, 6, 7, 9, 14, 17};
  struct Pads {
    size_t T, L, B, R;
  };
  const Pads PadSets[] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {1, 0, 0, 1}, {0, 1, 1, 0}, {2, 2, 0, 1}};
  const float Lo = -0.25f, Hi = 0.5f;
  for (const VecMathTable *T : tables()) {
    SCOPED_TRACE(isaName(T->Which));
    for (size_t Stride : {1, 2})
      for (size_t H : Heights)
        for (size_t W = 1; W <= 60; ++W)
          for (const Pads &P : PadSets) {
            if (H + P.T + P.B < 3 || W + P.L + P.R < 3)
              continue;
            const size_t OH = (H + P.T + P.B - 3) / Stride + 1, OW = (W + P.L + P.R - 3) / Stride + 1;
            const size_t Planes = 3;
            std::vector<float> X = plain(Planes * H * W, -1, 1, unsigned(H * 100 + W));
            std::vector<float> Wt = plain(Planes * 9, -1, 1, unsigned(W + 7));
            std::vector<float> Bias = plain(Planes, -0.5f, 0.5f, 3);
            std::vector<float> Y(Planes * OH * OW + 1);
            for (int Act : {DwActNone, DwActRelu, DwActClip})
              for (bool WithBias : {false, true}) {
                std::fill(Y.begin(), Y.end(), 99.0f);
                Depthwise3x3Args A{X.data(), Wt.data(), WithBias ? Bias.data() : nullptr, Y.data(),
                                   Planes, H, W, OH, OW, Stride, P.T, P.L, Act, Lo, Hi};
                T->Depthwise3x3(A);
                ASSERT_EQ(Y[Planes * OH * OW], 99.0f) << "wrote past the output";
                for (size_t Pl = 0; Pl < Planes; ++Pl)
                  for (size_t Oh = 0; Oh < OH; ++Oh)
                    for (size_t Ow = 0; Ow < OW; ++Ow) {
                      double Want = depthwiseRef(X.data() + Pl * H * W, Wt.data() + Pl * 9,
                                                 WithBias ? Bias[Pl] : 0.0, H, W, Stride, P.T, P.L,
                                                 Oh, Ow, Act, Lo, Hi);
                      ASSERT_NEAR(Y[(Pl * OH + Oh) * OW + Ow], Want, 1e-5)
                          << "S=" << Stride << " H=" << H << " W=" << W << " pads=" << P.T << ","
                          << P.L << "," << P.B << "," << P.R << " act=" << Act
                          << " bias=" << WithBias << " plane " << Pl << " at " << Oh << "," << Ow;
                    }
              }
          }
  }
}

TEST(VecMath, Depthwise3x3ActivationSpecials) {
  // NaN passes Relu and Clip (as the fused epilogue functions), -0 passes Relu; inputs are
  // placed so each special value lands in an interior and an edge block.
  const float NaN = std::numeric_limits<float>::quiet_NaN();
  const size_t H = 3, W = 40;
  for (const VecMathTable *T : tables()) {
    SCOPED_TRACE(isaName(T->Which));
    for (int Act : {DwActRelu, DwActClip}) {
      std::vector<float> X(H * W, 0.0f), Wt(9, 0.0f), Y(W);
      Wt[4] = 1.0f; // centre tap, no top pad: Y = X's middle row
      X[W + 1] = NaN;
      X[W + 20] = NaN;
      X[W + 5] = -0.0f;
      X[W + 6] = 7.0f;
      X[W + 7] = -3.0f;
      Depthwise3x3Args A{X.data(), Wt.data(), nullptr, Y.data(), 1, H, W, 1, W, 1, 0, 1, Act, 0.0f, 6.0f};
      T->Depthwise3x3(A);
      EXPECT_TRUE(std::isnan(Y[1]));
      EXPECT_TRUE(std::isnan(Y[20]));
      EXPECT_EQ(Y[7], 0.0f);
      EXPECT_EQ(Y[6], Act == DwActClip ? 6.0f : 7.0f);
    }
  }
}

TEST(VecMath, MaxPool2d) {
  const size_t Sizes[] = {1, 2, 3, 5, 8, 16, 17, 33, 56};
  for (const VecMathTable *T : tables()) {
    SCOPED_TRACE(isaName(T->Which));
    for (size_t K : {1, 2, 3})
      for (size_t S : {1, 2, 3})
        for (size_t Pad : {0, 1})
          for (size_t H : Sizes)
            for (size_t W : Sizes) {
              if (Pad >= K || H + 2 * Pad < K || W + 2 * Pad < K)
                continue;
              size_t OH = (H + 2 * Pad - K) / S + 1, OW = (W + 2 * Pad - K) / S + 1;
              std::vector<float> X = plain(H * W, -5, 5, unsigned(H * 7 + W)), Y(OH * OW), Tmp(W);
              MaxPool2dArgs A{X.data(), Y.data(), Tmp.data(), H, W, OH, OW, K, K, S, S, Pad, Pad};
              T->MaxPool2d(A);
              for (size_t Oh = 0; Oh < OH; ++Oh)
                for (size_t Ow = 0; Ow < OW; ++Ow) {
                  float Want = -std::numeric_limits<float>::infinity();
                  for (size_t Kh = 0; Kh < K; ++Kh)
                    for (size_t Kw = 0; Kw < K; ++Kw) {
                      int64_t Ih = int64_t(Oh * S + Kh) - int64_t(Pad), Iw = int64_t(Ow * S + Kw) - int64_t(Pad);
                      if (Ih >= 0 && Ih < int64_t(H) && Iw >= 0 && Iw < int64_t(W))
                        Want = std::max(Want, X[size_t(Ih) * W + size_t(Iw)]);
                    }
                  ASSERT_EQ(Y[Oh * OW + Ow], Want) << "K=" << K << " S=" << S << " pad=" << Pad << " H=" << H << " W=" << W;
                }
            }
  }
}

} // namespace
