// RotaryEmbedding vs a naive reference computed here in double from the ONNX definition: each
// head's first R features are rotated in pairs (x[k], x[k + R/2]) — or (x[2k], x[2k+1]) when
// interleaved — by the angle whose cos/sin the caches hold for the token's position.
#include "NativeTestUtil.h"
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace native_test;

namespace {

struct Case {
  std::string Type = "F32";
  size_t B = 2, H = 3, S = 5, D = 8, Rot = 0; // Rot 0: the whole head
  bool ThreeD = false, Interleaved = false, WithPositions = true;
  size_t MaxPos = 11;
};

Shape xShape(const Case &C) {
  return C.ThreeD ? Shape{int64_t(C.B), int64_t(C.S), int64_t(C.H * C.D)}
                  : Shape{int64_t(C.B), int64_t(C.H), int64_t(C.S), int64_t(C.D)};
}
Shape cacheShape(const Case &C) {
  size_t Half = (C.Rot ? C.Rot : C.D) / 2;
  return C.WithPositions ? Shape{int64_t(C.MaxPos), int64_t(Half)}
                         : Shape{int64_t(C.B), int64_t(C.S), int64_t(Half)};
}

std::vector<double> reference(const Case &C, const std::vector<double> &X,
                              const std::vector<double> &Cos, const std::vector<double> &Sin,
                              const std::vector<int64_t> &Pos) {
  std::vector<double> Y = X;
  size_t Rot = C.Rot ? C.Rot : C.D, Half = Rot / 2;
  for (size_t B = 0; B < C.B; ++B)
    for (size_t S = 0; S < C.S; ++S) {
      size_t Row = C.WithPositions ? size_t(Pos[B * C.S + S]) : B * C.S + S;
      for (size_t H = 0; H < C.H; ++H) {
        size_t Base = C.ThreeD ? (B * C.S + S) * C.H * C.D + H * C.D
                               : ((B * C.H + H) * C.S + S) * C.D;
        for (size_t K = 0; K < Half; ++K) {
          size_t A = C.Interleaved ? Base + 2 * K : Base + K;
          size_t Bi = C.Interleaved ? Base + 2 * K + 1 : Base + K + Half;
          double Co = Cos[Row * Half + K], Si = Sin[Row * Half + K];
          Y[A] = Co * X[A] - Si * X[Bi];
          Y[Bi] = Si * X[A] + Co * X[Bi];
        }
      }
    }
  return Y;
}

GraphSpec graphOf(const Case &C) {
  GraphSpec G;
  G.tensor("x", xShape(C), C.Type).tensor("cos", cacheShape(C), C.Type);
  G.tensor("sin", cacheShape(C), C.Type).tensor("y", xShape(C), C.Type);
  G.input("x").input("cos").input("sin").output("y");
  std::vector<std::string> Ins{"x", "cos", "sin"};
  if (C.WithPositions) {
    G.tensor("pos", {int64_t(C.B), int64_t(C.S)}, "I64").input("pos");
    Ins.push_back("pos");
  }
  std::vector<std::string> Attrs;
  if (C.ThreeD)
    Attrs.push_back(attrInt("num_heads", int64_t(C.H)));
  if (C.Rot)
    Attrs.push_back(attrInt("rotary_embedding_dim", int64_t(C.Rot)));
  if (C.Interleaved)
    Attrs.push_back(attrInt("interleaved", 1));
  G.node("rope", "RotaryEmbedding", Ins, {"y"}, Attrs);
  return G;
}

std::vector<double> randomIn(const std::string &Type, size_t N, uint32_t Seed) {
  std::vector<float> F = randomFloats(N, Seed, -2.0f, 2.0f);
  return decode(encode(std::vector<double>(F.begin(), F.end()), Type), Type);
}

void check(const Case &C) {
  std::vector<double> X = randomIn(C.Type, elementCount(xShape(C)), 3);
  std::vector<double> Cos = randomIn(C.Type, elementCount(cacheShape(C)), 4);
  std::vector<double> Sin = randomIn(C.Type, elementCount(cacheShape(C)), 5);
  std::vector<int64_t> Pos;
  for (size_t I = 0; I < C.B * C.S; ++I)
    Pos.push_back(int64_t((I * 7 + 3) % C.MaxPos));
  std::vector<double> Want = reference(C, X, Cos, Sin, Pos);
  std::vector<Bytes> In{encode(X, C.Type), encode(Cos, C.Type), encode(Sin, C.Type)};
  if (C.WithPositions)
    In.push_back(toBytes(Pos));
  TempDir Dir;
  auto Graph = load(graphOf(C), Dir);
  double Tol = C.Type == "F32" ? 1e-6 : C.Type == "F16" ? 4e-3 : 3e-2;
  for (unsigned Threads : {1u, 4u}) {
    std::vector<double> Got = decode(run(*Graph, In, Threads)[0], C.Type);
    ASSERT_EQ(Got.size(), Want.size());
    for (size_t I = 0; I < Got.size(); ++I)
      ASSERT_NEAR(Got[I], Want[I], Tol * (1 + std::fabs(Want[I]))) << I;
  }
}

} // namespace

