// AffineGrid, DeformConv and RoiAlign vs references written here in double: AffineGrid from
// linspace-style base coordinates; DeformConv as a direct sum with a zero-padded bilinear
// sampler; RoiAlign following the ONNX operator description sample by sample.
#include "MoveTestUtil.h"
#include "NativeTestUtil.h"
#include "OpTestTypes.h"
#include "SpatialTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace native_test;

TEST(NativeAffineGrid, TwoAndThreeDimensionsEveryType) {
  for (const char *Type : {"F32", "F16", "BF16", "F64"})
    for (bool ThreeD : {false, true})
      for (int Align : {0, 1}) {
        SCOPED_TRACE(std::string(Type) + (ThreeD ? " 3d" : " 2d") + " align " +
                     std::to_string(Align));
        std::vector<int64_t> Size = ThreeD ? std::vector<int64_t>{2, 3, 4, 1, 6}
                                           : std::vector<int64_t>{3, 1, 5, 7};
        size_t R = Size.size() - 2;
        Shape TS{Size[0], int64_t(R), int64_t(R) + 1};
        std::vector<double> Theta = gridValues(elementCount(TS), 12);
        Shape GS{Size[0]};
        GS.insert(GS.end(), Size.begin() + 2, Size.end());
        GS.push_back(int64_t(R));
        auto base = [&](int64_t I, int64_t L) {
          if (Align)
            return L == 1 ? -1.0 : -1.0 + 2.0 * double(I) / double(L - 1);
          return (2.0 * double(I) + 1.0) / double(L) - 1.0;
        };
        std::vector<double> Ref;
        size_t Points = elementCount(Shape(Size.begin() + 2, Size.end()));
        for (int64_t N = 0; N < Size[0]; ++N)
          for (size_t P = 0; P < Points; ++P) {
            auto C = coordsOf(P, Shape(Size.begin() + 2, Size.end()));
            std::vector<double> H; // (x, y[, z], 1): innermost axis first
            for (size_t A = R; A-- > 0;)
              H.push_back(base(C[A], Size[A + 2]));
            H.push_back(1.0);
            for (size_t Row = 0; Row < R; ++Row) {
              double S = 0;
              for (size_t J = 0; J <= R; ++J)
                S += Theta[size_t(N) * R * (R + 1) + Row * (R + 1) + J] * H[J];
              Ref.push_back(S);
            }
          }
        GraphSpec G;
        G.tensor("t", TS, Type).constantI64("s", {int64_t(Size.size())}, Size);
        G.tensor("g", GS, Type).input("t").output("g");
        G.node("a", "AffineGrid", {"t", "s"}, {"g"}, {attrInt("align_corners", Align)});
        TempDir Dir;
        auto Graph = load(G, Dir);
        auto Y = decode(run(*Graph, {encode(Theta, Type)}, 2)[0], Type);
        ASSERT_EQ(Y.size(), Ref.size());
        for (size_t I = 0; I < Y.size(); ++I)
          ASSERT_NEAR(Y[I], Ref[I], 4 * typeTolerance(Type) * (1 + std::fabs(Ref[I]))) << I;
      }
}

namespace {

struct DeformCase {
  int64_t N, C, H, W, M, KH, KW, Group, OffsetGroup;
  std::vector<int64_t> Strides, Pads, Dil;
  bool Bias, Mask;
};

double bilinearZero(const std::vector<double> &X, size_t Base, int64_t H, int64_t W, double Y,
                    double Xc) {
  double Sum = 0;
  int64_t Y0 = int64_t(std::floor(Y)), X0 = int64_t(std::floor(Xc));
  for (int64_t Yi = Y0; Yi <= Y0 + 1; ++Yi)
    for (int64_t Xi = X0; Xi <= X0 + 1; ++Xi) {
      if (Yi < 0 || Yi >= H || Xi < 0 || Xi >= W)
        continue;
      double Wt = (1 - std::fabs(Y - double(Yi))) * (1 - std::fabs(Xc - double(Xi)));
      Sum += Wt * X[Base + size_t(Yi * W + Xi)];
    }
  return Sum;
}

} // namespace

