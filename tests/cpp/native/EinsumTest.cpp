// Einsum vs a brute-force reference: every assignment of every letter is enumerated and the
// operand product added to its output element. Ellipsis cases give the reference an equivalent
// all-letter equation.
#include "NativeTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

using namespace native_test;

namespace {

// Explicit equation with letters only ("ij,jk->ik").
std::vector<double> bruteEinsum(const std::string &Eq, const std::vector<std::vector<float>> &Ops,
                                const std::vector<Shape> &Shapes) {
  size_t Arrow = Eq.find("->");
  std::vector<std::string> Terms;
  std::string Lhs = Eq.substr(0, Arrow), Out = Eq.substr(Arrow + 2);
  for (size_t S = 0;;) {
    size_t C = Lhs.find(',', S);
    Terms.push_back(Lhs.substr(S, C - S));
    if (C == std::string::npos)
      break;
    S = C + 1;
  }
  std::map<char, size_t> Size;
  for (size_t I = 0; I < Terms.size(); ++I)
    for (size_t D = 0; D < Terms[I].size(); ++D)
      Size[Terms[I][D]] = size_t(Shapes[I][D]);
  std::vector<char> Letters;
  size_t Total = 1, OutCount = 1;
  for (auto &[L, S] : Size) {
    Letters.push_back(L);
    Total *= S;
  }
  for (char L : Out)
    OutCount *= Size[L];
  std::vector<double> Y(OutCount, 0.0);
  std::map<char, size_t> V;
  for (size_t N = 0; N < Total; ++N) {
    size_t Rem = N;
    for (char L : Letters) {
      V[L] = Rem % Size[L];
      Rem /= Size[L];
    }
    double P = 1;
    for (size_t I = 0; I < Terms.size(); ++I) {
      size_t Off = 0;
      for (size_t D = 0; D < Terms[I].size(); ++D)
        Off = Off * size_t(Shapes[I][D]) + V[Terms[I][D]];
      P *= Ops[I][Off];
    }
    size_t O = 0;
    for (char L : Out)
      O = O * Size[L] + V[L];
    Y[O] += P;
  }
  return Y;
}

struct EinsumCase {
  std::string Eq, RefEq;
  std::vector<Shape> In;
  Shape Out;
};

} // namespace

