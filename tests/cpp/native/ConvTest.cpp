// Conv vs a naive N-D reference (direct definition of ONNX Conv, computed here).
#include "ConvTestUtil.h"
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace native_test;

namespace {


void checkConv(const ConvCase &C, unsigned Threads) {
  SCOPED_TRACE(C.Label + " threads=" + std::to_string(Threads));
  Shape Out;
  std::vector<int64_t> PadBegin;
  geometry(C, Out, PadBegin);
  std::vector<float> X = randomFloats(elementCount(C.X), 1);
  std::vector<float> W = randomFloats(elementCount(C.W), 2);
  std::vector<float> B = C.Bias ? randomFloats(size_t(C.W[0]), 3) : std::vector<float>();
  std::vector<std::string> Attrs = convAttributes(C);
  GraphSpec G;
  G.tensor("x", C.X).constantF32("w", C.W, W).tensor("y", Out).input("x").output("y");
  std::vector<std::string> Ins{"x", "w"};
  if (C.Bias) {
    G.constantF32("b", {C.W[0]}, B);
    Ins.push_back("b");
  }
  G.node("conv", "Conv", Ins, {"y"}, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X)}, Threads)[0]);
  std::vector<float> Ref = referenceConv(C, X, W, B, Out, PadBegin);
  ASSERT_EQ(Y.size(), Ref.size());
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], 1e-4f * (1.0f + std::fabs(Ref[I]))) << "at " << I;
}

std::vector<ConvCase> cases() {
  return {
      {"2d basic pads", {2, 3, 7, 9}, {4, 3, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}, ""},
      {"2d stride dilation asym pads", {1, 2, 11, 10}, {3, 2, 3, 2}, true, 1, {2, 3}, {2, 1}, {0, 1, 2, 1}, ""},
      {"2d no bias defaults", {1, 3, 5, 6}, {2, 3, 2, 2}, false, 1, {}, {}, {}, ""},
      {"1d", {1, 2, 11}, {3, 2, 4}, true, 1, {3}, {}, {2, 1}, ""},
      {"1d dilated same_upper", {2, 3, 13}, {2, 3, 3}, true, 1, {2}, {2}, {}, "SAME_UPPER"},
      {"groups", {2, 4, 6, 5}, {6, 2, 3, 3}, true, 2, {}, {}, {1, 0, 1, 2}, ""},
      {"depthwise x2 stride", {1, 5, 9, 8}, {10, 1, 3, 3}, true, 5, {2, 2}, {}, {1, 1, 1, 1}, ""},
      {"depthwise dilated same_lower", {2, 3, 7, 7}, {3, 1, 3, 3}, false, 3, {2, 2}, {2, 2}, {}, "SAME_LOWER"},
      {"pointwise", {2, 6, 5, 7}, {4, 6, 1, 1}, true, 1, {}, {}, {}, ""},
      {"pointwise grouped", {1, 6, 4, 4}, {4, 3, 1, 1}, false, 2, {}, {}, {}, ""},
      {"1x1 strided", {1, 3, 7, 7}, {2, 3, 1, 1}, true, 1, {2, 2}, {}, {}, ""},
      {"same_upper stride 2", {1, 2, 8, 7}, {3, 2, 3, 3}, true, 1, {2, 2}, {}, {}, "SAME_UPPER"},
      {"same_lower stride 2", {1, 2, 8, 7}, {3, 2, 4, 4}, true, 1, {2, 2}, {}, {}, "SAME_LOWER"},
      {"valid", {1, 2, 8, 7}, {3, 2, 3, 2}, true, 1, {2, 1}, {}, {}, "VALID"},
      {"kernel larger than input with pads", {1, 1, 2, 2}, {1, 1, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}, ""},
      {"3d", {1, 2, 4, 5, 3}, {3, 2, 2, 3, 2}, true, 1, {1, 2, 1}, {}, {1, 0, 1, 0, 1, 0}, ""},
      {"larger", {1, 16, 20, 19}, {32, 16, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}, ""},
      {"3d grouped dilated same_lower", {1, 4, 5, 6, 5}, {6, 2, 2, 3, 2}, true, 2, {2, 1, 2}, {1, 2, 2}, {}, "SAME_LOWER"},
      {"3d depthwise strided", {2, 3, 4, 5, 6}, {3, 1, 3, 2, 3}, true, 3, {1, 2, 2}, {}, {1, 0, 1, 1, 1, 0}, ""},
      {"1d depthwise strided valid", {2, 4, 17}, {8, 1, 3}, false, 4, {3}, {2}, {}, "VALID"},
      {"1d grouped dilated pads", {1, 6, 12}, {9, 2, 4}, true, 3, {2}, {3}, {3, 1}, ""},
  };
}

} // namespace

