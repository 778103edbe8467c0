// Binary arithmetic (Add, Sub, Mul, Div, Pow, Mod, bitwise, BitShift) and the variadic Max, Min,
// Sum, Mean: every supported type, numpy broadcasting, vs references computed here in double /
// int64 with explicit wrap-around.
#include "ElementwiseTestUtil.h"

using namespace ew_test;

namespace {

struct BroadcastCase {
  Shape A, B, Out;
};

const std::vector<BroadcastCase> Cases = {
    {{2, 3}, {2, 3}, {2, 3}},
    {{}, {}, {}},
    {{4, 5}, {}, {4, 5}},
    {{}, {4, 5}, {4, 5}},
    {{3, 1}, {1, 4}, {3, 4}},
    {{2, 3, 4}, {4}, {2, 3, 4}},
    {{2, 1, 4}, {3, 1}, {2, 3, 4}},
    {{1, 3, 1, 5}, {2, 1, 7, 1}, {2, 3, 7, 5}},
    {{5, 1, 1}, {1, 1, 6}, {5, 1, 6}},
    {{2, 0, 3}, {3}, {2, 0, 3}},
    {{129, 257}, {257}, {129, 257}}, // big enough to be split across threads
    {{300, 1}, {300, 70}, {300, 70}},
    {{40000}, {40000}, {40000}}, // same shape, split within the single row
};

// Integer result wrapped to T like a two's-complement store.
double wrapInt(const std::string &T, double V) {
  int64_t I = int64_t(V);
  if (T == "I8") return int8_t(I);
  if (T == "I16") return int16_t(I);
  if (T == "I32") return int32_t(I);
  if (T == "I64") return double(I);
  if (T == "U8") return uint8_t(I);
  if (T == "U16") return uint16_t(I);
  if (T == "U32") return uint32_t(I);
  return double(uint64_t(I));
}

using Fn2 = std::function<double(double, double)>;

void checkBinary(const std::string &Op, const std::string &Type, const Fn2 &F, double Lo, double Hi,
                 const std::vector<std::string> &Attrs = {}, const std::string &OutType = "",
                 bool AvoidSmall = false) {
  std::string OT = OutType.empty() ? Type : OutType;
  for (const BroadcastCase &C : Cases) {
    for (unsigned Threads : {1u, 4u}) {
      if (Threads > 1 && elementCount(C.Out) < 10000)
        continue;
      // Large cases (threading, row splitting) on a few representative types keep this fast.
      if (elementCount(C.Out) >= 10000 && Type != "F32" && Type != "F16" && Type != "I64" && Type != "U8")
        continue;
      SCOPED_TRACE(Op + " " + Type + " A" + ::testing::PrintToString(C.A) + " B" +
                   ::testing::PrintToString(C.B) + " threads " + std::to_string(Threads));
      std::vector<double> A = valuesFor(Type, elementCount(C.A), 11, Lo, Hi);
      std::vector<double> B = valuesFor(Type, elementCount(C.B), 12, Lo, Hi);
      if (AvoidSmall)
        for (double &X : B)
          if (std::fabs(X) < 0.25)
            X = roundTo(Type, X < 0 ? X - 0.5 : X + 0.5);
      std::vector<double> Y = runNode(Op, {{Type, C.A, A}, {Type, C.B, B}}, OT, C.Out, Attrs, Threads);
      std::vector<double> Ref = referenceBroadcast({A, B}, {C.A, C.B}, C.Out,
                                                   [&](const std::vector<double> &V) { return F(V[0], V[1]); });
      ASSERT_EQ(Y.size(), Ref.size());
      for (size_t I = 0; I < Y.size(); ++I) {
        double Want = isFloat(OT) ? Ref[I] : OT == "BOOL" ? Ref[I] : wrapInt(OT, Ref[I]);
        if (!closeEnough(OT, Y[I], Want)) {
          expectClose(OT, Y[I], Want, "at " + std::to_string(I));
          return;
        }
      }
    }
  }
}

double truncDiv(double A, double B) { return B == 0 ? 0 : std::trunc(A / B); }
double floorMod(double A, double B) {
  if (B == 0)
    return 0;
  double R = std::fmod(A, B);
  return (R != 0 && ((R < 0) != (B < 0))) ? R + B : R;
}
double cMod(double A, double B) { return B == 0 ? 0 : std::fmod(A, B); }

} // namespace

