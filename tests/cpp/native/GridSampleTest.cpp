// GridSample vs a reference written here in double, structured like onnx's reference
// implementation (recursive 1-D interpolation axis by axis, padding applied per pixel read):
// every mode x padding x align_corners, 1-D to 3-D, grids reaching outside the image, every
// float type for X and grid, threads.
#include "MoveTestUtil.h"
#include "NativeTestUtil.h"
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

using namespace native_test;

namespace {

struct Opts {
  std::string Mode = "linear", Pad = "zeros";
  bool Align = false;
};

double reflectRef(double X, double Lo, double Hi) {
  double Rng = Hi - Lo;
  if (Rng <= 0)
    return Lo;
  if (X < Lo) {
    double Dx = Lo - X;
    long long N = (long long)(Dx / Rng);
    double R = Dx - double(N) * Rng;
    return N % 2 == 0 ? Lo + R : Hi - R;
  }
  if (X > Hi) {
    double Dx = X - Hi;
    long long N = (long long)(Dx / Rng);
    double R = Dx - double(N) * Rng;
    return N % 2 == 0 ? Hi - R : Lo + R;
  }
  return X;
}

struct RefSampler {
  Opts O;
  Shape Dims; // spatial sizes
  double lo(size_t) const { return O.Align ? 0.0 : -0.5; }
  double hi(size_t D) const { return O.Align ? double(Dims[D] - 1) : double(Dims[D]) - 0.5; }

  // Index I along axis D after padding; false: reads zero.
  bool padIndex(long long I, size_t D, long long &Out) const {
    long long L = Dims[D];
    if (O.Pad == "zeros") {
      Out = I;
      return I >= 0 && I < L;
    }
    if (O.Pad == "border") {
      Out = std::min(std::max(I, 0LL), L - 1);
      return true;
    }
    Out = (long long)reflectRef(double(I), lo(D), hi(D));
    return true;
  }

