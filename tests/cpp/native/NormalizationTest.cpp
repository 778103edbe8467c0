// BatchNormalization (inference and training_mode=1), RMSNormalization, InstanceNormalization,
// LayerNormalization, GroupNormalization, LRN, MeanVarianceNormalization, LpNormalization vs
// references computed here in double.
#include "NativeTestUtil.h"
#include "OpTestTypes.h"

#include "Half.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace native_test;

namespace {

void expectNear(const std::vector<float> &Y, const std::vector<double> &Ref, double Tol) {
  ASSERT_EQ(Y.size(), Ref.size());
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], Tol * (1 + std::fabs(Ref[I]))) << "at " << I;
}

// Mean and population variance of the elements Idx(0..Count) of X.
template <typename Fn> void stats(const std::vector<float> &X, size_t Count, Fn Idx, double &M, double &V) {
  M = 0;
  for (size_t I = 0; I < Count; ++I)
    M += X[Idx(I)];
  M /= double(Count);
  V = 0;
  for (size_t I = 0; I < Count; ++I)
    V += (X[Idx(I)] - M) * (X[Idx(I)] - M);
  V /= double(Count);
}

} // namespace

TEST(NativeNormalization, BatchNormInference) {
  Shape S{2, 5, 3, 7};
  size_t C = 5, Sp = 21;
  std::vector<float> X = randomFloats(elementCount(S), 1, -3, 3), Scale = randomFloats(C, 2),
                     B = randomFloats(C, 3), Mean = randomFloats(C, 4),
                     Var = randomFloats(C, 5, 0.1f, 2.0f);
  GraphSpec G;
  G.tensor("x", S).tensor("y", S).tensor("s", {5}).tensor("b", {5}).tensor("v", {5});
  G.constantF32("m", {5}, Mean);
  G.input("x").input("s").input("b").input("v").output("y");
  G.node("bn", "BatchNormalization", {"x", "s", "b", "m", "v"}, {"y"}, {attrFloat("epsilon", 1e-3)});
  TempDir Dir;
  auto Graph = load(G, Dir);
  auto Y = fromBytes<float>(run(*Graph, {toBytes(X), toBytes(Scale), toBytes(B), toBytes(Var)}, 4)[0]);
  std::vector<double> Ref(X.size());
  for (size_t I = 0; I < X.size(); ++I) {
    size_t Ch = (I / Sp) % C;
    Ref[I] = (X[I] - Mean[Ch]) / std::sqrt(double(Var[Ch]) + 1e-3) * Scale[Ch] + B[Ch];
  }
  expectNear(Y, Ref, 1e-5);

  // Running statistics outputs without training_mode (the legacy opset <= 9 training form).
  GraphSpec Legacy;
  Legacy.tensor("x", S).tensor("y", S).tensor("s", {5}).tensor("b", {5}).tensor("v", {5});
  Legacy.tensor("rm", {5}).tensor("rv", {5});
  Legacy.constantF32("m", {5}, Mean).input("x").input("s").input("b").input("v");
  Legacy.output("y").output("rm").output("rv");
  Legacy.node("bn", "BatchNormalization", {"x", "s", "b", "m", "v"}, {"y", "rm", "rv"});
  expectLoadError(Legacy, OPTIMA_STATUS_UNSUPPORTED, {"without training_mode=1"});
}