TEST(NativeRotaryEmbedding, AllLayoutsAndModes) {
  for (const char *Type : {"F32", "F16", "BF16"})
    for (bool ThreeD : {false, true})
      for (bool Interleaved : {false, true})
        for (bool WithPositions : {false, true})
          for (size_t Rot : {size_t(0), size_t(4)}) {
            Case C;
            C.Type = Type, C.ThreeD = ThreeD, C.Interleaved = Interleaved;
            C.WithPositions = WithPositions, C.Rot = Rot;
            SCOPED_TRACE(std::string(Type) + (ThreeD ? " 3d" : " 4d") +
                         (Interleaved ? " interleaved" : "") +
                         (WithPositions ? " positions" : "") + " rot " + std::to_string(Rot));
            check(C);
          }
}

TEST(NativeRotaryEmbedding, OddSizes) {
  Case C;
  C.B = 3, C.H = 5, C.S = 7, C.D = 10, C.Rot = 6, C.MaxPos = 13;
  check(C);
  C.Interleaved = true, C.ThreeD = true;
  check(C);
}

TEST(NativeRotaryEmbedding, PositionOutOfRangeFailsAtRunTime) {
  Case C;
  TempDir Dir;
  auto Graph = load(graphOf(C), Dir);
  std::vector<float> X(elementCount(xShape(C)), 1.0f), Cache(elementCount(cacheShape(C)), 0.5f);
  std::vector<int64_t> Pos(C.B * C.S, 0);
  Pos[4] = int64_t(C.MaxPos);
  optima_v2::native::GraphInstance Instance(Graph);
  std::vector<float> Y(X.size());
  void *In[] = {X.data(), Cache.data(), Cache.data(), Pos.data()};
  void *Out[] = {Y.data()};
  EXPECT_EQ(Instance.execute(In, Out, optima_v2::native::ExecHooks{}),
            OPTIMA_STATUS_EXECUTION_FAILED);
  EXPECT_NE(std::string(Instance.failureMessage()).find("position_ids[4] = 11 is out of range"),
            std::string::npos)
      << Instance.failureMessage();
}

TEST(NativeRotaryEmbedding, LoadErrors) {
  Case C;
  C.Rot = 5;
  expectLoadError(graphOf(C), OPTIMA_STATUS_INVALID_MODEL, {"rotary_embedding_dim", "even"});
  GraphSpec G;
  G.tensor("x", {1, 2, 8}).tensor("c", {1, 2, 4}).tensor("s", {1, 2, 4}).tensor("y", {1, 2, 8});
  G.input("x").input("c").input("s").output("y");
  G.node("r", "RotaryEmbedding", {"x", "c", "s"}, {"y"});
  expectLoadError(G, OPTIMA_STATUS_INVALID_MODEL, {"num_heads", "3-D"});
  GraphSpec G2;
  G2.tensor("x", {1, 2, 3, 8}).tensor("c", {1, 3, 3}).tensor("s", {1, 3, 3}).tensor("y", {1, 2, 3, 8});
  G2.input("x").input("c").input("s").output("y");
  G2.node("r", "RotaryEmbedding", {"x", "c", "s"}, {"y"});
  expectLoadError(G2, OPTIMA_STATUS_INVALID_MODEL, {"cos_cache", "[1, 3, 4]"});
}
