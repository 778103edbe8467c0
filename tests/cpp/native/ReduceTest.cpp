// Reduce* and ArgMax/ArgMin vs naive references computed here in double: every input element
// is mapped to its output element by index arithmetic, then the op's formula is applied.
#include "NativeTestUtil.h"

#include "Half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

using namespace native_test;

namespace {

// Output flat index of each input element for a reduction over Mask (keepdims does not change
// the flat order).
std::vector<size_t> outputIndex(const Shape &S, const std::vector<bool> &Mask, size_t &OutCount) {
  size_t N = elementCount(S);
  std::vector<size_t> Map(N);
  OutCount = 1;
  for (size_t D = 0; D < S.size(); ++D)
    if (!Mask[D])
      OutCount *= size_t(S[D]);
  for (size_t I = 0; I < N; ++I) {
    size_t Rem = I, Out = 0, Mul = 1;
    for (size_t D = S.size(); D-- > 0;) {
      size_t Ix = Rem % size_t(S[D]);
      Rem /= size_t(S[D]);
      if (!Mask[D]) {
        Out += Ix * Mul;
        Mul *= size_t(S[D]);
      }
    }
    Map[I] = Out;
  }
  return Map;
}

std::vector<double> referenceReduce(const std::string &Op, const std::vector<double> &X,
                                    const Shape &S, const std::vector<bool> &Mask) {
  size_t OutCount;
  std::vector<size_t> Map = outputIndex(S, Mask, OutCount);
  std::vector<std::vector<double>> Groups(OutCount);
  for (size_t I = 0; I < X.size(); ++I)
    Groups[Map[I]].push_back(X[I]);
  std::vector<double> Y(OutCount);
  for (size_t O = 0; O < OutCount; ++O) {
    const std::vector<double> &G = Groups[O];
    double Sum = 0, Abs = 0, Sq = 0, Prod = 1, Exp = 0;
    double Max = -INFINITY, Min = INFINITY;
    for (double V : G) {
      Sum += V;
      Abs += std::fabs(V);
      Sq += V * V;
      Prod *= V;
      Exp += std::exp(V);
      Max = std::max(Max, V);
      Min = std::min(Min, V);
    }
    if (Op == "ReduceSum") Y[O] = Sum;
    else if (Op == "ReduceMean") Y[O] = Sum / double(G.size());
    else if (Op == "ReduceMax") Y[O] = Max;
    else if (Op == "ReduceMin") Y[O] = Min;
    else if (Op == "ReduceProd") Y[O] = Prod;
    else if (Op == "ReduceL1") Y[O] = Abs;
    else if (Op == "ReduceL2") Y[O] = std::sqrt(Sq);
    else if (Op == "ReduceLogSum") Y[O] = std::log(Sum);
    else if (Op == "ReduceLogSumExp") Y[O] = std::log(Exp);
    else if (Op == "ReduceSumSquare") Y[O] = Sq;
  }
  return Y;
}

const char *const AllOps[] = {"ReduceSum",  "ReduceMean",   "ReduceMax",      "ReduceMin",
                              "ReduceProd", "ReduceL1",     "ReduceL2",       "ReduceLogSum",
                              "ReduceLogSumExp", "ReduceSumSquare"};

struct ReduceCase {
  Shape S;
  std::vector<int64_t> Axes; // empty: all (noop_with_empty_axes = 0)
};

const std::vector<ReduceCase> Cases = {
    {{2, 3, 4}, {0}},        {{2, 3, 4}, {1}},       {{2, 3, 4}, {2}},     {{2, 3, 4}, {-1}},
    {{2, 3, 4}, {0, 2}},     {{2, 3, 4}, {1, 2}},    {{2, 3, 4}, {}},      {{3, 1, 5, 7}, {1, 3}},
    {{3, 1, 5, 7}, {0, 2}},  {{7}, {0}},             {{5, 1}, {1}},        {{4, 70, 3}, {1}},
    {{300, 67}, {0}},        {{300, 67}, {1}},       {{2, 3, 2, 3, 2}, {0, 2, 4}},
    {{130, 3}, {-2}},
};

Shape outShape(const Shape &S, const std::vector<bool> &Mask, bool Keep) {
  Shape O;
  for (size_t D = 0; D < S.size(); ++D)
    if (!Mask[D])
      O.push_back(S[D]);
    else if (Keep)
      O.push_back(1);
  return O;
}

std::vector<bool> maskOf(const Shape &S, const std::vector<int64_t> &Axes) {
  std::vector<bool> M(S.size(), Axes.empty());
  for (int64_t A : Axes)
    M[size_t(A < 0 ? A + int64_t(S.size()) : A)] = true;
  return M;
}

// Runs one reduction; AxesAsInput selects the opset-18 constant input form.
std::vector<Bytes> runReduce(const std::string &Op, const Shape &S, const std::string &Type,
                             const Bytes &X, const std::vector<int64_t> &Axes, bool Keep,
                             bool AxesAsInput, const Shape &OutS, unsigned Threads,
                             bool Noop = false) {
  GraphSpec G;
  G.tensor("x", S, Type).tensor("y", OutS, Type).input("x").output("y");
  std::vector<std::string> Attrs = {attrInt("keepdims", Keep)};
  if (Noop)
    Attrs.push_back(attrInt("noop_with_empty_axes", 1));
  std::vector<std::string> Ins = {"x"};
  if (AxesAsInput) {
    G.constantI64("axes", {int64_t(Axes.size())}, Axes);
    Ins.push_back("axes");
  } else if (!Axes.empty()) {
    Attrs.push_back(attrInts("axes", Axes));
  }
  G.node("r", Op, Ins, {"y"}, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  return run(*Graph, {X}, Threads);
}

void expectClose(const std::vector<float> &Y, const std::vector<double> &Ref, double Rel) {
  ASSERT_EQ(Y.size(), Ref.size());
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], Rel * std::fabs(Ref[I]) + 1e-6) << "at " << I;
}

} // namespace