TEST(NativeElementwise, ArithmeticFloatTypes) {
  for (const std::string &T : FloatTypes) {
    checkBinary("Add", T, [](double A, double B) { return A + B; }, -4, 4);
    checkBinary("Sub", T, [](double A, double B) { return A - B; }, -4, 4);
    checkBinary("Mul", T, [](double A, double B) { return A * B; }, -4, 4);
    checkBinary("Div", T, [](double A, double B) { return A / B; }, -4, 4, {}, "", true);
  }
}

TEST(NativeElementwise, ArithmeticIntegerTypesWrap) {
  for (const std::string &T : IntTypes) {
    auto [Lo, Hi] = intRange(T);
    checkBinary("Add", T, [](double A, double B) { return A + B; }, Lo, Hi);
    checkBinary("Sub", T, [](double A, double B) { return A - B; }, Lo, Hi); // unsigned wraps
    checkBinary("Mul", T, [](double A, double B) { return A * B; }, Lo, Hi); // I8/U8 wrap
    checkBinary("Div", T, truncDiv, Lo, Hi);                                 // includes x / 0
  }
}

TEST(NativeElementwise, IntegerDivisionEdgeCases) {
  int32_t Min = std::numeric_limits<int32_t>::min();
  std::vector<double> A{7, -7, 5, double(Min), 10, -9}, B{2, 2, 0, -1, -3, 0};
  auto Y = runNode("Div", {{"I32", {6}, A}, {"I32", {6}, B}}, "I32", {6});
  EXPECT_EQ(Y, (std::vector<double>{3, -3, 0, double(Min), -3, 0})); // truncation; /0 -> 0; MIN/-1 wraps
  auto M = runNode("Mod", {{"I32", {6}, A}, {"I32", {6}, B}}, "I32", {6});
  EXPECT_EQ(M, (std::vector<double>{1, 1, 0, 0, -2, 0})); // sign of divisor; x mod 0 -> 0
  auto F = runNode("Mod", {{"I32", {6}, A}, {"I32", {6}, B}}, "I32", {6}, {attrInt("fmod", 1)});
  EXPECT_EQ(F, (std::vector<double>{1, -1, 0, 0, 1, 0})); // sign of dividend
}

TEST(NativeElementwise, ModBothModes) {
  for (const std::string &T : NumericTypes) {
    auto [Lo, Hi] = isFloat(T) ? std::pair<double, double>{-8, 8} : intRange(T);
    if (isFloat(T)) {
      checkBinary("Mod", T, [](double A, double B) { return std::fmod(A, B); }, Lo, Hi, {attrInt("fmod", 1)}, "", true);
      checkBinary("Mod", T, floorMod, Lo, Hi, {}, "", true);
    } else {
      checkBinary("Mod", T, cMod, Lo, Hi, {attrInt("fmod", 1)});
      checkBinary("Mod", T, floorMod, Lo, Hi, {attrInt("fmod", 0)});
    }
  }
}

