// Quantization ops vs references written from the ONNX definitions: QuantizeLinear /
// DequantizeLinear (per tensor, per axis, blocked; every integer type), DynamicQuantizeLinear,
// MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv, and the refusals.
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace native_test;

namespace {

struct Range {
  double Lo, Hi;
};
Range rangeOf(const std::string &T) {
  if (T == "I8") return {-128, 127};
  if (T == "U8") return {0, 255};
  if (T == "I16") return {-32768, 32767};
  if (T == "U16") return {0, 65535};
  return {-2147483648.0, 2147483647.0};
}

// Parameter index of element I of X (shape S) for scale shape P (per tensor, axis or blocked).
size_t paramIndex(const Shape &S, const Shape &P, int64_t Axis, int64_t Block, size_t I) {
  if (elementCount(P) == 1 && P.size() <= 1 && Block == 0)
    return 0;
  size_t A = size_t(Axis < 0 ? Axis + int64_t(S.size()) : Axis);
  std::vector<size_t> Idx(S.size());
  for (size_t D = S.size(), R = I; D-- > 0;) {
    Idx[D] = R % size_t(S[D]);
    R /= size_t(S[D]);
  }
  if (Block == 0)
    return Idx[A];
  Idx[A] /= size_t(Block);
  size_t Flat = 0;
  for (size_t D = 0; D < S.size(); ++D)
    Flat = Flat * size_t(P[D]) + Idx[D];
  return Flat;
}

struct QCase {
  std::string Label;
  Shape X, Param;
  int64_t Axis = 1, Block = 0;
};

std::vector<QCase> qcases() {
  return {{"per tensor scalar", {2, 3, 4}, {}, 1, 0},
          {"per tensor [1]", {7}, {1}, 1, 0},
          {"per axis 1", {2, 3, 4}, {3}, 1, 0},
          {"per axis -1", {2, 3, 4}, {4}, -1, 0},
          {"blocked axis 2 remainder", {2, 3, 5}, {2, 3, 2}, 2, 3},
          {"blocked axis 0", {4, 3}, {2, 3}, 0, 2}};
}

std::vector<std::string> axisAttrs(const QCase &C) {
  std::vector<std::string> A{attrInt("axis", C.Axis)};
  if (C.Block)
    A.push_back(attrInt("block_size", C.Block));
  return A;
}

} // namespace

TEST(NativeQuantizeLinear, MatchesDefinitionForEveryLayoutAndType) {
  for (const QCase &C : qcases())
    for (const char *XType : {"F32", "F16", "BF16", "I32"})
      for (const char *YType : {"U8", "I8", "U16", "I16"})
        for (bool WithZero : {true, false}) {
          SCOPED_TRACE(C.Label + " " + XType + "->" + YType + (WithZero ? " zp" : ""));
          size_t N = elementCount(C.X), NP = elementCount(C.Param);
          Range R = rangeOf(YType);
          std::vector<double> X(N), S(NP), Z(NP);
          for (size_t I = 0; I < N; ++I) // ties (.5), negatives and values past the range
            X[I] = std::string(XType) == "I32" ? double(int(I * 37 % 401) - 200)
                                               : double(int(I * 37 % 81) - 40) * 0.25;
          for (size_t I = 0; I < NP; ++I) {
            S[I] = 0.125 * double(1 + I % 4);
            Z[I] = std::round(R.Lo + (R.Hi - R.Lo) * double(I % 3 + 1) / 4.0);
          }
          if (std::string(YType).size() == 3 && N == 7) // saturate hard on 16-bit
            S.assign(NP, 0.0009765625);
          GraphSpec G;
          G.tensor("x", C.X, XType).constant("s", C.Param, encode(S, "F32"), "F32");
          std::vector<std::string> Ins{"x", "s"};
          if (WithZero) {
            G.constant("z", C.Param, encode(Z, YType), YType);
            Ins.push_back("z");
          }
          G.tensor("y", C.X, YType).input("x").output("y");
          G.node("q", "QuantizeLinear", Ins, {"y"}, axisAttrs(C));
          TempDir Dir;
          auto Graph = load(G, Dir);
          std::vector<double> XIn = decode(encode(X, XType), XType); // as the type holds it
          std::vector<double> Y = decode(run(*Graph, {encode(X, XType)})[0], YType);
          for (size_t I = 0; I < N; ++I) {
            size_t P = paramIndex(C.X, C.Param, C.Axis, C.Block, I);
            double Q = std::string(XType) == "I32" ? XIn[I] / S[P] : double(float(XIn[I]) / float(S[P]));
            Q = std::nearbyint(Q) + (WithZero ? Z[P] : 0.0);
            Q = std::min(R.Hi, std::max(R.Lo, Q));
            ASSERT_EQ(Y[I], Q) << "at " << I << " x=" << XIn[I] << " scale=" << S[P];
          }
        }
}

