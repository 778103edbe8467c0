// Resize / Upsample against a literal port of the ONNX reference's recursive N-D interpolation
// (_interpolate_nd_with_x with _get_neighbor's sort-based neighbour choice and edge padding),
// which is structurally independent of the kernel's separable per-axis taps.
#include "MoveTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

using namespace native_test;

namespace {

struct Cfg {
  std::string Mode = "nearest", NearestMode = "round_prefer_floor", Ctm = "half_pixel";
  double A = -0.75;
  bool Exclude = false, Antialias = false;
  double Extrapolation = 0;
};

std::vector<double> refCoeffs(const Cfg &C, double Ratio, double Scale) {
  if (C.Mode == "nearest") {
    if (Ratio == std::floor(Ratio))
      return {0, 1};
    if (C.NearestMode == "round_prefer_floor")
      return {double(Ratio <= 0.5), double(Ratio > 0.5)};
    if (C.NearestMode == "round_prefer_ceil")
      return {double(Ratio < 0.5), double(Ratio >= 0.5)};
    if (C.NearestMode == "floor")
      return {1, 0};
    return {0, 1};
  }
  if (C.Mode == "linear") {
    if (!C.Antialias)
      return {1 - Ratio, Ratio};
    double S = std::min(Scale, 1.0);
    int Start = int(std::floor(-1 / S) + 1), Foot = 2 - 2 * Start;
    std::vector<double> V;
    double Sum = 0;
    for (int I = Start; I < Start + Foot; ++I) {
      V.push_back(std::clamp(1 - std::fabs((I - Ratio) * S), 0.0, 1.0));
      Sum += V.back();
    }
    for (double &X : V)
      X /= Sum;
    return V;
  }
  auto F = [&](double X) {
    double A = C.A;
    X = std::fabs(X);
    if (X <= 1)
      return (A + 2) * X * X * X - (A + 3) * X * X + 1;
    if (X < 2)
      return A * X * X * X - 5 * A * X * X + 8 * A * X - 4 * A;
    return 0.0;
  };
  if (!C.Antialias)
    return {F(Ratio + 1), F(Ratio), F(1 - Ratio), F(2 - Ratio)};
  double S = std::min(Scale, 1.0);
  int Start = int(std::floor(-2 / S) + 1), End = 2 - Start;
  std::vector<double> V;
  double Sum = 0;
  for (int I = Start; I < End; ++I) {
    V.push_back(F(S * (I - Ratio)));
    Sum += V.back();
  }
  for (double &X : V)
    X /= Sum;
  return V;
}

double interp1d(const Cfg &C, const std::vector<double> &Data, double Scale, int64_t OutInt,
                double X, double R0, double R1) {
  int64_t In = int64_t(Data.size());
  double OutW = Scale * double(In), Xo = 0;
  if (C.Ctm == "align_corners")
    Xo = OutW == 1 ? 0 : X * double(In - 1) / (OutW - 1);
  else if (C.Ctm == "asymmetric")
    Xo = X / Scale;
  else if (C.Ctm == "tf_crop_and_resize") {
    Xo = OutW == 1 ? (R1 - R0) * double(In - 1) / 2 : X * (R1 - R0) * double(In - 1) / (OutW - 1);
    Xo += R0 * double(In - 1);
    if (Xo < 0 || Xo > double(In - 1))
      return C.Extrapolation;
  } else if (C.Ctm == "pytorch_half_pixel")
    Xo = OutW == 1 ? -0.5 : (X + 0.5) / Scale - 0.5;
  else if (C.Ctm == "half_pixel")
    Xo = (X + 0.5) / Scale - 0.5;
  else {
    double Adj = double(OutInt) / OutW, Center = double(In) / 2;
    Xo = Center * (1 - Adj) + (X + 0.5) / Scale - 0.5;
  }
  double Ratio = Xo == std::floor(Xo) ? 1 : Xo - std::floor(Xo);
  std::vector<double> Co = refCoeffs(C, Ratio, Scale);
  int64_t N = int64_t(Co.size()), Pad = (N + 1) / 2;
  std::vector<double> Padded;
  for (int64_t I = -Pad; I < In + Pad; ++I)
    Padded.push_back(Data[size_t(std::clamp<int64_t>(I, 0, In - 1))]);
  double Xp = Xo + double(Pad);
  std::vector<int64_t> Order(Padded.size());
  for (size_t I = 0; I < Order.size(); ++I)
    Order[I] = int64_t(I);
  std::stable_sort(Order.begin(), Order.end(), [&](int64_t A, int64_t B) {
    return std::fabs(Xp - double(A)) < std::fabs(Xp - double(B));
  });
  Order.resize(size_t(N));
  std::sort(Order.begin(), Order.end());
  if (C.Exclude) {
    double Sum = 0;
    for (int64_t K = 0; K < N; ++K) {
      int64_t I = Order[size_t(K)] - Pad;
      if (I < 0 || I >= In)
        Co[size_t(K)] = 0;
      Sum += Co[size_t(K)];
    }
    for (double &V : Co)
      V /= Sum;
  }
  double R = 0;
  for (int64_t K = 0; K < N; ++K)
    R += Co[size_t(K)] * Padded[size_t(Order[size_t(K)])];
  return R;
}

// Recursive N-D interpolation at output coordinate Xs (one per dim).
double interpND(const Cfg &C, const std::vector<double> &Data, const Shape &S,
                const std::vector<double> &Scales, const Shape &Out,
                const std::vector<int64_t> &Xs, const std::vector<double> &Roi, size_t D) {
  size_t R = S.size();
  if (D + 1 == R) {
    return interp1d(C, Data, Scales[D], Out[D], double(Xs[D]), Roi[D], Roi[D + R]);
  }
  size_t Sub = Data.size() / size_t(S[D]); // Data has shape S[D:]
  std::vector<double> Res;
  for (int64_t I = 0; I < S[D]; ++I) {
    std::vector<double> Part(Data.begin() + int64_t(size_t(I) * Sub),
                             Data.begin() + int64_t(size_t(I + 1) * Sub));
    Res.push_back(interpND(C, Part, S, Scales, Out, Xs, Roi, D + 1));
  }
  return interp1d(C, Res, Scales[D], Out[D], double(Xs[D]), Roi[D], Roi[D + R]);
}

// Full reference: every output element.
std::vector<double> refResize(const Cfg &C, const std::vector<double> &X, const Shape &In,
                              const std::vector<double> &Scales, const Shape &Out,
                              const std::vector<double> &Roi) {
  std::vector<double> Y(elementCount(Out));
  forEachIndex(Out, [&](const std::vector<int64_t> &O, size_t L) {
    Y[L] = interpND(C, X, In, Scales, Out, O, Roi, 0);
  });
  return Y;
}

std::vector<std::string> attrsOf(const Cfg &C) {
  std::vector<std::string> A{attrString("mode", C.Mode),
                             attrString("coordinate_transformation_mode", C.Ctm)};
  if (C.Mode == "nearest")
    A.push_back(attrString("nearest_mode", C.NearestMode));
  if (C.Mode == "cubic")
    A.push_back(attrFloat("cubic_coeff_a", C.A));
  if (C.Exclude)
    A.push_back(attrInt("exclude_outside", 1));
  if (C.Antialias)
    A.push_back(attrInt("antialias", 1));
  if (C.Ctm == "tf_crop_and_resize")
    A.push_back(attrFloat("extrapolation_value", C.Extrapolation));
  return A;
}

void checkScales(const Cfg &C, const Shape &In, const std::vector<float> &Scales,
                 const std::vector<float> &Roi = {}) {
  SCOPED_TRACE(C.Mode + "/" + C.NearestMode + "/" + C.Ctm + " in " +
               ::testing::PrintToString(In) + " scales " + ::testing::PrintToString(Scales));
  Shape Out;
  for (size_t D = 0; D < In.size(); ++D)
    Out.push_back(int64_t(std::floor(double(Scales[D]) * double(In[D]))));
  std::vector<float> X = randomFloats(elementCount(In), 21, -4, 4);
  GraphSpec G;
  G.tensor("x", In).tensor("y", Out).input("x").output("y");
  G.constantF32("roi", {int64_t(Roi.size())}, Roi);
  G.constantF32("s", {int64_t(Scales.size())}, Scales);
  G.node("r", "Resize", {"x", "roi", "s"}, {"y"}, attrsOf(C));
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X)}, 2)[0]);
  std::vector<double> Rd(Roi.begin(), Roi.end());
  if (Rd.empty())
    for (size_t D = 0; D < 2 * In.size(); ++D)
      Rd.push_back(D < In.size() ? 0 : 1);
  std::vector<double> Ref = refResize(C, std::vector<double>(X.begin(), X.end()), In,
                                      std::vector<double>(Scales.begin(), Scales.end()), Out, Rd);
  ASSERT_EQ(Y.size(), Ref.size());
  for (size_t I = 0; I < Y.size(); ++I)
    EXPECT_NEAR(Y[I], Ref[I], 1e-4) << "at " << I;
}

} // namespace