TEST(NativeElementwise, PowTypeCombinations) {
  // Float bases, float and integer exponents.
  for (const std::string &T : FloatTypes) {
    for (const std::string &E : {T, std::string("I64"), std::string("I8"), std::string("F32")}) {
      SCOPED_TRACE(T + " ^ " + E);
      Shape S{3, 5};
      std::vector<double> X = valuesFor(T, 15, 3, 0.2, 3.0), Y = valuesFor(E, 15, 4, -3, 3);
      X[0] = roundTo(T, -2.0);
      Y[0] = 3; // negative base, integral exponent
      auto Out = runNode("Pow", {{T, S, X}, {E, {15 / 5, 5}, Y}}, T, S);
      for (size_t I = 0; I < 15; ++I)
        expectClose(T, Out[I], std::pow(X[I], Y[I]), "at " + std::to_string(I), 4);
    }
  }
  // Integer bases: exact with integer exponents, truncated with float ones; broadcast exponent.
  for (const std::string &T : {std::string("I32"), std::string("I64")}) {
    std::vector<double> X{2, -3, 5, 0, 1, -1, 7, 4};
    auto Out = runNode("Pow", {{T, {2, 4}, X}, {"U8", {4}, {3, 2, 0, 5}}}, T, {2, 4});
    EXPECT_EQ(Out, (std::vector<double>{8, 9, 1, 0, 1, 1, 1, 1024}));
    auto Neg = runNode("Pow", {{T, {4}, {2, 1, -1, -1}}, {"I32", {4}, {-1, -5, -3, -2}}}, T, {4});
    EXPECT_EQ(Neg, (std::vector<double>{0, 1, -1, 1}));
    auto Fl = runNode("Pow", {{T, {3}, {4, 2, 9}}, {"F32", {3}, {0.5, 1.5, 2}}}, T, {3});
    EXPECT_EQ(Fl, (std::vector<double>{2, 2, 81})); // 2^1.5 = 2.83 truncates to 2
  }
}

TEST(NativeElementwise, BitwiseAndShift) {
  for (const std::string &T : IntTypes) {
    double Lo = isUnsigned(T) ? 0 : -120, Hi = 120;
    auto Bits = [&](auto F) {
      return [F, T](double A, double B) { return wrapInt(T, double(F(int64_t(A), int64_t(B)))); };
    };
    checkBinary("BitwiseAnd", T, Bits([](int64_t A, int64_t B) { return A & B; }), Lo, Hi);
    checkBinary("BitwiseOr", T, Bits([](int64_t A, int64_t B) { return A | B; }), Lo, Hi);
    checkBinary("BitwiseXor", T, Bits([](int64_t A, int64_t B) { return A ^ B; }), Lo, Hi);
    std::vector<double> X = valuesFor(T, 9, 5, Lo, Hi);
    auto Y = runNode("BitwiseNot", {{T, {9}, X}}, T, {9});
    for (size_t I = 0; I < 9; ++I)
      EXPECT_EQ(Y[I], wrapInt(T, double(~int64_t(X[I])))) << T;
  }
  for (const std::string &T : UnsignedTypes) {
    double Bits = double(sizeOf(T) * 8);
    std::vector<double> X{1, 3, 255, 16, 200, 7}, S{0, 1, 4, 2, Bits, Bits - 1};
    auto L = runNode("BitShift", {{T, {6}, X}, {T, {6}, S}}, T, {6}, {attrString("direction", "LEFT")});
    auto R = runNode("BitShift", {{T, {6}, X}, {T, {6}, S}}, T, {6}, {attrString("direction", "RIGHT")});
    for (size_t I = 0; I < 6; ++I) {
      double WantL = S[I] >= Bits ? 0 : std::fmod(X[I] * std::pow(2.0, S[I]), std::pow(2.0, Bits));
      double WantR = S[I] >= Bits ? 0 : std::floor(X[I] / std::pow(2.0, S[I]));
      EXPECT_EQ(L[I], WantL) << T << " " << X[I] << " << " << S[I];
      EXPECT_EQ(R[I], WantR) << T << " " << X[I] << " >> " << S[I];
    }
  }
}

