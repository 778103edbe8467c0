// Unary math ops (Abs, Neg, Sign, Erf, Reciprocal, Floor, Ceil, Round, Sqrt, Exp, Log, trig and
// hyperbolic functions, IsNaN, IsInf) on every supported type vs <cmath> in double.
#include "ElementwiseTestUtil.h"

using namespace ew_test;

namespace {
const double Inf = std::numeric_limits<double>::infinity();
const double NaN = std::numeric_limits<double>::quiet_NaN();
} // namespace

TEST(NativeUnary, NumericOps) {
  checkUnaryOp("Abs", NumericTypes, -50, 50, [](double X) { return std::fabs(X); }, {}, 1, {-0.0, Inf, -Inf, NaN});
  checkUnaryOp("Neg", join(FloatTypes, SignedTypes), -50, 50, [](double X) { return -X; }, {}, 1, {Inf, NaN});
  checkUnaryOp("Sign", NumericTypes, -50, 50,
               [](double X) { return std::isnan(X) ? X : double((X > 0) - (X < 0)); }, {}, 1,
               {0.0, -0.0, Inf, -Inf, NaN});
  checkUnaryOp("Erf", NumericTypes, -3, 3, [](double X) { return std::erf(X); }, {}, 8, {0.0, Inf, -Inf});
}

TEST(NativeUnary, IntegerEdgeCases) {
  // |MIN| and -MIN wrap to MIN instead of trapping.
  auto A = runNode("Abs", {{"I8", {3}, {-128, -5, 127}}}, "I8", {3});
  EXPECT_EQ(A, (std::vector<double>{-128, 5, 127}));
  auto N = runNode("Neg", {{"I16", {3}, {-32768, -5, 7}}}, "I16", {3});
  EXPECT_EQ(N, (std::vector<double>{-32768, 5, -7}));
  auto S = runNode("Sign", {{"U32", {3}, {0, 5, 4000000000.0}}}, "U32", {3});
  EXPECT_EQ(S, (std::vector<double>{0, 1, 1}));
}

TEST(NativeUnary, FloatMath) {
  struct Case {
    const char *Op;
    double Lo, Hi;
    std::function<double(double)> F;
    std::vector<double> Extra;
  };
  const std::vector<Case> Cases = {
      {"Reciprocal", 0.1, 8, [](double X) { return 1 / X; }, {-2.0, 0.0, -0.0, Inf}},
      {"Floor", -20, 20, [](double X) { return std::floor(X); }, {-0.5, 2.0, -2.5, Inf, NaN}},
      {"Ceil", -20, 20, [](double X) { return std::ceil(X); }, {-0.5, 2.0, -2.5, Inf, NaN}},
      {"Round", -20, 20,
       [](double X) { // half to even, written out
         double F = std::floor(X), D = X - F;
         if (D > 0.5 || (D == 0.5 && std::fmod(F, 2.0) != 0))
           return F + 1;
         return F;
       },
       {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, Inf, NaN}},
      {"Sqrt", 0, 50, [](double X) { return std::sqrt(X); }, {0.0, -1.0, Inf}},
      {"Exp", -8, 8, [](double X) { return std::exp(X); }, {-Inf, Inf, NaN}},
      {"Log", 0.01, 50, [](double X) { return std::log(X); }, {0.0, -1.0, Inf}},
      {"Sin", -6, 6, [](double X) { return std::sin(X); }, {}},
      {"Cos", -6, 6, [](double X) { return std::cos(X); }, {}},
      {"Tan", -1.4, 1.4, [](double X) { return std::tan(X); }, {}},
      {"Asin", -0.99, 0.99, [](double X) { return std::asin(X); }, {2.0}},
      {"Acos", -0.99, 0.99, [](double X) { return std::acos(X); }, {}},
      {"Atan", -8, 8, [](double X) { return std::atan(X); }, {Inf}},
      {"Sinh", -5, 5, [](double X) { return std::sinh(X); }, {}},
      {"Cosh", -5, 5, [](double X) { return std::cosh(X); }, {}},
      {"Asinh", -8, 8, [](double X) { return std::asinh(X); }, {}},
      {"Acosh", 1, 8, [](double X) { return std::acosh(X); }, {0.5}},
      {"Atanh", -0.95, 0.95, [](double X) { return std::atanh(X); }, {1.0}},
  };
  for (const Case &C : Cases)
    checkUnaryOp(C.Op, FloatTypes, C.Lo, C.Hi, C.F, {}, 8, C.Extra);
}

TEST(NativeUnary, IsNaNAndIsInf) {
  std::vector<double> X{1.5, NaN, Inf, -Inf, 0.0, -3.0};
  for (const std::string &T : FloatTypes) {
    SCOPED_TRACE(T);
    EXPECT_EQ(runNode("IsNaN", {{T, {2, 3}, X}}, "BOOL", {2, 3}), (std::vector<double>{0, 1, 0, 0, 0, 0}));
    EXPECT_EQ(runNode("IsInf", {{T, {2, 3}, X}}, "BOOL", {2, 3}), (std::vector<double>{0, 0, 1, 1, 0, 0}));
    EXPECT_EQ(runNode("IsInf", {{T, {2, 3}, X}}, "BOOL", {2, 3}, {attrInt("detect_negative", 0)}),
              (std::vector<double>{0, 0, 1, 0, 0, 0}));
    EXPECT_EQ(runNode("IsInf", {{T, {2, 3}, X}}, "BOOL", {2, 3}, {attrInt("detect_positive", 0)}),
              (std::vector<double>{0, 0, 0, 1, 0, 0}));
  }
}

TEST(NativeUnary, Refusals) {
  auto Spec = [](const std::string &Op, const std::string &T, const std::string &TY, Shape SY = {4}) {
    GraphSpec G;
    G.tensor("x", {4}, T).tensor("y", SY, TY).input("x").output("y").node("u", Op, {"x"}, {"y"});
    return G;
  };
  expectLoadError(Spec("Sqrt", "I32", "I32"), OPTIMA_STATUS_UNSUPPORTED, {"node \"u\" (op Sqrt: I32 input \"x\")"});
  expectLoadError(Spec("Neg", "U8", "U8"), OPTIMA_STATUS_UNSUPPORTED, {"(op Neg: U8 input \"x\")"});
  expectLoadError(Spec("Abs", "BOOL", "BOOL"), OPTIMA_STATUS_UNSUPPORTED, {"(op Abs: BOOL input \"x\")"});
  expectLoadError(Spec("Exp", "F32", "F32", {5}), OPTIMA_STATUS_INVALID_MODEL,
                  {"output \"y\" is declared F32 [5] but Exp produces F32 [4]"});
  expectLoadError(Spec("IsNaN", "F32", "F32"), OPTIMA_STATUS_INVALID_MODEL,
                  {"output \"y\" is declared F32 [4] but IsNaN produces BOOL [4]"});
}