TEST(NativeQuantizeLinear, RoundsHalfToEvenAndSaturates) {
  GraphSpec G;
  G.tensor("x", {8}).constant("s", {}, encode({0.5}, "F32")).constant("z", {}, encode({-1}, "I8"), "I8");
  G.tensor("y", {8}, "I8").input("x").output("y").node("q", "QuantizeLinear", {"x", "s", "z"}, {"y"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<float> X{0.25f, 0.75f, -0.25f, -0.75f, 1.25f, 1000.0f, -1000.0f, 0.0f};
  // x/s = 0.5, 1.5, -0.5, -1.5, 2.5, 2000, -2000, 0 -> rint: 0, 2, -0, -2, 2 ... then + zp -1.
  EXPECT_EQ(decode(run(*Graph, {toBytes(X)})[0], "I8"),
            (std::vector<double>{-1, 1, -1, -3, 1, 127, -128, -1}));
}

TEST(NativeDequantizeLinear, MatchesDefinitionForEveryLayoutAndType) {
  for (const QCase &C : qcases())
    for (const char *XType : {"U8", "I8", "U16", "I16", "I32"})
      for (const char *YType : {"F32", "F16", "BF16"})
        for (bool WithZero : {true, false}) {
          SCOPED_TRACE(C.Label + " " + XType + "->" + YType + (WithZero ? " zp" : ""));
          size_t N = elementCount(C.X), NP = elementCount(C.Param);
          Range R = rangeOf(XType);
          std::vector<double> X(N), S(NP), Z(NP);
          for (size_t I = 0; I < N; ++I)
            X[I] = std::round(R.Lo + (std::min(R.Hi, 70000.0) - R.Lo) * double(I * 7 % 13) / 12.0);
          for (size_t I = 0; I < NP; ++I) {
            S[I] = 0.125 * double(1 + I % 3);
            Z[I] = std::round(R.Lo / 2 + R.Hi / 2) + double(I);
          }
          GraphSpec G;
          G.tensor("x", C.X, XType).input("x").constant("s", C.Param, encode(S, YType), YType);
          std::vector<std::string> Ins{"x", "s"};
          if (WithZero) {
            G.tensor("z", C.Param, XType).input("z"); // a runtime zero point
            Ins.push_back("z");
          }
          G.tensor("y", C.X, YType).output("y");
          G.node("dq", "DequantizeLinear", Ins, {"y"}, axisAttrs(C));
          TempDir Dir;
          auto Graph = load(G, Dir);
          std::vector<Bytes> Inputs{encode(X, XType)};
          if (WithZero)
            Inputs.push_back(encode(Z, XType));
          std::vector<double> Y = decode(run(*Graph, Inputs)[0], YType);
          std::vector<double> SHeld = decode(encode(S, YType), YType);
          for (size_t I = 0; I < N; ++I) {
            size_t P = paramIndex(C.X, C.Param, C.Axis, C.Block, I);
            double Ref = (float(X[I]) - float(WithZero ? Z[P] : 0.0)) * float(SHeld[P]);
            double Held = decode(encode({Ref}, YType), YType)[0];
            ASSERT_EQ(Y[I], Held) << "at " << I;
          }
        }
}

TEST(NativeDynamicQuantizeLinear, MatchesDefinition) {
  for (auto [Lo, Hi] : {std::pair{-1.0f, 3.0f}, {0.5f, 2.0f}, {-4.0f, -1.0f}, {0.0f, 0.0f}}) {
    SCOPED_TRACE(std::to_string(Lo) + ".." + std::to_string(Hi));
    std::vector<float> X = randomFloats(37, 61, Lo, Hi);
    GraphSpec G;
    G.tensor("x", {37}).tensor("y", {37}, "U8").tensor("s", {}).tensor("z", {}, "U8");
    G.input("x").output("y").output("s").output("z");
    G.node("dq", "DynamicQuantizeLinear", {"x"}, {"y", "s", "z"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<Bytes> Out = run(*Graph, {toBytes(X)});
    float MaxX = std::max(0.0f, *std::max_element(X.begin(), X.end()));
    float MinX = std::min(0.0f, *std::min_element(X.begin(), X.end()));
    float Scale = (MaxX == MinX ? 1.0f : MaxX - MinX) / 255.0f;
    float Zero = std::nearbyint(std::clamp(0.0f - MinX / Scale, 0.0f, 255.0f));
    EXPECT_EQ(fromBytes<float>(Out[1])[0], Scale);
    EXPECT_EQ(double(fromBytes<uint8_t>(Out[2])[0]), double(Zero));
    std::vector<uint8_t> Y = fromBytes<uint8_t>(Out[0]);
    for (size_t I = 0; I < X.size(); ++I)
      ASSERT_EQ(double(Y[I]), std::clamp(double(std::nearbyint(X[I] / Scale) + Zero), 0.0, 255.0))
          << "at " << I;
  }
}

namespace {

// int32 (A - za) x (B - zb) for 2-D A [M, K], B [K, N]; za per row or scalar, zb per column or scalar.
std::vector<double> intMatMul(const std::vector<double> &A, const std::vector<double> &B,
                              const std::vector<double> &ZA, const std::vector<double> &ZB,
                              int64_t M, int64_t K, int64_t N) {
  std::vector<double> Y(size_t(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double S = 0;
      for (int64_t k = 0; k < K; ++k)
        S += (A[size_t(i * K + k)] - ZA[ZA.size() == 1 ? 0 : size_t(i)]) *
             (B[size_t(k * N + j)] - ZB[ZB.size() == 1 ? 0 : size_t(j)]);
      Y[size_t(i * N + j)] = S;
    }
  return Y;
}

std::vector<double> quantValues(size_t N, uint32_t Seed, const std::string &Type) {
  Range R = rangeOf(Type);
  std::vector<float> F = randomFloats(N, Seed, 0.0f, 1.0f);
  std::vector<double> V(N);
  for (size_t I = 0; I < N; ++I)
    V[I] = std::round(R.Lo + (R.Hi - R.Lo) * double(F[I]));
  return V;
}

} // namespace

TEST(NativeMatMulInteger, MatchesDefinitionWithZeroPoints) {
  const int64_t M = 5, K = 70, N = 9;
  for (const char *AT : {"U8", "I8"})
    for (const char *BT : {"U8", "I8"})
      for (int ZeroMode : {0, 1, 2}) // none, scalar, per row / per column
        for (bool ConstB : {true, false}) {
          SCOPED_TRACE(std::string(AT) + " x " + BT + " zero mode " + std::to_string(ZeroMode) +
                       (ConstB ? " const B" : ""));
          std::vector<double> A = quantValues(size_t(M * K), 71, AT), B = quantValues(size_t(K * N), 72, BT);
          std::vector<double> ZA{0}, ZB{0};
          if (ZeroMode == 1) {
            ZA = {std::string(AT) == "U8" ? 128.0 : -3.0};
            ZB = {std::string(BT) == "U8" ? 100.0 : 5.0};
          } else if (ZeroMode == 2) {
            ZA = quantValues(size_t(M), 73, AT);
            ZB = quantValues(size_t(N), 74, BT);
          }
          GraphSpec G;
          G.tensor("a", {M, K}, AT).tensor("y", {M, N}, "I32").input("a").output("y");
          std::vector<Bytes> Inputs{encode(A, AT)};
          if (ConstB)
            G.constant("b", {K, N}, encode(B, BT), BT);
          else {
            G.tensor("b", {K, N}, BT).input("b");
            Inputs.push_back(encode(B, BT));
          }
          std::vector<std::string> Ins{"a", "b"};
          if (ZeroMode) {
            Shape ZAS = ZeroMode == 1 ? Shape{} : Shape{M}, ZBS = ZeroMode == 1 ? Shape{} : Shape{N};
            G.constant("za", ZAS, encode(ZA, AT), AT).constant("zb", ZBS, encode(ZB, BT), BT);
            Ins.push_back("za");
            Ins.push_back("zb");
          }
          G.node("mmi", "MatMulInteger", Ins, {"y"});
          TempDir Dir;
          auto Graph = load(G, Dir);
          EXPECT_EQ(decode(run(*Graph, Inputs, 2)[0], "I32"), intMatMul(A, B, ZA, ZB, M, K, N));
        }
}

TEST(NativeQLinearMatMul, MatchesDefinition) {
  const int64_t M = 4, K = 33, N = 6;
  for (const char *T : {"U8", "I8"})
    for (bool PerColumn : {false, true}) {
      SCOPED_TRACE(std::string(T) + (PerColumn ? " per column" : ""));
      std::vector<double> A = quantValues(size_t(M * K), 81, T), B = quantValues(size_t(K * N), 82, T);
      double ZA = std::string(T) == "U8" ? 120 : -2, ZB = std::string(T) == "U8" ? 130 : 3;
      double ZY = std::string(T) == "U8" ? 128 : 0;
      std::vector<double> SB = PerColumn ? std::vector<double>{0.01, 0.02, 0.015, 0.005, 0.03, 0.0125}
                                         : std::vector<double>{0.02};
      float SA = 0.05f, SY = 0.4f;
      GraphSpec G;
      G.tensor("a", {M, K}, T).constant("sa", {}, encode({SA}, "F32")).constant("za", {}, encode({ZA}, T), T);
      G.constant("b", {K, N}, encode(B, T), T)
          .constant("sb", PerColumn ? Shape{N} : Shape{}, encode(SB, "F32"))
          .constant("zb", {}, encode({ZB}, T), T);
      G.constant("sy", {}, encode({SY}, "F32")).constant("zy", {}, encode({ZY}, T), T);
      G.tensor("y", {M, N}, T).input("a").output("y");
      G.node("q", "QLinearMatMul", {"a", "sa", "za", "b", "sb", "zb", "sy", "zy"}, {"y"});
      TempDir Dir;
      auto Graph = load(G, Dir);
      std::vector<double> Y = decode(run(*Graph, {encode(A, T)})[0], T);
      std::vector<double> Acc = intMatMul(A, B, {ZA}, {ZB}, M, K, N);
      Range R = rangeOf(T);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j) {
          float Mult = float(SA * float(SB[PerColumn ? size_t(j) : 0])) / SY;
          double V = std::nearbyint(Acc[size_t(i * N + j)] * double(Mult) + ZY);
          ASSERT_EQ(Y[size_t(i * N + j)], std::clamp(V, R.Lo, R.Hi)) << i << "," << j;
        }
    }
}

namespace {

// 2-D integer convolution of (x - xz) and (w - wz[m]) with pads / strides, + bias.
std::vector<double> intConv(const std::vector<double> &X, Shape XS, const std::vector<double> &W,
                            Shape WS, double XZ, const std::vector<double> &WZ,
                            const std::vector<double> &B, int64_t Pad, int64_t Stride, Shape &Out) {
  int64_t N = XS[0], C = XS[1], H = XS[2], Wd = XS[3], M = WS[0], KH = WS[2], KW = WS[3];
  int64_t OH = (H + 2 * Pad - KH) / Stride + 1, OW = (Wd + 2 * Pad - KW) / Stride + 1;
  Out = {N, M, OH, OW};
  std::vector<double> Y(size_t(N * M * OH * OW));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double S = B.empty() ? 0 : B[size_t(m)];
          for (int64_t c = 0; c < C; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t ih = oh * Stride + kh - Pad, iw = ow * Stride + kw - Pad;
                if (ih < 0 || ih >= H || iw < 0 || iw >= Wd)
                  continue;
                S += (X[size_t(((n * C + c) * H + ih) * Wd + iw)] - XZ) *
                     (W[size_t(((m * C + c) * KH + kh) * KW + kw)] - WZ[WZ.size() == 1 ? 0 : size_t(m)]);
              }
          Y[size_t(((n * M + m) * OH + oh) * OW + ow)] = S;
        }
  return Y;
}

} // namespace

TEST(NativeConvInteger, MatchesDefinition) {
  Shape XS{2, 3, 6, 5}, WS{4, 3, 3, 3};
  for (const char *XT : {"U8", "I8"})
    for (bool PerChannel : {false, true}) {
      SCOPED_TRACE(std::string(XT) + (PerChannel ? " per channel" : ""));
      std::vector<double> X = quantValues(elementCount(XS), 91, XT), W = quantValues(elementCount(WS), 92, "I8");
      double XZ = std::string(XT) == "U8" ? 129 : -7;
      std::vector<double> WZ = PerChannel ? std::vector<double>{1, -2, 3, 0} : std::vector<double>{4};
      Shape Out;
      std::vector<double> Ref = intConv(X, XS, W, WS, XZ, WZ, {}, 1, 2, Out);
      GraphSpec G;
      G.tensor("x", XS, XT).constant("w", WS, encode(W, "I8"), "I8");
      G.constant("xz", {}, encode({XZ}, XT), XT).constant("wz", PerChannel ? Shape{4} : Shape{}, encode(WZ, "I8"), "I8");
      G.tensor("y", Out, "I32").input("x").output("y");
      G.node("ci", "ConvInteger", {"x", "w", "xz", "wz"}, {"y"},
             {attrInts("pads", {1, 1, 1, 1}), attrInts("strides", {2, 2})});
      TempDir Dir;
      auto Graph = load(G, Dir);
      EXPECT_EQ(decode(run(*Graph, {encode(X, XT)}, 2)[0], "I32"), Ref);
    }
}

TEST(NativeQLinearConv, MatchesDefinition) {
  Shape XS{1, 4, 7, 6}, WS{3, 4, 3, 3};
  for (const char *T : {"U8", "I8"})
    for (bool PerChannel : {false, true}) {
      SCOPED_TRACE(std::string(T) + (PerChannel ? " per channel" : ""));
      std::vector<double> X = quantValues(elementCount(XS), 93, T), W = quantValues(elementCount(WS), 94, "I8");
      double XZ = std::string(T) == "U8" ? 110 : 2, YZ = std::string(T) == "U8" ? 125 : -5;
      std::vector<double> WS_ = PerChannel ? std::vector<double>{0.002, 0.004, 0.001} : std::vector<double>{0.003};
      std::vector<double> Bias{100, -2000, 35};
      float XScale = 0.05f, YScale = 0.25f;
      Shape Out;
      std::vector<double> Acc = intConv(X, XS, W, WS, XZ, {0}, Bias, 1, 1, Out);
      GraphSpec G;
      G.tensor("x", XS, T).constant("xs", {}, encode({XScale}, "F32")).constant("xz", {}, encode({XZ}, T), T);
      G.constant("w", WS, encode(W, "I8"), "I8").constant("ws", PerChannel ? Shape{3} : Shape{}, encode(WS_, "F32"));
      G.constant("wz", {}, encode({0}, "I8"), "I8");
      G.constant("ys", {}, encode({YScale}, "F32")).constant("yz", {}, encode({YZ}, T), T);
      G.constant("b", {3}, encode(Bias, "I32"), "I32");
      G.tensor("y", Out, T).input("x").output("y");
      G.node("qc", "QLinearConv", {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"}, {"y"},
             {attrInts("pads", {1, 1, 1, 1})});
      TempDir Dir;
      auto Graph = load(G, Dir);
      std::vector<double> Y = decode(run(*Graph, {encode(X, T)})[0], T);
      Range R = rangeOf(T);
      size_t Plane = size_t(Out[2] * Out[3]);
      for (size_t I = 0; I < Y.size(); ++I) {
        size_t M = (I / Plane) % 3;
        float Mult = float(XScale * float(WS_[PerChannel ? M : 0])) / YScale;
        ASSERT_EQ(Y[I], std::clamp(std::nearbyint(Acc[I] * double(Mult) + YZ), R.Lo, R.Hi)) << "at " << I;
      }
    }
}

TEST(NativeQuantization, RefusesUnsupportedTypesAndBadParameters) {
  GraphSpec Q32;
  Q32.tensor("x", {4}).constant("s", {}, encode({1.0}, "F32")).tensor("y", {4}, "I32");
  Q32.input("x").output("y").node("q", "QuantizeLinear", {"x", "s"}, {"y"});
  expectLoadError(Q32, OPTIMA_STATUS_UNSUPPORTED,
                  {"I32 tensor \"y\"", "quantized types supported are int8, uint8"});
  GraphSpec D64;
  D64.tensor("x", {4}, "U8").constant("s", {}, encode({1.0}, "F64"), "F64").tensor("y", {4}, "F64");
  D64.input("x").output("y").node("dq", "DequantizeLinear", {"x", "s"}, {"y"});
  expectLoadError(D64, OPTIMA_STATUS_UNSUPPORTED, {"F64 scale \"s\""});
  GraphSpec Axis;
  Axis.tensor("x", {2, 3}).constant("s", {2}, encode({1.0, 2.0}, "F32")).tensor("y", {2, 3}, "U8");
  Axis.input("x").output("y").node("q", "QuantizeLinear", {"x", "s"}, {"y"});
  expectLoadError(Axis, OPTIMA_STATUS_INVALID_MODEL,
                  {"nodes[0] (QuantizeLinear \"q\")", "must be a scalar or 1-D of size 3 (axis 1 of [2, 3])"});
  GraphSpec Block;
  Block.tensor("x", {2, 5}).constant("s", {2, 1}, encode({1.0, 2.0}, "F32")).tensor("y", {2, 5}, "U8");
  Block.input("x").output("y").node("q", "QuantizeLinear", {"x", "s"}, {"y"}, {attrInt("block_size", 2)});
  expectLoadError(Block, OPTIMA_STATUS_INVALID_MODEL, {"must be [2, 3] for block_size 2"});
  GraphSpec ZType;
  ZType.tensor("x", {4}).constant("s", {}, encode({1.0}, "F32")).constant("z", {}, encode({1}, "I8"), "I8");
  ZType.tensor("y", {4}, "U8").input("x").output("y").node("q", "QuantizeLinear", {"x", "s", "z"}, {"y"});
  expectLoadError(ZType, OPTIMA_STATUS_INVALID_MODEL, {"zero point \"z\" is I8 but the output is U8"});
  GraphSpec MMI;
  MMI.tensor("a", {2, 3}, "I16").tensor("b", {3, 2}, "I16").tensor("y", {2, 2}, "I32");
  MMI.input("a").input("b").output("y").node("m", "MatMulInteger", {"a", "b"}, {"y"});
  expectLoadError(MMI, OPTIMA_STATUS_UNSUPPORTED, {"I16 input \"a\" (int8 and uint8 are supported)"});
}

// ---- ONNX low-precision types (one byte per element: the 4/2-bit code in the low bits).

namespace {

struct SmallInt {
  const char *Name;
  int Bits;
  bool Signed;
};
const SmallInt SmallInts[] = {{"I4", 4, true}, {"U4", 4, false}, {"I2", 2, true}, {"U2", 2, false}};

double smallIntLo(const SmallInt &T) { return T.Signed ? -double(1 << (T.Bits - 1)) : 0.0; }
double smallIntHi(const SmallInt &T) { return T.Signed ? double((1 << (T.Bits - 1)) - 1) : double((1 << T.Bits) - 1); }
uint8_t smallIntCode(const SmallInt &T, double V) { return uint8_t(int64_t(V) & ((1 << T.Bits) - 1)); }
double smallIntDecode(const SmallInt &T, uint8_t B) {
  int V = B & ((1 << T.Bits) - 1);
  return T.Signed && V >= (1 << (T.Bits - 1)) ? double(V - (1 << T.Bits)) : double(V);
}

} // namespace

TEST(NativeQuantizeLinear, SmallIntegersEveryLayout) {
  for (const QCase &C : qcases())
    for (const SmallInt &T : SmallInts)
      for (bool WithZero : {true, false}) {
        SCOPED_TRACE(C.Label + " " + T.Name + (WithZero ? " zp" : ""));
        size_t N = elementCount(C.X), NP = elementCount(C.Param);
        std::vector<double> X(N), S(NP), Z(NP);
        for (size_t I = 0; I < N; ++I) // ties, negatives and values past the range
          X[I] = double(int(I * 37 % 81) - 40) * 0.0625;
        Bytes ZB(NP);
        for (size_t I = 0; I < NP; ++I) {
          S[I] = 0.125 * double(1 + I % 4);
          Z[I] = smallIntLo(T) + double(I % size_t(smallIntHi(T) - smallIntLo(T) + 1));
          ZB[I] = smallIntCode(T, Z[I]);
        }
        GraphSpec G;
        G.tensor("x", C.X).constant("s", C.Param, encode(S, "F32"), "F32");
        std::vector<std::string> Ins{"x", "s"};
        if (WithZero) {
          G.constant("z", C.Param, ZB, T.Name);
          Ins.push_back("z");
        }
        G.tensor("y", C.X, T.Name).input("x").output("y");
        G.node("q", "QuantizeLinear", Ins, {"y"}, axisAttrs(C));
        TempDir Dir;
        auto Graph = load(G, Dir);
        Bytes Y = run(*Graph, {encode(X, "F32")})[0];
        for (size_t I = 0; I < N; ++I) {
          size_t P = paramIndex(C.X, C.Param, C.Axis, C.Block, I);
          double Q = std::nearbyint(double(float(X[I]) / float(S[P]))) + (WithZero ? Z[P] : 0.0);
          Q = std::min(smallIntHi(T), std::max(smallIntLo(T), Q));
          ASSERT_EQ(int(Y[I]), int(smallIntCode(T, Q))) << "at " << I << " x=" << X[I] << " scale=" << S[P];
        }
      }
}

TEST(NativeDequantizeLinear, SmallIntegersEveryLayout) {
  for (const QCase &C : qcases())
    for (const SmallInt &T : SmallInts) {
      SCOPED_TRACE(C.Label + " " + T.Name);
      size_t N = elementCount(C.X), NP = elementCount(C.Param);
      Bytes XB(N), ZB(NP);
      std::vector<double> S(NP);
      for (size_t I = 0; I < N; ++I)
        XB[I] = uint8_t((I * 7) & ((1 << T.Bits) - 1));
      for (size_t I = 0; I < NP; ++I) {
        S[I] = 0.25 * double(1 + I % 3);
        ZB[I] = uint8_t((I * 3 + 1) & ((1 << T.Bits) - 1));
      }
      GraphSpec G;
      G.tensor("x", C.X, T.Name).tensor("z", C.Param, T.Name).input("x").input("z");
      G.constant("s", C.Param, encode(S, "F32"), "F32").tensor("y", C.X).output("y");
      G.node("dq", "DequantizeLinear", {"x", "s", "z"}, {"y"}, axisAttrs(C));
      TempDir Dir;
      auto Graph = load(G, Dir);
      std::vector<double> Y = decode(run(*Graph, {XB, ZB})[0], "F32");
      for (size_t I = 0; I < N; ++I) {
        size_t P = paramIndex(C.X, C.Param, C.Axis, C.Block, I);
        double Ref = double(float(smallIntDecode(T, XB[I]) - smallIntDecode(T, ZB[P])) * float(S[P]));
        ASSERT_EQ(Y[I], Ref) << "at " << I;
      }
    }
}

TEST(NativeQuantizeLinear, Float8SaturatesOrOverflows) {
  // x / 2 = 0, 0.5, 1, 50000, 100 (-> 96: 1.5625 * 2^6 ties to 1.5 * 2^6), -0.25.
  // E4M3FN codes: 0x00, 0x30, 0x38, 0x7E (448) / 0x7F (NaN without saturation), 0x6C, 0xA8.
  for (int64_t Saturate : {1, 0}) {
    GraphSpec G;
    G.tensor("x", {6}).constant("s", {}, encode({2.0}, "F32")).constant("z", {}, Bytes{0}, "F8E4M3FN");
    G.tensor("y", {6}, "F8E4M3FN").input("x").output("y");
    G.node("q", "QuantizeLinear", {"x", "s", "z"}, {"y"}, {attrInt("saturate", Saturate)});
    TempDir Dir;
    auto Graph = load(G, Dir);
    Bytes Y = run(*Graph, {toBytes(std::vector<float>{0, 1, 2, 1e5f, 200, -0.5f})})[0];
    EXPECT_EQ(Y, (Bytes{0x00, 0x30, 0x38, uint8_t(Saturate ? 0x7E : 0x7F), 0x6C, 0xA8})) << "saturate " << Saturate;
  }
  // E5M2, per axis: scale [1, 4]; 1e6 / 1 saturates to 57344 (0x7B); 6 / 4 = 1.5 -> 0x3E.
  GraphSpec G;
  G.tensor("x", {2, 2}).constant("s", {2}, encode({1.0, 4.0}, "F32")).tensor("y", {2, 2}, "F8E5M2");
  G.input("x").output("y").node("q", "QuantizeLinear", {"x", "s"}, {"y"}, {attrInt("axis", 1), attrInt("output_dtype", 19)});
  TempDir Dir;
  auto Graph = load(G, Dir);
  EXPECT_EQ(run(*Graph, {toBytes(std::vector<float>{1e6f, 6, -1, 0})})[0], (Bytes{0x7B, 0x3E, 0xBC, 0x00}));
}

TEST(NativeQuantizeLinear, Float4AddsZeroPointAndClamps) {
  // Blocked (block 2 on axis 1): scales [[1, 2]]; zero points [[0.5, 0]] (codes 0x1, 0x0).
  // x / s + z = 0.5+0.5=1 (0x2), 2.5+0.5=3 (0x5), 20/2=10 -> 6 (0x7), -3/2=-1.5 (0xB).
  GraphSpec G;
  G.tensor("x", {1, 4}).constant("s", {1, 2}, encode({1.0, 2.0}, "F32")).constant("z", {1, 2}, Bytes{0x1, 0x0}, "F4E2M1");
  G.tensor("y", {1, 4}, "F4E2M1").input("x").output("y");
  G.node("q", "QuantizeLinear", {"x", "s", "z"}, {"y"}, {attrInt("axis", 1), attrInt("block_size", 2)});
  TempDir Dir;
  auto Graph = load(G, Dir);
  EXPECT_EQ(run(*Graph, {toBytes(std::vector<float>{0.5f, 2.5f, 20, -3})})[0], (Bytes{0x2, 0x5, 0x7, 0xB}));
}

TEST(NativeDequantizeLinear, Float8AndFloat4) {
  struct Case {
    const char *Type;
    Bytes X;
    std::vector<float> Want; // x * 3
  };
  const double NaN = std::numeric_limits<double>::quiet_NaN();
  for (const Case &C : {Case{"F8E4M3FN", {0x38, 0x7E, 0xB9, 0x01}, {3, 1344, -3.375f, 3 * 0x1p-9f}},
                        Case{"F8E5M2", {0x3C, 0x7C, 0x01}, {3, float(INFINITY), 3 * 0x1p-16f}},
                        Case{"F8E4M3FNUZ", {0x40, 0x80}, {3, float(NaN)}},
                        Case{"F8E5M2FNUZ", {0x40, 0xFF}, {3, -3 * 57344.0f}},
                        Case{"F4E2M1", {0x1, 0x7, 0xF}, {1.5f, 18, -18}}}) {
    SCOPED_TRACE(C.Type);
    int64_t N = int64_t(C.X.size());
    GraphSpec G;
    G.tensor("x", {N}, C.Type).constant("s", {}, encode({3.0}, "F32")).tensor("y", {N});
    G.input("x").output("y").node("dq", "DequantizeLinear", {"x", "s"}, {"y"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> Y = fromBytes<float>(run(*Graph, {C.X})[0]);
    for (size_t I = 0; I < C.Want.size(); ++I) {
      if (std::isnan(C.Want[I]))
        EXPECT_TRUE(std::isnan(Y[I])) << I;
      else
        EXPECT_EQ(Y[I], C.Want[I]) << I;
    }
  }
  GraphSpec E8;
  E8.tensor("x", {2}, "F8E8M0").constant("s", {}, encode({1.0}, "F32")).tensor("y", {2});
  E8.input("x").output("y").node("dq", "DequantizeLinear", {"x", "s"}, {"y"});
  expectLoadError(E8, OPTIMA_STATUS_UNSUPPORTED, {"F8E8M0 tensor \"x\""});
}
