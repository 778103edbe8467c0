// Comparisons, logical ops and Where with broadcasting on every supported type, vs references
// written here.
#include "ElementwiseTestUtil.h"

using namespace ew_test;

namespace {

struct Case {
  Shape A, B, Out;
};
const std::vector<Case> Cases = {
    {{2, 3}, {2, 3}, {2, 3}}, {{}, {4}, {4}}, {{3, 1}, {1, 4}, {3, 4}},
    {{2, 1, 5}, {3, 1}, {2, 3, 5}}, {{200, 90}, {90}, {200, 90}}};

void checkCompare(const std::string &Op, const std::string &T, const std::function<bool(double, double)> &F) {
  for (const Case &C : Cases) {
    SCOPED_TRACE(Op + " " + T + " A" + ::testing::PrintToString(C.A) + " B" + ::testing::PrintToString(C.B));
    // Few distinct values so equality is frequent.
    auto Gen = [&](size_t N, uint32_t Seed) {
      std::vector<double> V = valuesFor(T, N, Seed, 0, 4);
      for (double &X : V)
        X = std::floor(X) - (isUnsigned(T) || T == "BOOL" ? 0 : 1);
      if (T == "BOOL")
        for (double &X : V)
          X = X >= 2 ? 1 : 0;
      return V;
    };
    std::vector<double> A = Gen(elementCount(C.A), 1), B = Gen(elementCount(C.B), 2);
    auto Y = runNode(Op, {{T, C.A, A}, {T, C.B, B}}, "BOOL", C.Out, {}, 4);
    auto Ref = referenceBroadcast({A, B}, {C.A, C.B}, C.Out,
                                  [&](const std::vector<double> &V) { return F(V[0], V[1]) ? 1.0 : 0.0; });
    ASSERT_EQ(Y, Ref);
  }
}

} // namespace

TEST(NativeCompare, ComparisonsAllTypes) {
  for (const std::string &T : NumericTypes) {
    checkCompare("Equal", T, [](double A, double B) { return A == B; });
    checkCompare("Less", T, [](double A, double B) { return A < B; });
    checkCompare("LessOrEqual", T, [](double A, double B) { return A <= B; });
    checkCompare("Greater", T, [](double A, double B) { return A > B; });
    checkCompare("GreaterOrEqual", T, [](double A, double B) { return A >= B; });
  }
  checkCompare("Equal", "BOOL", [](double A, double B) { return A == B; });
}