TEST(NativeReduce, AllOpsF32AgainstReference) {
  for (const char *Op : AllOps)
    for (const ReduceCase &C : Cases)
      for (bool Keep : {true, false}) {
        SCOPED_TRACE(std::string(Op) + " shape " + ::testing::PrintToString(C.S) + " axes " +
                     ::testing::PrintToString(C.Axes) + " keep " + std::to_string(Keep));
        bool Positive = std::string(Op) == "ReduceLogSum";
        std::vector<float> X = randomFloats(elementCount(C.S), 7, Positive ? 0.2f : -1.5f, 1.5f);
        if (std::string(Op) == "ReduceProd")
          for (float &V : X)
            V = V < 0 ? V - 0.6f : V + 0.6f; // keep products away from denormals
        std::vector<bool> Mask = maskOf(C.S, C.Axes);
        std::vector<double> Xd(X.begin(), X.end());
        auto Ref = referenceReduce(Op, Xd, C.S, Mask);
        Shape OutS = outShape(C.S, Mask, Keep);
        for (unsigned Threads : {1u, 4u}) {
          auto Y = fromBytes<float>(runReduce(Op, C.S, "F32", toBytes(X), C.Axes, Keep,
                                              Threads == 4 && !C.Axes.empty(), OutS, Threads)[0]);
          expectClose(Y, Ref, 2e-5);
        }
      }
}