TEST(NativeConv, MatchesReferenceSerial) {
  for (const ConvCase &C : cases())
    checkConv(C, 1);
}

TEST(NativeConv, MatchesReferenceThreaded) {
  for (const ConvCase &C : cases())
    checkConv(C, 4);
}

// F64 / F16 / BF16 (computed in double, and in float for the half types), constant and runtime
// weights, against the same reference on values every type holds exactly.
// With Residual, a fourth input Z (shaped like Y) is added: the staged half types convert it too.
void checkTypedConv(const ConvCase &C, const std::string &Type, bool ConstW, bool Residual = false) {
  SCOPED_TRACE(C.Label + " " + Type + (ConstW ? " const W" : " runtime W") +
               (Residual ? " residual" : ""));
  Shape Out;
  std::vector<int64_t> PadBegin;
  geometry(C, Out, PadBegin);
  std::vector<double> X = gridValues(elementCount(C.X), 21), W = gridValues(elementCount(C.W), 22);
  std::vector<double> B = C.Bias ? gridValues(size_t(C.W[0]), 23) : std::vector<double>();
  std::vector<std::string> Attrs;
  appendSharedConvAttributes(Attrs, C.Group, C.Strides, C.Dilations, C.Pads, C.AutoPad);
  GraphSpec G;
  G.tensor("x", C.X, Type).tensor("y", Out, Type).input("x").output("y");
  std::vector<Bytes> Inputs{encode(X, Type)};
  if (ConstW) {
    G.constant("w", C.W, encode(W, Type), Type);
  } else {
    G.tensor("w", C.W, Type).input("w");
    Inputs.push_back(encode(W, Type));
  }
  std::vector<std::string> Ins{"x", "w"};
  if (C.Bias) {
    G.tensor("b", {C.W[0]}, Type).input("b");
    Inputs.push_back(encode(B, Type));
    Ins.push_back("b");
  }
  std::vector<double> Z = Residual ? gridValues(elementCount(Out), 24) : std::vector<double>();
  if (Residual) {
    G.tensor("z", Out, Type).input("z");
    Inputs.push_back(encode(Z, Type));
    if (!C.Bias)
      Ins.push_back("");
    Ins.push_back("z");
  }
  G.node("conv", "Conv", Ins, {"y"}, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<double> Y = decode(run(*Graph, Inputs, 2)[0], Type);
  std::vector<float> XF(X.begin(), X.end()), WF(W.begin(), W.end()), BF(B.begin(), B.end());
  std::vector<float> Ref = referenceConv(C, XF, WF, BF, Out, PadBegin);
  for (size_t I = 0; I < Z.size(); ++I)
    Ref[I] += float(Z[I]);
  ASSERT_EQ(Y.size(), Ref.size());
  double Tol = std::max(typeTolerance(Type), 1e-6); // the reference rounds to float
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], Tol * (1.0 + std::fabs(Ref[I]))) << "at " << I;
}

TEST(NativeConv, OtherFloatTypesMatchReference) {
  for (const ConvCase &C : cases())
    for (const char *Type : {"F64", "F16", "BF16"}) {
      checkTypedConv(C, Type, true);
      checkTypedConv(C, Type, false);
    }
}

TEST(NativeConv, OtherFloatTypesWithResidualInput) {
  const std::vector<ConvCase> All = cases();
  for (size_t I : {0, 2, 6, 8}) // pads; no bias (an empty bias slot); depthwise; pointwise
    for (const char *Type : {"F64", "F16", "BF16"})
      checkTypedConv(All[I], Type, true, true);
}

