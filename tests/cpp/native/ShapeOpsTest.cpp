// Reshape, Flatten, Identity: shape rules checked against hand-derived ONNX results.
#include "NativeTestUtil.h"

#include <gtest/gtest.h>

#include <numeric>

using namespace native_test;

namespace {

void checkReshape(const Shape &In, const std::vector<int64_t> &Spec, const Shape &Expected,
                  int64_t AllowZero = -1) {
  SCOPED_TRACE(::testing::PrintToString(In) + " -> " + ::testing::PrintToString(Spec));
  GraphSpec G;
  G.tensor("x", In).constantI64("s", {int64_t(Spec.size())}, Spec).tensor("y", Expected);
  G.input("x").output("y");
  std::vector<std::string> Attrs;
  if (AllowZero >= 0)
    Attrs.push_back(attrInt("allowzero", AllowZero));
  G.node("r", "Reshape", {"x", "s"}, {"y"}, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<float> X(elementCount(In));
  std::iota(X.begin(), X.end(), 0.0f);
  EXPECT_EQ(fromBytes<float>(run(*Graph, {toBytes(X)})[0]), X); // row-major data unchanged
}

} // namespace

TEST(NativeShapeOps, ReshapeRules) {
  checkReshape({2, 3, 4}, {4, 6}, {4, 6});
  checkReshape({2, 3, 4}, {0, -1}, {2, 12});
  checkReshape({2, 3, 4}, {-1}, {24});
  checkReshape({2, 3, 4}, {0, 0, 2, 2}, {2, 3, 2, 2});
  checkReshape({2, 3, 4}, {1, -1, 1, 4}, {1, 6, 1, 4});
}

TEST(NativeShapeOps, ReshapeAllowZeroAndScalar) {
  checkReshape({0, 3}, {3, 0}, {3, 0}, 1); // allowzero: literal zero
  checkReshape({1}, {}, {});               // to a scalar
  checkReshape({}, {1, 1}, {1, 1});        // from a scalar
}

TEST(NativeShapeOps, ReshapeErrors) {
  auto Spec = [](Shape In, std::vector<int64_t> S, Shape Out) {
    GraphSpec G;
    G.tensor("x", In).constantI64("s", {int64_t(S.size())}, S).tensor("y", Out);
    G.input("x").output("y").node("r", "Reshape", {"x", "s"}, {"y"});
    return G;
  };
  expectLoadError(Spec({2, 3}, {-1, -1}, {6}), OPTIMA_STATUS_INVALID_MODEL, {"more than one -1"});
  expectLoadError(Spec({2, 3}, {4, -1}, {4, 2}), OPTIMA_STATUS_INVALID_MODEL, {"cannot infer the -1 dim"});
  expectLoadError(Spec({2, 3}, {5}, {5}), OPTIMA_STATUS_INVALID_MODEL, {"has 5 elements but the input [2, 3] has 6"});
  expectLoadError(Spec({2, 3}, {3, 2}, {2, 3}), OPTIMA_STATUS_INVALID_MODEL,
                  {"output \"y\" is declared F32 [2, 3] but Reshape produces F32 [3, 2]"});
  expectLoadError(Spec({2, 3}, {0, 0, 0}, {2, 3, 1}), OPTIMA_STATUS_INVALID_MODEL, {"copies dim 2"});
  GraphSpec Dynamic;
  Dynamic.tensor("x", {2, 3}).tensor("s", {1}, "I64").tensor("y", {6}).input("x").input("s").output("y");
  Dynamic.node("r", "Reshape", {"x", "s"}, {"y"});
  expectLoadError(Dynamic, OPTIMA_STATUS_UNSUPPORTED,
                  {"node \"r\" (op Reshape: shape input \"s\" is not a constant)"});
}

TEST(NativeShapeOps, Flatten) {
  struct Case {
    Shape In;
    int64_t Axis;
    Shape Out;
  };
  for (const Case &C : {Case{{2, 3, 4}, 1, {2, 12}}, Case{{2, 3, 4}, 0, {1, 24}},
                        Case{{2, 3, 4}, 3, {24, 1}}, Case{{2, 3, 4}, -1, {6, 4}},
                        Case{{2, 3, 4, 5}, -2, {6, 20}}}) {
    GraphSpec G;
    G.tensor("x", C.In).tensor("y", C.Out).input("x").output("y");
    G.node("f", "Flatten", {"x"}, {"y"}, {attrInt("axis", C.Axis)});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> X = randomFloats(elementCount(C.In), 3);
    EXPECT_EQ(fromBytes<float>(run(*Graph, {toBytes(X)})[0]), X);
  }
  GraphSpec Bad;
  Bad.tensor("x", {2, 3}).tensor("y", {6}).input("x").output("y");
  Bad.node("f", "Flatten", {"x"}, {"y"}, {attrInt("axis", 3)});
  expectLoadError(Bad, OPTIMA_STATUS_INVALID_MODEL, {"nodes[0].attributes.axis: expected a value in [-2, 2]"});
}

TEST(NativeShapeOps, IdentityAnyType) {
  GraphSpec G;
  G.tensor("x", {3}, "U8").tensor("y", {3}, "U8").input("x").output("y").node("i", "Identity", {"x"}, {"y"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  Bytes X{1, 2, 255};
  EXPECT_EQ(run(*Graph, {X})[0], X);
}