TEST(NativeCompare, NaNComparesFalse) {
  double NaN = std::numeric_limits<double>::quiet_NaN();
  for (const std::string &T : FloatTypes) {
    for (const char *Op : {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"})
      EXPECT_EQ(runNode(Op, {{T, {2}, {NaN, 1}}, {T, {2}, {NaN, NaN}}}, "BOOL", {2}),
                (std::vector<double>{0, 0}))
          << Op << " " << T;
  }
}

TEST(NativeCompare, LogicalOps) {
  checkCompare("And", "BOOL", [](double A, double B) { return A != 0 && B != 0; });
  checkCompare("Or", "BOOL", [](double A, double B) { return A != 0 || B != 0; });
  checkCompare("Xor", "BOOL", [](double A, double B) { return (A != 0) != (B != 0); });
  EXPECT_EQ(runNode("Not", {{"BOOL", {2, 2}, {0, 1, 1, 0}}}, "BOOL", {2, 2}), (std::vector<double>{1, 0, 0, 1}));
  // BOOL bytes other than 0/1 from a caller count as true and results stay canonical.
  GraphSpec G;
  G.tensor("a", {3}, "BOOL").tensor("b", {3}, "BOOL").tensor("y", {3}, "BOOL").tensor("z", {3}, "BOOL");
  G.input("a").input("b").output("y").output("z").node("x", "Xor", {"a", "b"}, {"y"}).node("n", "Not", {"a"}, {"z"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  auto Out = run(*Graph, {Bytes{2, 0, 7}, Bytes{1, 0, 0}});
  EXPECT_EQ(Out[0], (Bytes{0, 0, 1}));
  EXPECT_EQ(Out[1], (Bytes{0, 1, 0}));
}

TEST(NativeCompare, WhereThreeWayBroadcastAllTypes) {
  struct WCase {
    Shape C, X, Y, Out;
  };
  const std::vector<WCase> WCases = {{{2, 3}, {2, 3}, {2, 3}, {2, 3}},
                                     {{3, 1}, {1, 4}, {}, {3, 4}},
                                     {{4}, {2, 3, 1}, {3, 4}, {2, 3, 4}},
                                     {{}, {5}, {5}, {5}},
                                     {{1, 1, 1}, {2, 1}, {1, 3}, {1, 2, 3}},
                                     {{150, 1}, {150, 200}, {200}, {150, 200}},
                                     {{2, 0}, {2, 1}, {1}, {2, 0}}};
  for (const std::string &T : join(NumericTypes, {"BOOL"})) {
    for (const WCase &W : WCases) {
      SCOPED_TRACE(T + " C" + ::testing::PrintToString(W.C) + " X" + ::testing::PrintToString(W.X) +
                   " Y" + ::testing::PrintToString(W.Y));
      std::vector<double> C = valuesFor("I32", elementCount(W.C), 1, 0, 2);
      std::vector<double> X = valuesFor(T, elementCount(W.X), 2, 0, 50);
      std::vector<double> Y = valuesFor(T, elementCount(W.Y), 3, 0, 50);
      if (T == "BOOL")
        for (double &V : Y)
          V = V > 25 ? 1 : 0;
      if (T == "BOOL")
        for (double &V : X)
          V = V > 25 ? 1 : 0;
      auto Got = runNode("Where", {{"BOOL", W.C, C}, {T, W.X, X}, {T, W.Y, Y}}, T, W.Out, {}, 4);
      auto Ref = referenceBroadcast({C, X, Y}, {W.C, W.X, W.Y}, W.Out,
                                    [](const std::vector<double> &V) { return V[0] != 0 ? V[1] : V[2]; });
      ASSERT_EQ(Got, Ref);
    }
  }
}

TEST(NativeCompare, Refusals) {
  GraphSpec G;
  G.tensor("a", {2}, "BOOL").tensor("b", {2}, "BOOL").tensor("y", {2}, "BOOL").input("a").input("b").output("y");
  G.node("l", "Less", {"a", "b"}, {"y"});
  expectLoadError(G, OPTIMA_STATUS_UNSUPPORTED, {"node \"l\" (op Less: BOOL input \"a\")"});
  GraphSpec A;
  A.tensor("a", {2}, "I32").tensor("b", {2}, "I32").tensor("y", {2}, "BOOL").input("a").input("b").output("y");
  A.node("and", "And", {"a", "b"}, {"y"});
  expectLoadError(A, OPTIMA_STATUS_UNSUPPORTED, {"(op And: I32 input \"a\")"});
  GraphSpec E;
  E.tensor("a", {2}).tensor("b", {2}).tensor("y", {2}).input("a").input("b").output("y");
  E.node("eq", "Equal", {"a", "b"}, {"y"});
  expectLoadError(E, OPTIMA_STATUS_INVALID_MODEL, {"output \"y\" is declared F32 [2] but Equal produces BOOL [2]"});
  GraphSpec W;
  W.tensor("c", {3}, "F32").tensor("x", {3}).tensor("z", {3}).tensor("y", {3}).input("c").input("x").input("z").output("y");
  W.node("w", "Where", {"c", "x", "z"}, {"y"});
  expectLoadError(W, OPTIMA_STATUS_UNSUPPORTED, {"(op Where: F32 input \"c\")"});
  GraphSpec S;
  S.tensor("c", {3}, "BOOL").tensor("x", {2}).tensor("z", {3}).tensor("y", {3}).input("c").input("x").input("z").output("y");
  S.node("w", "Where", {"c", "x", "z"}, {"y"});
  expectLoadError(S, OPTIMA_STATUS_INVALID_MODEL, {"input shapes [3], [2] and [3] cannot be broadcast together"});
}
