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
    ASSERT_EQ(H[I], double(TestHalf(float(X[I])))) << X[I];
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
  EXPECT_EQ(H[2], double(TestHalf(0.1f)));
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
  expectLoadError(Spec(27, "U8"), OPTIMA_STATUS_UNSUPPORTED, {"(op Cast: cast to FLOAT6E2M3)"});
  expectLoadError(Spec(17, "U8"), OPTIMA_STATUS_INVALID_MODEL,
                  {"output \"y\" is declared U8 [2] but Cast produces F8E4M3FN [2]"});
  expectLoadError(Spec(24, "F8E8M0", {attrString("round_mode", "odd")}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.round_mode: must be \"up\", \"nearest\" or \"down\", got \"odd\""});
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

// ---- ONNX low-precision types. Expected bytes are computed by hand from the format definitions
// (ONNX docs / ml_dtypes): S.EEEE.MMM etc., round to nearest even; the Python suite
// (tests/python/test_element_types.py) also compares all 256 codes and a float sweep with ml_dtypes.

namespace {

const double NaN = std::numeric_limits<double>::quiet_NaN();
const double Inf = std::numeric_limits<double>::infinity();

size_t bytesPerElement(const std::string &T) {
  for (const char *Low : {"F8E4M3FN", "F8E4M3FNUZ", "F8E5M2", "F8E5M2FNUZ", "F8E8M0", "I4", "U4", "F4E2M1", "I2", "U2"})
    if (T == Low)
      return 1;
  return sizeOf(T);
}

// Runs a one-node Cast graph on raw input bytes and returns the output bytes.
Bytes castBytes(const std::string &From, const std::string &To, int64_t ToCode, const Bytes &X,
                std::vector<std::string> Attrs = {}) {
  Attrs.push_back(attrInt("to", ToCode));
  GraphSpec G;
  int64_t N = int64_t(X.size() / bytesPerElement(From));
  G.tensor("x", {N}, From).tensor("y", {N}, To).input("x").output("y").node("c", "Cast", {"x"}, {"y"}, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  return run(*Graph, {X})[0];
}

Bytes fromF32(const std::string &To, int64_t ToCode, const std::vector<float> &X,
              std::vector<std::string> Attrs = {}) {
  return castBytes("F32", To, ToCode, toBytes(X), std::move(Attrs));
}

std::vector<float> toF32(const std::string &From, const Bytes &X) {
  return fromBytes<float>(castBytes(From, "F32", 1, X));
}

// Compares floats treating NaN == NaN and distinguishing -0 from +0.
void expectSameFloats(const std::vector<float> &Got, const std::vector<double> &Want) {
  ASSERT_EQ(Got.size(), Want.size());
  for (size_t I = 0; I < Got.size(); ++I) {
    if (std::isnan(Want[I])) {
      EXPECT_TRUE(std::isnan(Got[I])) << "at " << I;
    } else {
      EXPECT_EQ(Got[I], float(Want[I])) << "at " << I;
      EXPECT_EQ(std::signbit(Got[I]), std::signbit(Want[I])) << "sign at " << I;
    }
  }
}

} // namespace

TEST(NativeCastLowPrecision, DecodesFloat8Codes) {
  expectSameFloats(toF32("F8E4M3FN", {0x00, 0x80, 0x01, 0x07, 0x08, 0x38, 0x40, 0x7E, 0xFE, 0x7F, 0xFF, 0xB9}),
                   {0, -0.0, 0x1p-9, 7 * 0x1p-9, 0x1p-6, 1, 2, 448, -448, NaN, NaN, -1.125});
  expectSameFloats(toF32("F8E4M3FNUZ", {0x00, 0x80, 0x01, 0x08, 0x40, 0x7F, 0xFF}),
                   {0, NaN, 0x1p-10, 0x1p-7, 1, 240, -240});
  expectSameFloats(toF32("F8E5M2", {0x01, 0x04, 0x3C, 0x7B, 0x7C, 0xFC, 0x7D, 0x7E, 0xFF, 0x80}),
                   {0x1p-16, 0x1p-14, 1, 57344, Inf, -Inf, NaN, NaN, NaN, -0.0});
  expectSameFloats(toF32("F8E5M2FNUZ", {0x00, 0x01, 0x40, 0x7F, 0xFF, 0x80}),
                   {0, 0x1p-17, 1, 57344, -57344, NaN});
  expectSameFloats(toF32("F4E2M1", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15}),
                   {0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -6});
  expectSameFloats(toF32("F8E8M0", {0x7F, 0x80, 0x7E, 0x00, 0xFE, 0xFF}),
                   {1, 2, 0.5, 0x1p-127, 0x1p127, NaN});
  // 4/2-bit integers: two's complement code in the low bits; the high bits are ignored on input.
  expectSameFloats(toF32("I4", {0x07, 0x08, 0x0F, 0x00, 0xF8}), {7, -8, -1, 0, -8});
  expectSameFloats(toF32("U4", {0x0F, 0x08, 0x01}), {15, 8, 1});
  expectSameFloats(toF32("I2", {0x01, 0x02, 0x03}), {1, -2, -1});
  expectSameFloats(toF32("U2", {0x03, 0x02}), {3, 2});
}