TEST(NativeEinsum, Equations) {
  const std::vector<EinsumCase> Cases = {
      {"ij,jk->ik", "ij,jk->ik", {{5, 7}, {7, 3}}, {5, 3}},         // GEMM path
      {"ij,kj->ik", "ij,kj->ik", {{5, 7}, {3, 7}}, {5, 3}},         // GEMM, B transposed
      {"ji,jk->ik", "ji,jk->ik", {{7, 5}, {7, 3}}, {5, 3}},         // GEMM, A transposed
      {"bij,bjk->bik", "bij,bjk->bik", {{2, 4, 6}, {2, 6, 3}}, {2, 4, 3}},
      {"ij,jk", "ij,jk->ik", {{5, 7}, {7, 3}}, {5, 3}},             // implicit output
      {"ij->ji", "ij->ji", {{3, 4}}, {4, 3}},
      {"ii->i", "ii->i", {{4, 4}}, {4}},                             // diagonal
      {"ii", "ii->", {{4, 4}}, {}},                                  // trace
      {"ij->", "ij->", {{3, 5}}, {}},
      {"i,i", "i,i->", {{6}, {6}}, {}},
      {"i,j->ij", "i,j->ij", {{3}, {4}}, {3, 4}},
      {"ijk,ikl,il->jl", "ijk,ikl,il->jl", {{2, 3, 4}, {2, 4, 5}, {2, 5}}, {3, 5}},
      {"...ij,...jk->...ik", "bij,bjk->bik", {{2, 3, 4}, {2, 4, 5}}, {2, 3, 5}},
      {"...ii->...i", "bii->bi", {{3, 4, 4}}, {3, 4}},
      {"b i j , b j k -> b k i", "bij,bjk->bki", {{2, 3, 4}, {2, 4, 5}}, {2, 5, 3}},
      {"Ab,bA->A", "Ab,bA->A", {{3, 2}, {2, 3}}, {3}},
      {"...j,j", "aj,j->a", {{3, 4}, {4}}, {3}},
  };
  for (const EinsumCase &C : Cases)
    for (const char *Type : {"F32", "F64"}) {
      SCOPED_TRACE(C.Eq + " " + Type);
      GraphSpec G;
      std::vector<std::string> Ins;
      std::vector<std::vector<float>> Data;
      std::vector<Bytes> Inputs;
      for (size_t I = 0; I < C.In.size(); ++I) {
        std::string Name = "x" + std::to_string(I);
        G.tensor(Name, C.In[I], Type).input(Name);
        Ins.push_back(Name);
        Data.push_back(randomFloats(elementCount(C.In[I]), uint32_t(40 + I)));
        if (std::string(Type) == "F32")
          Inputs.push_back(toBytes(Data.back()));
        else
          Inputs.push_back(toBytes(std::vector<double>(Data.back().begin(), Data.back().end())));
      }
      G.tensor("y", C.Out, Type).output("y");
      G.node("e", "Einsum", Ins, {"y"}, {attrString("equation", C.Eq)});
      TempDir Dir;
      auto Out = run(*load(G, Dir), Inputs, 4)[0];
      auto Ref = bruteEinsum(C.RefEq, Data, C.In);
      if (std::string(Type) == "F32") {
        auto Y = fromBytes<float>(Out);
        ASSERT_EQ(Y.size(), Ref.size());
        for (size_t I = 0; I < Y.size(); ++I)
          ASSERT_NEAR(Y[I], Ref[I], 1e-5 * (1 + std::fabs(Ref[I])));
      } else {
        auto Y = fromBytes<double>(Out);
        ASSERT_EQ(Y.size(), Ref.size());
        for (size_t I = 0; I < Y.size(); ++I)
          ASSERT_NEAR(Y[I], Ref[I], 1e-12 * (1 + std::fabs(Ref[I])));
      }
    }
}

TEST(NativeEinsum, LargeMatmulThroughGemm) {
  Shape A{70, 90}, B{90, 50};
  std::vector<float> Xa = randomFloats(elementCount(A), 1), Xb = randomFloats(elementCount(B), 2);
  GraphSpec G;
  G.tensor("a", A).tensor("b", B).tensor("y", {70, 50}).input("a").input("b").output("y");
  G.node("e", "Einsum", {"a", "b"}, {"y"}, {attrString("equation", "mk,kn->mn")});
  TempDir Dir;
  auto Y = fromBytes<float>(run(*load(G, Dir), {toBytes(Xa), toBytes(Xb)}, 4)[0]);
  auto Ref = bruteEinsum("mk,kn->mn", {Xa, Xb}, {A, B});
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], 1e-4);
}

TEST(NativeEinsum, Refusals) {
  auto Spec = [](const std::string &Eq, Shape Out) {
    GraphSpec G;
    G.tensor("a", {2, 3}).tensor("b", {3, 4}).tensor("y", Out).input("a").input("b").output("y");
    G.node("e", "Einsum", {"a", "b"}, {"y"}, {attrString("equation", Eq)});
    return G;
  };
  expectLoadError(Spec("ij,jk->iz", {2, 4}), OPTIMA_STATUS_INVALID_MODEL,
                  {"output index 'z' does not appear in the inputs"});
  expectLoadError(Spec("ij,kk->ik", {2, 4}), OPTIMA_STATUS_INVALID_MODEL, {"index 'k' has sizes"});
  expectLoadError(Spec("ijk,jk->ik", {2, 4}), OPTIMA_STATUS_INVALID_MODEL,
                  {"operand 0 has 3 indices but rank 2"});
  expectLoadError(Spec("ij->ij", {2, 3}), OPTIMA_STATUS_INVALID_MODEL,
                  {"has 1 operands but the node has 2 inputs"});
  expectLoadError(Spec("ij,jk->ik", {2, 5}), OPTIMA_STATUS_INVALID_MODEL,
                  {"but Einsum produces F32 [2, 4]"});
  expectLoadError(Spec("i1,jk->ik", {2, 4}), OPTIMA_STATUS_INVALID_MODEL, {"unexpected character '1'"});
}
