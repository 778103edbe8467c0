// Det vs a reference written here: the Leibniz permutation expansion (independent of the
// kernel's LU factorization), on batches of odd sizes and every float type.
#include "NativeTestUtil.h"
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace native_test;

namespace {

// sum over permutations p of sign(p) * prod_i A[i, p(i)].
double leibniz(const double *A, size_t M) {
  std::vector<size_t> P(M);
  std::iota(P.begin(), P.end(), 0);
  double Det = 0;
  do {
    size_t Inversions = 0;
    for (size_t I = 0; I < M; ++I)
      for (size_t J = I + 1; J < M; ++J)
        Inversions += P[I] > P[J];
    double Prod = 1;
    for (size_t I = 0; I < M; ++I)
      Prod *= A[I * M + P[I]];
    Det += Inversions % 2 ? -Prod : Prod;
  } while (std::next_permutation(P.begin(), P.end()));
  return Det;
}

} // namespace

TEST(NativeLinalg, DetBatchedEveryType) {
  for (const char *Type : {"F32", "F64", "F16", "BF16"})
    for (const Shape &S : {Shape{1, 1}, Shape{2, 2}, Shape{3, 3}, Shape{5, 4, 4}, Shape{2, 3, 5, 5},
                           Shape{70, 3, 3}}) {
      SCOPED_TRACE(std::string(Type) + " " + std::to_string(S.size()) + "-D, M " +
                   std::to_string(S.back()));
      size_t M = size_t(S.back());
      Shape OutS(S.begin(), S.end() - 2);
      std::vector<double> X = gridValues(elementCount(S), uint32_t(M * 31 + S.size()));
      if (S.size() == 3 && M == 4) // a singular matrix (two equal rows) in the batch
        std::copy(X.begin() + 16, X.begin() + 20, X.begin() + 20);
      GraphSpec G;
      G.tensor("x", S, Type).tensor("y", OutS, Type).input("x").output("y");
      G.node("d", "Det", {"x"}, {"y"});
      TempDir Dir;
      auto Y = decode(run(*load(G, Dir), {encode(X, Type)}, 4)[0], Type);
      size_t Batch = elementCount(OutS);
      ASSERT_EQ(Y.size(), Batch);
      for (size_t B = 0; B < Batch; ++B) {
        double Ref = leibniz(X.data() + B * M * M, M);
        // Cancellation: the absolute error scales with the size of the products, not the result.
        ASSERT_NEAR(Y[B], Ref, typeTolerance(Type) * (1 + std::pow(2.0, double(M)) + std::fabs(Ref)))
            << "matrix " << B;
      }
    }
}

TEST(NativeLinalg, DetExactSmallCases) {
  GraphSpec G;
  G.tensor("x", {3, 2, 2}).tensor("y", {3}).input("x").output("y");
  G.node("d", "Det", {"x"}, {"y"});
  TempDir Dir;
  std::vector<float> X{0, 1, 2, 3, /**/ 1, 2, 2, 4, /**/ 0, 1, 1, 0};
  auto Y = fromBytes<float>(run(*load(G, Dir), {toBytes(X)})[0]);
  EXPECT_EQ(Y, (std::vector<float>{-2, 0, -1}));
}

TEST(NativeLinalg, DetValidation) {
  auto Spec = [](Shape X, Shape Y, const char *Type = "F32") {
    GraphSpec G;
    G.tensor("x", X, Type).tensor("y", Y, Type).input("x").output("y");
    G.node("d", "Det", {"x"}, {"y"});
    return G;
  };
  expectLoadError(Spec({2, 3}, {}), OPTIMA_STATUS_INVALID_MODEL, {"square matrices"});
  expectLoadError(Spec({3}, {}), OPTIMA_STATUS_INVALID_MODEL, {"square matrices"});
  expectLoadError(Spec({2, 2, 2}, {}), OPTIMA_STATUS_INVALID_MODEL, {"output \"y\""});
  expectLoadError(Spec({2, 2}, {}, "I32"), OPTIMA_STATUS_UNSUPPORTED, {"I32 input \"x\""});
}