TEST(NativeCastLowPrecision, EncodesFloat8WithRoundingAndSaturation) {
  // E4M3FN: ties to even in the normal range (1.0625 between 1 and 1.125 -> 1; 1.1875 -> 1.25)
  // and the subnormal range (2^-10 is half the smallest subnormal -> 0; 3 * 2^-10 -> 2 * 2^-9).
  std::vector<float> X{1.0625f, 1.1875f, 0x1p-10f, 0x1.8p-10f, 3 * 0x1p-10f, 0.0f, -0.0f, 448.0f,
                       460.0f,  464.0f,  470.0f,   float(Inf),  -float(Inf),  float(NaN)};
  EXPECT_EQ(fromF32("F8E4M3FN", 17, X),
            (Bytes{0x38, 0x3A, 0x00, 0x01, 0x02, 0x00, 0x80, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0xFE, 0x7F}));
  EXPECT_EQ(fromF32("F8E4M3FN", 17, X, {attrInt("saturate", 0)}),
            (Bytes{0x38, 0x3A, 0x00, 0x01, 0x02, 0x00, 0x80, 0x7E, 0x7E, 0x7E, 0x7F, 0x7F, 0xFF, 0x7F}));
  // E4M3FNUZ: no -0 (-0 and negatives rounding to 0 give 0x00), 0x80 is the NaN; 248 is a tie
  // between 240 and 256 -> 256 (even) -> overflow.
  std::vector<float> U{-0.0f, -0x1p-13f, 244.0f, 248.0f, 1e6f, float(NaN), 1.0f};
  EXPECT_EQ(fromF32("F8E4M3FNUZ", 18, U), (Bytes{0x00, 0x00, 0x7F, 0x7F, 0x7F, 0x80, 0x40}));
  EXPECT_EQ(fromF32("F8E4M3FNUZ", 18, U, {attrInt("saturate", 0)}),
            (Bytes{0x00, 0x00, 0x7F, 0x80, 0x80, 0x80, 0x40}));
  // E5M2: 61440 is a tie between 57344 and 65536 -> Inf without saturation.
  std::vector<float> E{57344.0f, 60000.0f, 61440.0f, 1e9f, -1e9f, float(NaN), 0x1p-17f, 0x1.8p-17f};
  EXPECT_EQ(fromF32("F8E5M2", 19, E), (Bytes{0x7B, 0x7B, 0x7B, 0x7B, 0xFB, 0x7E, 0x00, 0x01}));
  EXPECT_EQ(fromF32("F8E5M2", 19, E, {attrInt("saturate", 0)}),
            (Bytes{0x7B, 0x7B, 0x7C, 0x7C, 0xFC, 0x7E, 0x00, 0x01}));
  EXPECT_EQ(fromF32("F8E5M2FNUZ", 20, {1e9f, -0.0f, 1.0f}, {attrInt("saturate", 0)}), (Bytes{0x80, 0x00, 0x40}));
  EXPECT_EQ(fromF32("F8E5M2FNUZ", 20, {1e9f, -1e9f}), (Bytes{0x7F, 0xFF}));
}

TEST(NativeCastLowPrecision, EncodesFloat4AndE8M0) {
  // E2M1 ties to even (0.25 -> 0, 0.75 -> 1, 2.5 -> 2, 5 -> 4), always clamps to 6; ml_dtypes
  // maps NaN to code 0x8.
  EXPECT_EQ(fromF32("F4E2M1", 23, {0.25f, 0.75f, 2.5f, 5.0f, 7.0f, float(Inf), -float(Inf), float(NaN), -0.0f, -1.5f}),
            (Bytes{0x0, 0x2, 0x4, 0x6, 0x7, 0x7, 0xF, 0x8, 0x8, 0xB}));
  // E8M0: the float32 exponent, rounded up by any fraction (default), to nearest, or down.
  std::vector<float> X{1.0f, 1.5f, 0.75f, 1.25f, 1.99f, 0.0f, 0x1.8p127f, float(NaN)};
  EXPECT_EQ(fromF32("F8E8M0", 24, X), (Bytes{0x7F, 0x80, 0x7F, 0x80, 0x80, 0x00, 0xFE, 0xFF}));
  EXPECT_EQ(fromF32("F8E8M0", 24, X, {attrString("round_mode", "nearest")}),
            (Bytes{0x7F, 0x80, 0x7F, 0x7F, 0x80, 0x00, 0xFE, 0xFF}));
  EXPECT_EQ(fromF32("F8E8M0", 24, X, {attrString("round_mode", "down")}),
            (Bytes{0x7F, 0x7F, 0x7E, 0x7F, 0x7F, 0x00, 0xFE, 0xFF}));
  EXPECT_EQ(fromF32("F8E8M0", 24, {0x1.8p127f}, {attrInt("saturate", 0)}), (Bytes{0xFF}));
}