TEST(NativeNormalization, InstanceAndGroupNorm) {
  Shape S{2, 6, 4, 5};
  size_t N = 2, C = 6, Sp = 20;
  std::vector<float> X = randomFloats(elementCount(S), 7, -2, 5), Scale = randomFloats(C, 8),
                     B = randomFloats(C, 9);
  {
    GraphSpec G;
    G.tensor("x", S).tensor("y", S).input("x").output("y");
    G.constantF32("s", {6}, Scale).constantF32("b", {6}, B);
    G.node("in", "InstanceNormalization", {"x", "s", "b"}, {"y"}, {attrFloat("epsilon", 1e-4)});
    TempDir Dir;
    auto Y = fromBytes<float>(run(*load(G, Dir), {toBytes(X)}, 4)[0]);
    std::vector<double> Ref(X.size());
    for (size_t P = 0; P < N * C; ++P) {
      double M, V;
      stats(X, Sp, [&](size_t I) { return P * Sp + I; }, M, V);
      for (size_t I = 0; I < Sp; ++I)
        Ref[P * Sp + I] = (X[P * Sp + I] - M) / std::sqrt(V + 1e-4) * Scale[P % C] + B[P % C];
    }
    expectNear(Y, Ref, 1e-5);
  }
  for (size_t ParamCount : {size_t(6), size_t(3)}) { // opset 21 per channel, opset 18 per group
    SCOPED_TRACE(ParamCount);
    size_t Groups = 3, PerGroup = C / Groups;
    GraphSpec G;
    G.tensor("x", S).tensor("y", S).input("x").output("y");
    std::vector<float> Sc(Scale.begin(), Scale.begin() + long(ParamCount)),
        Bi(B.begin(), B.begin() + long(ParamCount));
    G.constantF32("s", {int64_t(ParamCount)}, Sc).constantF32("b", {int64_t(ParamCount)}, Bi);
    G.node("gn", "GroupNormalization", {"x", "s", "b"}, {"y"},
           {attrInt("num_groups", 3), attrFloat("epsilon", 1e-5)});
    TempDir Dir;
    auto Y = fromBytes<float>(run(*load(G, Dir), {toBytes(X)}, 4)[0]);
    std::vector<double> Ref(X.size());
    for (size_t Nn = 0; Nn < N; ++Nn)
      for (size_t Gi = 0; Gi < Groups; ++Gi) {
        size_t Base = (Nn * C + Gi * PerGroup) * Sp;
        double M, V;
        stats(X, PerGroup * Sp, [&](size_t I) { return Base + I; }, M, V);
        for (size_t I = 0; I < PerGroup * Sp; ++I) {
          size_t Ch = Gi * PerGroup + I / Sp, Pi = ParamCount == C ? Ch : Gi;
          Ref[Base + I] = (X[Base + I] - M) / std::sqrt(V + 1e-5) * Sc[Pi] + Bi[Pi];
        }
      }
    expectNear(Y, Ref, 1e-5);
  }
}

TEST(NativeNormalization, LayerNormWithStatistics) {
  Shape S{3, 4, 10};
  std::vector<float> X = randomFloats(elementCount(S), 11, -4, 4);
  for (int64_t Axis : {-1, 1, 0}) {
    SCOPED_TRACE(Axis);
    size_t A = size_t(Axis < 0 ? Axis + 3 : Axis);
    Shape Norm(S.begin() + long(A), S.end()), Stat = S;
    for (size_t I = A; I < 3; ++I)
      Stat[I] = 1;
    size_t Len = elementCount(Norm), Rows = X.size() / Len;
    std::vector<float> Scale = randomFloats(Len, 12), B = randomFloats(Len, 13);
    GraphSpec G;
    G.tensor("x", S).tensor("y", S).tensor("m", Stat).tensor("inv", Stat);
    G.constantF32("s", Norm, Scale).constantF32("b", Norm, B);
    G.input("x").output("y").output("m").output("inv");
    G.node("ln", "LayerNormalization", {"x", "s", "b"}, {"y", "m", "inv"},
           {attrInt("axis", Axis), attrFloat("epsilon", 1e-5)});
    TempDir Dir;
    auto Out = run(*load(G, Dir), {toBytes(X)}, 4);
    std::vector<double> Ref(X.size()), RefM(Rows), RefInv(Rows);
    for (size_t R = 0; R < Rows; ++R) {
      double M, V;
      stats(X, Len, [&](size_t I) { return R * Len + I; }, M, V);
      RefM[R] = M;
      RefInv[R] = 1 / std::sqrt(V + 1e-5);
      for (size_t I = 0; I < Len; ++I)
        Ref[R * Len + I] = (X[R * Len + I] - M) * RefInv[R] * Scale[I] + B[I];
    }
    expectNear(fromBytes<float>(Out[0]), Ref, 1e-5);
    expectNear(fromBytes<float>(Out[1]), RefM, 1e-5);
    expectNear(fromBytes<float>(Out[2]), RefInv, 1e-5);
  }
  // Scale broadcast over the normalized shape, no bias.
  GraphSpec G;
  G.tensor("x", S).tensor("y", S).constantF32("s", {1, 10}, randomFloats(10, 14));
  G.input("x").output("y").node("ln", "LayerNormalization", {"x", "s"}, {"y"}, {attrInt("axis", 1)});
  TempDir Dir;
  EXPECT_NO_THROW(load(G, Dir));
}