TEST(NativeResize, OnnxDocNearestExample) {
  GraphSpec G;
  G.tensor("x", {1, 1, 2, 2}).tensor("y", {1, 1, 4, 6}).input("x").output("y");
  G.constantF32("s", {4}, {1, 1, 2, 3}).node("r", "Resize", {"x", "", "s"}, {"y"},
                                             {attrString("mode", "nearest")});
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(std::vector<float>{1, 2, 3, 4})})[0]);
  EXPECT_EQ(Y, (std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3,
                                   4, 4, 4}));
}

TEST(NativeResize, NearestEveryModeAndTransform) {
  for (std::string NM : {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"})
    for (std::string Ctm : {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                            "align_corners", "asymmetric"}) {
      Cfg C;
      C.NearestMode = NM;
      C.Ctm = Ctm;
      checkScales(C, {1, 2, 4, 5}, {1, 1, 2.5f, 0.6f});
      checkScales(C, {2, 3, 7}, {1, 0.5f, 1.75f});
    }
}

TEST(NativeResize, LinearAndCubicEveryTransform) {
  for (std::string Mode : {"linear", "cubic"})
    for (std::string Ctm : {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                            "align_corners", "asymmetric"})
      for (bool Exclude : {false, true}) {
        Cfg C;
        C.Mode = Mode;
        C.Ctm = Ctm;
        C.Exclude = Exclude;
        C.A = Mode == "cubic" && Exclude ? -0.5 : -0.75;
        checkScales(C, {1, 2, 4, 5}, {1, 1, 2.0f, 0.6f});
        checkScales(C, {3, 5}, {0.67f, 1.8f});
      }
}

TEST(NativeResize, AntialiasDownscale) {
  for (std::string Mode : {"linear", "cubic"}) {
    Cfg C;
    C.Mode = Mode;
    C.Antialias = true;
    checkScales(C, {1, 1, 9, 8}, {1, 1, 0.45f, 0.6f});
    checkScales(C, {1, 1, 4, 4}, {1, 1, 1.5f, 0.5f});
  }
}

TEST(NativeResize, TfCropAndResizeExtrapolates) {
  for (std::string Mode : {"nearest", "linear", "cubic"}) {
    Cfg C;
    C.Mode = Mode;
    C.Ctm = "tf_crop_and_resize";
    C.Extrapolation = 10;
    checkScales(C, {1, 1, 4, 4}, {1, 1, 0.75f, 0.75f}, {0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f});
  }
}

TEST(NativeResize, SizesAxesAndKeepAspect) {
  // sizes over axes {3, 2} with not_larger: one scale for both, output rounded half up.
  Shape In{1, 1, 4, 6};
  std::vector<float> X = randomFloats(24, 3);
  struct Case {
    std::string Policy;
    Shape Out;
    double Scale;
  };
  for (const Case &K : {Case{"not_larger", {1, 1, 3, 4}, 2.0 / 3}, // min(8/6, 3/4)... see below
                        Case{"not_smaller", {1, 1, 5, 8}, 8.0 / 6}, Case{"stretch", {1, 1, 3, 8}, 0}}) {
    GraphSpec G;
    G.tensor("x", In).tensor("y", K.Out).input("x").output("y");
    G.constantI64("sz", {2}, {8, 3}); // axes {3, 2}: W -> 8, H -> 3
    G.node("r", "Resize", {"x", "", "", "sz"}, {"y"},
           {attrString("mode", "linear"), attrInts("axes", {3, 2}),
            attrString("keep_aspect_ratio_policy", K.Policy)});
    TempDir Dir;
    if (K.Policy == "not_larger") {
      // scale = min(8/6, 3/4) = 0.75 -> H 3, W round(4.5) = 5.
      G = GraphSpec();
      G.tensor("x", In).tensor("y", {1, 1, 3, 5}).input("x").output("y");
      G.constantI64("sz", {2}, {8, 3});
      G.node("r", "Resize", {"x", "", "", "sz"}, {"y"},
             {attrString("mode", "linear"), attrInts("axes", {3, 2}),
              attrString("keep_aspect_ratio_policy", K.Policy)});
    }
    auto Graph = load(G, Dir);
    std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X)})[0]);
    Cfg C;
    C.Mode = "linear";
    std::vector<double> Scales{1, 1, 3.0 / 4, 8.0 / 6};
    Shape Out = K.Policy == "not_larger" ? Shape{1, 1, 3, 5} : K.Out;
    if (K.Policy == "not_larger")
      Scales = {1, 1, 0.75, 0.75};
    if (K.Policy == "not_smaller")
      Scales = {1, 1, 8.0 / 6, 8.0 / 6};
    std::vector<double> Ref = refResize(C, std::vector<double>(X.begin(), X.end()), In, Scales,
                                        Out, {0, 0, 0, 0, 1, 1, 1, 1});
    ASSERT_EQ(Y.size(), Ref.size()) << K.Policy;
    for (size_t I = 0; I < Y.size(); ++I)
      EXPECT_NEAR(Y[I], Ref[I], 1e-4) << K.Policy << " at " << I;
  }
}