  // Value of Data (row-major over Dims[D..]) interpolated at X[D..].
  double interp(const std::vector<double> &Data, size_t Base, size_t D,
                const std::vector<double> &X) const {
    size_t Stride = 1;
    for (size_t E = D + 1; E < Dims.size(); ++E)
      Stride *= size_t(Dims[E]);
    auto sub = [&](long long I) -> double {
      long long At;
      if (!padIndex(I, D, At))
        return 0.0;
      size_t B = Base + size_t(At) * Stride;
      return D + 1 == Dims.size() ? Data[B] : interp(Data, B, D + 1, X);
    };
    double V = X[D];
    if (O.Mode == "nearest")
      return sub((long long)V);
    long long X0 = (long long)std::floor(V);
    double T = V - double(X0);
    if (O.Mode == "linear")
      return (1 - T) * sub(X0) + T * sub(X0 + 1);
    const double A = -0.75;
    double C[4];
    double X1 = T + 1, X2 = 1 - T, X3 = 2 - T;
    C[0] = ((A * X1 - 5 * A) * X1 + 8 * A) * X1 - 4 * A;
    C[1] = ((A + 2) * T - (A + 3)) * T * T + 1;
    C[2] = ((A + 2) * X2 - (A + 3)) * X2 * X2 + 1;
    C[3] = ((A * X3 - 5 * A) * X3 + 8 * A) * X3 - 4 * A;
    double S = 0;
    for (int K = 0; K < 4; ++K)
      S += C[K] * sub(X0 - 1 + K);
    return S;
  }
};

std::vector<double> reference(const std::vector<double> &X, const Shape &XS,
                              const std::vector<double> &G, const Shape &GS, const Opts &O) {
  size_t R = XS.size() - 2, N = size_t(XS[0]), Ch = size_t(XS[1]);
  RefSampler S{O, Shape(XS.begin() + 2, XS.end())};
  size_t InPlane = elementCount(S.Dims), OutPlane = 1;
  for (size_t D = 1; D + 1 < GS.size(); ++D)
    OutPlane *= size_t(GS[D]);
  std::vector<double> Y(N * Ch * OutPlane);
  for (size_t B = 0; B < N; ++B)
    for (size_t P = 0; P < OutPlane; ++P) {
      std::vector<double> Pt(R);
      for (size_t D = 0; D < R; ++D) {
        double Nrm = G[(B * OutPlane + P) * R + (R - 1 - D)];
        double L = double(S.Dims[D]);
        double V = O.Align ? (Nrm + 1) / 2 * (L - 1) : ((Nrm + 1) * L - 1) / 2;
        if (O.Mode == "nearest")
          V = std::nearbyint(V);
        if (V < S.lo(D) || V > S.hi(D)) {
          if (O.Pad == "border")
            V = std::min(std::max(V, 0.0), L - 1);
          else if (O.Pad == "reflection")
            V = reflectRef(V, S.lo(D), S.hi(D));
        }
        Pt[D] = V;
      }
      for (size_t C = 0; C < Ch; ++C) {
        std::vector<double> Plane(X.begin() + long((B * Ch + C) * InPlane),
                                  X.begin() + long((B * Ch + C + 1) * InPlane));
        Y[(B * Ch + C) * OutPlane + P] = S.interp(Plane, 0, 0, Pt);
      }
    }
  return Y;
}

std::vector<double> runGridSample(const std::vector<double> &X, const Shape &XS,
                                  const std::string &XType, const std::vector<double> &G,
                                  const Shape &GS, const std::string &GType, const Opts &O,
                                  unsigned Threads, Shape *YShapeOut = nullptr) {
  Shape YS{XS[0], XS[1]};
  YS.insert(YS.end(), GS.begin() + 1, GS.end() - 1);
  GraphSpec Spec;
  Spec.tensor("x", XS, XType).tensor("g", GS, GType).tensor("y", YS, XType);
  Spec.input("x").input("g").output("y");
  Spec.node("gs", "GridSample", {"x", "g"}, {"y"},
            {attrString("mode", O.Mode), attrString("padding_mode", O.Pad),
             attrInt("align_corners", O.Align ? 1 : 0)});
  TempDir Dir;
  auto Graph = load(Spec, Dir);
  if (YShapeOut)
    *YShapeOut = YS;
  return decode(run(*Graph, {encode(X, XType), encode(G, GType)}, Threads)[0], XType);
}

// Grid values in [-1.4, 1.4] (reaching outside the image) rounded to 1/64 (exact in BF16) and
// nudged off the nearest-rounding ties.
std::vector<double> gridFor(size_t N, uint32_t Seed) {
  std::vector<float> R = randomFloats(N, Seed, -1.4f, 1.4f);
  std::vector<double> V(N);
  for (size_t I = 0; I < N; ++I)
    V[I] = std::round(double(R[I]) * 64.0) / 64.0 + 1.0 / 256.0;
  return V;
}

} // namespace

TEST(NativeGridSample, EveryModePaddingAndAlignment2D) {
  const Shape XS{2, 3, 5, 4}, GS{2, 3, 7, 2};
  std::vector<double> X = gridValues(elementCount(XS), 3);
  std::vector<double> G = gridFor(elementCount(GS), 4);
  for (const char *Mode : {"nearest", "linear", "cubic"})
    for (const char *Pad : {"zeros", "border", "reflection"})
      for (bool Align : {false, true}) {
        Opts O{Mode, Pad, Align};
        SCOPED_TRACE(std::string(Mode) + " " + Pad + (Align ? " align" : ""));
        auto Ref = reference(X, XS, G, GS, O);
        for (unsigned Threads : {1u, 3u}) {
          auto Y = runGridSample(X, XS, "F64", G, GS, "F64", O, Threads);
          ASSERT_EQ(Y.size(), Ref.size());
          for (size_t I = 0; I < Y.size(); ++I)
            ASSERT_NEAR(Y[I], Ref[I], 1e-9) << I;
        }
      }
}