TEST(NativeNormalization, Lrn) {
  Shape S{2, 7, 3, 4};
  size_t C = 7, Sp = 12;
  std::vector<float> X = randomFloats(elementCount(S), 15, -2, 2);
  for (int64_t Size : {1, 2, 3, 5}) {
    SCOPED_TRACE(Size);
    GraphSpec G;
    G.tensor("x", S).tensor("y", S).input("x").output("y");
    G.node("l", "LRN", {"x"}, {"y"},
           {attrInt("size", Size), attrFloat("alpha", 0.002), attrFloat("beta", 0.6), attrFloat("bias", 1.5)});
    TempDir Dir;
    auto Y = fromBytes<float>(run(*load(G, Dir), {toBytes(X)}, 4)[0]);
    std::vector<double> Ref(X.size());
    for (size_t I = 0; I < X.size(); ++I) {
      int64_t Ch = int64_t((I / Sp) % C);
      size_t N = I / (Sp * C), P = I % Sp;
      double Sum = 0;
      for (int64_t J = Ch - (Size - 1) / 2; J <= Ch + Size / 2; ++J)
        if (J >= 0 && J < int64_t(C)) {
          double V = X[(N * C + size_t(J)) * Sp + P];
          Sum += V * V;
        }
      Ref[I] = X[I] / std::pow(1.5 + 0.002 / double(Size) * Sum, 0.6);
    }
    expectNear(Y, Ref, 1e-5);
  }
}

TEST(NativeNormalization, MeanVarianceAndLpNorm) {
  Shape S{2, 3, 4, 5};
  std::vector<float> X = randomFloats(elementCount(S), 16, -3, 3);
  {
    GraphSpec G;
    G.tensor("x", S).tensor("y", S).input("x").output("y");
    G.node("m", "MeanVarianceNormalization", {"x"}, {"y"});
    TempDir Dir;
    auto Y = fromBytes<float>(run(*load(G, Dir), {toBytes(X)})[0]);
    std::vector<double> Ref(X.size());
    for (size_t Ch = 0; Ch < 3; ++Ch) { // default axes [0, 2, 3]: per channel
      auto Idx = [&](size_t I) { return ((I / 20) * 3 + Ch) * 20 + I % 20; };
      double M, V;
      stats(X, 40, Idx, M, V);
      for (size_t I = 0; I < 40; ++I)
        Ref[Idx(I)] = (X[Idx(I)] - M) / (std::sqrt(V) + 1e-9);
    }
    expectNear(Y, Ref, 1e-5);
  }
  for (int64_t P : {1, 2})
    for (int64_t Axis : {1, -1}) {
      SCOPED_TRACE(std::to_string(P) + " axis " + std::to_string(Axis));
      GraphSpec G;
      G.tensor("x", S).tensor("y", S).input("x").output("y");
      G.node("l", "LpNormalization", {"x"}, {"y"}, {attrInt("p", P), attrInt("axis", Axis)});
      TempDir Dir;
      auto Y = fromBytes<float>(run(*load(G, Dir), {toBytes(X)}, 4)[0]);
      size_t Len = Axis == 1 ? 3 : 5, Inner = Axis == 1 ? 20 : 1;
      std::vector<double> Ref(X.size());
      for (size_t I = 0; I < X.size(); ++I) {
        size_t Base = (I / (Len * Inner)) * Len * Inner + I % Inner;
        double N = 0;
        for (size_t J = 0; J < Len; ++J) {
          double V = X[Base + J * Inner];
          N += P == 1 ? std::fabs(V) : V * V;
        }
        Ref[I] = X[I] / (P == 1 ? N : std::sqrt(N));
      }
      expectNear(Y, Ref, 1e-5);
    }
}