TEST(NativeResize, IntegerLinearRoundsAndSaturates) {
  Shape In{1, 4};
  std::vector<uint8_t> X{0, 255, 10, 3};
  GraphSpec G;
  G.tensor("x", In, "U8").tensor("y", {1, 7}, "U8").input("x").output("y");
  G.constantF32("s", {2}, {1, 1.75f});
  G.node("r", "Resize", {"x", "", "s"}, {"y"},
         {attrString("mode", "cubic"), attrString("coordinate_transformation_mode", "asymmetric")});
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<uint8_t> Y = fromBytes<uint8_t>(run(*Graph, {toBytes(X)})[0]);
  Cfg C;
  C.Mode = "cubic";
  C.Ctm = "asymmetric";
  std::vector<double> Ref =
      refResize(C, {0, 255, 10, 3}, In, {1, 1.75}, {1, 7}, {0, 0, 1, 1});
  for (size_t I = 0; I < 7; ++I)
    EXPECT_EQ(Y[I], uint8_t(std::clamp(std::nearbyint(Ref[I]), 0.0, 255.0))) << I;
}

TEST(NativeResize, UpsampleAndErrors) {
  GraphSpec G;
  G.tensor("x", {1, 2, 2}).tensor("y", {1, 4, 6}).input("x").output("y");
  G.constantF32("s", {3}, {1, 2, 3}).node("u", "Upsample", {"x", "s"}, {"y"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(std::vector<float>{1, 2, 3, 4})})[0]);
  EXPECT_EQ(Y, (std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3,
                                   4, 4, 4}));
  GraphSpec Dyn;
  Dyn.tensor("x", {1, 2, 2}).tensor("s", {3}).tensor("y", {1, 4, 6}).input("x").input("s").output("y");
  Dyn.node("r", "Resize", {"x", "", "s"}, {"y"});
  expectLoadError(Dyn, OPTIMA_STATUS_UNSUPPORTED, {"scales input \"s\" must be a constant"});
  GraphSpec Bad;
  Bad.tensor("x", {1, 2, 2}).tensor("y", {1, 4, 5}).input("x").output("y");
  Bad.constantF32("s", {3}, {1, 2, 3}).node("r", "Resize", {"x", "", "s"}, {"y"});
  expectLoadError(Bad, OPTIMA_STATUS_INVALID_MODEL, {"declared F32 [1, 4, 5] but Resize produces F32 [1, 4, 6]"});
}
