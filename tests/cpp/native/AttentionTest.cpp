// Attention vs a naive reference computed here in double straight from the ONNX definition:
// scores = scale * Q K^T, softcap, + attn_mask (right-aligned broadcast, short masks padded as
// masked), causal/window masks aligned bottom-right (offset = past length or nonpad - q_len),
// padding mask from nonpad_kv_seqlen, softmax (fully masked rows -> 0), Y = P V; kv heads
// repeated for grouped-query attention; present_* = past ++ new.
#include "NativeTestUtil.h"
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace native_test;

namespace {

struct Case {
  std::string Type = "F32";
  size_t B = 2, Hq = 3, Hkv = 3, Sq = 4, Skv = 5, Past = 0, D = 8, Dv = 8;
  bool ThreeD = false;
  Shape MaskShape;        // empty: no mask
  bool MaskBool = false;
  bool Causal = false;
  int64_t Left = -1, Right = -1;
  std::vector<int64_t> NonPad; // empty: no nonpad_kv_seqlen
  double Scale = 0;            // 0: default 1/sqrt(D)
  double Softcap = 0;
  int Mode = -1;               // qk_matmul_output_mode; -1: no qk output
  int Precision = 0;           // softmax_precision; 0: absent
  bool Present = false;        // request present_key/present_value
  size_t total() const { return Past + Skv; }
};

struct Data {
  std::vector<double> Q, K, V, Mask, PastK, PastV;
};

struct Result {
  std::vector<double> Y, PresentK, PresentV, Qk;
};

Shape qShape(const Case &C) {
  return C.ThreeD ? Shape{int64_t(C.B), int64_t(C.Sq), int64_t(C.Hq * C.D)}
                  : Shape{int64_t(C.B), int64_t(C.Hq), int64_t(C.Sq), int64_t(C.D)};
}
Shape kvShape(const Case &C, size_t Size) {
  return C.ThreeD ? Shape{int64_t(C.B), int64_t(C.Skv), int64_t(C.Hkv * Size)}
                  : Shape{int64_t(C.B), int64_t(C.Hkv), int64_t(C.Skv), int64_t(Size)};
}
Shape yShape(const Case &C) {
  return C.ThreeD ? Shape{int64_t(C.B), int64_t(C.Sq), int64_t(C.Hq * C.Dv)}
                  : Shape{int64_t(C.B), int64_t(C.Hq), int64_t(C.Sq), int64_t(C.Dv)};
}
Shape cacheShape(const Case &C, size_t Len, size_t Size) {
  return {int64_t(C.B), int64_t(C.Hkv), int64_t(Len), int64_t(Size)};
}

// Values exactly representable in the case's type (what the kernel will see).
std::vector<double> randomIn(const std::string &Type, size_t N, uint32_t Seed, float Lo, float Hi) {
  std::vector<float> F = randomFloats(N, Seed, Lo, Hi);
  return decode(encode(std::vector<double>(F.begin(), F.end()), Type), Type);
}

Data makeData(const Case &C, uint32_t Seed) {
  Data X;
  X.Q = randomIn(C.Type, elementCount(qShape(C)), Seed, -1.5f, 1.5f);
  X.K = randomIn(C.Type, elementCount(kvShape(C, C.D)), Seed + 1, -1.5f, 1.5f);
  X.V = randomIn(C.Type, elementCount(kvShape(C, C.Dv)), Seed + 2, -2.0f, 2.0f);
  if (C.Past) {
    X.PastK = randomIn(C.Type, elementCount(cacheShape(C, C.Past, C.D)), Seed + 3, -1.5f, 1.5f);
    X.PastV = randomIn(C.Type, elementCount(cacheShape(C, C.Past, C.Dv)), Seed + 4, -2.0f, 2.0f);
  }
  if (!C.MaskShape.empty()) {
    if (C.MaskBool) {
      std::vector<float> R = randomFloats(elementCount(C.MaskShape), Seed + 5);
      for (float V : R)
        X.Mask.push_back(V > -0.5f ? 1.0 : 0.0); // mostly attend
    } else {
      X.Mask = randomIn(C.Type, elementCount(C.MaskShape), Seed + 5, -2.0f, 1.0f);
      X.Mask[0] = -std::numeric_limits<double>::infinity(); // a float mask may hold -inf
    }
  }
  return X;
}

Result reference(const Case &C, const Data &X) {
  const double NegInf = -std::numeric_limits<double>::infinity();
  size_t N = C.total(), Group = C.Hq / C.Hkv;
  double Scale = C.Scale > 0 ? C.Scale : 1.0 / std::sqrt(double(C.D));
  auto Q = [&](size_t B, size_t H, size_t S, size_t I) {
    return C.ThreeD ? X.Q[(B * C.Sq + S) * C.Hq * C.D + H * C.D + I]
                    : X.Q[((B * C.Hq + H) * C.Sq + S) * C.D + I];
  };
  auto Kv = [&](const std::vector<double> &New, const std::vector<double> &Past, size_t Size,
                size_t B, size_t H, size_t T, size_t I) {
    if (T < C.Past)
      return Past[((B * C.Hkv + H) * C.Past + T) * Size + I];
    T -= C.Past;
    return C.ThreeD ? New[(B * C.Skv + T) * C.Hkv * Size + H * Size + I]
                    : New[((B * C.Hkv + H) * C.Skv + T) * Size + I];
  };
  auto MaskAt = [&](size_t B, size_t H, size_t I, size_t J) -> double {
    const Shape &M = C.MaskShape;
    if (J >= size_t(M.back()))
      return NegInf;
    size_t Full[4] = {B, H, I, J}, Idx = 0;
    for (size_t K = 0; K < M.size(); ++K) {
      size_t Dim = size_t(M[K]), Coord = Full[4 - M.size() + K];
      Idx = Idx * Dim + (Dim == 1 ? 0 : Coord);
    }
    if (C.MaskBool)
      return X.Mask[Idx] != 0 ? 0.0 : NegInf;
    return X.Mask[Idx];
  };

  Result R;
  R.Y.assign(elementCount(yShape(C)), 0.0);
  R.Qk.assign(C.B * C.Hq * C.Sq * N, 0.0);
  for (size_t B = 0; B < C.B; ++B) {
    for (size_t H = 0; H < C.Hkv; ++H)
      for (size_t T = 0; T < N; ++T) {
        for (size_t I = 0; I < C.D; ++I)
          R.PresentK.push_back(Kv(X.K, X.PastK, C.D, B, H, T, I));
        for (size_t I = 0; I < C.Dv; ++I)
          R.PresentV.push_back(Kv(X.V, X.PastV, C.Dv, B, H, T, I));
      }
    int64_t Offset = C.Past ? int64_t(C.Past) : !C.NonPad.empty() ? C.NonPad[B] - int64_t(C.Sq) : 0;
    for (size_t H = 0; H < C.Hq; ++H) {
      size_t KH = H / Group;
      for (size_t I = 0; I < C.Sq; ++I) {
        std::vector<double> Logit(N), Qk(N), Bias(N, 0.0), P(N, 0.0);
        bool AnyOpen = false;
        for (size_t J = 0; J < N; ++J) {
          double Dot = 0;
          for (size_t E = 0; E < C.D; ++E)
            Dot += Q(B, H, I, E) * Kv(X.K, X.PastK, C.D, B, KH, J, E);
          Qk[J] = Dot * Scale;
          if (C.Softcap > 0)
            Qk[J] = C.Softcap * std::tanh(Qk[J] / C.Softcap);
          int64_t Pos = int64_t(I) + Offset, Key = int64_t(J);
          bool Open = true;
          if (C.Causal && Key > Pos)
            Open = false;
          if (C.Left >= 0 && Pos - Key > C.Left)
            Open = false;
          if (C.Right >= 0 && Key - Pos > C.Right)
            Open = false;
          if (!C.NonPad.empty() && Key >= C.NonPad[B])
            Open = false;
          if (!C.MaskShape.empty())
            Bias[J] = MaskAt(B, H, I, J);
          if (!Open)
            Bias[J] = NegInf;
          AnyOpen = AnyOpen || Bias[J] != NegInf;
          Logit[J] = Qk[J] + Bias[J];
        }
        if (AnyOpen) {
          double Max = NegInf, Sum = 0;
          for (double L : Logit)
            Max = std::max(Max, L);
          for (size_t J = 0; J < N; ++J)
            Sum += (P[J] = std::exp(Logit[J] - Max));
          for (double &V : P)
            V /= Sum;
        }
        for (size_t J = 0; J < N; ++J)
          R.Qk[((B * C.Hq + H) * C.Sq + I) * N + J] =
              C.Mode <= 1 ? Qk[J] : C.Mode == 2 ? Logit[J] : P[J];
        for (size_t E = 0; E < C.Dv; ++E) {
          double Acc = 0;
          for (size_t J = 0; J < N; ++J)
            Acc += P[J] * Kv(X.V, X.PastV, C.Dv, B, KH, J, E);
          size_t Idx = C.ThreeD ? (B * C.Sq + I) * C.Hq * C.Dv + H * C.Dv + E
                                : ((B * C.Hq + H) * C.Sq + I) * C.Dv + E;
          R.Y[Idx] = Acc;
        }
      }
    }
  }
  return R;
}

GraphSpec graphOf(const Case &C) {
  GraphSpec G;
  std::vector<std::string> Ins{"q", "k", "v", "", "", "", ""}, Outs{"y"};
  G.tensor("q", qShape(C), C.Type).tensor("k", kvShape(C, C.D), C.Type);
  G.tensor("v", kvShape(C, C.Dv), C.Type).input("q").input("k").input("v");
  if (!C.MaskShape.empty()) {
    G.tensor("mask", C.MaskShape, C.MaskBool ? "BOOL" : C.Type).input("mask");
    Ins[3] = "mask";
  }
  if (C.Past) {
    G.tensor("pk", cacheShape(C, C.Past, C.D), C.Type).input("pk");
    G.tensor("pv", cacheShape(C, C.Past, C.Dv), C.Type).input("pv");
    Ins[4] = "pk", Ins[5] = "pv";
  }
  if (!C.NonPad.empty()) {
    G.tensor("nonpad", {int64_t(C.B)}, "I64").input("nonpad");
    Ins[6] = "nonpad";
  }
  while (!Ins.empty() && Ins.back().empty())
    Ins.pop_back();
  G.tensor("y", yShape(C), C.Type).output("y");
  if (C.Present || C.Mode >= 0) {
    G.tensor("present_k", cacheShape(C, C.total(), C.D), C.Type).output("present_k");
    G.tensor("present_v", cacheShape(C, C.total(), C.Dv), C.Type).output("present_v");
    Outs.push_back("present_k"), Outs.push_back("present_v");
  }
  if (C.Mode >= 0) {
    G.tensor("qk", {int64_t(C.B), int64_t(C.Hq), int64_t(C.Sq), int64_t(C.total())}, C.Type);
    G.output("qk");
    Outs.push_back("qk");
  }
  std::vector<std::string> Attrs;
  if (C.ThreeD)
    Attrs = {attrInt("q_num_heads", int64_t(C.Hq)), attrInt("kv_num_heads", int64_t(C.Hkv))};
  if (C.Causal)
    Attrs.push_back(attrInt("is_causal", 1));
  if (C.Left >= 0)
    Attrs.push_back(attrInt("left_window_size", C.Left));
  if (C.Right >= 0)
    Attrs.push_back(attrInt("right_window_size", C.Right));
  if (C.Scale > 0)
    Attrs.push_back(attrFloat("scale", C.Scale));
  if (C.Softcap > 0)
    Attrs.push_back(attrFloat("softcap", C.Softcap));
  if (C.Mode >= 0)
    Attrs.push_back(attrInt("qk_matmul_output_mode", C.Mode));
  if (C.Precision)
    Attrs.push_back(attrInt("softmax_precision", C.Precision));
  G.node("attn", "Attention", Ins, Outs, Attrs);
  return G;
}

std::vector<Bytes> inputsOf(const Case &C, const Data &X) {
  std::vector<Bytes> In{encode(X.Q, C.Type), encode(X.K, C.Type), encode(X.V, C.Type)};
  if (!C.MaskShape.empty()) {
    if (C.MaskBool) {
      Bytes M;
      for (double V : X.Mask)
        M.push_back(V != 0 ? 1 : 0);
      In.push_back(M);
    } else {
      In.push_back(encode(X.Mask, C.Type));
    }
  }
  if (C.Past) {
    In.push_back(encode(X.PastK, C.Type));
    In.push_back(encode(X.PastV, C.Type));
  }
  if (!C.NonPad.empty())
    In.push_back(toBytes(C.NonPad));
  return In;
}

double tolerance(const std::string &Type) {
  return Type == "F32" ? 2e-5 : Type == "F16" ? 8e-3 : 5e-2;
}

void expectClose(const std::vector<double> &Got, const std::vector<double> &Want, double Tol,
                 const char *What) {
  ASSERT_EQ(Got.size(), Want.size()) << What;
  for (size_t I = 0; I < Got.size(); ++I) {
    if (std::isinf(Want[I])) {
      EXPECT_EQ(Got[I], Want[I]) << What << " [" << I << "]";
      continue;
    }
    ASSERT_NEAR(Got[I], Want[I], Tol * (1 + std::fabs(Want[I]))) << What << " [" << I << "]";
  }
}

void check(const Case &C, uint32_t Seed = 7) {
  Data X = makeData(C, Seed);
  Result Want = reference(C, X);
  TempDir Dir;
  auto Graph = load(graphOf(C), Dir);
  for (unsigned Threads : {1u, 3u}) {
    SCOPED_TRACE("threads " + std::to_string(Threads));
    std::vector<Bytes> Out = run(*Graph, inputsOf(C, X), Threads);
    double Tol = tolerance(C.Type);
    expectClose(decode(Out[0], C.Type), Want.Y, Tol, "Y");
    if (Out.size() > 1) {
      expectClose(decode(Out[1], C.Type), Want.PresentK, 0, "present_key");
      expectClose(decode(Out[2], C.Type), Want.PresentV, 0, "present_value");
    }
    if (Out.size() > 3)
      expectClose(decode(Out[3], C.Type), Want.Qk, Tol, "qk_matmul_output");
  }
}

} // namespace