TEST(NativeReduce, F64F16BF16) {
  Shape S{3, 17, 5};
  std::vector<float> Xf = randomFloats(elementCount(S), 3, -2.0f, 2.0f);
  for (const char *Op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceLogSumExp", "ReduceL2"})
    for (std::vector<int64_t> Axes : {std::vector<int64_t>{1}, std::vector<int64_t>{0, 2}}) {
      SCOPED_TRACE(std::string(Op) + " axes " + ::testing::PrintToString(Axes));
      std::vector<bool> Mask = maskOf(S, Axes);
      Shape OutS = outShape(S, Mask, true);
      // F64: exact-ish.
      std::vector<double> Xd(Xf.begin(), Xf.end());
      auto Ref = referenceReduce(Op, Xd, S, Mask);
      auto Y = fromBytes<double>(runReduce(Op, S, "F64", toBytes(Xd), Axes, true, false, OutS, 1)[0]);
      for (size_t I = 0; I < Y.size(); ++I)
        ASSERT_NEAR(Y[I], Ref[I], 1e-12 * std::fabs(Ref[I]) + 1e-12);
      // F16 / BF16: inputs rounded first; result within the type's precision.
      for (const char *Type : {"F16", "BF16"}) {
        std::vector<uint16_t> Bits(Xf.size());
        std::vector<double> Rounded(Xf.size());
        for (size_t I = 0; I < Xf.size(); ++I) {
          if (std::string(Type) == "F16") {
            Bits[I] = optima_v2::native::toHalf(Xf[I]).Bits;
            Rounded[I] = optima_v2::native::toFloat(optima_v2::native::Half{Bits[I]});
          } else {
            Bits[I] = optima_v2::native::toBFloat16(Xf[I]).Bits;
            Rounded[I] = optima_v2::native::toFloat(optima_v2::native::BFloat16{Bits[I]});
          }
        }
        auto R = referenceReduce(Op, Rounded, S, Mask);
        auto Out = fromBytes<uint16_t>(runReduce(Op, S, Type, toBytes(Bits), Axes, true, false, OutS, 1)[0]);
        double Tol = std::string(Type) == "F16" ? 2e-3 : 1e-2;
        for (size_t I = 0; I < Out.size(); ++I) {
          double V = std::string(Type) == "F16"
                         ? optima_v2::native::toFloat(optima_v2::native::Half{Out[I]})
                         : optima_v2::native::toFloat(optima_v2::native::BFloat16{Out[I]});
          ASSERT_NEAR(V, R[I], Tol * std::fabs(R[I]) + Tol) << Type << " at " << I;
        }
      }
    }
}

TEST(NativeReduce, Integers) {
  Shape S{4, 6, 5};
  std::mt19937 Gen(9);
  std::uniform_int_distribution<int> Dist(-20, 20);
  std::vector<int32_t> X(elementCount(S));
  for (auto &V : X)
    V = Dist(Gen);
  std::vector<int64_t> X64(X.begin(), X.end());
  std::vector<double> Xd(X.begin(), X.end());
  for (const char *Op : {"ReduceSum", "ReduceMax", "ReduceMin", "ReduceL1", "ReduceSumSquare",
                         "ReduceMean"})
    for (std::vector<int64_t> Axes : {std::vector<int64_t>{1}, std::vector<int64_t>{0, 2}}) {
      SCOPED_TRACE(std::string(Op) + " axes " + ::testing::PrintToString(Axes));
      std::vector<bool> Mask = maskOf(S, Axes);
      Shape OutS = outShape(S, Mask, false);
      auto Ref = referenceReduce(Op, Xd, S, Mask);
      auto Y32 = fromBytes<int32_t>(runReduce(Op, S, "I32", toBytes(X), Axes, false, true, OutS, 1)[0]);
      auto Y64 = fromBytes<int64_t>(runReduce(Op, S, "I64", toBytes(X64), Axes, false, false, OutS, 4)[0]);
      for (size_t I = 0; I < Ref.size(); ++I) {
        ASSERT_EQ(Y32[I], int32_t(std::trunc(Ref[I]))) << I;
        ASSERT_EQ(Y64[I], int64_t(std::trunc(Ref[I]))) << I;
      }
    }
}

TEST(NativeReduce, NoopWithEmptyAxesAndEmptyReduction) {
  Shape S{2, 3};
  std::vector<float> X{-1, 2, -3, 4, -5, 6};
  // noop: each element is reduced alone (abs for L1, square for SumSquare, as the reference does).
  auto Y = fromBytes<float>(runReduce("ReduceL1", S, "F32", toBytes(X), {}, true, true, S, 1, true)[0]);
  EXPECT_EQ(Y, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  Y = fromBytes<float>(runReduce("ReduceSumSquare", S, "F32", toBytes(X), {}, true, false, S, 1, true)[0]);
  EXPECT_EQ(Y, (std::vector<float>{1, 4, 9, 16, 25, 36}));
  // Empty axes without noop: everything.
  Y = fromBytes<float>(runReduce("ReduceSum", S, "F32", toBytes(X), {}, false, true, {}, 1)[0]);
  EXPECT_EQ(Y, (std::vector<float>{3}));
  // Reduction over a zero-sized axis: the identity of the op.
  Shape E{2, 0, 3};
  Y = fromBytes<float>(runReduce("ReduceSum", E, "F32", Bytes{}, {1}, true, false, {2, 1, 3}, 1)[0]);
  EXPECT_EQ(Y, std::vector<float>(6, 0.0f));
  Y = fromBytes<float>(runReduce("ReduceProd", E, "F32", Bytes{}, {1}, false, false, {2, 3}, 1)[0]);
  EXPECT_EQ(Y, std::vector<float>(6, 1.0f));
  Y = fromBytes<float>(runReduce("ReduceMax", E, "F32", Bytes{}, {1}, false, false, {2, 3}, 1)[0]);
  EXPECT_EQ(Y, std::vector<float>(6, -INFINITY));
}

TEST(NativeReduce, MaxPropagatesNanAndLogSumExpIsStable) {
  std::vector<float> X{1, NAN, 3, 1000, 999, -1000};
  auto Y = fromBytes<float>(runReduce("ReduceMax", {2, 3}, "F32", toBytes(X), {1}, false, false, {2}, 1)[0]);
  EXPECT_TRUE(std::isnan(Y[0]));
  EXPECT_EQ(Y[1], 1000.0f);
  Y = fromBytes<float>(runReduce("ReduceLogSumExp", {2, 3}, "F32", toBytes(X), {1}, false, false, {2}, 1)[0]);
  EXPECT_NEAR(Y[1], 1000.0 + std::log(1.0 + std::exp(-1.0)), 1e-3);
}

namespace {

std::vector<int64_t> referenceArg(const std::vector<float> &X, const Shape &S, size_t Axis,
                                  bool Max, bool Last) {
  size_t Outer = 1, Inner = 1, Len = size_t(S[Axis]);
  for (size_t D = 0; D < Axis; ++D)
    Outer *= size_t(S[D]);
  for (size_t D = Axis + 1; D < S.size(); ++D)
    Inner *= size_t(S[D]);
  std::vector<int64_t> Y(Outer * Inner);
  for (size_t O = 0; O < Outer; ++O)
    for (size_t I = 0; I < Inner; ++I) {
      size_t Best = 0;
      for (size_t J = 1; J < Len; ++J) {
        float V = X[(O * Len + J) * Inner + I], B = X[(O * Len + Best) * Inner + I];
        if (Max ? (V > B || (Last && V == B)) : (V < B || (Last && V == B)))
          Best = J;
      }
      Y[O * Inner + I] = int64_t(Best);
    }
  return Y;
}

} // namespace

TEST(NativeReduce, ArgMaxArgMin) {
  Shape S{3, 40, 5};
  std::vector<float> X = randomFloats(elementCount(S), 4);
  for (float &V : X)
    V = std::round(V * 4.0f); // many ties
  for (const char *Op : {"ArgMax", "ArgMin"})
    for (int64_t Axis : {0, 1, 2, -1})
      for (int64_t Keep : {0, 1})
        for (int64_t Last : {0, 1}) {
          SCOPED_TRACE(std::string(Op) + " axis " + std::to_string(Axis) + " keep " +
                       std::to_string(Keep) + " last " + std::to_string(Last));
          size_t A = size_t(Axis < 0 ? Axis + 3 : Axis);
          Shape OutS = S;
          if (Keep)
            OutS[A] = 1;
          else
            OutS.erase(OutS.begin() + std::ptrdiff_t(A));
          GraphSpec G;
          G.tensor("x", S).tensor("y", OutS, "I64").input("x").output("y");
          G.node("a", Op, {"x"}, {"y"},
                 {attrInt("axis", Axis), attrInt("keepdims", Keep), attrInt("select_last_index", Last)});
          TempDir Dir;
          auto Graph = load(G, Dir);
          auto Y = fromBytes<int64_t>(run(*Graph, {toBytes(X)}, 4)[0]);
          EXPECT_EQ(Y, referenceArg(X, S, A, std::string(Op) == "ArgMax", Last != 0));
        }
}

TEST(NativeReduce, Refusals) {
  auto Spec = [](std::vector<std::string> Attrs, Shape Out, bool AxesInput = false,
                 bool AxesConst = true) {
    GraphSpec G;
    G.tensor("x", {2, 3}).tensor("y", Out).input("x").output("y");
    std::vector<std::string> Ins = {"x"};
    if (AxesInput) {
      if (AxesConst)
        G.constantI64("axes", {1}, {1});
      else
        G.tensor("axes", {1}, "I64").input("axes");
      Ins.push_back("axes");
    }
    G.node("r", "ReduceSum", Ins, {"y"}, Attrs);
    return G;
  };
  expectLoadError(Spec({attrInts("axes", {1, -1})}, {2, 1}), OPTIMA_STATUS_INVALID_MODEL,
                  {"axes", "listed twice"});
  expectLoadError(Spec({attrInts("axes", {2})}, {2, 1}), OPTIMA_STATUS_INVALID_MODEL,
                  {"axes", "out of range for rank 2"});
  expectLoadError(Spec({attrInts("axes", {1})}, {2}), OPTIMA_STATUS_INVALID_MODEL,
                  {"output \"y\" is declared F32 [2] but ReduceSum produces F32 [2, 1]"});
  expectLoadError(Spec({}, {2, 1}, true, false), OPTIMA_STATUS_UNSUPPORTED,
                  {"axes input \"axes\" must be a constant: output shape depends on its values"});
  expectLoadError(Spec({attrInts("axes", {1})}, {2, 1}, true, true), OPTIMA_STATUS_INVALID_MODEL,
                  {"axes given both as an attribute and as an input"});
  GraphSpec B;
  B.tensor("x", {2}, "BOOL").tensor("y", {1}, "BOOL").input("x").output("y");
  B.node("r", "ReduceSum", {"x"}, {"y"});
  expectLoadError(B, OPTIMA_STATUS_UNSUPPORTED, {"op ReduceSum: BOOL input \"x\""});
  GraphSpec I8;
  I8.tensor("x", {2}, "I8").tensor("y", {1}, "I8").input("x").output("y");
  I8.node("r", "ReduceMean", {"x"}, {"y"});
  expectLoadError(I8, OPTIMA_STATUS_UNSUPPORTED, {"op ReduceMean: I8 input \"x\""});
}

TEST(NativeReduce, NarrowIntegerMaxMin) {
  std::vector<int8_t> X{-128, 5, 127, -3, 0, -7};
  for (const char *Op : {"ReduceMax", "ReduceMin"}) {
    GraphSpec G;
    G.tensor("x", {2, 3}, "I8").tensor("y", {2}, "I8").input("x").output("y");
    G.node("r", Op, {"x"}, {"y"}, {attrInts("axes", {1}), attrInt("keepdims", 0)});
    TempDir Dir;
    auto Y = fromBytes<int8_t>(run(*load(G, Dir), {toBytes(X)})[0]);
    EXPECT_EQ(Y, std::string(Op) == "ReduceMax" ? (std::vector<int8_t>{127, 0})
                                                : (std::vector<int8_t>{-128, -7}));
  }
}

TEST(NativeReduce, BoolMaxMinAreAnyAll) {
  std::vector<uint8_t> X{0, 0, 0, 1, 0, 1, 1, 1, 1}; // rows: none, some, all
  for (const char *Op : {"ReduceMax", "ReduceMin"}) {
    GraphSpec G;
    G.tensor("x", {3, 3}, "BOOL").tensor("y", {3}, "BOOL").input("x").output("y");
    G.node("r", Op, {"x"}, {"y"}, {attrInts("axes", {1}), attrInt("keepdims", 0)});
    TempDir Dir;
    auto Y = run(*load(G, Dir), {X})[0];
    EXPECT_EQ(Y, std::string(Op) == "ReduceMax" ? (Bytes{0, 1, 1}) : (Bytes{0, 0, 1})) << Op;
  }
}
