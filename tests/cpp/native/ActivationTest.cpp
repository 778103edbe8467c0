// Activations on every supported type vs the ONNX formulas written here in double: Relu,
// LeakyRelu, PRelu (broadcast slope), Elu, Selu, Celu, Sigmoid, HardSigmoid, HardSwish, Swish,
// Softplus, Softsign, Tanh, Mish, Gelu (both approximations), ThresholdedRelu, Shrink, Clip.
#include "ElementwiseTestUtil.h"

using namespace ew_test;

namespace {
const double Inf = std::numeric_limits<double>::infinity();
const double NaN = std::numeric_limits<double>::quiet_NaN();
double softplus(double X) { return std::log1p(std::exp(X)); }
} // namespace

TEST(NativeActivation, FloatActivations) {
  struct Case {
    const char *Op;
    std::vector<std::string> Attrs;
    std::function<double(double)> F;
  };
  const double SeluA = 1.67326319217681884765625, SeluG = 1.05070102214813232421875;
  const std::vector<Case> Cases = {
      {"LeakyRelu", {}, [](double X) { return X < 0 ? 0.01 * X : X; }},
      {"LeakyRelu", {attrFloat("alpha", 0.25)}, [](double X) { return X < 0 ? 0.25 * X : X; }},
      {"Elu", {}, [](double X) { return X < 0 ? std::exp(X) - 1 : X; }},
      {"Elu", {attrFloat("alpha", 0.5)}, [](double X) { return X < 0 ? 0.5 * (std::exp(X) - 1) : X; }},
      {"Selu", {}, [&](double X) { return X > 0 ? SeluG * X : SeluG * (SeluA * std::exp(X) - SeluA); }},
      {"Selu", {attrFloat("alpha", 2), attrFloat("gamma", 3)},
       [](double X) { return X > 0 ? 3 * X : 3 * (2 * std::exp(X) - 2); }},
      {"Celu", {attrFloat("alpha", 2)},
       [](double X) { return X > 0 ? X : 2 * (std::exp(X / 2) - 1); }}, // max(0,x) + min(0,...)
      {"Sigmoid", {}, [](double X) { return 1 / (1 + std::exp(-X)); }},
      {"HardSigmoid", {}, [](double X) { return std::max(0.0, std::min(1.0, 0.2 * X + 0.5)); }},
      {"HardSigmoid", {attrFloat("alpha", 0.5), attrFloat("beta", 0.25)},
       [](double X) { return std::max(0.0, std::min(1.0, 0.5 * X + 0.25)); }},
      {"HardSwish", {}, [](double X) { return X * std::max(0.0, std::min(1.0, X / 6 + 0.5)); }},
      {"Swish", {}, [](double X) { return X / (1 + std::exp(-X)); }},
      {"Swish", {attrFloat("alpha", 0.5)}, [](double X) { return X / (1 + std::exp(-0.5 * X)); }},
      {"Softplus", {}, softplus},
      {"Softsign", {}, [](double X) { return X / (1 + std::fabs(X)); }},
      {"Tanh", {}, [](double X) { return std::tanh(X); }},
      {"Mish", {}, [](double X) { return X * std::tanh(softplus(X)); }},
      {"Gelu", {}, [](double X) { return 0.5 * X * (1 + std::erf(X / std::sqrt(2.0))); }},
      {"Gelu", {attrString("approximate", "tanh")},
       [](double X) {
         return 0.5 * X * (1 + std::tanh(std::sqrt(2 / M_PI) * (X + 0.044715 * X * X * X)));
       }},
      {"ThresholdedRelu", {}, [](double X) { return X > 1 ? X : 0; }},
      {"ThresholdedRelu", {attrFloat("alpha", 2)}, [](double X) { return X > 2 ? X : 0; }},
      {"Relu", {}, [](double X) { return X > 0 ? X : 0; }},
  };
  for (const Case &C : Cases)
    checkUnaryOp(C.Op, FloatTypes, -6, 6, C.F, C.Attrs, 8, {0.0, -0.0, NaN});
  // Saturation without overflow to NaN.
  for (const char *Op : {"Sigmoid", "Tanh", "Softplus", "Mish"}) {
    auto Y = runNode(Op, {{"F32", {2}, {-100, 100}}}, "F32", {2});
    EXPECT_TRUE(std::isfinite(Y[0]) && std::isfinite(Y[1])) << Op;
  }
  EXPECT_EQ(runNode("Softplus", {{"F32", {1}, {100}}}, "F32", {1})[0], 100.0f);
}

TEST(NativeActivation, ReluSignedIntegers) {
  checkUnaryOp("Relu", SignedTypes, -60, 60, [](double X) { return X > 0 ? X : 0; });
}

TEST(NativeActivation, ShrinkAllNumericTypes) {
  auto Ref = [](double Bias, double Lambd) {
    return [=](double X) { return X < -Lambd ? X + Bias : X > Lambd ? X - Bias : 0.0; };
  };
  checkUnaryOp("Shrink", NumericTypes, -6, 6, Ref(0, 0.5));
  checkUnaryOp("Shrink", NumericTypes, -6, 6, Ref(1.5, 2), {attrFloat("bias", 1.5), attrFloat("lambd", 2)});
}