TEST(NativeAttention, FourDimensionalPlain) {
  Case C;
  C.B = 2, C.Hq = 3, C.Hkv = 3, C.Sq = 5, C.Skv = 7, C.D = 8, C.Dv = 6;
  check(C);
}

TEST(NativeAttention, ThreeDimensionalGroupedQueryCausal) {
  Case C;
  C.ThreeD = true, C.B = 2, C.Hq = 6, C.Hkv = 2, C.Sq = 3, C.Skv = 5, C.D = 4, C.Dv = 5;
  C.Causal = true;
  check(C);
}

TEST(NativeAttention, LargerHeadsGoThroughTiledGemm) {
  Case C;
  C.B = 1, C.Hq = 4, C.Hkv = 2, C.Sq = 37, C.Skv = 300, C.D = 33, C.Dv = 17;
  C.Causal = true, C.Scale = 0.05;
  check(C, 11);
}

TEST(NativeAttention, FloatMasksBroadcastRightAligned) {
  Case Base;
  Base.B = 2, Base.Hq = 3, Base.Hkv = 1, Base.Sq = 3, Base.Skv = 6, Base.D = 5, Base.Dv = 3;
  const std::vector<Shape> Masks = {{6}, {3, 6}, {1, 6}, {3, 3, 6}, {2, 1, 3, 6}, {2, 3, 3, 6},
                                    {3, 4} /* short: keys 4, 5 masked */};
  for (const Shape &M : Masks) {
    SCOPED_TRACE(::testing::PrintToString(M));
    Case C = Base;
    C.MaskShape = M;
    check(C);
    C.Causal = true;
    check(C, 3);
  }
}

