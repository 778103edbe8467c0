// MaxPool/AveragePool/LpPool and Global* vs a naive N-D reference written here: every output
// position enumerates its window in padded coordinates.
#include "NativeTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace native_test;

namespace {

struct PoolCfg {
  std::string Op;
  Shape X;                 // [N, C, spatial...]
  std::vector<int64_t> K, S, D, Pads;
  std::string AutoPad = "NOTSET";
  bool Ceil = false, IncludePad = false;
  int64_t P = 2;
};

struct PoolRef {
  Shape Out;
  std::vector<double> Y;
  std::vector<int64_t> Indices;
};

PoolRef referencePool(const PoolCfg &C, const std::vector<float> &X) {
  size_t R = C.X.size() - 2;
  std::vector<int64_t> In(C.X.begin() + 2, C.X.end()), PB(R), PE(R), Out(R);
  for (size_t I = 0; I < R; ++I) {
    int64_t W = C.D[I] * (C.K[I] - 1) + 1;
    if (C.AutoPad == "NOTSET") {
      PB[I] = C.Pads[I];
      PE[I] = C.Pads[R + I];
      double F = double(In[I] + PB[I] + PE[I] - W) / double(C.S[I]) + 1;
      Out[I] = C.Ceil ? int64_t(std::ceil(F)) : int64_t(std::floor(F));
      if (C.Ceil && (Out[I] - 1) * C.S[I] >= In[I] + PB[I])
        --Out[I];
    } else {
      Out[I] = (In[I] + C.S[I] - 1) / C.S[I];
      int64_t Total = std::max<int64_t>(0, (Out[I] - 1) * C.S[I] + W - In[I]);
      PB[I] = C.AutoPad == "SAME_UPPER" ? Total / 2 : (Total + 1) / 2;
      PE[I] = Total - PB[I];
    }
  }
  PoolRef Ref;
  Ref.Out = {C.X[0], C.X[1]};
  Ref.Out.insert(Ref.Out.end(), Out.begin(), Out.end());
  size_t Planes = size_t(C.X[0] * C.X[1]), InPlane = 1, OutPlane = 1;
  for (size_t I = 0; I < R; ++I) {
    InPlane *= size_t(In[I]);
    OutPlane *= size_t(Out[I]);
  }
  size_t Window = 1;
  for (int64_t K : C.K)
    Window *= size_t(K);
  for (size_t P = 0; P < Planes; ++P)
    for (size_t O = 0; O < OutPlane; ++O) {
      std::vector<int64_t> OIdx(R);
      for (size_t D = R, Rem = O; D-- > 0;) {
        OIdx[D] = int64_t(Rem % size_t(Out[D]));
        Rem /= size_t(Out[D]);
      }
      double Max = -INFINITY, Sum = 0, Lp = 0;
      int64_t Arg = -1, Valid = 0, Padded = 0;
      for (size_t W = 0; W < Window; ++W) {
        std::vector<int64_t> Pos(R);
        bool Inside = true, InPad = true;
        for (size_t D = R, Rem = W; D-- > 0;) {
          int64_t Kd = int64_t(Rem % size_t(C.K[D]));
          Rem /= size_t(C.K[D]);
          Pos[D] = OIdx[D] * C.S[D] - PB[D] + Kd * C.D[D];
          Inside &= Pos[D] >= 0 && Pos[D] < In[D];
          InPad &= Pos[D] >= -PB[D] && Pos[D] < In[D] + PE[D];
        }
        Padded += InPad;
        if (!Inside)
          continue;
        int64_t Flat = 0;
        for (size_t D = 0; D < R; ++D)
          Flat = Flat * In[D] + Pos[D];
        double V = X[P * InPlane + size_t(Flat)];
        ++Valid;
        Sum += V;
        Lp += std::pow(std::fabs(V), double(C.P));
        if (V > Max) {
          Max = V;
          Arg = int64_t(P * InPlane) + Flat;
        }
      }
      double Y;
      if (C.Op == "MaxPool")
        Y = Max;
      else if (C.Op == "AveragePool")
        Y = Sum / double(C.IncludePad ? Padded : Valid);
      else
        Y = std::pow(Lp, 1.0 / double(C.P));
      Ref.Y.push_back(Y);
      Ref.Indices.push_back(Arg);
    }
  return Ref;
}

void checkPool(const PoolCfg &C, bool WithIndices = false) {
  SCOPED_TRACE(C.Op + " x" + ::testing::PrintToString(C.X) + " k" + ::testing::PrintToString(C.K) +
               " s" + ::testing::PrintToString(C.S) + " d" + ::testing::PrintToString(C.D) + " p" +
               ::testing::PrintToString(C.Pads) + " " + C.AutoPad + " ceil " + std::to_string(C.Ceil) +
               " incl " + std::to_string(C.IncludePad));
  std::vector<float> X = randomFloats(elementCount(C.X), 31, -3.0f, 3.0f);
  PoolRef Ref = referencePool(C, X);
  GraphSpec G;
  G.tensor("x", C.X).tensor("y", Ref.Out).input("x").output("y");
  std::vector<std::string> Outs = {"y"};
  if (WithIndices) {
    G.tensor("i", Ref.Out, "I64").output("i");
    Outs.push_back("i");
  }
  std::vector<std::string> Attrs = {attrInts("kernel_shape", C.K), attrInts("strides", C.S),
                                    attrInts("dilations", C.D), attrString("auto_pad", C.AutoPad),
                                    attrInt("ceil_mode", C.Ceil)};
  if (C.AutoPad == "NOTSET")
    Attrs.push_back(attrInts("pads", C.Pads));
  if (C.Op == "AveragePool")
    Attrs.push_back(attrInt("count_include_pad", C.IncludePad));
  if (C.Op == "LpPool")
    Attrs.push_back(attrInt("p", C.P));
  G.node("pool", C.Op, {"x"}, Outs, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  for (unsigned Threads : {1u, 4u}) {
    auto Out = run(*Graph, {toBytes(X)}, Threads);
    auto Y = fromBytes<float>(Out[0]);
    ASSERT_EQ(Y.size(), Ref.Y.size());
    for (size_t I = 0; I < Y.size(); ++I)
      ASSERT_NEAR(Y[I], Ref.Y[I], 1e-5 * std::fabs(Ref.Y[I]) + 1e-5) << I;
    if (WithIndices) {
      ASSERT_EQ(fromBytes<int64_t>(Out[1]), Ref.Indices);
    }
  }
}

} // namespace

TEST(NativePool, MaxPoolWithIndices) {
  checkPool({"MaxPool", {2, 3, 9, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}}, true);
  checkPool({"MaxPool", {1, 2, 10, 7}, {2, 3}, {1, 2}, {2, 1}, {0, 1, 1, 0}}, true);
  checkPool({"MaxPool", {1, 2, 8, 8}, {3, 3}, {2, 2}, {1, 1}, {0, 0, 0, 0}, "NOTSET", true}, true);
  checkPool({"MaxPool", {2, 2, 13}, {4}, {3}, {1}, {2, 1}, "NOTSET", true});
  checkPool({"MaxPool", {1, 2, 5, 6, 7}, {2, 3, 2}, {1, 2, 2}, {1, 1, 2}, {1, 0, 1, 0, 1, 1}}, true);
  checkPool({"MaxPool", {1, 3, 7, 9}, {3, 2}, {2, 3}, {1, 1}, {}, "SAME_UPPER"});
  checkPool({"MaxPool", {1, 3, 7, 9}, {3, 2}, {2, 3}, {1, 1}, {}, "SAME_LOWER"});
  checkPool({"MaxPool", {4, 16, 40, 40}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}}); // threaded
}