TEST(NativeDeformConv, AgainstDirectSum) {
  const std::vector<DeformCase> Cases = {
      {1, 1, 3, 3, 1, 2, 2, 1, 1, {1, 1}, {0, 0, 0, 0}, {1, 1}, false, false},
      {1, 1, 3, 3, 1, 2, 2, 1, 1, {1, 1}, {1, 1, 1, 1}, {1, 1}, true, true},
      {1, 2, 3, 3, 1, 2, 2, 1, 2, {1, 1}, {0, 0, 0, 0}, {1, 1}, false, false},
      {2, 4, 6, 5, 6, 3, 2, 2, 2, {2, 1}, {1, 0, 2, 1}, {1, 2}, true, true}};
  for (const char *Type : {"F32", "F64", "F16", "BF16"})
    for (const DeformCase &C : Cases) {
      SCOPED_TRACE(std::string(Type) + " C" + std::to_string(C.C) + " M" + std::to_string(C.M));
      int64_t OH = (C.H + C.Pads[0] + C.Pads[2] - (C.KH - 1) * C.Dil[0] - 1) / C.Strides[0] + 1;
      int64_t OW = (C.W + C.Pads[1] + C.Pads[3] - (C.KW - 1) * C.Dil[1] - 1) / C.Strides[1] + 1;
      int64_t Taps = C.KH * C.KW;
      Shape XS{C.N, C.C, C.H, C.W}, WS{C.M, C.C / C.Group, C.KH, C.KW};
      Shape OS{C.N, C.OffsetGroup * Taps * 2, OH, OW}, MS{C.N, C.OffsetGroup * Taps, OH, OW};
      Shape YS{C.N, C.M, OH, OW};
      std::vector<double> X = gridValues(elementCount(XS), 1), W = gridValues(elementCount(WS), 2);
      std::vector<double> Off = gridValues(elementCount(OS), 3), B = gridValues(size_t(C.M), 4);
      std::vector<double> Mask = gridValues(elementCount(MS), 5);
      std::vector<double> Ref(elementCount(YS));
      int64_t IcPerG = C.C / C.Group, OcPerG = C.M / C.Group, IcPerOg = C.C / C.OffsetGroup;
      for (int64_t N = 0; N < C.N; ++N)
        for (int64_t Oc = 0; Oc < C.M; ++Oc)
          for (int64_t I = 0; I < OH; ++I)
            for (int64_t J = 0; J < OW; ++J) {
              double S = C.Bias ? B[size_t(Oc)] : 0.0;
              int64_t G = Oc / OcPerG;
              for (int64_t Icg = 0; Icg < IcPerG; ++Icg) {
                int64_t Ic = G * IcPerG + Icg, Og = Ic / IcPerOg;
                for (int64_t A = 0; A < C.KH; ++A)
                  for (int64_t Bk = 0; Bk < C.KW; ++Bk) {
                    int64_t Tap = A * C.KW + Bk;
                    double Dy = Off[flatOf({N, (Og * Taps + Tap) * 2, I, J}, OS)];
                    double Dx = Off[flatOf({N, (Og * Taps + Tap) * 2 + 1, I, J}, OS)];
                    double Y = double(I * C.Strides[0] - C.Pads[0] + A * C.Dil[0]) + Dy;
                    double Xc = double(J * C.Strides[1] - C.Pads[1] + Bk * C.Dil[1]) + Dx;
                    double V = bilinearZero(X, size_t((N * C.C + Ic) * C.H * C.W), C.H, C.W, Y, Xc);
                    if (C.Mask)
                      V *= Mask[flatOf({N, Og * Taps + Tap, I, J}, MS)];
                    S += W[flatOf({Oc, Icg, A, Bk}, WS)] * V;
                  }
              }
              Ref[flatOf({N, Oc, I, J}, YS)] = S;
            }
      GraphSpec G;
      G.tensor("x", XS, Type).tensor("w", WS, Type).tensor("o", OS, Type);
      G.tensor("b", {C.M}, Type).tensor("m", MS, Type).tensor("y", YS, Type);
      G.input("x").input("w").input("o");
      std::vector<Bytes> In{encode(X, Type), encode(W, Type), encode(Off, Type)};
      if (C.Bias) {
        G.input("b");
        In.push_back(encode(B, Type));
      }
      if (C.Mask) {
        G.input("m");
        In.push_back(encode(Mask, Type));
      }
      G.output("y").node("d", "DeformConv",
                         {"x", "w", "o", C.Bias ? "b" : "", C.Mask ? "m" : ""}, {"y"},
                         {attrInts("kernel_shape", {C.KH, C.KW}), attrInts("strides", C.Strides),
                          attrInts("pads", C.Pads), attrInts("dilations", C.Dil),
                          attrInt("group", C.Group), attrInt("offset_group", C.OffsetGroup)});
      TempDir Dir;
      auto Graph = load(G, Dir);
      for (unsigned Threads : {1u, 3u}) {
        auto Y = decode(run(*Graph, In, Threads)[0], Type);
        for (size_t I = 0; I < Y.size(); ++I)
          ASSERT_NEAR(Y[I], Ref[I], 16 * typeTolerance(Type) * (1 + std::fabs(Ref[I]))) << I;
      }
    }
}