TEST(NativeAttention, BoolMaskWithPastPresentAndGqa) {
  Case C;
  C.B = 2, C.Hq = 4, C.Hkv = 2, C.Sq = 3, C.Skv = 2, C.Past = 4, C.D = 6, C.Dv = 7;
  C.MaskShape = {2, 1, 3, 5}; // shorter than past + new: the last key is masked
  C.MaskBool = true, C.Present = true;
  check(C);
  C.Causal = true, C.ThreeD = true;
  check(C, 5);
}

TEST(NativeAttention, QkMatmulOutputModesWithSoftcap) {
  for (int Mode = 0; Mode <= 3; ++Mode)
    for (double Cap : {0.0, 1.5}) {
      SCOPED_TRACE("mode " + std::to_string(Mode) + " softcap " + std::to_string(Cap));
      Case C;
      C.B = 1, C.Hq = 2, C.Hkv = 2, C.Sq = 4, C.Skv = 3, C.Past = 2, C.D = 8, C.Dv = 4;
      C.MaskShape = {4, 5}, C.Mode = Mode, C.Softcap = Cap, C.Causal = Mode == 2;
      check(C);
    }
}

TEST(NativeAttention, NonpadWindowsAndFullyMaskedRows) {
  Case C;
  C.B = 3, C.Hq = 2, C.Hkv = 1, C.Sq = 2, C.Skv = 6, C.D = 4, C.Dv = 4;
  C.NonPad = {6, 3, 1}; // batch 2: offset -1 masks query row 0 entirely
  C.Causal = true, C.Mode = 3;
  check(C);
  C.Causal = false, C.Left = 1, C.Right = 0, C.MaskShape = {1, 6};
  check(C, 9);
  C.Causal = false, C.Left = 0, C.Right = 2, C.MaskShape.clear(), C.NonPad = {0, 6, 2};
  check(C, 13); // batch 0 has no valid key at all: Y = 0
}

