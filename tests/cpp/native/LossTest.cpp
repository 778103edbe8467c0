// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss vs a naive reference written here from
// the ONNX definition (per-position -weight[t] * logp[n, t, d]; mean divides by the sum of the
// weights of the non-ignored positions), on every float type, I32/I64 targets, N-d inputs.
#include "NativeTestUtil.h"
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace native_test;

namespace {

struct LossCase {
  const char *Op = "NegativeLogLikelihoodLoss";
  Shape XShape;
  std::string Type = "F32", TargetType = "I64", Reduction = "mean";
  bool Weighted = false, LogProb = false;
  bool HasIgnore = false;
  int64_t Ignore = 0;
  unsigned Threads = 1;
};

struct LossRef {
  std::vector<double> Loss, LogProb;
};

// X viewed as [N, C, D]; Target as [N, D].
LossRef reference(const LossCase &Case, const std::vector<double> &X,
                  const std::vector<int64_t> &Target, const std::vector<double> &W) {
  size_t N = size_t(Case.XShape[0]), C = size_t(Case.XShape[1]), D = X.size() / (N * C);
  bool Softmax = std::string(Case.Op) == "SoftmaxCrossEntropyLoss";
  std::vector<double> Lp = X;
  if (Softmax)
    for (size_t Nn = 0; Nn < N; ++Nn)
      for (size_t Dd = 0; Dd < D; ++Dd) {
        double Den = 0;
        for (size_t Cc = 0; Cc < C; ++Cc)
          Den += std::exp(X[(Nn * C + Cc) * D + Dd]);
        for (size_t Cc = 0; Cc < C; ++Cc)
          Lp[(Nn * C + Cc) * D + Dd] = std::log(std::exp(X[(Nn * C + Cc) * D + Dd]) / Den);
      }
  LossRef R;
  R.LogProb = Lp;
  std::vector<double> PerPos(N * D);
  double Sum = 0, WSum = 0;
  for (size_t Nn = 0; Nn < N; ++Nn)
    for (size_t Dd = 0; Dd < D; ++Dd) {
      int64_t T = Target[Nn * D + Dd];
      double Wt = (Case.HasIgnore && T == Case.Ignore) ? 0.0 : Case.Weighted ? W[size_t(T)] : 1.0;
      double V = Wt == 0 ? 0 : -Lp[(Nn * C + size_t(T)) * D + Dd] * Wt;
      PerPos[Nn * D + Dd] = V;
      Sum += V;
      WSum += Wt;
    }
  if (Case.Reduction == "none")
    R.Loss = PerPos;
  else if (Case.Reduction == "sum")
    R.Loss = {Sum};
  else
    R.Loss = {Sum / WSum};
  return R;
}

void checkCase(const LossCase &Case, uint32_t Seed) {
  SCOPED_TRACE(std::string(Case.Op) + " " + Case.Type + "/" + Case.TargetType + " " +
               Case.Reduction + " rank " + std::to_string(Case.XShape.size()) +
               (Case.Weighted ? " weighted" : "") +
               (Case.HasIgnore ? " ignore " + std::to_string(Case.Ignore) : "") +
               (Case.LogProb ? " log_prob" : ""));
  Shape TShape = Case.XShape;
  TShape.erase(TShape.begin() + 1);
  size_t C = size_t(Case.XShape[1]);
  std::vector<double> X = gridValues(elementCount(Case.XShape), Seed);
  std::vector<float> R = randomFloats(elementCount(TShape), Seed + 1, 0.0f, 1.0f);
  std::vector<int64_t> Target(R.size());
  for (size_t I = 0; I < R.size(); ++I) {
    Target[I] = std::min<int64_t>(int64_t(C) - 1, int64_t(R[I] * float(C)));
    if (Case.HasIgnore && I % 5 == 2)
      Target[I] = Case.Ignore; // some positions ignored (possibly a class id, or outside [0, C))
  }
  std::vector<double> W(C);
  for (size_t I = 0; I < C; ++I)
    W[I] = 0.25 * double(I + 1);

  GraphSpec G;
  G.tensor("x", Case.XShape, Case.Type).tensor("t", TShape, Case.TargetType);
  G.tensor("loss", Case.Reduction == "none" ? TShape : Shape{}, Case.Type);
  G.input("x").input("t").output("loss");
  std::vector<std::string> Ins{"x", "t"}, Outs{"loss"};
  if (Case.Weighted) {
    G.constant("w", {int64_t(C)}, encode(W, Case.Type), Case.Type);
    Ins.push_back("w");
  }
  if (Case.LogProb) {
    G.tensor("lp", Case.XShape, Case.Type).output("lp");
    Outs.push_back("lp");
  }
  std::vector<std::string> Attrs{attrString("reduction", Case.Reduction)};
  if (Case.HasIgnore)
    Attrs.push_back(attrInt("ignore_index", Case.Ignore));
  G.node("l", Case.Op, Ins, Outs, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<double> TD(Target.begin(), Target.end());
  // The reference sees the values the kernel sees (X rounded to its type; grid values are exact).
  auto Out = run(*Graph, {encode(X, Case.Type), encode(TD, Case.TargetType)}, Case.Threads);
  LossRef Ref = reference(Case, X, Target, W);
  double Tol = typeTolerance(Case.Type);
  std::vector<double> Loss = decode(Out[0], Case.Type);
  ASSERT_EQ(Loss.size(), Ref.Loss.size());
  for (size_t I = 0; I < Loss.size(); ++I) {
    if (std::isnan(Ref.Loss[I])) // mean with every position ignored: 0 / 0
      ASSERT_TRUE(std::isnan(Loss[I])) << "loss at " << I << " is " << Loss[I];
    else
      ASSERT_NEAR(Loss[I], Ref.Loss[I], Tol * (1 + std::fabs(Ref.Loss[I]))) << "loss at " << I;
  }
  if (Case.LogProb) {
    std::vector<double> Lp = decode(Out[1], Case.Type);
    ASSERT_EQ(Lp.size(), Ref.LogProb.size());
    for (size_t I = 0; I < Lp.size(); ++I)
      ASSERT_NEAR(Lp[I], Ref.LogProb[I], Tol * (1 + std::fabs(Ref.LogProb[I]))) << "lp at " << I;
  }
}

} // namespace

TEST(NativeLoss, EveryReductionWeightAndIgnoreIndex) {
  uint32_t Seed = 100;
  for (const char *Op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"})
    for (const Shape &S : {Shape{3, 5}, Shape{2, 4, 3, 5}, Shape{3, 7, 1, 2, 3}})
      for (const char *Red : {"none", "sum", "mean"})
        for (bool Weighted : {false, true})
          for (int64_t Ignore : {-1, 0, 2, 10, 99}) { // 99: no ignore_index attribute
            LossCase Case;
            Case.Op = Op;
            Case.XShape = S;
            Case.Reduction = Red;
            Case.Weighted = Weighted;
            Case.HasIgnore = Ignore != 99;
            Case.Ignore = Ignore;
            Case.LogProb = std::string(Op) == "SoftmaxCrossEntropyLoss" && Ignore == 2;
            checkCase(Case, Seed++);
          }
}

TEST(NativeLoss, EveryTypeAndTargetType) {
  uint32_t Seed = 300;
  for (const char *Op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"})
    for (const char *Type : {"F32", "F64", "F16", "BF16"})
      for (const char *TType : {"I32", "I64"})
        for (const char *Red : {"none", "mean"}) {
          LossCase Case;
          Case.Op = Op;
          Case.XShape = {3, 6, 5};
          Case.Type = Type;
          Case.TargetType = TType;
          Case.Reduction = Red;
          Case.Weighted = true;
          Case.HasIgnore = true;
          Case.Ignore = 1;
          Case.LogProb = std::string(Op) == "SoftmaxCrossEntropyLoss";
          checkCase(Case, Seed++);
        }
}

TEST(NativeLoss, LargeInputOnThreads) {
  // 3 * 2000 positions: several reduction chunks on 4 threads; the sum is chunk-order stable.
  for (const char *Red : {"sum", "mean", "none"}) {
    LossCase Case;
    Case.Op = "SoftmaxCrossEntropyLoss";
    Case.XShape = {3, 4, 40, 50};
    Case.Reduction = Red;
    Case.Weighted = true;
    Case.HasIgnore = true;
    Case.Ignore = -100;
    Case.Threads = 4;
    checkCase(Case, 500);
  }
}

TEST(NativeLoss, TargetOutOfRangeFailsAtRunTime) {
  GraphSpec G;
  G.tensor("x", {2, 3}).tensor("t", {2}, "I64").tensor("loss", {});
  G.input("x").input("t").output("loss");
  G.node("l", "NegativeLogLikelihoodLoss", {"x", "t"}, {"loss"}, {attrInt("ignore_index", -1)});
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<float> X{1, 2, 3, 4, 5, 6}, Loss(1);
  // Ignored -1 is fine (mean over the one other position: -x[1, 2]).
  int64_t Good[] = {-1, 2};
  void *In[] = {X.data(), Good};
  void *Out[] = {Loss.data()};
  optima_v2::native::GraphInstance Instance(Graph);
  ASSERT_EQ(Instance.execute(In, Out, optima_v2::native::ExecHooks{}), OPTIMA_STATUS_OK);
  EXPECT_FLOAT_EQ(Loss[0], -6.0f);
  int64_t Bad[] = {0, 3};
  In[1] = Bad;
  EXPECT_EQ(Instance.execute(In, Out, optima_v2::native::ExecHooks{}),
            OPTIMA_STATUS_EXECUTION_FAILED);
  EXPECT_NE(std::string(Instance.failureMessage()).find("target 3 at position 1 is outside [0, 3)"),
            std::string::npos)
      << Instance.failureMessage();
}

TEST(NativeLoss, LoadTimeValidation) {
  auto Spec = [](Shape X, Shape T, Shape L, std::vector<std::string> Attrs = {},
                 const char *TType = "I64", Shape W = {}) {
    GraphSpec G;
    G.tensor("x", X).tensor("t", T, TType).tensor("loss", L).input("x").input("t").output("loss");
    std::vector<std::string> Ins{"x", "t"};
    if (!W.empty()) {
      G.tensor("w", W).input("w");
      Ins.push_back("w");
    }
    G.node("l", "SoftmaxCrossEntropyLoss", Ins, {"loss"}, Attrs);
    return G;
  };
  expectLoadError(Spec({2, 3, 4}, {2, 3}, {}), OPTIMA_STATUS_INVALID_MODEL,
                  {"target \"t\" must have shape [2, 4]"});
  expectLoadError(Spec({3}, {3}, {}), OPTIMA_STATUS_INVALID_MODEL, {"must be [N, C, d1, ...]"});
  expectLoadError(Spec({2, 3}, {2}, {2}, {attrString("reduction", "sum")}),
                  OPTIMA_STATUS_INVALID_MODEL, {"loss"});
  expectLoadError(Spec({2, 3}, {2}, {}, {attrString("reduction", "max")}),
                  OPTIMA_STATUS_INVALID_MODEL, {"reduction"});
  expectLoadError(Spec({2, 3}, {2}, {}, {}, "F32"), OPTIMA_STATUS_UNSUPPORTED, {"F32 input \"t\""});
  expectLoadError(Spec({2, 3}, {2}, {}, {}, "I64", {4}), OPTIMA_STATUS_INVALID_MODEL,
                  {"weight \"w\" must be F32 [3]"});
}