TEST(NativeCastLowPrecision, SmallIntegersTruncateAndWrap) {
  // Floats truncate toward zero, then wrap to the low bits (ml_dtypes astype); NaN -> 0.
  EXPECT_EQ(fromF32("I4", 22, {-9.0f, 8.0f, -3.7f, 7.9f, float(NaN), 1e10f, -8.5f}),
            (Bytes{0x07, 0x08, 0x0D, 0x07, 0x00, 0x00, 0x08}));
  EXPECT_EQ(fromF32("U4", 21, {-1.0f, 16.0f, 15.5f}), (Bytes{0x0F, 0x00, 0x0F}));
  EXPECT_EQ(fromF32("I2", 26, {-3.0f, -2.0f, 2.0f, 1.0f}), (Bytes{0x01, 0x02, 0x02, 0x01}));
  EXPECT_EQ(fromF32("U2", 25, {-3.0f, 4.0f, 3.0f}), (Bytes{0x01, 0x00, 0x03}));
  EXPECT_EQ(castBytes("I32", "I4", 22, toBytes(std::vector<int32_t>{300, -1, -8})), (Bytes{0x0C, 0x0F, 0x08}));
  EXPECT_EQ(fromBytes<int8_t>(castBytes("I4", "I8", 3, {0x08, 0x07, 0x0F})), (std::vector<int8_t>{-8, 7, -1}));
  EXPECT_EQ(castBytes("BOOL", "U2", 25, {0, 1, 7}), (Bytes{0, 1, 1}));
}

TEST(NativeCastLowPrecision, BetweenLowPrecisionTypes) {
  // E5M2 Inf -> E4M3FN: saturate gives 448, else NaN; E4M3FN 448 -> E5M2 is exact (0x5F).
  EXPECT_EQ(castBytes("F8E5M2", "F8E4M3FN", 17, {0x7C, 0x3C}), (Bytes{0x7E, 0x38}));
  EXPECT_EQ(castBytes("F8E5M2", "F8E4M3FN", 17, {0x7C}, {attrInt("saturate", 0)}), (Bytes{0x7F}));
  EXPECT_EQ(castBytes("F8E4M3FN", "F8E5M2", 19, {0x7E}), (Bytes{0x5F}));
  EXPECT_EQ(castBytes("F4E2M1", "F8E4M3FN", 17, {0x7, 0xC}), (Bytes{0x4C, 0xC0}));
  EXPECT_EQ(castBytes("I4", "F4E2M1", 23, {0x07, 0x08}), (Bytes{0x7, 0xF}));
  // F16 source: 0x3C00 = 1.0 -> E4M3FN 0x38; BF16 0xC2F0 = -120 -> E4M3FN 0xEF (-1.875 * 2^6).
  EXPECT_EQ(castBytes("F16", "F8E4M3FN", 17, toBytes(std::vector<uint16_t>{0x3C00})), (Bytes{0x38}));
  EXPECT_EQ(castBytes("BF16", "F8E4M3FN", 17, toBytes(std::vector<uint16_t>{0xC2F0})), (Bytes{0xEF}));
  // CastLike takes the type of its second input.
  GraphSpec G;
  G.tensor("x", {2}).tensor("t", {1}, "F8E5M2").tensor("y", {2}, "F8E5M2").input("x").input("t").output("y");
  G.node("c", "CastLike", {"x", "t"}, {"y"}, {attrInt("saturate", 0)});
  TempDir Dir;
  auto Graph = load(G, Dir);
  EXPECT_EQ(run(*Graph, {toBytes(std::vector<float>{1.0f, 1e9f}), Bytes{0}})[0], (Bytes{0x3C, 0x7C}));
}

TEST(NativeCastLowPrecision, RoundTripsEveryCode) {
  // Decoding then encoding (saturate=0; E8M0 rounding down, as 2^-127 is a float subnormal with a
  // fraction) gives every non-NaN code back.
  const std::vector<std::pair<std::string, int64_t>> Types = {
      {"F8E4M3FN", 17}, {"F8E4M3FNUZ", 18}, {"F8E5M2", 19}, {"F8E5M2FNUZ", 20}, {"F8E8M0", 24}};
  for (const auto &[Name, Code] : Types) {
    SCOPED_TRACE(Name);
    Bytes All(256);
    for (size_t I = 0; I < 256; ++I)
      All[I] = uint8_t(I);
    Bytes Back = castBytes("F32", Name, Code, castBytes(Name, "F32", 1, All),
                           {attrInt("saturate", 0), attrString("round_mode", "down")});
    std::vector<float> F = toF32(Name, All);
    for (size_t I = 0; I < 256; ++I)
      if (!std::isnan(F[I])) {
        EXPECT_EQ(Back[I], All[I]) << "code " << I;
      }
  }
}
