// TopK, CumSum and CumProd vs references written here (std::stable_sort on (value, index)
// pairs; running sums and products in double).
#include "NativeTestUtil.h"
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace native_test;

namespace {

struct Split {
  size_t Outer = 1, Len = 1, Inner = 1;
};
Split splitAt(const Shape &S, size_t Axis) {
  Split P;
  for (size_t D = 0; D < S.size(); ++D)
    (D < Axis ? P.Outer : D == Axis ? P.Len : P.Inner) *= size_t(S[D]);
  return P;
}

} // namespace

TEST(NativeSort, TopKStableTies) {
  Shape S{3, 50, 4};
  std::vector<float> X = randomFloats(elementCount(S), 19, -3, 3);
  for (float &V : X)
    V = std::round(V * 2); // ties everywhere
  for (int64_t Axis : {1, 0, -1})
    for (int64_t K : {0, 1, 3})
      for (int64_t Largest : {0, 1}) {
        SCOPED_TRACE("axis " + std::to_string(Axis) + " k " + std::to_string(K) + " largest " +
                     std::to_string(Largest));
        size_t A = size_t(Axis < 0 ? Axis + 3 : Axis);
        Shape OutS = S;
        OutS[A] = K;
        GraphSpec G;
        G.tensor("x", S).tensor("v", OutS).tensor("i", OutS, "I64").constantI64("k", {1}, {K});
        G.input("x").output("v").output("i");
        G.node("t", "TopK", {"x", "k"}, {"v", "i"},
               {attrInt("axis", Axis), attrInt("largest", Largest)});
        TempDir Dir;
        auto Out = run(*load(G, Dir), {toBytes(X)}, 4);
        auto V = fromBytes<float>(Out[0]);
        auto I = fromBytes<int64_t>(Out[1]);
        Split P = splitAt(S, A);
        for (size_t O = 0; O < P.Outer; ++O)
          for (size_t In = 0; In < P.Inner; ++In) {
            std::vector<std::pair<float, int64_t>> Items;
            for (size_t J = 0; J < P.Len; ++J)
              Items.push_back({X[(O * P.Len + J) * P.Inner + In], int64_t(J)});
            std::stable_sort(Items.begin(), Items.end(), [&](const auto &L, const auto &R) {
              return Largest ? L.first > R.first : L.first < R.first;
            });
            for (size_t J = 0; J < size_t(K); ++J) {
              size_t Pos = (O * size_t(K) + J) * P.Inner + In;
              ASSERT_EQ(V[Pos], Items[J].first);
              ASSERT_EQ(I[Pos], Items[J].second);
            }
          }
      }
}

TEST(NativeSort, TopKIntegersAndRefusals) {
  std::vector<int32_t> X{5, -1, 7, 7, 2, 0};
  GraphSpec G;
  G.tensor("x", {6}, "I32").tensor("v", {3}, "I32").tensor("i", {3}, "I64").constantI64("k", {1}, {3});
  G.input("x").output("v").output("i").node("t", "TopK", {"x", "k"}, {"v", "i"});
  TempDir Dir;
  auto Out = run(*load(G, Dir), {toBytes(X)});
  EXPECT_EQ(fromBytes<int32_t>(Out[0]), (std::vector<int32_t>{7, 7, 5}));
  EXPECT_EQ(fromBytes<int64_t>(Out[1]), (std::vector<int64_t>{2, 3, 0}));

  GraphSpec Dyn;
  Dyn.tensor("x", {6}).tensor("v", {3}).tensor("i", {3}, "I64").tensor("k", {1}, "I64");
  Dyn.input("x").input("k").output("v").output("i").node("t", "TopK", {"x", "k"}, {"v", "i"});
  expectLoadError(Dyn, OPTIMA_STATUS_UNSUPPORTED,
                  {"K input \"k\" must be a constant: output shape depends on its values"});
  GraphSpec Big;
  Big.tensor("x", {6}).tensor("v", {7}).tensor("i", {7}, "I64").constantI64("k", {1}, {7});
  Big.input("x").output("v").output("i").node("t", "TopK", {"x", "k"}, {"v", "i"});
  expectLoadError(Big, OPTIMA_STATUS_INVALID_MODEL, {"K = 7 is outside [0, 6]"});
}

