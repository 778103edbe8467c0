// Softmax, LogSoftmax, Hardmax vs references computed here in double along one axis
// (opset >= 13 semantics).
#include "NativeTestUtil.h"

#include "Half.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace native_test;

namespace {

std::vector<double> reference(const std::string &Op, const std::vector<double> &X, const Shape &S,
                              size_t Axis) {
  size_t Outer = 1, Inner = 1, Len = size_t(S[Axis]);
  for (size_t D = 0; D < Axis; ++D)
    Outer *= size_t(S[D]);
  for (size_t D = Axis + 1; D < S.size(); ++D)
    Inner *= size_t(S[D]);
  std::vector<double> Y(X.size());
  for (size_t O = 0; O < Outer; ++O)
    for (size_t I = 0; I < Inner; ++I) {
      auto At = [&](size_t J) { return (O * Len + J) * Inner + I; };
      double Max = -INFINITY, Sum = 0;
      size_t Arg = 0;
      for (size_t J = 0; J < Len; ++J)
        if (X[At(J)] > Max) {
          Max = X[At(J)];
          Arg = J;
        }
      for (size_t J = 0; J < Len; ++J)
        Sum += std::exp(X[At(J)] - Max);
      for (size_t J = 0; J < Len; ++J) {
        if (Op == "Softmax")
          Y[At(J)] = std::exp(X[At(J)] - Max) / Sum;
        else if (Op == "LogSoftmax")
          Y[At(J)] = X[At(J)] - Max - std::log(Sum);
        else
          Y[At(J)] = J == Arg ? 1.0 : 0.0;
      }
    }
  return Y;
}

Bytes runOne(const std::string &Op, const Shape &S, const std::string &Type, const Bytes &X,
             const std::vector<std::string> &Attrs, unsigned Threads) {
  GraphSpec G;
  G.tensor("x", S, Type).tensor("y", S, Type).input("x").output("y");
  G.node("s", Op, {"x"}, {"y"}, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  return run(*Graph, {X}, Threads)[0];
}

} // namespace

TEST(NativeSoftmax, F32AllAxes) {
  const std::vector<Shape> Shapes = {{7}, {3, 5}, {2, 3, 4}, {2, 70, 3}, {33, 129}, {5, 1, 3}, {4, 3, 130}};
  for (const char *Op : {"Softmax", "LogSoftmax", "Hardmax"})
    for (const Shape &S : Shapes)
      for (int64_t Axis = -int64_t(S.size()); Axis < int64_t(S.size()); ++Axis) {
        SCOPED_TRACE(std::string(Op) + " " + ::testing::PrintToString(S) + " axis " + std::to_string(Axis));
        std::vector<float> X = randomFloats(elementCount(S), 21, -8.0f, 8.0f);
        std::vector<double> Xd(X.begin(), X.end());
        size_t A = size_t(Axis < 0 ? Axis + int64_t(S.size()) : Axis);
        auto Ref = reference(Op, Xd, S, A);
        for (unsigned Threads : {1u, 4u}) {
          auto Y = fromBytes<float>(runOne(Op, S, "F32", toBytes(X), {attrInt("axis", Axis)}, Threads));
          for (size_t I = 0; I < Y.size(); ++I)
            ASSERT_NEAR(Y[I], Ref[I], 1e-5 * std::fabs(Ref[I]) + 1e-6) << I;
        }
      }
}

TEST(NativeSoftmax, DefaultAxisIsLastAndLargeValuesStayFinite) {
  Shape S{2, 3};
  std::vector<float> X{1000, 1001, 1002, -1000, -1000, -1000};
  auto Y = fromBytes<float>(runOne("Softmax", S, "F32", toBytes(X), {}, 1));
  std::vector<double> Ref = reference("Softmax", std::vector<double>(X.begin(), X.end()), S, 1);
  for (size_t I = 0; I < 6; ++I)
    EXPECT_NEAR(Y[I], Ref[I], 1e-6);
  Y = fromBytes<float>(runOne("LogSoftmax", S, "F32", toBytes(X), {}, 1));
  EXPECT_NEAR(Y[2], -std::log(1 + std::exp(-1.0) + std::exp(-2.0)), 1e-5);
  // Hardmax: the first of equal maxima wins.
  Y = fromBytes<float>(runOne("Hardmax", S, "F32", toBytes(X), {}, 1));
  EXPECT_EQ(Y, (std::vector<float>{0, 0, 1, 1, 0, 0}));
}

TEST(NativeSoftmax, OtherFloatTypes) {
  Shape S{3, 11, 4};
  std::vector<float> Xf = randomFloats(elementCount(S), 8, -4.0f, 4.0f);
  std::vector<double> Xd(Xf.begin(), Xf.end());
  auto Ref = reference("Softmax", Xd, S, 1);
  auto Y = fromBytes<double>(runOne("Softmax", S, "F64", toBytes(Xd), {attrInt("axis", 1)}, 1));
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], 1e-12);
  std::vector<uint16_t> H(Xf.size());
  std::vector<double> Hd(Xf.size());
  for (size_t I = 0; I < H.size(); ++I) {
    H[I] = optima_v2::native::toHalf(Xf[I]).Bits;
    Hd[I] = optima_v2::native::toFloat(optima_v2::native::Half{H[I]});
  }
  auto RefH = reference("LogSoftmax", Hd, S, 1);
  auto YH = fromBytes<uint16_t>(runOne("LogSoftmax", S, "F16", toBytes(H), {attrInt("axis", 1)}, 1));
  for (size_t I = 0; I < YH.size(); ++I)
    ASSERT_NEAR(optima_v2::native::toFloat(optima_v2::native::Half{YH[I]}), RefH[I],
                2e-3 * std::fabs(RefH[I]) + 1e-3);
}

TEST(NativeSoftmax, Refusals) {
  GraphSpec G;
  G.tensor("x", {2, 3}).tensor("y", {2, 3}).input("x").output("y");
  G.node("s", "Softmax", {"x"}, {"y"}, {attrInt("axis", 2)});
  expectLoadError(G, OPTIMA_STATUS_INVALID_MODEL, {"axis", "out of range for rank 2"});
  GraphSpec I;
  I.tensor("x", {2, 3}, "I32").tensor("y", {2, 3}, "I32").input("x").output("y");
  I.node("s", "Softmax", {"x"}, {"y"});
  expectLoadError(I, OPTIMA_STATUS_UNSUPPORTED, {"op Softmax: I32 input \"x\""});
}