namespace {

// RoiAlign per the operator description: bins of the scaled region, sampling points at the
// centres of a grid inside each bin, bilinear value with coordinates clamped into the image
// (samples more than one pixel outside read zero).
std::vector<double> roiAlignRef(const std::vector<double> &X, const Shape &XS,
                                const std::vector<double> &Rois, const std::vector<int64_t> &Bi,
                                int64_t OH, int64_t OW, int64_t Ratio, double Scale, bool Half,
                                bool Max) {
  int64_t C = XS[1], H = XS[2], W = XS[3];
  std::vector<double> Y;
  for (size_t R = 0; R < Bi.size(); ++R) {
    double Off = Half ? 0.5 : 0.0;
    double X1 = Rois[R * 4] * Scale - Off, Y1 = Rois[R * 4 + 1] * Scale - Off;
    double RW = Rois[R * 4 + 2] * Scale - Off - X1, RH = Rois[R * 4 + 3] * Scale - Off - Y1;
    if (!Half) {
      RW = std::max(RW, 1.0);
      RH = std::max(RH, 1.0);
    }
    double BH = RH / double(OH), BW = RW / double(OW);
    int64_t GH = Ratio > 0 ? Ratio : int64_t(std::ceil(RH / double(OH)));
    int64_t GW = Ratio > 0 ? Ratio : int64_t(std::ceil(RW / double(OW)));
    for (int64_t Ch = 0; Ch < C; ++Ch)
      for (int64_t Ph = 0; Ph < OH; ++Ph)
        for (int64_t Pw = 0; Pw < OW; ++Pw) {
          double Acc = 0;
          bool First = true;
          for (int64_t Iy = 0; Iy < GH; ++Iy)
            for (int64_t Ix = 0; Ix < GW; ++Ix) {
              double Yc = Y1 + double(Ph) * BH + (double(Iy) + 0.5) * BH / double(GH);
              double Xc = X1 + double(Pw) * BW + (double(Ix) + 0.5) * BW / double(GW);
              double V = 0;
              if (Yc >= -1 && Yc <= double(H) && Xc >= -1 && Xc <= double(W)) {
                Yc = std::min(std::max(Yc, 0.0), double(H - 1));
                Xc = std::min(std::max(Xc, 0.0), double(W - 1));
                int64_t Y0 = int64_t(Yc), X0 = int64_t(Xc);
                int64_t Y1i = std::min(Y0 + 1, H - 1), X1i = std::min(X0 + 1, W - 1);
                double Ly = Yc - double(Y0), Lx = Xc - double(X0);
                auto at = [&](int64_t Yi, int64_t Xi) {
                  return X[size_t(((Bi[R] * C + Ch) * H + Yi) * W + Xi)];
                };
                double T[4] = {(1 - Ly) * (1 - Lx) * at(Y0, X0), (1 - Ly) * Lx * at(Y0, X1i),
                               Ly * (1 - Lx) * at(Y1i, X0), Ly * Lx * at(Y1i, X1i)};
                V = Max ? std::max(std::max(T[0], T[1]), std::max(T[2], T[3]))
                        : T[0] + T[1] + T[2] + T[3];
              }
              if (!Max)
                Acc += V;
              else if (First || V > Acc)
                Acc = V;
              First = false;
            }
          Y.push_back(Max ? Acc : Acc / double(std::max<int64_t>(GH * GW, 1)));
        }
  }
  return Y;
}

} // namespace