TEST(NativeSort, CumSum) {
  Shape S{3, 40, 5};
  std::vector<float> X = randomFloats(elementCount(S), 23);
  std::vector<int64_t> Xi(X.size());
  for (size_t I = 0; I < X.size(); ++I)
    Xi[I] = int64_t(std::round(X[I] * 100));
  for (int64_t Axis : {0, 1, 2, -2})
    for (int64_t Exclusive : {0, 1})
      for (int64_t Reverse : {0, 1}) {
        SCOPED_TRACE("axis " + std::to_string(Axis) + " excl " + std::to_string(Exclusive) +
                     " rev " + std::to_string(Reverse));
        size_t A = size_t(Axis < 0 ? Axis + 3 : Axis);
        Split P = splitAt(S, A);
        std::vector<double> Ref(X.size()), RefI(X.size());
        for (size_t O = 0; O < P.Outer; ++O)
          for (size_t In = 0; In < P.Inner; ++In) {
            double Sum = 0, SumI = 0;
            for (size_t Step = 0; Step < P.Len; ++Step) {
              size_t J = Reverse ? P.Len - 1 - Step : Step;
              size_t Pos = (O * P.Len + J) * P.Inner + In;
              if (!Exclusive) {
                Sum += X[Pos];
                SumI += double(Xi[Pos]);
              }
              Ref[Pos] = Sum;
              RefI[Pos] = SumI;
              if (Exclusive) {
                Sum += X[Pos];
                SumI += double(Xi[Pos]);
              }
            }
          }
        for (const char *Type : {"F32", "I64"}) {
          GraphSpec G;
          G.tensor("x", S, Type).tensor("y", S, Type).input("x").output("y");
          G.constant("axis", {}, toBytes(std::vector<int32_t>{int32_t(Axis)}), "I32");
          G.node("c", "CumSum", {"x", "axis"}, {"y"},
                 {attrInt("exclusive", Exclusive), attrInt("reverse", Reverse)});
          TempDir Dir;
          auto Graph = load(G, Dir);
          if (std::string(Type) == "F32") {
            auto Y = fromBytes<float>(run(*Graph, {toBytes(X)}, 4)[0]);
            for (size_t I = 0; I < Y.size(); ++I)
              ASSERT_NEAR(Y[I], Ref[I], 1e-5);
          } else {
            auto Y = fromBytes<int64_t>(run(*Graph, {toBytes(Xi)}, 4)[0]);
            for (size_t I = 0; I < Y.size(); ++I)
              ASSERT_EQ(double(Y[I]), RefI[I]);
          }
        }
      }
}