TEST(NativePool, AveragePool) {
  for (bool Incl : {false, true}) {
    checkPool({"AveragePool", {2, 3, 9, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, "NOTSET", false, Incl});
    checkPool({"AveragePool", {1, 2, 8, 8}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, "NOTSET", true, Incl});
    checkPool({"AveragePool", {1, 2, 9, 9}, {2, 2}, {1, 1}, {2, 2}, {1, 0, 2, 1}, "NOTSET", false, Incl});
    checkPool({"AveragePool", {2, 2, 13}, {4}, {3}, {1}, {2, 1}, "NOTSET", true, Incl});
    checkPool({"AveragePool", {1, 1, 5, 6, 7}, {3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1, 1, 1, 1}, "NOTSET", false, Incl});
    checkPool({"AveragePool", {1, 3, 7, 9}, {3, 2}, {2, 3}, {1, 1}, {}, "SAME_UPPER", false, Incl});
    checkPool({"AveragePool", {1, 3, 7, 9}, {3, 2}, {2, 3}, {1, 1}, {}, "SAME_LOWER", false, Incl});
  }
}

TEST(NativePool, LpPool) {
  for (int64_t P : {1, 2, 3}) {
    PoolCfg C{"LpPool", {2, 3, 9, 11}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}};
    C.P = P;
    checkPool(C);
  }
}