TEST(NativeElementwise, BitShiftSignedAndOutOfRange) {
  // Signed: left shifts wrap, right shifts are arithmetic; counts outside [0, bits) give 0, or
  // -1 for a negative value shifted right.
  for (const std::string &T : SignedTypes) {
    double Bits = double(sizeOf(T) * 8);
    std::vector<double> X{-8, 4, -1, 5, -7, 3}, S{1, 2, Bits, -1, Bits + 3, Bits - 2};
    auto L = runNode("BitShift", {{T, {6}, X}, {T, {6}, S}}, T, {6}, {attrString("direction", "LEFT")});
    auto R = runNode("BitShift", {{T, {6}, X}, {T, {6}, S}}, T, {6}, {attrString("direction", "RIGHT")});
    for (size_t I = 0; I < 6; ++I) {
      bool Out = S[I] < 0 || S[I] >= Bits;
      double P = std::pow(2.0, S[I]);
      double WantL = Out ? 0 : wrapInt(T, double(int64_t(uint64_t(int64_t(X[I])) << uint64_t(S[I]))));
      double WantR = Out ? (X[I] < 0 ? -1 : 0) : std::floor(X[I] / P);
      EXPECT_EQ(L[I], WantL) << T << " " << X[I] << " << " << S[I];
      EXPECT_EQ(R[I], WantR) << T << " " << X[I] << " >> " << S[I];
    }
  }
}

TEST(NativeElementwise, VariadicMaxMinSumMean) {
  // The second list grows the result only at the third input (the first step's plan already
  // targets the full output shape).
  const std::vector<std::vector<Shape>> ShapeLists = {{{3, 1, 5}, {4, 1}, {5}, {1}}, {{5}, {1}, {3, 4, 1}}};
  const Shape Out{3, 4, 5};
  struct Variadic {
    const char *Op;
    std::function<double(const std::vector<double> &)> F;
    std::vector<std::string> Types;
  };
  auto Max = [](const std::vector<double> &V) { return *std::max_element(V.begin(), V.end()); };
  auto Min = [](const std::vector<double> &V) { return *std::min_element(V.begin(), V.end()); };
  auto Sum = [](const std::vector<double> &V) { double S = 0; for (double X : V) S += X; return S; };
  auto Mean = [&](const std::vector<double> &V) { return Sum(V) / double(V.size()); };
  for (const Variadic &Op : {Variadic{"Max", Max, NumericTypes}, Variadic{"Min", Min, NumericTypes},
                             Variadic{"Sum", Sum, FloatTypes}, Variadic{"Mean", Mean, FloatTypes}}) {
    for (const std::string &T : Op.Types) {
      auto [Lo, Hi] = isFloat(T) ? std::pair<double, double>{-4, 4} : intRange(T);
      for (const std::vector<Shape> &Shapes : ShapeLists)
      for (size_t N = 1; N <= Shapes.size(); ++N) {
        SCOPED_TRACE(std::string(Op.Op) + " " + T + " inputs " + std::to_string(N));
        std::vector<Operand> Ins;
        std::vector<std::vector<double>> Vals;
        std::vector<Shape> Sh;
        Shape OutShape = N == 1 ? Shapes[0] : N == 2 && Shapes[0] == Shape{5} ? Shape{5} : Out;
        for (size_t I = 0; I < N; ++I) {
          Ins.push_back({T, Shapes[I], valuesFor(T, elementCount(Shapes[I]), uint32_t(20 + I), Lo, Hi)});
          Vals.push_back(Ins.back().Values);
          Sh.push_back(Shapes[I]);
        }
        auto Y = runNode(Op.Op, Ins, T, OutShape);
        auto Ref = referenceBroadcast(Vals, Sh, OutShape, Op.F);
        for (size_t I = 0; I < Y.size(); ++I)
          expectClose(T, Y[I], Ref[I], "at " + std::to_string(I), 4);
      }
    }
  }
  double NaN = std::numeric_limits<double>::quiet_NaN();
  auto Y = runNode("Max", {{"F32", {3}, {NaN, 1, 2}}, {"F32", {3}, {1, NaN, 0}}}, "F32", {3});
  EXPECT_TRUE(std::isnan(Y[0]) && std::isnan(Y[1]));
  EXPECT_EQ(Y[2], 2);
}

