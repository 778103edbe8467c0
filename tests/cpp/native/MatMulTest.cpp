// MatMul (numpy semantics) and Gemm vs triple-loop references computed here.
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace native_test;

namespace {

void expectClose(const std::vector<float> &Y, const std::vector<float> &Ref) {
  ASSERT_EQ(Y.size(), Ref.size());
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], 1e-4f * (1.0f + std::fabs(Ref[I]))) << "at " << I;
}

// numpy.matmul: promote 1-D operands, broadcast batch dims, squeeze promoted dims.
std::vector<float> referenceMatMul(const std::vector<float> &A, Shape SA, const std::vector<float> &B,
                                   Shape SB, Shape &Out) {
  bool VA = SA.size() == 1, VB = SB.size() == 1;
  if (VA)
    SA.insert(SA.begin(), 1);
  if (VB)
    SB.push_back(1);
  int64_t M = SA[SA.size() - 2], K = SA.back(), N = SB.back();
  Shape BA(SA.begin(), SA.end() - 2), BB(SB.begin(), SB.end() - 2);
  size_t R = std::max(BA.size(), BB.size());
  BA.insert(BA.begin(), R - BA.size(), 1);
  BB.insert(BB.begin(), R - BB.size(), 1);
  Shape Batch(R);
  for (size_t D = 0; D < R; ++D)
    Batch[D] = std::max(BA[D], BB[D]);
  Out = Batch;
  if (!VA)
    Out.push_back(M);
  if (!VB)
    Out.push_back(N);
  std::vector<float> Y(elementCount(Batch) * size_t(M * N));
  for (size_t Bi = 0; Bi < elementCount(Batch); ++Bi) {
    size_t OA = 0, OB = 0;
    for (size_t D = 0, Rem = Bi, Div = elementCount(Batch); D < R; ++D) {
      Div /= size_t(Batch[D]);
      size_t I = Rem / Div;
      Rem %= Div;
      OA = OA * size_t(BA[D]) + (BA[D] == 1 ? 0 : I);
      OB = OB * size_t(BB[D]) + (BB[D] == 1 ? 0 : I);
    }
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double S = 0;
        for (int64_t k = 0; k < K; ++k)
          S += double(A[OA * size_t(M * K) + size_t(i * K + k)]) *
               double(B[OB * size_t(K * N) + size_t(k * N + j)]);
        Y[Bi * size_t(M * N) + size_t(i * N + j)] = float(S);
      }
  }
  return Y;
}

} // namespace

TEST(NativeMatMul, MatchesNumpySemantics) {
  std::vector<std::pair<Shape, Shape>> Cases = {
      {{3, 4}, {4, 5}},       {{2, 3, 4}, {4, 5}},     {{4}, {4, 5}},
      {{3, 4}, {4}},          {{4}, {4}},              {{2, 1, 3, 4}, {5, 4, 6}},
      {{1, 3, 4}, {2, 4, 2}}, {{7, 1, 5}, {7, 5, 1}},  {{70, 300}, {300, 260}},
      {{6, 33, 17}, {17, 40}}, {{2, 0, 4}, {4, 3}},    {{3, 0}, {0, 2}},
  };
  for (unsigned Threads : {1u, 4u})
    for (auto &[SA, SB] : Cases) {
      SCOPED_TRACE(::testing::PrintToString(SA) + " x " + ::testing::PrintToString(SB) +
                   " threads " + std::to_string(Threads));
      std::vector<float> A = randomFloats(elementCount(SA), 21), B = randomFloats(elementCount(SB), 22);
      Shape Out;
      std::vector<float> Ref = referenceMatMul(A, SA, B, SB, Out);
      GraphSpec G;
      G.tensor("a", SA).constantF32("b", SB, B).tensor("y", Out).input("a").output("y");
      G.node("mm", "MatMul", {"a", "b"}, {"y"});
      TempDir Dir;
      auto Graph = load(G, Dir);
      expectClose(fromBytes<float>(run(*Graph, {toBytes(A)}, Threads)[0]), Ref);
    }
}

