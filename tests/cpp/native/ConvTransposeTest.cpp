// ConvTranspose vs a naive scatter reference (each input element times each kernel tap added at
// i*stride + k*dilation - pad_begin), output shape and pads from the ONNX formulas, per type.
#include "ConvTestUtil.h"
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace native_test;

namespace {

struct CTCase {
  std::string Label;
  Shape X, W; // W: [C, M/group, k...]
  bool Bias = true;
  int64_t Group = 1;
  std::vector<int64_t> Strides, Dilations, Pads, OutputPadding, OutputShape;
  std::string AutoPad;
};

int64_t floorHalf(int64_t V) { return V >= 0 ? V / 2 : -((-V + 1) / 2); }

void geometry(const CTCase &C, Shape &Out, std::vector<int64_t> &PadBegin) {
  size_t R = C.X.size() - 2;
  Out = {C.X[0], C.W[1] * C.Group};
  PadBegin.assign(R, 0);
  for (size_t D = 0; D < R; ++D) {
    int64_t In = C.X[D + 2], K = C.W[D + 2];
    int64_t S = C.Strides.empty() ? 1 : C.Strides[D];
    int64_t Dil = C.Dilations.empty() ? 1 : C.Dilations[D];
    int64_t OP = C.OutputPadding.empty() ? 0 : C.OutputPadding[D];
    int64_t Full = S * (In - 1) + OP + (K - 1) * Dil + 1;
    bool Same = C.AutoPad == "SAME_UPPER" || C.AutoPad == "SAME_LOWER";
    if (!C.OutputShape.empty() || Same) {
      int64_t O = !C.OutputShape.empty() ? C.OutputShape[D] : In * S;
      int64_t Total = Full - O;
      PadBegin[D] = C.AutoPad == "SAME_UPPER" ? floorHalf(Total) : Total - floorHalf(Total);
      Out.push_back(O);
    } else {
      int64_t B = C.Pads.empty() ? 0 : C.Pads[D], E = C.Pads.empty() ? 0 : C.Pads[D + R];
      PadBegin[D] = B;
      Out.push_back(Full - B - E);
    }
  }
}

std::vector<double> reference(const CTCase &C, const std::vector<double> &X,
                              const std::vector<double> &W, const std::vector<double> &B,
                              const Shape &Out, const std::vector<int64_t> &PadBegin) {
  size_t R = C.X.size() - 2;
  int64_t N = C.X[0], Ch = C.X[1], Mg = C.W[1], Cg = Ch / C.Group, M = Mg * C.Group;
  size_t InPlane = 1, KPlane = 1, OutPlane = 1;
  for (size_t D = 0; D < R; ++D) {
    InPlane *= size_t(C.X[D + 2]);
    KPlane *= size_t(C.W[D + 2]);
    OutPlane *= size_t(Out[D + 2]);
  }
  std::vector<double> Y(elementCount(Out));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (size_t p = 0; p < OutPlane; ++p)
        Y[size_t(n * M + m) * OutPlane + p] = B.empty() ? 0.0 : B[size_t(m)];
  std::vector<int64_t> I(R), K(R);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < Ch; ++c) {
      int64_t g = c / Cg;
      for (size_t ip = 0; ip < InPlane; ++ip) {
        for (size_t D = R, Rem = ip; D-- > 0;) {
          I[D] = int64_t(Rem % size_t(C.X[D + 2]));
          Rem /= size_t(C.X[D + 2]);
        }
        double Xv = X[size_t(n * Ch + c) * InPlane + ip];
        for (int64_t mg = 0; mg < Mg; ++mg)
          for (size_t kp = 0; kp < KPlane; ++kp) {
            for (size_t D = R, Rem = kp; D-- > 0;) {
              K[D] = int64_t(Rem % size_t(C.W[D + 2]));
              Rem /= size_t(C.W[D + 2]);
            }
            bool Inside = true;
            size_t OIndex = 0;
            for (size_t D = 0; D < R; ++D) {
              int64_t S = C.Strides.empty() ? 1 : C.Strides[D];
              int64_t Dil = C.Dilations.empty() ? 1 : C.Dilations[D];
              int64_t O = I[D] * S + K[D] * Dil - PadBegin[D];
              Inside = Inside && O >= 0 && O < Out[D + 2];
              OIndex = OIndex * size_t(Out[D + 2]) + size_t(O);
            }
            if (!Inside)
              continue;
            int64_t m = g * Mg + mg;
            Y[size_t(n * M + m) * OutPlane + OIndex] +=
                Xv * W[size_t(c * Mg + mg) * KPlane + kp];
          }
      }
    }
  return Y;
}

void check(const CTCase &C, const std::string &Type, bool ConstW, unsigned Threads) {
  SCOPED_TRACE(C.Label + " " + Type + (ConstW ? " const W" : " runtime W") +
               " threads=" + std::to_string(Threads));
  Shape Out;
  std::vector<int64_t> PadBegin;
  geometry(C, Out, PadBegin);
  std::vector<double> X = gridValues(elementCount(C.X), 11);
  std::vector<double> W = gridValues(elementCount(C.W), 12);
  std::vector<double> B = C.Bias ? gridValues(size_t(C.W[1] * C.Group), 13) : std::vector<double>();
  std::vector<std::string> Attrs;
  appendSharedConvAttributes(Attrs, C.Group, C.Strides, C.Dilations, C.Pads, C.AutoPad);
  if (!C.OutputPadding.empty())
    Attrs.push_back(attrInts("output_padding", C.OutputPadding));
  if (!C.OutputShape.empty())
    Attrs.push_back(attrInts("output_shape", C.OutputShape));
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
    G.constant("b", {C.W[1] * C.Group}, encode(B, Type), Type);
    Ins.push_back("b");
  }
  G.node("ct", "ConvTranspose", Ins, {"y"}, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<double> Y = decode(run(*Graph, Inputs, Threads)[0], Type);
  std::vector<double> Ref = reference(C, X, W, B, Out, PadBegin);
  ASSERT_EQ(Y.size(), Ref.size());
  double Tol = typeTolerance(Type);
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], Tol * (1.0 + std::fabs(Ref[I]))) << "at " << I;
}