TEST(NativeNormalization, F16LayerNorm) {
  Shape S{4, 9};
  std::vector<float> Xf = randomFloats(elementCount(S), 17, -2, 2);
  std::vector<uint16_t> H(Xf.size()), Ones(9, optima_v2::native::toHalf(1.0f).Bits);
  for (size_t I = 0; I < H.size(); ++I)
    H[I] = optima_v2::native::toHalf(Xf[I]).Bits;
  GraphSpec G;
  G.tensor("x", S, "F16").tensor("y", S, "F16").constant("s", {9}, toBytes(Ones), "F16");
  G.input("x").output("y").node("ln", "LayerNormalization", {"x", "s"}, {"y"});
  TempDir Dir;
  auto Y = fromBytes<uint16_t>(run(*load(G, Dir), {toBytes(H)})[0]);
  for (size_t R = 0; R < 4; ++R) {
    double M, V;
    std::vector<float> Hf(H.size());
    for (size_t I = 0; I < H.size(); ++I)
      Hf[I] = optima_v2::native::toFloat(optima_v2::native::Half{H[I]});
    stats(Hf, 9, [&](size_t I) { return R * 9 + I; }, M, V);
    for (size_t I = 0; I < 9; ++I)
      ASSERT_NEAR(optima_v2::native::toFloat(optima_v2::native::Half{Y[R * 9 + I]}),
                  (Hf[R * 9 + I] - M) / std::sqrt(V + 1e-5), 3e-3);
  }
}

TEST(NativeNormalization, BatchNormTrainingMode) {
  Shape S{3, 4, 5, 2};
  size_t N = 3, C = 4, Sp = 10;
  for (const char *Type : {"F32", "F64", "F16", "BF16"})
    for (size_t Outputs : {1, 3}) {
      SCOPED_TRACE(std::string(Type) + " outputs " + std::to_string(Outputs));
      std::vector<double> X = gridValues(elementCount(S), 11), Scale = gridValues(C, 12),
                          B = gridValues(C, 13), Mean = gridValues(C, 14), Var = gridValues(C, 15);
      for (double &V : Var)
        V = std::fabs(V) + 0.5;
      GraphSpec G;
      G.tensor("x", S, Type).tensor("y", S, Type).tensor("s", {4}, Type).tensor("b", {4}, Type);
      G.tensor("m", {4}, Type).tensor("v", {4}, Type);
      G.input("x").input("s").input("b").input("m").input("v").output("y");
      std::vector<std::string> Outs{"y"};
      if (Outputs == 3) {
        G.tensor("rm", {4}, Type).tensor("rv", {4}, Type).output("rm").output("rv");
        Outs = {"y", "rm", "rv"};
      }
      G.node("bn", "BatchNormalization", {"x", "s", "b", "m", "v"}, Outs,
             {attrInt("training_mode", 1), attrFloat("epsilon", 1e-2), attrFloat("momentum", 0.75)});
      TempDir Dir;
      auto Out = run(*load(G, Dir),
                     {encode(X, Type), encode(Scale, Type), encode(B, Type), encode(Mean, Type),
                      encode(Var, Type)},
                     4);
      double Tol = typeTolerance(Type) * 4;
      std::vector<double> Y = decode(Out[0], Type);
      for (size_t Ch = 0; Ch < C; ++Ch) {
        // Batch statistics over N and the spatial dims (population variance).
        double M = 0, V = 0;
        for (size_t Nn = 0; Nn < N; ++Nn)
          for (size_t I = 0; I < Sp; ++I)
            M += X[(Nn * C + Ch) * Sp + I];
        M /= double(N * Sp);
        for (size_t Nn = 0; Nn < N; ++Nn)
          for (size_t I = 0; I < Sp; ++I)
            V += (X[(Nn * C + Ch) * Sp + I] - M) * (X[(Nn * C + Ch) * Sp + I] - M);
        V /= double(N * Sp);
        for (size_t Nn = 0; Nn < N; ++Nn)
          for (size_t I = 0; I < Sp; ++I) {
            size_t P = (Nn * C + Ch) * Sp + I;
            double Ref = (X[P] - M) / std::sqrt(V + 1e-2) * Scale[Ch] + B[Ch];
            ASSERT_NEAR(Y[P], Ref, Tol * (1 + std::fabs(Ref))) << "y at " << P;
          }
        if (Outputs == 3) {
          double RM = Mean[Ch] * 0.75 + M * 0.25, RV = Var[Ch] * 0.75 + V * 0.25;
          ASSERT_NEAR(decode(Out[1], Type)[Ch], RM, Tol * (1 + std::fabs(RM)));
          ASSERT_NEAR(decode(Out[2], Type)[Ch], RV, Tol * (1 + std::fabs(RV)));
        }
      }
    }
}

