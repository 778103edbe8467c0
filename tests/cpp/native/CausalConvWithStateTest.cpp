// CausalConvWithState vs a reference written here in double: explicit concatenation of the
// state (or zeros) and the input, a depthwise valid convolution, SiLU, and the last k - 1
// positions as the new state. Lengths shorter / longer than the state, k = 1, bias and
// past_state present or not, F32/F16/BF16, threads.
#include "NativeTestUtil.h"
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace native_test;

namespace {

struct Result {
  std::vector<double> Out, State;
};

Result reference(const std::vector<double> &X, const std::vector<double> &W,
                 const std::vector<double> *B, const std::vector<double> *Past, size_t Batch,
                 size_t Ch, size_t L, size_t K, bool Silu, const std::string &Type) {
  Result R;
  R.Out.resize(Batch * Ch * L);
  R.State.resize(Batch * Ch * (K - 1));
  for (size_t N = 0; N < Batch; ++N)
    for (size_t C = 0; C < Ch; ++C) {
      std::vector<double> Padded;
      for (size_t J = 0; J + 1 < K; ++J)
        Padded.push_back(Past ? (*Past)[(N * Ch + C) * (K - 1) + J] : 0.0);
      for (size_t T = 0; T < L; ++T)
        Padded.push_back(X[(N * Ch + C) * L + T]);
      for (size_t T = 0; T < L; ++T) {
        double S = B ? (*B)[C] : 0.0;
        for (size_t Tap = 0; Tap < K; ++Tap)
          S += W[C * K + Tap] * Padded[T + Tap];
        // The op rounds the convolution to its element type before the activation.
        S = decode(encode({S}, Type), Type)[0];
        R.Out[(N * Ch + C) * L + T] = Silu ? S / (1 + std::exp(-S)) : S;
      }
      for (size_t J = 0; J + 1 < K; ++J)
        R.State[(N * Ch + C) * (K - 1) + J] = Padded[Padded.size() - (K - 1) + J];
    }
  return R;
}

} // namespace

TEST(NativeCausalConvWithState, AgainstReference) {
  struct Case {
    size_t Batch, Ch, L, K;
  };
  for (const Case &C : {Case{2, 3, 9, 4}, Case{1, 1, 6, 4}, Case{2, 5, 2, 5}, Case{3, 2, 7, 1},
                        Case{1, 70, 33, 3}, Case{2, 4, 1, 4}})
    for (const char *Type : {"F32", "F16", "BF16"})
      for (int Variant = 0; Variant < 4; ++Variant)
        for (const char *Act : {"none", "silu", "swish"}) {
          bool HasBias = Variant & 1, HasPast = (Variant & 2) && C.K > 1;
          SCOPED_TRACE(std::to_string(C.Batch) + "x" + std::to_string(C.Ch) + "x" +
                       std::to_string(C.L) + " k" + std::to_string(C.K) + " " + Type + " " + Act +
                       (HasBias ? " bias" : "") + (HasPast ? " past" : ""));
          Shape XS{int64_t(C.Batch), int64_t(C.Ch), int64_t(C.L)};
          Shape WS{int64_t(C.Ch), 1, int64_t(C.K)};
          Shape SS{int64_t(C.Batch), int64_t(C.Ch), int64_t(C.K) - 1};
          std::vector<double> X = gridValues(elementCount(XS), 1);
          std::vector<double> W = gridValues(elementCount(WS), 2);
          std::vector<double> B = gridValues(C.Ch, 3);
          std::vector<double> P = gridValues(elementCount(SS), 4);
          GraphSpec G;
          G.tensor("x", XS, Type).tensor("w", WS, Type).tensor("b", {int64_t(C.Ch)}, Type);
          G.tensor("p", SS, Type).tensor("y", XS, Type).tensor("s", SS, Type);
          G.input("x").input("w");
          std::vector<Bytes> In{encode(X, Type), encode(W, Type)};
          if (HasBias) {
            G.input("b");
            In.push_back(encode(B, Type));
          }
          if (HasPast) {
            G.input("p");
            In.push_back(encode(P, Type));
          }
          G.output("y").output("s");
          G.node("c", "CausalConvWithState",
                 {"x", "w", HasBias ? "b" : "", HasPast ? "p" : ""}, {"y", "s"},
                 {attrString("activation", Act)});
          TempDir Dir;
          auto Graph = load(G, Dir);
          auto Ref = reference(X, W, HasBias ? &B : nullptr, HasPast ? &P : nullptr, C.Batch,
                               C.Ch, C.L, C.K, std::string(Act) != "none", Type);
          for (unsigned Threads : {1u, 4u}) {
            auto Out = run(*Graph, In, Threads);
            auto Y = decode(Out[0], Type), S = decode(Out[1], Type);
            ASSERT_EQ(Y.size(), Ref.Out.size());
            ASSERT_EQ(S.size(), Ref.State.size());
            for (size_t I = 0; I < Y.size(); ++I)
              ASSERT_NEAR(Y[I], Ref.Out[I], 2 * typeTolerance(Type) * (1 + std::fabs(Ref.Out[I])))
                  << I;
            for (size_t I = 0; I < S.size(); ++I)
              ASSERT_EQ(S[I], Ref.State[I]) << I; // a copy: exact
          }
        }
}

TEST(NativeCausalConvWithState, RejectsBadShapesAndActivation) {
  GraphSpec W;
  W.tensor("x", {1, 2, 5}).tensor("w", {2, 2, 3}).tensor("y", {1, 2, 5}).tensor("s", {1, 2, 2});
  W.input("x").input("w").output("y").output("s");
  W.node("c", "CausalConvWithState", {"x", "w"}, {"y", "s"});
  expectLoadError(W, OPTIMA_STATUS_INVALID_MODEL, {"weight \"w\" must be [2, 1, k]"});
  GraphSpec S;
  S.tensor("x", {1, 2, 5}).tensor("w", {2, 1, 3}).tensor("p", {1, 2, 3});
  S.tensor("y", {1, 2, 5}).tensor("s", {1, 2, 2});
  S.input("x").input("w").input("p").output("y").output("s");
  S.node("c", "CausalConvWithState", {"x", "w", "", "p"}, {"y", "s"});
  expectLoadError(S, OPTIMA_STATUS_INVALID_MODEL, {"past_state \"p\" must be [1, 2, 2]"});
  GraphSpec A;
  A.tensor("x", {1, 2, 5}).tensor("w", {2, 1, 3}).tensor("y", {1, 2, 5}).tensor("s", {1, 2, 2});
  A.input("x").input("w").output("y").output("s");
  A.node("c", "CausalConvWithState", {"x", "w"}, {"y", "s"}, {attrString("activation", "relu")});
  expectLoadError(A, OPTIMA_STATUS_INVALID_MODEL, {"activation", "relu"});
}