TEST(NativeConv, RejectsInvalidAttributesAndShapes) {
  auto Base = [](const std::vector<std::string> &Attrs, Shape W = {2, 3, 3, 3}, Shape Y = {1, 2, 3, 3}) {
    GraphSpec G;
    G.tensor("x", {1, 3, 5, 5}).constantF32("w", W, std::vector<float>(elementCount(W), 0.5f));
    G.tensor("y", Y).input("x").output("y").node("c", "Conv", {"x", "w"}, {"y"}, Attrs);
    return G;
  };
  expectLoadError(Base({attrInts("pads", {1, 1})}), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[0].attributes.pads: expected 4 values, got 2"});
  expectLoadError(Base({"\"pads\": {\"type\": \"floats\", \"value\": [1.0, 1.0, 1.0, 1.0]}"}),
                  OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[0].attributes.pads: expected ints, got floats"});
  expectLoadError(Base({attrInts("strides", {0, 1})}), OPTIMA_STATUS_INVALID_MODEL,
                  {"nodes[0].attributes.strides: value 0 out of range"});
  expectLoadError(Base({attrString("auto_pad", "SAME")}), OPTIMA_STATUS_INVALID_MODEL,
                  {"nodes[0].attributes.auto_pad: expected NOTSET"});
  expectLoadError(Base({attrInt("group", 2)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"nodes[0] (Conv \"c\")", "group 2 does not divide"});
  expectLoadError(Base({attrInts("kernel_shape", {2, 2})}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.kernel_shape: does not match"});
  expectLoadError(Base({}, {2, 3, 3, 3}, {1, 2, 4, 4}), OPTIMA_STATUS_INVALID_MODEL,
                  {"nodes[0] (Conv \"c\"): output \"y\" is declared F32 [1, 2, 4, 4] but Conv produces F32 [1, 2, 3, 3]"});
  expectLoadError(Base({}, {2, 2, 3, 3}), OPTIMA_STATUS_INVALID_MODEL,
                  {"must have 3 channels per group"});
  GraphSpec Ints;
  Ints.tensor("x", {1, 1, 3}, "I32").constant("w", {1, 1, 1}, encode({1.0}, "I32"), "I32");
  Ints.tensor("y", {1, 1, 3}, "I32").input("x").output("y").node("c", "Conv", {"x", "w"}, {"y"});
  expectLoadError(Ints, OPTIMA_STATUS_UNSUPPORTED, {"I32 input \"x\""});
  GraphSpec Mixed;
  Mixed.tensor("x", {1, 1, 3}).constant("w", {1, 1, 1}, encode({1.0}, "F16"), "F16");
  Mixed.tensor("y", {1, 1, 3}).input("x").output("y").node("c", "Conv", {"x", "w"}, {"y"});
  expectLoadError(Mixed, OPTIMA_STATUS_INVALID_MODEL, {"input 1 \"w\" is F16 but X is F32"});
  expectLoadError(Base({attrInt("foo", 1)}), OPTIMA_STATUS_UNSUPPORTED,
                  {"node \"c\" (op Conv: attribute \"foo\")"});
  // A residual (fourth) input must be shaped and typed like the output: no broadcasting.
  auto Residual = [](Shape Z, const char *Type) {
    GraphSpec G;
    G.tensor("x", {1, 3, 5, 5}).constantF32("w", {2, 3, 3, 3}, std::vector<float>(54, 0.5f));
    G.tensor("z", Z, Type).tensor("y", {1, 2, 3, 3}).input("x").input("z").output("y");
    G.node("c", "Conv", {"x", "w", "", "z"}, {"y"});
    return G;
  };
  expectLoadError(Residual({1, 2, 1, 1}, "F32"), OPTIMA_STATUS_INVALID_MODEL,
                  {"nodes[0] (Conv \"c\")", "residual input 3 \"z\" has shape [1, 2, 1, 1] but the output is [1, 2, 3, 3]"});
  expectLoadError(Residual({1, 2, 3, 3}, "F64"), OPTIMA_STATUS_INVALID_MODEL,
                  {"residual input 3 \"z\" is F64 but X is F32"});
}