TEST(NativeSort, CumSumAxisAsGraphInput) {
  Shape S{2, 3};
  std::vector<float> X{1, 2, 3, 4, 5, 6};
  GraphSpec G;
  G.tensor("x", S).tensor("axis", {}, "I64").tensor("y", S).input("x").input("axis").output("y");
  G.node("c", "CumSum", {"x", "axis"}, {"y"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  auto Y = fromBytes<float>(run(*Graph, {toBytes(X), toBytes(std::vector<int64_t>{0})})[0]);
  EXPECT_EQ(Y, (std::vector<float>{1, 2, 3, 5, 7, 9}));
  Y = fromBytes<float>(run(*Graph, {toBytes(X), toBytes(std::vector<int64_t>{-1})})[0]);
  EXPECT_EQ(Y, (std::vector<float>{1, 3, 6, 4, 9, 15}));
  // Out of range at run time: the request fails with the node's message.
  optima_v2::native::GraphInstance Instance(Graph);
  std::vector<float> Yb(6);
  int64_t Bad = 2;
  void *In[] = {X.data(), &Bad};
  void *Out[] = {Yb.data()};
  EXPECT_EQ(Instance.execute(In, Out, optima_v2::native::ExecHooks{}), OPTIMA_STATUS_EXECUTION_FAILED);
  EXPECT_NE(std::string(Instance.failureMessage()).find("axis 2 is out of range for rank 2"),
            std::string::npos)
      << Instance.failureMessage();
}

TEST(NativeSort, CumProdEveryTypeAxisAndMode) {
  Shape S{3, 9, 4};
  std::vector<float> R = randomFloats(elementCount(S), 29, -3.49f, 3.49f);
  std::vector<double> Ints(R.size()), Floats(R.size());
  for (size_t I = 0; I < R.size(); ++I) {
    Ints[I] = std::round(R[I]);                  // -3..3: |product of 9| <= 19683
    Floats[I] = 1.0 + std::round(R[I] * 8) / 32; // near 1, exact in F16/BF16
  }
  for (int64_t Axis : {0, 1, 2, -1})
    for (int64_t Exclusive : {0, 1})
      for (int64_t Reverse : {0, 1})
        for (const char *Type : {"F32", "F64", "F16", "BF16", "I32", "I64", "U32", "U64"}) {
          SCOPED_TRACE(std::string(Type) + " axis " + std::to_string(Axis) + " excl " +
                       std::to_string(Exclusive) + " rev " + std::to_string(Reverse));
          std::string T = Type;
          bool IsFloat = T[0] == 'F' || T[0] == 'B';
          std::vector<double> X = IsFloat ? Floats : Ints;
          if (T[0] == 'U')
            for (double &V : X)
              V = std::fabs(V);
          size_t A = size_t(Axis < 0 ? Axis + 3 : Axis);
          Split P = splitAt(S, A);
          std::vector<double> Ref(X.size());
          for (size_t O = 0; O < P.Outer; ++O)
            for (size_t In = 0; In < P.Inner; ++In) {
              double Prod = 1;
              for (size_t Step = 0; Step < P.Len; ++Step) {
                size_t J = Reverse ? P.Len - 1 - Step : Step;
                size_t Pos = (O * P.Len + J) * P.Inner + In;
                if (!Exclusive)
                  Prod *= X[Pos];
                Ref[Pos] = Prod;
                if (Exclusive)
                  Prod *= X[Pos];
              }
            }
          GraphSpec G;
          G.tensor("x", S, Type).tensor("y", S, Type).input("x").output("y");
          G.constant("axis", {}, toBytes(std::vector<int64_t>{Axis}), "I64");
          G.node("c", "CumProd", {"x", "axis"}, {"y"},
                 {attrInt("exclusive", Exclusive), attrInt("reverse", Reverse)});
          TempDir Dir;
          auto Y = decode(run(*load(G, Dir), {encode(X, Type)}, 4)[0], Type);
          double Tol = IsFloat ? typeTolerance(T) * 4 : 0;
          for (size_t I = 0; I < Y.size(); ++I)
            ASSERT_NEAR(Y[I], Ref[I], Tol * (1 + std::fabs(Ref[I]))) << "at " << I;
        }
}

TEST(NativeSort, CumProdIntegerWrapAndRuntimeAxis) {
  {
    // 65536 * 65536 wraps to 0 in 32 bits (two's complement, like numpy's int32 cumprod).
    GraphSpec G;
    G.tensor("x", {3}, "I32").tensor("y", {3}, "I32").input("x").output("y");
    G.constant("axis", {}, toBytes(std::vector<int32_t>{0}), "I32");
    G.node("c", "CumProd", {"x", "axis"}, {"y"});
    TempDir Dir;
    auto Y = fromBytes<int32_t>(
        run(*load(G, Dir), {toBytes(std::vector<int32_t>{65536, 65536, 3})})[0]);
    EXPECT_EQ(Y, (std::vector<int32_t>{65536, 0, 0}));
  }
  GraphSpec G;
  G.tensor("x", {2, 3}).tensor("axis", {}, "I32").tensor("y", {2, 3});
  G.input("x").input("axis").output("y");
  G.node("c", "CumProd", {"x", "axis"}, {"y"}, {attrInt("exclusive", 1)});
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<float> X{1, 2, 3, 4, 5, 6};
  auto Y = fromBytes<float>(run(*Graph, {toBytes(X), toBytes(std::vector<int32_t>{0})})[0]);
  EXPECT_EQ(Y, (std::vector<float>{1, 1, 1, 1, 2, 3}));
  Y = fromBytes<float>(run(*Graph, {toBytes(X), toBytes(std::vector<int32_t>{-1})})[0]);
  EXPECT_EQ(Y, (std::vector<float>{1, 1, 2, 1, 4, 20}));
}