TEST(NativeElementwise, RejectsBadShapesTypesAndAttributes) {
  auto Spec = [](const std::string &Op, Shape A, Shape B, Shape Y, std::string TA, std::string TB,
                 std::string TY, std::vector<std::string> Attrs = {}) {
    GraphSpec G;
    G.tensor("a", A, TA).tensor("b", B, TB).tensor("y", Y, TY);
    G.input("a").input("b").output("y").node("op1", Op, {"a", "b"}, {"y"}, Attrs);
    return G;
  };
  expectLoadError(Spec("Add", {2, 3}, {4}, {2, 3}, "F32", "F32", "F32"), OPTIMA_STATUS_INVALID_MODEL,
                  {"nodes[0] (Add \"op1\")", "[2, 3] and [4] cannot be broadcast together"});
  expectLoadError(Spec("Add", {2, 3}, {3}, {2, 4}, "F32", "F32", "F32"), OPTIMA_STATUS_INVALID_MODEL,
                  {"output \"y\" is declared F32 [2, 4] but Add produces F32 [2, 3]"});
  expectLoadError(Spec("Mul", {2}, {2}, {2}, "F32", "I32", "F32"), OPTIMA_STATUS_INVALID_MODEL,
                  {"inputs have different types (F32 and I32)"});
  expectLoadError(Spec("Add", {2}, {2}, {2}, "BOOL", "BOOL", "BOOL"), OPTIMA_STATUS_UNSUPPORTED,
                  {"node \"op1\" (op Add: BOOL input \"a\")"});
  expectLoadError(Spec("BitwiseAnd", {2}, {2}, {2}, "F32", "F32", "F32"), OPTIMA_STATUS_UNSUPPORTED,
                  {"op BitwiseAnd: F32 input \"a\""});
  expectLoadError(Spec("BitShift", {2}, {2}, {2}, "F32", "F32", "F32", {attrString("direction", "LEFT")}),
                  OPTIMA_STATUS_UNSUPPORTED, {"op BitShift: F32 input \"a\""});
  expectLoadError(Spec("BitShift", {2}, {2}, {2}, "U8", "U8", "U8", {attrString("direction", "UP")}),
                  OPTIMA_STATUS_INVALID_MODEL, {"attributes.direction: must be \"LEFT\" or \"RIGHT\""});
  expectLoadError(Spec("BitShift", {2}, {2}, {2}, "U8", "U8", "U8"), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.direction: required attribute is missing"});
  expectLoadError(Spec("Mod", {2}, {2}, {2}, "I32", "I32", "I32", {attrInt("fmod", 2)}),
                  OPTIMA_STATUS_INVALID_MODEL, {"attributes.fmod: must be 0 or 1, got 2"});
  expectLoadError(Spec("Pow", {2}, {2}, {2}, "I8", "I8", "I8"), OPTIMA_STATUS_UNSUPPORTED,
                  {"op Pow: I8 input \"a\""});
  expectLoadError(Spec("Sum", {2}, {2}, {2}, "I32", "I32", "I32"), OPTIMA_STATUS_UNSUPPORTED,
                  {"op Sum: I32 input \"a\""});
  expectLoadError(Spec("Max", {2, 3}, {2}, {2, 3}, "F32", "F32", "F32"), OPTIMA_STATUS_INVALID_MODEL,
                  {"input 1 shape [2] cannot be broadcast to [2, 3]"});
  expectLoadError(Spec("Div", {2}, {2}, {2}, "Q8", "Q8", "Q8"), OPTIMA_STATUS_UNSUPPORTED,
                  {"op Div: Q8 input \"a\""});
}