TEST(NativeMatMul, RejectsMismatchedShapes) {
  GraphSpec G;
  G.tensor("a", {3, 4}).tensor("b", {5, 6}).tensor("y", {3, 6}).input("a").input("b").output("y");
  G.node("mm", "MatMul", {"a", "b"}, {"y"});
  expectLoadError(G, OPTIMA_STATUS_INVALID_MODEL, {"nodes[0] (MatMul \"mm\"): inner dims differ"});
  GraphSpec H;
  H.tensor("a", {2, 3, 4}).tensor("b", {3, 4, 5}).tensor("y", {2, 3, 5}).input("a").input("b").output("y");
  H.node("mm", "MatMul", {"a", "b"}, {"y"});
  expectLoadError(H, OPTIMA_STATUS_INVALID_MODEL, {"cannot be broadcast together"});
}

TEST(NativeGemm, MatchesReference) {
  struct Case {
    int64_t M, N, K;
    int TransA, TransB;
    float Alpha, Beta;
    Shape C; // {} with HasC=false: no C
    bool HasC;
  };
  std::vector<Case> Cases = {
      {3, 5, 4, 0, 0, 1.0f, 1.0f, {3, 5}, true},   {3, 5, 4, 1, 0, 0.5f, 2.0f, {5}, true},
      {3, 5, 4, 0, 1, 1.5f, -1.0f, {3, 1}, true},  {3, 5, 4, 1, 1, 1.0f, 1.0f, {}, true},
      {3, 5, 4, 0, 0, 2.0f, 0.0f, {3, 5}, true},   {3, 5, 4, 0, 0, 1.0f, 1.0f, {}, false},
      {2, 7, 3, 0, 0, 1.0f, 1.0f, {1, 7}, true},   {65, 300, 150, 0, 1, 1.0f, 0.5f, {300}, true},
      {40, 33, 70, 1, 0, 1.0f, 1.0f, {40, 33}, true},
  };
  for (unsigned Threads : {1u, 4u})
    for (const Case &C : Cases) {
      SCOPED_TRACE("M" + std::to_string(C.M) + " N" + std::to_string(C.N) + " K" + std::to_string(C.K) +
                   " tA" + std::to_string(C.TransA) + " tB" + std::to_string(C.TransB) + " C" +
                   ::testing::PrintToString(C.C));
      Shape SA = C.TransA ? Shape{C.K, C.M} : Shape{C.M, C.K};
      Shape SB = C.TransB ? Shape{C.N, C.K} : Shape{C.K, C.N};
      std::vector<float> A = randomFloats(elementCount(SA), 31), B = randomFloats(elementCount(SB), 32);
      std::vector<float> Cv = randomFloats(C.HasC ? elementCount(C.C) : 0, 33);
      std::vector<float> Ref(size_t(C.M * C.N));
      for (int64_t i = 0; i < C.M; ++i)
        for (int64_t j = 0; j < C.N; ++j) {
          double S = 0;
          for (int64_t k = 0; k < C.K; ++k)
            S += double(C.TransA ? A[size_t(k * C.M + i)] : A[size_t(i * C.K + k)]) *
                 double(C.TransB ? B[size_t(j * C.K + k)] : B[size_t(k * C.N + j)]);
          double Cij = 0;
          if (C.HasC) {
            Shape S2 = C.C;
            while (S2.size() < 2)
              S2.insert(S2.begin(), 1);
            Cij = Cv[size_t((S2[0] == 1 ? 0 : i) * S2[1] + (S2[1] == 1 ? 0 : j))];
          }
          Ref[size_t(i * C.N + j)] = float(C.Alpha * S + C.Beta * Cij);
        }
      GraphSpec G;
      G.tensor("a", SA).input("a").constantF32("b", SB, B).tensor("y", {C.M, C.N}).output("y");
      std::vector<std::string> Ins{"a", "b"};
      if (C.HasC) {
        G.constantF32("c", C.C, Cv);
        Ins.push_back("c");
      }
      G.node("g", "Gemm", Ins, {"y"},
             {attrInt("transA", C.TransA), attrInt("transB", C.TransB), attrFloat("alpha", C.Alpha),
              attrFloat("beta", C.Beta)});
      TempDir Dir;
      auto Graph = load(G, Dir);
      expectClose(fromBytes<float>(run(*Graph, {toBytes(A)}, Threads)[0]), Ref);
    }
}

