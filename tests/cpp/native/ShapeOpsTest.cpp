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

TEST(NativeShapeOps, SqueezeUnsqueeze) {
  struct Case {
    std::string Op;
    Shape In;
    std::vector<int64_t> Axes; // empty: no axes input
    Shape Out;
  };
  for (const Case &C : {Case{"Squeeze", {1, 3, 1, 2}, {}, {3, 2}},
                        Case{"Squeeze", {1, 3, 1, 2}, {-2}, {1, 3, 2}},
                        Case{"Unsqueeze", {3, 2}, {0, -1}, {1, 3, 2, 1}},
                        Case{"Unsqueeze", {3, 2}, {1, 3}, {3, 1, 2, 1}}}) {
    GraphSpec G;
    G.tensor("x", C.In).tensor("y", C.Out).input("x").output("y");
    std::vector<std::string> Ins{"x"};
    if (!C.Axes.empty()) {
      G.constantI64("a", {int64_t(C.Axes.size())}, C.Axes);
      Ins.push_back("a");
    }
    G.node("n", C.Op, Ins, {"y"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> X = randomFloats(6, 1);
    EXPECT_EQ(fromBytes<float>(run(*Graph, {toBytes(X)})[0]), X);
  }
  GraphSpec Bad;
  Bad.tensor("x", {2, 3}).tensor("y", {3}).input("x").output("y");
  Bad.constantI64("a", {1}, {0}).node("n", "Squeeze", {"x", "a"}, {"y"});
  expectLoadError(Bad, OPTIMA_STATUS_INVALID_MODEL, {"cannot squeeze axis 0", "not 1"});
}

TEST(NativeShapeOps, ShapeSizeRangeConstantOfShapeEyeLike) {
  auto RunNoInput = [](GraphSpec &G) {
    TempDir Dir;
    auto Graph = load(G, Dir);
    return run(*Graph, {toBytes(std::vector<float>(Graph->inputBytes(0) / 4, 0.0f))});
  };
  {
    GraphSpec G;
    G.tensor("x", {2, 3, 4, 5}).tensor("s", {2}, "I64").tensor("n", {}, "I64");
    G.input("x").output("s").output("n");
    G.node("sh", "Shape", {"x"}, {"s"}, {attrInt("start", 1), attrInt("end", -1)});
    G.node("sz", "Size", {"x"}, {"n"});
    auto Y = RunNoInput(G);
    EXPECT_EQ(fromBytes<int64_t>(Y[0]), (std::vector<int64_t>{3, 4}));
    EXPECT_EQ(fromBytes<int64_t>(Y[1]), (std::vector<int64_t>{120}));
  }
  {
    GraphSpec G;
    G.tensor("x", {2, 3}).tensor("e", {2, 3}).tensor("r", {4}, "I32").tensor("c", {2, 2}, "I32");
    G.constant("r0", {}, toBytes(std::vector<int32_t>{10}), "I32");
    G.constant("r1", {}, toBytes(std::vector<int32_t>{2}), "I32");
    G.constant("r2", {}, toBytes(std::vector<int32_t>{-2}), "I32");
    G.constantI64("shape", {2}, {2, 2});
    G.constant("val", {1}, toBytes(std::vector<int32_t>{7}), "I32");
    G.input("x").output("e").output("r").output("c");
    G.node("eye", "EyeLike", {"x"}, {"e"}, {attrInt("k", 1)});
    G.node("rg", "Range", {"r0", "r1", "r2"}, {"r"});
    G.node("cs", "ConstantOfShape", {"shape"}, {"c"}, {"\"value\": {\"type\": \"tensor\", \"value\": \"val\"}"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    auto Y = run(*Graph, {toBytes(std::vector<float>(6, 3.0f))});
    EXPECT_EQ(fromBytes<float>(Y[0]), (std::vector<float>{0, 1, 0, 0, 0, 1}));
    EXPECT_EQ(fromBytes<int32_t>(Y[1]), (std::vector<int32_t>{10, 8, 6, 4}));
    EXPECT_EQ(fromBytes<int32_t>(Y[2]), (std::vector<int32_t>{7, 7, 7, 7}));
  }
}

TEST(NativeShapeOps, RangeFloatTypes) {
  // Reference values from numpy.arange(1.0, 2.0, 0.3) (4 elements), for F32 and F64.
  GraphSpec G;
  G.tensor("x", {1}).tensor("a", {4}).tensor("b", {4}, "F64");
  G.constantF32("s", {}, {1.0f}).constantF32("l", {}, {2.0f}).constantF32("d", {}, {0.3f});
  G.constant("s2", {}, toBytes(std::vector<double>{1.0}), "F64");
  G.constant("l2", {}, toBytes(std::vector<double>{2.0}), "F64");
  G.constant("d2", {}, toBytes(std::vector<double>{0.3}), "F64");
  G.input("x").output("a").output("b");
  G.node("r", "Range", {"s", "l", "d"}, {"a"}).node("r2", "Range", {"s2", "l2", "d2"}, {"b"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  auto Y = run(*Graph, {toBytes(std::vector<float>{0})});
  std::vector<float> A = fromBytes<float>(Y[0]);
  std::vector<double> B = fromBytes<double>(Y[1]);
  std::vector<double> Np{1.0, 1.3, 1.6, 1.9};
  for (size_t I = 0; I < 4; ++I) {
    EXPECT_NEAR(A[I], Np[I], 1e-6);
    EXPECT_NEAR(B[I], Np[I], 1e-12);
  }
}

TEST(NativeShapeOps, ConstantAttributes) {
  GraphSpec G;
  G.tensor("x", {1}).tensor("a", {2, 2}, "I32").tensor("b", {3}, "I64").tensor("c", {});
  G.constant("val", {2, 2}, toBytes(std::vector<int32_t>{4, -3, 2, 1}), "I32");
  G.input("x").output("a").output("b").output("c");
  G.node("k1", "Constant", {}, {"a"}, {"\"value\": {\"type\": \"tensor\", \"value\": \"val\"}"});
  G.node("k2", "Constant", {}, {"b"}, {attrInts("value_ints", {7, -8, 9})});
  G.node("k3", "Constant", {}, {"c"}, {attrFloat("value_float", 2.5)});
  TempDir Dir;
  auto Graph = load(G, Dir);
  auto Y = run(*Graph, {toBytes(std::vector<float>{0})});
  EXPECT_EQ(fromBytes<int32_t>(Y[0]), (std::vector<int32_t>{4, -3, 2, 1}));
  EXPECT_EQ(fromBytes<int64_t>(Y[1]), (std::vector<int64_t>{7, -8, 9}));
  EXPECT_EQ(fromBytes<float>(Y[2]), (std::vector<float>{2.5f}));
}