TEST(NativeActivation, PReluBroadcastSlope) {
  const std::vector<std::pair<Shape, Shape>> Cases = {
      {{2, 3, 4, 5}, {3, 1, 1}}, {{2, 3, 4, 5}, {5}}, {{2, 3}, {}}, {{4, 6}, {4, 6}}, {{300, 70}, {70}}};
  for (std::string T : {"F32", "F64", "F16", "BF16", "I32", "I64", "U32", "U64"}) {
    for (const auto &[SX, SS] : Cases) {
      SCOPED_TRACE(T + " X" + ::testing::PrintToString(SX) + " slope" + ::testing::PrintToString(SS));
      auto [Lo, Hi] = isFloat(T) ? std::pair<double, double>{-4, 4} : intRange(T);
      std::vector<double> X = valuesFor(T, elementCount(SX), 1, Lo, Hi);
      std::vector<double> S = valuesFor(T, elementCount(SS), 2, isFloat(T) ? -1 : 0, isFloat(T) ? 1 : 5);
      auto Y = runNode("PRelu", {{T, SX, X}, {T, SS, S}}, T, SX, {}, 4);
      auto Ref = referenceBroadcast({X, S}, {SX, SS}, SX, [](const std::vector<double> &V) {
        return V[0] < 0 ? V[0] * V[1] : V[0];
      });
      for (size_t I = 0; I < Y.size(); ++I)
        expectClose(T, Y[I], Ref[I], "at " + std::to_string(I), 2);
    }
  }
}

TEST(NativeActivation, ClipInputsAndAttributes) {
  for (const std::string &T : NumericTypes) {
    SCOPED_TRACE(T);
    auto [Lo, Hi] = isFloat(T) ? std::pair<double, double>{-6, 6} : intRange(T);
    std::vector<double> X = valuesFor(T, 40, 3, Lo, Hi);
    double Min = isUnsigned(T) ? 20 : -2, Max = isUnsigned(T) ? 70 : 3;
    auto Y = runNode("Clip", {{T, {5, 8}, X}, {T, {}, {Min}}, {T, {}, {Max}}}, T, {5, 8});
    auto OnlyMin = runNode("Clip", {{T, {5, 8}, X}, {T, {1}, {Min}}}, T, {5, 8});
    // min > max: every value becomes max (ONNX).
    auto Crossed = runNode("Clip", {{T, {5, 8}, X}, {T, {}, {Max}}, {T, {}, {Min}}}, T, {5, 8});
    auto None = runNode("Clip", {{T, {5, 8}, X}}, T, {5, 8});
    for (size_t I = 0; I < X.size(); ++I) {
      EXPECT_EQ(Y[I], std::min(std::max(X[I], Min), Max));
      EXPECT_EQ(OnlyMin[I], std::max(X[I], Min));
      EXPECT_EQ(Crossed[I], Min);
      EXPECT_EQ(None[I], X[I]);
    }
  }
  // Omitted min ("") with a max input, and opset < 11 attributes; NaN passes through.
  GraphSpec G;
  G.tensor("x", {4}).tensor("hi", {}).tensor("y", {4}).input("x").input("hi").output("y");
  G.node("c", "Clip", {"x", "", "hi"}, {"y"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  auto Y = fromBytes<float>(run(*Graph, {toBytes(std::vector<float>{-9, 1, 5, NAN}), toBytes(std::vector<float>{2})})[0]);
  EXPECT_EQ(Y[0], -9);
  EXPECT_EQ(Y[1], 1);
  EXPECT_EQ(Y[2], 2);
  EXPECT_TRUE(std::isnan(Y[3]));
  auto A = runNode("Clip", {{"F32", {3}, {-5, 0.5, 5}}}, "F32", {3}, {attrFloat("min", -1), attrFloat("max", 1)});
  EXPECT_EQ(A, (std::vector<double>{-1, 0.5, 1}));
}

TEST(NativeActivation, Refusals) {
  auto Spec = [](const std::string &Op, const std::string &T, std::vector<std::string> Attrs = {}) {
    GraphSpec G;
    G.tensor("x", {4}, T).tensor("y", {4}, T).input("x").output("y").node("a", Op, {"x"}, {"y"}, Attrs);
    return G;
  };
  expectLoadError(Spec("Sigmoid", "I32"), OPTIMA_STATUS_UNSUPPORTED, {"node \"a\" (op Sigmoid: I32 input \"x\")"});
  expectLoadError(Spec("Relu", "U8"), OPTIMA_STATUS_UNSUPPORTED, {"(op Relu: U8 input \"x\")"});
  expectLoadError(Spec("Gelu", "F32", {attrString("approximate", "erf")}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.approximate: must be \"none\" or \"tanh\", got \"erf\""});
  expectLoadError(Spec("LeakyRelu", "F32", {attrInt("alpha", 1)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.alpha: expected float, got int"});
  expectLoadError(Spec("Celu", "F32", {attrFloat("alpha", 0)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.alpha: must not be 0"});
  expectLoadError(Spec("Elu", "F32", {attrFloat("beta", 1)}), OPTIMA_STATUS_UNSUPPORTED,
                  {"(op Elu: attribute \"beta\")"});
  GraphSpec P;
  P.tensor("x", {2, 3}).tensor("s", {2}).tensor("y", {2, 3}).input("x").input("s").output("y");
  P.node("p", "PRelu", {"x", "s"}, {"y"});
  expectLoadError(P, OPTIMA_STATUS_INVALID_MODEL, {"slope shape [2] cannot be broadcast to X shape [2, 3]"});
  GraphSpec C;
  C.tensor("x", {4}).tensor("lo", {2}).tensor("y", {4}).input("x").input("lo").output("y");
  C.node("c", "Clip", {"x", "lo"}, {"y"});
  expectLoadError(C, OPTIMA_STATUS_INVALID_MODEL, {"min must be a scalar, got shape [2]"});
}
