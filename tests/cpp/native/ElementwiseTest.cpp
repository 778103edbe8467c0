// Add/Sub/Mul/Div with broadcasting and the unary activations, vs references computed here.
#include "NativeTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

using namespace native_test;

namespace {

// Numpy broadcasting done the slow, obvious way: index every output element.
template <typename T>
std::vector<T> referenceBinary(const std::vector<T> &A, const Shape &SA, const std::vector<T> &B,
                               const Shape &SB, const Shape &Out,
                               const std::function<T(T, T)> &F) {
  std::vector<T> Y(elementCount(Out));
  size_t R = Out.size();
  for (size_t I = 0; I < Y.size(); ++I) {
    std::vector<int64_t> Idx(R);
    for (size_t D = R, Rem = I; D-- > 0;) {
      Idx[D] = int64_t(Rem % size_t(Out[D]));
      Rem /= size_t(Out[D]);
    }
    auto Offset = [&](const Shape &S) {
      size_t Off = 0;
      for (size_t D = 0; D < S.size(); ++D) {
        int64_t Id = Idx[R - S.size() + D];
        Off = Off * size_t(S[D]) + size_t(S[D] == 1 ? 0 : Id);
      }
      return Off;
    };
    Y[I] = F(A[Offset(SA)], B[Offset(SB)]);
  }
  return Y;
}

struct BroadcastCase {
  Shape A, B, Out;
};

const std::vector<BroadcastCase> Cases = {
    {{2, 3}, {2, 3}, {2, 3}},
    {{}, {}, {}},
    {{4, 5}, {}, {4, 5}},
    {{}, {4, 5}, {4, 5}},
    {{3, 1}, {1, 4}, {3, 4}},
    {{2, 3, 4}, {4}, {2, 3, 4}},
    {{2, 1, 4}, {3, 1}, {2, 3, 4}},
    {{1, 3, 1, 5}, {2, 1, 7, 1}, {2, 3, 7, 5}},
    {{5, 1, 1}, {1, 1, 6}, {5, 1, 6}},
    {{2, 0, 3}, {3}, {2, 0, 3}},
    {{129, 257}, {257}, {129, 257}}, // big enough to be split across threads
    {{300, 1}, {300, 70}, {300, 70}},
};

template <typename T>
void checkBinary(const std::string &Op, const std::string &Type, const std::function<T(T, T)> &F,
                 const std::function<std::vector<T>(size_t, uint32_t)> &Gen, unsigned Threads) {
  for (const BroadcastCase &C : Cases) {
    SCOPED_TRACE(Op + " " + Type + " A" + ::testing::PrintToString(C.A) + " B" +
                 ::testing::PrintToString(C.B) + " threads " + std::to_string(Threads));
    std::vector<T> A = Gen(elementCount(C.A), 11), B = Gen(elementCount(C.B), 12);
    GraphSpec G;
    G.tensor("a", C.A, Type).tensor("b", C.B, Type).tensor("y", C.Out, Type);
    G.input("a").input("b").output("y").node("n", Op, {"a", "b"}, {"y"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<T> Y = fromBytes<T>(run(*Graph, {toBytes(A), toBytes(B)}, Threads)[0]);
    std::vector<T> Ref = referenceBinary<T>(A, C.A, B, C.B, C.Out, F);
    ASSERT_EQ(Y.size(), Ref.size());
    for (size_t I = 0; I < Y.size(); ++I)
      ASSERT_EQ(Y[I], Ref[I]) << "at " << I;
  }
}

std::vector<float> floats(size_t N, uint32_t Seed) {
  std::vector<float> V = randomFloats(N, Seed, 0.5f, 4.0f);
  for (size_t I = 0; I < N; I += 2)
    V[I] = -V[I]; // both signs, never near zero (Div)
  return V;
}

template <typename T> std::vector<T> ints(size_t N, uint32_t Seed) {
  std::mt19937 Gen(Seed);
  std::uniform_int_distribution<int> Dist(-50, 50);
  std::vector<T> V(N);
  for (T &X : V)
    X = T(Dist(Gen));
  return V;
}

template <typename T> T refDiv(T A, T B) {
  if (B == 0)
    return 0; // documented behaviour of the native backend
  return A / B;
}

} // namespace

TEST(NativeElementwise, FloatOpsBroadcast) {
  for (unsigned Threads : {1u, 4u}) {
    checkBinary<float>("Add", "F32", [](float A, float B) { return A + B; }, floats, Threads);
    checkBinary<float>("Sub", "F32", [](float A, float B) { return A - B; }, floats, Threads);
    checkBinary<float>("Mul", "F32", [](float A, float B) { return A * B; }, floats, Threads);
    checkBinary<float>("Div", "F32", [](float A, float B) { return A / B; }, floats, Threads);
  }
}

TEST(NativeElementwise, IntegerOpsBroadcast) {
  checkBinary<int32_t>("Add", "I32", [](int32_t A, int32_t B) { return A + B; }, ints<int32_t>, 1);
  checkBinary<int32_t>("Sub", "I32", [](int32_t A, int32_t B) { return A - B; }, ints<int32_t>, 4);
  checkBinary<int64_t>("Mul", "I64", [](int64_t A, int64_t B) { return A * B; }, ints<int64_t>, 1);
  checkBinary<int32_t>("Div", "I32", refDiv<int32_t>, ints<int32_t>, 1);
  checkBinary<int64_t>("Div", "I64", refDiv<int64_t>, ints<int64_t>, 4);
}

TEST(NativeElementwise, IntegerDivisionEdgeCases) {
  GraphSpec G;
  G.tensor("a", {5}, "I32").tensor("b", {5}, "I32").tensor("y", {5}, "I32");
  G.input("a").input("b").output("y").node("d", "Div", {"a", "b"}, {"y"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  int32_t Min = std::numeric_limits<int32_t>::min();
  std::vector<int32_t> A{7, -7, 5, Min, 9}, B{2, 2, 0, -1, -3};
  auto Y = fromBytes<int32_t>(run(*Graph, {toBytes(A), toBytes(B)})[0]);
  EXPECT_EQ(Y, (std::vector<int32_t>{3, -3, 0, Min, -3})); // truncation; /0 -> 0; MIN/-1 wraps
}

TEST(NativeElementwise, RejectsBadShapesAndTypes) {
  auto Spec = [](Shape A, Shape B, Shape Y, std::string TA, std::string TB, std::string TY) {
    GraphSpec G;
    G.tensor("a", A, TA).tensor("b", B, TB).tensor("y", Y, TY);
    G.input("a").input("b").output("y").node("add1", "Add", {"a", "b"}, {"y"});
    return G;
  };
  expectLoadError(Spec({2, 3}, {4}, {2, 3}, "F32", "F32", "F32"), OPTIMA_STATUS_INVALID_MODEL,
                  {"nodes[0] (Add \"add1\")", "[2, 3] and [4] cannot be broadcast together"});
  expectLoadError(Spec({2, 3}, {3}, {2, 4}, "F32", "F32", "F32"), OPTIMA_STATUS_INVALID_MODEL,
                  {"output \"y\" is declared F32 [2, 4] but Add produces F32 [2, 3]"});
  expectLoadError(Spec({2}, {2}, {2}, "F32", "I32", "F32"), OPTIMA_STATUS_INVALID_MODEL,
                  {"inputs have different types (F32 and I32)"});
  expectLoadError(Spec({2}, {2}, {2}, "F64", "F64", "F64"), OPTIMA_STATUS_UNSUPPORTED,
                  {"node \"add1\" (op Add: F64 input \"a\")"});
}

TEST(NativeElementwise, Activations) {
  Shape S{3, 50, 7};
  std::vector<float> X = randomFloats(elementCount(S), 5, -6.0f, 6.0f);
  X[0] = -100.0f; // sigmoid/tanh saturate without NaN
  X[1] = 100.0f;
  X[2] = 0.0f;
  struct Act {
    const char *Op;
    std::function<float(float)> F;
  };
  for (const Act &A : {Act{"Relu", [](float V) { return V > 0 ? V : 0.0f; }},
                       Act{"Sigmoid", [](float V) { return float(1.0 / (1.0 + std::exp(-double(V)))); }},
                       Act{"Tanh", [](float V) { return float(std::tanh(double(V))); }}}) {
    SCOPED_TRACE(A.Op);
    GraphSpec G;
    G.tensor("x", S).tensor("y", S).input("x").output("y").node("act", A.Op, {"x"}, {"y"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    for (unsigned Threads : {1u, 4u}) {
      auto Y = fromBytes<float>(run(*Graph, {toBytes(X)}, Threads)[0]);
      for (size_t I = 0; I < X.size(); ++I)
        ASSERT_NEAR(Y[I], A.F(X[I]), 1e-6f) << "x=" << X[I];
    }
  }
}

TEST(NativeElementwise, ReluIntegersAndTypeRefusals) {
  GraphSpec G;
  G.tensor("x", {4}, "I64").tensor("y", {4}, "I64").input("x").output("y");
  G.node("r", "Relu", {"x"}, {"y"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<int64_t> X{-5, 0, 7, -(int64_t(1) << 40)};
  EXPECT_EQ(fromBytes<int64_t>(run(*Graph, {toBytes(X)})[0]), (std::vector<int64_t>{0, 0, 7, 0}));

  GraphSpec Bad;
  Bad.tensor("x", {4}, "I32").tensor("y", {4}, "I32").input("x").output("y");
  Bad.node("s", "Sigmoid", {"x"}, {"y"});
  expectLoadError(Bad, OPTIMA_STATUS_UNSUPPORTED, {"node \"s\" (op Sigmoid: I32 input \"x\")"});
}