std::vector<CTCase> cases() {
  return {
      {"1d", {2, 3, 5}, {3, 2, 3}, true, 1, {}, {}, {}, {}, {}, ""},
      {"1d stride pads", {1, 2, 6}, {2, 3, 4}, true, 1, {3}, {}, {1, 2}, {}, {}, ""},
      {"2d basic", {1, 2, 4, 3}, {2, 3, 3, 3}, true, 1, {}, {}, {}, {}, {}, ""},
      {"2d stride dilation pads outpad", {2, 3, 5, 4}, {3, 2, 3, 2}, true, 1, {2, 3}, {2, 1},
       {1, 0, 2, 1}, {1, 2}, {}, ""},
      {"2d groups", {1, 4, 3, 5}, {4, 3, 2, 3}, true, 2, {2, 1}, {}, {0, 1, 1, 0}, {}, {}, ""},
      {"depthwise", {1, 3, 4, 4}, {3, 1, 3, 3}, false, 3, {2, 2}, {}, {1, 1, 1, 1}, {}, {}, ""},
      {"output_shape", {1, 1, 3, 3}, {1, 2, 3, 3}, true, 1, {3, 2}, {}, {}, {}, {10, 8}, ""},
      {"output_shape smaller", {1, 2, 3, 4}, {2, 2, 3, 3}, true, 1, {2, 2}, {}, {}, {}, {6, 7}, ""},
      {"same_upper", {1, 2, 3, 3}, {2, 2, 3, 3}, true, 1, {2, 2}, {}, {}, {}, {}, "SAME_UPPER"},
      {"same_lower", {1, 2, 3, 4}, {2, 1, 4, 3}, false, 1, {2, 3}, {}, {}, {}, {}, "SAME_LOWER"},
      {"valid", {1, 2, 3, 3}, {2, 2, 2, 2}, true, 1, {2, 2}, {}, {}, {}, {}, "VALID"},
      {"3d", {1, 2, 3, 2, 3}, {2, 2, 2, 3, 2}, true, 1, {2, 1, 2}, {1, 2, 1},
       {1, 0, 0, 0, 1, 1}, {}, {}, ""},
      {"pointwise", {2, 4, 3, 5}, {4, 3, 1, 1}, true, 1, {}, {}, {}, {}, {}, ""},
      {"larger", {1, 16, 9, 10}, {16, 8, 3, 3}, true, 1, {2, 2}, {}, {1, 1, 1, 1}, {1, 1}, {}, ""},
  };
}

} // namespace

TEST(NativeConvTranspose, MatchesReferenceF32) {
  for (const CTCase &C : cases()) {
    check(C, "F32", true, 1);
    check(C, "F32", false, 4);
  }
}

TEST(NativeConvTranspose, MatchesReferenceOtherFloatTypes) {
  for (const CTCase &C : cases())
    for (const char *Type : {"F64", "F16", "BF16"}) {
      check(C, Type, true, 1);
      check(C, Type, false, 2);
    }
}

TEST(NativeConvTranspose, RejectsInvalidNodes) {
  auto Base = [](const std::vector<std::string> &Attrs, Shape W = {3, 2, 3, 3},
                 Shape Y = {1, 2, 7, 7}, const std::string &WType = "F32") {
    GraphSpec G;
    G.tensor("x", {1, 3, 5, 5})
        .constant("w", W, encode(std::vector<double>(elementCount(W), 0.5), WType), WType);
    G.tensor("y", Y).input("x").output("y").node("ct", "ConvTranspose", {"x", "w"}, {"y"}, Attrs);
    return G;
  };
  expectLoadError(Base({}, {3, 2, 3, 3}, {1, 2, 8, 7}), OPTIMA_STATUS_INVALID_MODEL,
                  {"nodes[0] (ConvTranspose \"ct\"): output \"y\" is declared F32 [1, 2, 8, 7] but "
                   "ConvTranspose produces F32 [1, 2, 7, 7]"});
  expectLoadError(Base({}, {2, 2, 3, 3}), OPTIMA_STATUS_INVALID_MODEL,
                  {"must have 3 input channels (dim 0)"});
  expectLoadError(Base({attrInt("group", 2)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"group 2 does not divide the 3 input channels"});
  expectLoadError(Base({attrInts("output_padding", {1})}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.output_padding: expected 2 values, got 1"});
  expectLoadError(Base({attrInts("pads", {4, 4, 4, 4})}), OPTIMA_STATUS_INVALID_MODEL,
                  {"pads leave an empty output"});
  expectLoadError(Base({attrString("auto_pad", "SAME")}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.auto_pad: expected NOTSET"});
  expectLoadError(Base({}, {3, 2, 3, 3}, {1, 2, 7, 7}, "F64"), OPTIMA_STATUS_INVALID_MODEL,
                  {"input 1 \"w\" is F64 but X is F32"});
  GraphSpec Ints;
  Ints.tensor("x", {1, 1, 2, 2}, "I32")
      .constant("w", {1, 1, 1, 1}, encode({1.0}, "I32"), "I32")
      .tensor("y", {1, 1, 2, 2}, "I32")
      .input("x").output("y")
      .node("ct", "ConvTranspose", {"x", "w"}, {"y"});
  expectLoadError(Ints, OPTIMA_STATUS_UNSUPPORTED, {"I32 input \"x\""});
}