TEST(NativeGemm, OmittedOptionalCAndErrors) {
  GraphSpec G;
  G.tensor("a", {2, 3}).tensor("b", {3, 2}).tensor("y", {2, 2}).input("a").input("b").output("y");
  G.node("g", "Gemm", {"a", "b", ""}, {"y"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<float> A{1, 2, 3, 4, 5, 6}, B{1, 0, 0, 1, 1, 1};
  EXPECT_EQ(fromBytes<float>(run(*Graph, {toBytes(A), toBytes(B)})[0]),
            (std::vector<float>{4, 5, 10, 11}));

  GraphSpec Bad;
  Bad.tensor("a", {2, 3}).tensor("b", {3, 2}).constantF32("c", {3}, {1, 2, 3}).tensor("y", {2, 2});
  Bad.input("a").input("b").output("y").node("g", "Gemm", {"a", "b", "c"}, {"y"});
  expectLoadError(Bad, OPTIMA_STATUS_INVALID_MODEL, {"C [3] cannot be broadcast to [2, 2]"});
  GraphSpec BadT;
  BadT.tensor("a", {2, 3}).tensor("b", {3, 2}).tensor("y", {2, 2}).input("a").input("b").output("y");
  BadT.node("g", "Gemm", {"a", "b"}, {"y"}, {attrInt("transA", 2)});
  expectLoadError(BadT, OPTIMA_STATUS_INVALID_MODEL, {"nodes[0].attributes.transA: expected 0 or 1"});
}

namespace {

// Values a type holds exactly: eighths for float types, small integers (non-negative for the
// unsigned ones) otherwise.
std::vector<double> typedValues(size_t N, uint32_t Seed, const std::string &Type) {
  std::vector<double> V = gridValues(N, Seed);
  bool Float = Type[0] == 'F' || Type == "BF16";
  for (double &X : V)
    X = Float ? X : Type[0] == 'U' ? std::fabs(std::round(X * 4)) : std::round(X * 4);
  return V;
}

const char *const OtherTypes[] = {"F64", "F16", "BF16", "I32", "I64", "U32", "U64"};

} // namespace

TEST(NativeMatMul, OtherTypesMatchReference) {
  std::vector<std::pair<Shape, Shape>> Cases = {
      {{3, 4}, {4, 5}}, {{2, 3, 4}, {4, 5}}, {{4}, {4, 5}}, {{3, 4}, {4}},
      {{2, 1, 3, 4}, {5, 4, 6}}, {{33, 70}, {70, 40}}};
  for (const char *Type : OtherTypes)
    for (bool ConstB : {true, false})
      for (auto &[SA, SB] : Cases) {
        SCOPED_TRACE(std::string(Type) + " " + ::testing::PrintToString(SA) + " x " +
                     ::testing::PrintToString(SB) + (ConstB ? " const" : " runtime"));
        std::vector<double> A = typedValues(elementCount(SA), 41, Type);
        std::vector<double> B = typedValues(elementCount(SB), 42, Type);
        Shape Out;
        std::vector<float> AF(A.begin(), A.end()), BF(B.begin(), B.end());
        std::vector<float> Ref = referenceMatMul(AF, SA, BF, SB, Out);
        GraphSpec G;
        G.tensor("a", SA, Type).tensor("y", Out, Type).input("a").output("y");
        std::vector<Bytes> Inputs{encode(A, Type)};
        if (ConstB) {
          G.constant("b", SB, encode(B, Type), Type);
        } else {
          G.tensor("b", SB, Type).input("b");
          Inputs.push_back(encode(B, Type));
        }
        G.node("mm", "MatMul", {"a", "b"}, {"y"});
        TempDir Dir;
        auto Graph = load(G, Dir);
        std::vector<double> Y = decode(run(*Graph, Inputs, 2)[0], Type);
        ASSERT_EQ(Y.size(), Ref.size());
        double Tol = std::max(typeTolerance(Type), 1e-6);
        for (size_t I = 0; I < Y.size(); ++I)
          ASSERT_NEAR(Y[I], Ref[I], Tol * (1.0 + std::fabs(Ref[I]))) << "at " << I;
      }
}

TEST(NativeGemm, OtherTypesMatchReference) {
  for (const char *Type : OtherTypes)
    for (int TransA : {0, 1})
      for (int TransB : {0, 1}) {
        SCOPED_TRACE(std::string(Type) + " tA" + std::to_string(TransA) + " tB" +
                     std::to_string(TransB));
        int64_t M = 5, N = 7, K = 6;
        double Alpha = 2.0, Beta = 3.0;
        Shape SA = TransA ? Shape{K, M} : Shape{M, K}, SB = TransB ? Shape{N, K} : Shape{K, N};
        std::vector<double> A = typedValues(elementCount(SA), 51, Type);
        std::vector<double> B = typedValues(elementCount(SB), 52, Type);
        std::vector<double> C = typedValues(size_t(N), 53, Type); // [N], broadcast over rows
        std::vector<double> Ref(size_t(M * N));
        for (int64_t i = 0; i < M; ++i)
          for (int64_t j = 0; j < N; ++j) {
            double S = 0;
            for (int64_t k = 0; k < K; ++k)
              S += (TransA ? A[size_t(k * M + i)] : A[size_t(i * K + k)]) *
                   (TransB ? B[size_t(j * K + k)] : B[size_t(k * N + j)]);
            Ref[size_t(i * N + j)] = Alpha * S + Beta * C[size_t(j)];
          }
        GraphSpec G;
        G.tensor("a", SA, Type).tensor("b", SB, Type).constant("c", {N}, encode(C, Type), Type);
        G.tensor("y", {M, N}, Type).input("a").input("b").output("y");
        G.node("g", "Gemm", {"a", "b", "c"}, {"y"},
               {attrInt("transA", TransA), attrInt("transB", TransB), attrFloat("alpha", Alpha),
                attrFloat("beta", Beta)});
        TempDir Dir;
        auto Graph = load(G, Dir);
        std::vector<double> Y = decode(run(*Graph, {encode(A, Type), encode(B, Type)})[0], Type);
        ASSERT_EQ(Y.size(), Ref.size());
        double Tol = typeTolerance(Type);
        for (size_t I = 0; I < Y.size(); ++I)
          ASSERT_NEAR(Y[I], Ref[I], Tol * (1.0 + std::fabs(Ref[I]))) << "at " << I;
      }
}

TEST(NativeMatMul, RefusesUnsupportedAndMixedTypes) {
  GraphSpec G;
  G.tensor("a", {2, 2}, "I8").tensor("b", {2, 2}, "I8").tensor("y", {2, 2}, "I8");
  G.input("a").input("b").output("y").node("mm", "MatMul", {"a", "b"}, {"y"});
  expectLoadError(G, OPTIMA_STATUS_UNSUPPORTED, {"I8 input \"a\""});
  GraphSpec H;
  H.tensor("a", {2, 2}).tensor("b", {2, 2}, "F64").tensor("y", {2, 2});
  H.input("a").input("b").output("y").node("mm", "MatMul", {"a", "b"}, {"y"});
  expectLoadError(H, OPTIMA_STATUS_INVALID_MODEL, {"input 1 \"b\" is F64 but input 0 is F32"});
}