TEST(NativeNormalization, RmsNormEveryAxisAndType) {
  Shape S{2, 3, 4, 5};
  std::vector<double> X = gridValues(elementCount(S), 21);
  for (int64_t Axis : {0, 1, 2, 3, -1, -3})
    for (bool FullScale : {true, false})
      for (const char *Type : {"F32", "F64", "F16", "BF16"}) {
        SCOPED_TRACE(std::string(Type) + " axis " + std::to_string(Axis) +
                     (FullScale ? " full scale" : " broadcast scale"));
        size_t A = size_t(Axis < 0 ? Axis + 4 : Axis), Rows = 1, Len = 1;
        for (size_t I = 0; I < 4; ++I)
          (I < A ? Rows : Len) *= size_t(S[I]);
        // Scale: the whole normalized shape, or its last dim only (broadcast).
        Shape ScaleShape = FullScale ? Shape(S.begin() + std::ptrdiff_t(A), S.end()) : Shape{5};
        std::vector<double> Scale = gridValues(elementCount(ScaleShape), 22);
        GraphSpec G;
        G.tensor("x", S, Type).tensor("w", ScaleShape, Type).tensor("y", S, Type);
        G.input("x").input("w").output("y");
        std::vector<std::string> Attrs{attrInt("axis", Axis)};
        if (Axis == 1)
          Attrs.push_back(attrFloat("epsilon", 0.1));
        G.node("r", "RMSNormalization", {"x", "w"}, {"y"}, Attrs);
        TempDir Dir;
        auto Y = decode(run(*load(G, Dir), {encode(X, Type), encode(Scale, Type)}, 4)[0], Type);
        double Eps = Axis == 1 ? 0.1 : 1e-5;
        for (size_t R = 0; R < Rows; ++R) {
          double Sq = 0;
          for (size_t I = 0; I < Len; ++I)
            Sq += X[R * Len + I] * X[R * Len + I];
          double Rms = std::sqrt(Sq / double(Len) + Eps);
          for (size_t I = 0; I < Len; ++I) {
            double W = FullScale ? Scale[I] : Scale[I % 5];
            double Ref = X[R * Len + I] / Rms * W;
            ASSERT_NEAR(Y[R * Len + I], Ref, typeTolerance(Type) * 2 * (1 + std::fabs(Ref)))
                << "at " << R * Len + I;
          }
        }
      }
}

TEST(NativeNormalization, RmsNormMixedTypesAndValidation) {
  // X F32, scale (and so Y) F16.
  Shape S{3, 8};
  std::vector<double> X = gridValues(24, 31), Scale = gridValues(8, 32);
  GraphSpec G;
  G.tensor("x", S).tensor("w", {8}, "F16").tensor("y", S, "F16").input("x").input("w").output("y");
  G.node("r", "RMSNormalization", {"x", "w"}, {"y"}, {attrInt("stash_type", 1)});
  TempDir Dir;
  auto Y = decode(run(*load(G, Dir), {encode(X, "F32"), encode(Scale, "F16")})[0], "F16");
  for (size_t R = 0; R < 3; ++R) {
    double Sq = 0;
    for (size_t I = 0; I < 8; ++I)
      Sq += X[R * 8 + I] * X[R * 8 + I];
    for (size_t I = 0; I < 8; ++I) {
      double Ref = X[R * 8 + I] / std::sqrt(Sq / 8 + 1e-5) * Scale[I];
      ASSERT_NEAR(Y[R * 8 + I], Ref, 4e-3 * (1 + std::fabs(Ref)));
    }
  }
  auto Spec = [](Shape W, const char *YType, std::vector<std::string> Attrs) {
    GraphSpec G;
    G.tensor("x", {3, 8}).tensor("w", W).tensor("y", {3, 8}, YType).input("x").input("w");
    G.output("y").node("r", "RMSNormalization", {"x", "w"}, {"y"}, Attrs);
    return G;
  };
  expectLoadError(Spec({3}, "F32", {}), OPTIMA_STATUS_INVALID_MODEL, {"does not broadcast"});
  expectLoadError(Spec({8}, "F16", {}), OPTIMA_STATUS_INVALID_MODEL, {"output \"y\""});
  expectLoadError(Spec({8}, "F32", {attrInt("axis", 2)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"out of range"});
  expectLoadError(Spec({8}, "F32", {attrInt("stash_type", 7)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"stash_type"});
}