TEST(NativeAttention, FullyMaskedBoolRowIsZero) {
  Case C;
  C.B = 1, C.Hq = 2, C.Hkv = 2, C.Sq = 2, C.Skv = 2, C.D = 8, C.Dv = 8, C.Mode = 3;
  C.MaskShape = {2, 2}, C.MaskBool = true;
  Data X = makeData(C, 1);
  X.Mask = {0, 0, 1, 0}; // query 0 sees nothing
  Result Want = reference(C, X);
  TempDir Dir;
  auto Graph = load(graphOf(C), Dir);
  auto Out = run(*Graph, inputsOf(C, X));
  auto Y = decode(Out[0], "F32"), P = decode(Out[3], "F32");
  for (size_t H = 0; H < 2; ++H)
    for (size_t E = 0; E < 8; ++E)
      EXPECT_EQ(Y[H * 16 + E], 0.0);
  expectClose(Y, Want.Y, 2e-5, "Y");
  expectClose(P, Want.Qk, 2e-5, "P");
}

TEST(NativeAttention, HalfAndBFloat16) {
  for (const char *Type : {"F16", "BF16"}) {
    SCOPED_TRACE(Type);
    Case C;
    C.Type = Type;
    C.B = 2, C.Hq = 4, C.Hkv = 2, C.Sq = 3, C.Skv = 4, C.Past = 3, C.D = 8, C.Dv = 5;
    C.MaskShape = {3, 7}, C.Causal = true, C.Mode = 2;
    check(C);
    C.Precision = 1, C.Mode = 3, C.ThreeD = true, C.Softcap = 2;
    check(C, 17);
  }
}

