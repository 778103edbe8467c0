// Cast and CastLike over every pair of supported types, plus the documented edge rules (NaN,
// out-of-range, wrap-around, BOOL bytes), vs conversions written here.
#include "ElementwiseTestUtil.h"

using namespace ew_test;

namespace {

const std::vector<std::string> AllTypes = join(NumericTypes, {"BOOL"});

int onnxCode(const std::string &T) {
  static const std::vector<std::pair<std::string, int>> Codes = {
      {"F32", 1}, {"U8", 2}, {"I8", 3}, {"U16", 4}, {"I16", 5}, {"I32", 6}, {"I64", 7},
      {"BOOL", 9}, {"F16", 10}, {"F64", 11}, {"U32", 12}, {"U64", 13}, {"BF16", 16}};
  for (auto &[N, C] : Codes)
    if (N == T)
      return C;
  return -1;
}

double refCast(const std::string &To, double V) {
  if (To == "BOOL")
    return V != 0 ? 1 : 0; // NaN != 0
  if (isFloat(To))
    return roundTo(To, V);
  return std::trunc(V);
}

std::vector<double> inputsFor(const std::string &From, const std::string &To) {
  if (From == "BOOL")
    return {0, 1, 1, 0};
  std::vector<double> V{0, 1, 7, 42, 100, 127};
  if (isFloat(From))
    for (double X : {2.75, 99.5, 0.5})
      V.push_back(X);
  bool FromSigned = isFloat(From) || From[0] == 'I';
  bool ToSigned = isFloat(To) || To[0] == 'I' || To == "BOOL";
  if (FromSigned && ToSigned)
    for (double X : {-5.0, -128.0, isFloat(From) ? -2.75 : -1.0})
      V.push_back(X);
  return V;
}

} // namespace

TEST(NativeCast, EveryTypePair) {
  for (const std::string &From : AllTypes) {
    for (const std::string &To : AllTypes) {
      SCOPED_TRACE(From + " -> " + To);
      std::vector<double> X = inputsFor(From, To);
      for (double &V : X)
        V = roundTo(From, V);
      Shape S{int64_t(X.size())};
      auto Y = runNode("Cast", {{From, S, X}}, To, S, {attrInt("to", onnxCode(To))});
      auto L = runNode("CastLike", {{From, S, X}, {To, {1}, {0}}}, To, S);
      for (size_t I = 0; I < X.size(); ++I) {
        EXPECT_EQ(Y[I], refCast(To, X[I])) << "x=" << X[I];
        EXPECT_EQ(L[I], refCast(To, X[I])) << "x=" << X[I];
      }
    }
  }
}

TEST(NativeCast, LargeTensorOnThreads) {
  Shape S{70001};
  std::vector<double> X = valuesFor("F32", 70001, 9, -1000, 1000);
  auto Y = runNode("Cast", {{"F32", S, X}}, "I32", S, {attrInt("to", 6)}, 4);
  for (size_t I = 0; I < X.size(); ++I)
    ASSERT_EQ(Y[I], std::trunc(X[I])) << X[I];
  auto H = runNode("Cast", {{"F32", S, X}}, "F16", S, {attrInt("to", 10)}, 4);
  for (size_t I = 0; I < X.size(); ++I)
    ASSERT_EQ(H[I], double(_Float16(float(X[I])))) << X[I];
}

TEST(NativeCast, EdgeRules) {
  const double NaN = std::numeric_limits<double>::quiet_NaN(), Inf = std::numeric_limits<double>::infinity();
  std::vector<double> F{NaN, 1e10, -1e10, -1.0, 300.0, Inf};
  // float -> signed: NaN -> 0, saturation.
  EXPECT_EQ(runNode("Cast", {{"F32", {6}, F}}, "I32", {6}, {attrInt("to", 6)}),
            (std::vector<double>{0, 2147483647.0, -2147483648.0, -1, 300, 2147483647.0}));
  // float -> unsigned: negative values wrap through int64, large ones saturate.
  EXPECT_EQ(runNode("Cast", {{"F32", {6}, F}}, "U8", {6}, {attrInt("to", 2)}),
            (std::vector<double>{0, 255, 0, 255, 255, 255}));
  // float -> BOOL: NaN is true.
  EXPECT_EQ(runNode("Cast", {{"F64", {4}, {NaN, 0.0, -0.0, 1e-300}}}, "BOOL", {4}, {attrInt("to", 9)}),
            (std::vector<double>{1, 0, 0, 1}));
  // integer -> integer wraps.
  EXPECT_EQ(runNode("Cast", {{"I32", {3}, {300, -129, 65535}}}, "I8", {3}, {attrInt("to", 3)}),
            (std::vector<double>{44, 127, -1}));
  EXPECT_EQ(runNode("Cast", {{"I64", {1}, {-1}}}, "U64", {1}, {attrInt("to", 13)})[0], 18446744073709551615.0);
  // F32 -> F16: overflow to Inf, underflow to 0, NaN stays NaN.
  auto H = runNode("Cast", {{"F32", {4}, {70000, 1e-9, 0.1, NaN}}}, "F16", {4}, {attrInt("to", 10)});
  EXPECT_EQ(H[0], Inf);
  EXPECT_EQ(H[1], 0);
  EXPECT_EQ(H[2], double(_Float16(0.1f)));
  EXPECT_TRUE(std::isnan(H[3]));
  // BOOL bytes other than 0/1 count as true.
  GraphSpec G;
  G.tensor("x", {3}, "BOOL").tensor("y", {3}, "F32").input("x").output("y").node("c", "Cast", {"x"}, {"y"}, {attrInt("to", 1)});
  TempDir Dir;
  auto Graph = load(G, Dir);
  EXPECT_EQ(fromBytes<float>(run(*Graph, {Bytes{0, 2, 255}})[0]), (std::vector<float>{0, 1, 1}));
}

TEST(NativeCast, Refusals) {
  auto Spec = [](int64_t To, const std::string &OutType, std::vector<std::string> Attrs = {}) {
    GraphSpec G;
    if (To != 0)
      Attrs.push_back(attrInt("to", To));
    G.tensor("x", {2}).tensor("y", {2}, OutType).input("x").output("y").node("c", "Cast", {"x"}, {"y"}, Attrs);
    return G;
  };
  expectLoadError(Spec(8, "F32"), OPTIMA_STATUS_UNSUPPORTED, {"node \"c\" (op Cast: cast to STRING)"});
  expectLoadError(Spec(17, "U8"), OPTIMA_STATUS_UNSUPPORTED, {"(op Cast: cast to FLOAT8E4M3FN)"});
  expectLoadError(Spec(99, "F32"), OPTIMA_STATUS_INVALID_MODEL, {"attributes.to: unknown ONNX data type 99"});
  expectLoadError(Spec(0, "F32"), OPTIMA_STATUS_INVALID_MODEL, {"attributes.to: required attribute is missing"});
  expectLoadError(Spec(7, "I32"), OPTIMA_STATUS_INVALID_MODEL,
                  {"output \"y\" is declared I32 [2] but Cast produces I64 [2]"});
  expectLoadError(Spec(7, "I64", {attrInt("saturate", 3)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.saturate: must be 0 or 1, got 3"});
  GraphSpec Q;
  Q.tensor("x", {2}, "Q8").tensor("y", {2}).input("x").output("y").node("c", "Cast", {"x"}, {"y"}, {attrInt("to", 1)});
  expectLoadError(Q, OPTIMA_STATUS_UNSUPPORTED, {"(op Cast: Q8 input \"x\")"});
}