TEST(NativeGridSample, OneAndThreeSpatialAxes) {
  struct Case {
    Shape XS, GS;
  };
  for (const Case &C : {Case{{2, 2, 7}, {2, 5, 1}}, Case{{1, 2, 3, 4, 5}, {1, 2, 3, 4, 3}},
                        Case{{2, 1, 2, 1, 3}, {2, 3, 2, 2, 3}}})
    for (const char *Mode : {"nearest", "linear", "cubic"})
      for (const char *Pad : {"zeros", "border", "reflection"})
        for (bool Align : {false, true}) {
          Opts O{Mode, Pad, Align};
          SCOPED_TRACE(::testing::PrintToString(C.XS) + " " + Mode + " " + Pad +
                       (Align ? " align" : ""));
          std::vector<double> X = gridValues(elementCount(C.XS), 5);
          std::vector<double> G = gridFor(elementCount(C.GS), 6);
          auto Ref = reference(X, C.XS, G, C.GS, O);
          auto Y = runGridSample(X, C.XS, "F64", G, C.GS, "F64", O, 2);
          for (size_t I = 0; I < Y.size(); ++I)
            ASSERT_NEAR(Y[I], Ref[I], 1e-9) << I;
        }
}

TEST(NativeGridSample, EveryFloatTypeForDataAndGrid) {
  const Shape XS{1, 2, 4, 6}, GS{1, 5, 3, 2};
  std::vector<double> X = gridValues(elementCount(XS), 8);
  std::vector<double> G = gridFor(elementCount(GS), 9);
  for (const char *XType : {"F32", "F16", "BF16", "F64"})
    for (const char *GType : {"F32", "F16", "BF16", "F64"})
      for (const char *Mode : {"nearest", "linear", "cubic"}) {
        SCOPED_TRACE(std::string(XType) + " " + GType + " " + Mode);
        Opts O{Mode, "border", false};
        auto Ref = reference(X, XS, decode(encode(G, GType), GType), GS, O);
        auto Y = runGridSample(X, XS, XType, G, GS, GType, O, 1);
        for (size_t I = 0; I < Y.size(); ++I)
          ASSERT_NEAR(Y[I], Ref[I], 8 * typeTolerance(XType) * (1 + std::fabs(Ref[I]))) << I;
      }
}

TEST(NativeGridSample, OpsetSixteenNamesAndNonFiniteGrid) {
  const Shape XS{1, 1, 3, 3}, GS{1, 1, 4, 2};
  std::vector<double> X{1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<double> G{0, 0, NAN, 0, INFINITY, 0.5, -1e30, 1e30};
  Opts Bilinear{"bilinear", "zeros", false}, Bicubic{"bicubic", "reflection", true};
  for (const Opts &O : {Bilinear, Bicubic, Opts{"nearest", "border", true}}) {
    auto Y = runGridSample(X, XS, "F32", G, GS, "F32", O, 1);
    ASSERT_EQ(Y.size(), 4u);
    EXPECT_NEAR(Y[0], 5.0, 1e-5) << O.Mode; // the centre pixel, in every mode
  }
}

TEST(NativeGridSample, RejectsBadShapesAndAttributes) {
  GraphSpec G;
  G.tensor("x", {1, 1, 3, 3}).tensor("g", {1, 2, 2, 3}).tensor("y", {1, 1, 2, 2});
  G.input("x").input("g").output("y").node("gs", "GridSample", {"x", "g"}, {"y"});
  expectLoadError(G, OPTIMA_STATUS_INVALID_MODEL, {"grid \"g\" must be [N, out spatial..., 2]"});
  GraphSpec M;
  M.tensor("x", {1, 1, 3, 3}).tensor("g", {1, 2, 2, 2}).tensor("y", {1, 1, 2, 2});
  M.input("x").input("g").output("y").node("gs", "GridSample", {"x", "g"}, {"y"},
                                           {attrString("mode", "area")});
  expectLoadError(M, OPTIMA_STATUS_INVALID_MODEL, {"mode", "area"});
  GraphSpec O;
  O.tensor("x", {1, 1, 3, 3}).tensor("g", {1, 2, 2, 2}).tensor("y", {1, 1, 2, 3});
  O.input("x").input("g").output("y").node("gs", "GridSample", {"x", "g"}, {"y"});
  expectLoadError(O, OPTIMA_STATUS_INVALID_MODEL, {"declared F32 [1, 1, 2, 3]"});
}