TEST(NativePool, GlobalPools) {
  Shape S{2, 3, 5, 7};
  std::vector<float> X = randomFloats(elementCount(S), 2, -2.0f, 2.0f);
  for (const char *Op : {"GlobalMaxPool", "GlobalAveragePool", "GlobalLpPool"}) {
    SCOPED_TRACE(Op);
    GraphSpec G;
    G.tensor("x", S).tensor("y", {2, 3, 1, 1}).input("x").output("y");
    G.node("g", Op, {"x"}, {"y"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    auto Y = fromBytes<float>(run(*Graph, {toBytes(X)}, 4)[0]);
    for (size_t P = 0; P < 6; ++P) {
      double Max = -INFINITY, Sum = 0, Sq = 0;
      for (size_t I = 0; I < 35; ++I) {
        double V = X[P * 35 + I];
        Max = std::max(Max, V);
        Sum += V;
        Sq += V * V;
      }
      double Ref = std::string(Op) == "GlobalMaxPool" ? Max
                   : std::string(Op) == "GlobalAveragePool" ? Sum / 35 : std::sqrt(Sq);
      EXPECT_NEAR(Y[P], Ref, 1e-5);
    }
  }
}

TEST(NativePool, Refusals) {
  GraphSpec G;
  G.tensor("x", {1, 1, 4, 4}).tensor("y", {1, 1, 3, 3}).input("x").output("y");
  G.node("m", "MaxPool", {"x"}, {"y"}, {attrInts("kernel_shape", {2, 2})});
  TempDir Dir;
  EXPECT_NO_THROW(load(G, Dir));
  GraphSpec Bad;
  Bad.tensor("x", {1, 1, 4, 4}).tensor("y", {1, 1, 2, 2}).input("x").output("y");
  Bad.node("m", "MaxPool", {"x"}, {"y"}, {attrInts("kernel_shape", {2, 2})});
  expectLoadError(Bad, OPTIMA_STATUS_INVALID_MODEL,
                  {"output \"y\" is declared F32 [1, 1, 2, 2] but MaxPool produces F32 [1, 1, 3, 3]"});
  GraphSpec NoK;
  NoK.tensor("x", {1, 1, 4, 4}).tensor("y", {1, 1, 3, 3}).input("x").output("y");
  NoK.node("m", "AveragePool", {"x"}, {"y"});
  expectLoadError(NoK, OPTIMA_STATUS_INVALID_MODEL, {"\"kernel_shape\" is required"});
  GraphSpec Big;
  Big.tensor("x", {1, 1, 2, 2}).tensor("y", {1, 1, 1, 1}).input("x").output("y");
  Big.node("m", "MaxPool", {"x"}, {"y"}, {attrInts("kernel_shape", {3, 3})});
  expectLoadError(Big, OPTIMA_STATUS_INVALID_MODEL, {"larger than the padded input"});
}

TEST(NativePool, LpPoolFloatPowerOfOpset1) {
  std::vector<float> X{1, -2, 2, 0};
  GraphSpec G;
  G.tensor("x", {1, 1, 2, 2}).tensor("y", {1, 1, 1, 1}).input("x").output("y");
  G.node("g", "GlobalLpPool", {"x"}, {"y"}, {attrFloat("p", 3.0)});
  TempDir Dir;
  auto Y = fromBytes<float>(run(*load(G, Dir), {toBytes(X)})[0]);
  EXPECT_NEAR(Y[0], std::cbrt(17.0), 1e-5);
}