TEST(NativeAttention, SoftmaxPrecisionDoubleOnFloat) {
  Case C;
  C.Sq = 3, C.Skv = 9, C.Precision = 11, C.Mode = 3, C.MaskShape = {3, 9};
  check(C);
}

TEST(NativeAttention, LoadErrors) {
  auto Expect = [](const Case &C, OptimaStatus Status, const std::vector<std::string> &Words) {
    expectLoadError(graphOf(C), Status, Words);
  };
  Case C;
  C.Hq = 3, C.Hkv = 2;
  Expect(C, OPTIMA_STATUS_INVALID_MODEL, {"multiple of kv heads"});
  C = Case();
  C.MaskShape = {2, 3, 4, 6}; // longer than the keys
  Expect(C, OPTIMA_STATUS_INVALID_MODEL, {"attn_mask", "does not broadcast"});
  C = Case();
  C.Past = 2, C.NonPad = {1, 1};
  Expect(C, OPTIMA_STATUS_INVALID_MODEL, {"nonpad_kv_seqlen cannot be combined"});
  C = Case();
  C.Type = "F64";
  Expect(C, OPTIMA_STATUS_UNSUPPORTED, {"F64"});

  // 3-D inputs without head counts, and a wrongly declared output shape.
  GraphSpec G;
  G.tensor("q", {1, 2, 8}).tensor("k", {1, 2, 8}).tensor("v", {1, 2, 8}).tensor("y", {1, 2, 8});
  G.input("q").input("k").input("v").output("y");
  G.node("a", "Attention", {"q", "k", "v"}, {"y"});
  expectLoadError(G, OPTIMA_STATUS_INVALID_MODEL, {"q_num_heads"});
  GraphSpec G2;
  G2.tensor("q", {1, 2, 3, 4}).tensor("k", {1, 2, 5, 4}).tensor("v", {1, 2, 5, 6});
  G2.tensor("y", {1, 2, 3, 4}).input("q").input("k").input("v").output("y");
  G2.node("a", "Attention", {"q", "k", "v"}, {"y"});
  expectLoadError(G2, OPTIMA_STATUS_INVALID_MODEL, {"\"y\"", "[1, 2, 3, 6]"});
}