TEST(NativeRoiAlign, AvgAndMaxEveryTransformAndType) {
  Shape XS{2, 3, 10, 9};
  std::vector<double> X = gridValues(elementCount(XS), 21);
  std::vector<double> Rois{0, 0, 9, 9, 0, 5, 4, 9, 5, 5, 9, 9, 2.5, 1.5, 7.25, 8.75, -3, -2, 4, 3,
                           8, 8, 12, 14};
  std::vector<int64_t> Bi{0, 1, 0, 1, 1, 0};
  for (const char *Type : {"F32", "F64", "F16", "BF16"})
    for (bool Half : {true, false})
      for (bool Max : {false, true})
        for (int64_t Ratio : {0, 2})
          for (double Scale : {1.0, 0.5}) {
            SCOPED_TRACE(std::string(Type) + (Half ? " half_pixel" : " output_half_pixel") +
                         (Max ? " max" : " avg") + " ratio " + std::to_string(Ratio) +
                         " scale " + std::to_string(Scale));
            auto Ref = roiAlignRef(X, XS, Rois, Bi, 4, 3, Ratio, Scale, Half, Max);
            GraphSpec G;
            G.tensor("x", XS, Type).tensor("r", {6, 4}, Type).tensor("b", {6}, "I64");
            G.tensor("y", {6, 3, 4, 3}, Type).input("x").input("r").input("b").output("y");
            G.node("ra", "RoiAlign", {"x", "r", "b"}, {"y"},
                   {attrString("coordinate_transformation_mode",
                               Half ? "half_pixel" : "output_half_pixel"),
                    attrString("mode", Max ? "max" : "avg"), attrInt("output_height", 4),
                    attrInt("output_width", 3), attrInt("sampling_ratio", Ratio),
                    attrFloat("spatial_scale", Scale)});
            TempDir Dir;
            auto Graph = load(G, Dir);
            auto Y = decode(run(*Graph, {encode(X, Type), encode(Rois, Type), toBytes(Bi)}, 3)[0],
                            Type);
            ASSERT_EQ(Y.size(), Ref.size());
            for (size_t I = 0; I < Y.size(); ++I)
              ASSERT_NEAR(Y[I], Ref[I], 8 * typeTolerance(Type) * (1 + std::fabs(Ref[I]))) << I;
          }
}

TEST(NativeRoiAlign, BadBatchIndexAndNonFiniteRoiFailTheRun) {
  GraphSpec G;
  G.tensor("x", {1, 1, 4, 4}).tensor("r", {1, 4}).tensor("b", {1}, "I64").tensor("y", {1, 1, 2, 2});
  G.input("x").input("r").input("b").output("y");
  G.node("ra", "RoiAlign", {"x", "r", "b"}, {"y"},
         {attrInt("output_height", 2), attrInt("output_width", 2)});
  std::vector<float> X(16, 1.0f), R{0, 0, 3, 3};
  EXPECT_NE(runExpectingFailure(G, {toBytes(X), toBytes(R), toBytes(std::vector<int64_t>{1})})
                .find("batch_indices[0] = 1"),
            std::string::npos);
  std::vector<float> Nan{0, NAN, 3, 3}, Huge{0, 0, 3e30f, 3e30f};
  EXPECT_NE(runExpectingFailure(G, {toBytes(X), toBytes(Nan), toBytes(std::vector<int64_t>{0})})
                .find("non-finite"),
            std::string::npos);
  EXPECT_NE(runExpectingFailure(G, {toBytes(X), toBytes(Huge), toBytes(std::vector<int64_t>{0})})
                .find("too large"),
            std::string::npos);
}
