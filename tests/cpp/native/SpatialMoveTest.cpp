// CenterCropPad, TensorScatter, MaxUnpool and Col2Im vs references written here with plain
// index arithmetic (coordinate by coordinate), on odd sizes, several element types, threads,
// and their load-time and run-time refusals.
#include "MoveTestUtil.h"
#include "NativeTestUtil.h"
#include "OpTestTypes.h"
#include "SpatialTestUtil.h"

#include <gtest/gtest.h>

using namespace native_test;

TEST(NativeCenterCropPad, CropsAndPadsCentredEveryType) {
  struct Case {
    Shape In;
    std::vector<int64_t> Target, Axes; // Axes empty: all
  };
  const std::vector<Case> Cases = {
      {{20, 10, 3}, {10, 7, 3}, {}},  {{20, 8, 3}, {10, 10, 3}, {}}, {{3, 20, 8}, {10, 9}, {1, 2}},
      {{20, 8, 3}, {10, 9}, {-3, -2}}, {{10, 7, 3}, {20, 10, 3}, {}}, {{5, 1, 4}, {2}, {1}},
      {{7}, {12}, {}},                 {{4, 6}, {0, 9}, {}}};
  for (const char *Type : {"F32", "F16", "I64", "U8", "F64", "I16"})
    for (const Case &C : Cases) {
      SCOPED_TRACE(std::string(Type) + " " + ::testing::PrintToString(C.In) + " -> " +
                   ::testing::PrintToString(C.Target));
      size_t Rank = C.In.size();
      std::vector<int64_t> Axes = C.Axes;
      if (Axes.empty())
        for (size_t D = 0; D < Rank; ++D)
          Axes.push_back(int64_t(D));
      Shape Out = C.In;
      for (size_t I = 0; I < Axes.size(); ++I)
        Out[size_t(Axes[I] < 0 ? Axes[I] + int64_t(Rank) : Axes[I])] = C.Target[I];
      std::vector<double> X(elementCount(C.In));
      for (size_t I = 0; I < X.size(); ++I)
        X[I] = double(I % 97) + 1;
      // Reference: output coordinate o reads input o + (in - out) / 2 (floor, towards the start
      // for a crop) or o - (out - in) / 2 for a pad.
      std::vector<double> Ref(elementCount(Out), 0.0);
      for (size_t F = 0; F < Ref.size(); ++F) {
        auto O = coordsOf(F, Out);
        bool Inside = true;
        for (size_t D = 0; D < Rank; ++D) {
          int64_t Shift = C.In[D] >= Out[D] ? (C.In[D] - Out[D]) / 2 : -((Out[D] - C.In[D]) / 2);
          O[D] += Shift;
          Inside = Inside && O[D] >= 0 && O[D] < C.In[D];
        }
        if (Inside)
          Ref[F] = X[flatOf(O, C.In)];
      }
      GraphSpec G;
      G.tensor("x", C.In, Type).constantI64("s", {int64_t(C.Target.size())}, C.Target);
      G.tensor("y", Out, Type).input("x").output("y");
      std::vector<std::string> Attrs;
      if (!C.Axes.empty())
        Attrs.push_back(attrInts("axes", C.Axes));
      G.node("c", "CenterCropPad", {"x", "s"}, {"y"}, Attrs);
      TempDir Dir;
      auto Graph = load(G, Dir);
      for (unsigned Threads : {1u, 3u})
        ASSERT_EQ(decode(run(*Graph, {encode(X, Type)}, Threads)[0], Type), Ref);
    }
}

TEST(NativeCenterCropPad, ShapeMustBeConstantAndMatchAxes) {
  GraphSpec G;
  G.tensor("x", {4, 4}).tensor("s", {2}, "I64").tensor("y", {2, 2});
  G.input("x").input("s").output("y").node("c", "CenterCropPad", {"x", "s"}, {"y"});
  expectLoadError(G, OPTIMA_STATUS_UNSUPPORTED, {"must be a constant"});
  GraphSpec A;
  A.tensor("x", {4, 4}).constantI64("s", {2}, {2, 2}).tensor("y", {2, 4});
  A.input("x").output("y").node("c", "CenterCropPad", {"x", "s"}, {"y"}, {attrInts("axes", {0})});
  expectLoadError(A, OPTIMA_STATUS_INVALID_MODEL, {"2 values for 1 axes"});
}

TEST(NativeTensorScatter, LinearAndCircularAnyAxis) {
  struct Case {
    Shape Cache;
    int64_t UpdateLen, Axis;
    std::vector<int64_t> Indices; // empty: input omitted
    std::string Mode;
  };
  const std::vector<Case> Cases = {
      {{2, 1, 4, 5}, 1, -2, {1, 3}, "linear"},   {{3, 4, 5}, 2, -2, {}, "linear"},
      {{2, 1, 4, 5}, 2, -2, {3, 6}, "circular"}, {{2, 3, 5}, 2, 1, {1, 0}, "linear"},
      {{2, 3, 7}, 4, 2, {5, -1}, "circular"},    {{3, 2, 6, 3}, 6, 2, {0, 0, 0}, "linear"}};
  for (const char *Type : {"F32", "BF16", "I32", "U8"})
    for (const Case &C : Cases) {
      SCOPED_TRACE(std::string(Type) + " " + ::testing::PrintToString(C.Cache) + " " + C.Mode);
      size_t Axis = size_t(C.Axis < 0 ? C.Axis + int64_t(C.Cache.size()) : C.Axis);
      Shape US = C.Cache;
      US[Axis] = C.UpdateLen;
      std::vector<double> Past(elementCount(C.Cache)), Upd(elementCount(US));
      for (size_t I = 0; I < Past.size(); ++I)
        Past[I] = double(I % 50);
      for (size_t I = 0; I < Upd.size(); ++I)
        Upd[I] = 100.0 + double(I % 100);
      std::vector<double> Ref = Past;
      int64_t Max = C.Cache[Axis];
      for (size_t F = 0; F < Upd.size(); ++F) {
        auto U = coordsOf(F, US);
        int64_t Start = C.Indices.empty() ? 0 : C.Indices[size_t(U[0])];
        int64_t At = Start + U[Axis];
        if (C.Mode == "circular")
          At = ((At % Max) + Max) % Max;
        U[Axis] = At;
        Ref[flatOf(U, C.Cache)] = Upd[F];
      }
      GraphSpec G;
      G.tensor("p", C.Cache, Type).tensor("u", US, Type).tensor("y", C.Cache, Type);
      G.tensor("i", {C.Cache[0]}, "I64");
      G.input("p").input("u");
      std::vector<Bytes> In{encode(Past, Type), encode(Upd, Type)};
      if (!C.Indices.empty()) {
        G.input("i");
        In.push_back(toBytes(C.Indices));
      }
      G.output("y").node("t", "TensorScatter", {"p", "u", C.Indices.empty() ? "" : "i"}, {"y"},
                         {attrString("mode", C.Mode), attrInt("axis", C.Axis)});
      TempDir Dir;
      auto Graph = load(G, Dir);
      ASSERT_EQ(decode(run(*Graph, In)[0], Type), Ref);
    }
}

TEST(NativeTensorScatter, LinearWriteOutOfRangeFailsTheRun) {
  GraphSpec G;
  G.tensor("p", {2, 4, 3}).tensor("u", {2, 2, 3}).tensor("i", {2}, "I64").tensor("y", {2, 4, 3});
  G.input("p").input("u").input("i").output("y").node("t", "TensorScatter", {"p", "u", "i"}, {"y"});
  std::vector<float> P(24, 1.0f), U(12, 2.0f);
  for (std::vector<int64_t> Bad : {std::vector<int64_t>{0, 3}, std::vector<int64_t>{-1, 0}}) {
    std::string Msg = runExpectingFailure(G, {toBytes(P), toBytes(U), toBytes(Bad)});
    EXPECT_NE(Msg.find("write_indices["), std::string::npos) << Msg;
  }
  GraphSpec A;
  A.tensor("p", {2, 4}).tensor("u", {1, 4}).tensor("y", {2, 4});
  A.input("p").input("u").output("y").node("t", "TensorScatter", {"p", "u"}, {"y"},
                                           {attrInt("axis", 0)});
  expectLoadError(A, OPTIMA_STATUS_INVALID_MODEL, {"batch axis"});
}

TEST(NativeMaxUnpool, ScattersIntoInferredAndLargerOutput) {
  for (const char *Type : {"F32", "F16", "BF16", "F64"})
    for (bool WithShape : {false, true}) {
      SCOPED_TRACE(std::string(Type) + (WithShape ? " output_shape" : ""));
      // X [2, 3, 2, 3] pooled with kernel 2, stride 2, pads (0, 1, 0, 0): inferred [2, 3, 4, 5].
      Shape XS{2, 3, 2, 3}, Inf{2, 3, 4, 5}, Big{2, 3, 6, 7};
      Shape OS = WithShape ? Big : Inf;
      std::vector<double> X(elementCount(XS));
      std::vector<int64_t> I(X.size());
      for (size_t F = 0; F < X.size(); ++F) {
        X[F] = double(F) + 1;
        auto C = coordsOf(F, XS);
        C[2] = C[2] * 2 + int64_t(F % 2);
        C[3] = std::min<int64_t>(C[3] * 2 + int64_t(F % 3 == 0), 4);
        I[F] = int64_t(flatOf(C, Inf));
      }
      std::vector<double> Ref(elementCount(OS), 0.0);
      for (size_t F = 0; F < X.size(); ++F)
        Ref[flatOf(coordsOf(size_t(I[F]), Inf), OS)] = X[F];
      GraphSpec G;
      G.tensor("x", XS, Type).tensor("i", XS, "I64").tensor("y", OS, Type);
      G.constantI64("s", {4}, OS);
      G.input("x").input("i").output("y");
      G.node("u", "MaxUnpool", {"x", "i", WithShape ? "s" : ""}, {"y"},
             {attrInts("kernel_shape", {2, 2}), attrInts("strides", {2, 2}),
              attrInts("pads", {0, 1, 0, 0})});
      TempDir Dir;
      auto Graph = load(G, Dir);
      ASSERT_EQ(decode(run(*Graph, {encode(X, Type), toBytes(I)})[0], Type), Ref);
      std::vector<int64_t> Bad = I;
      Bad[3] = int64_t(elementCount(Inf));
      EXPECT_NE(runExpectingFailure(G, {encode(X, Type), toBytes(Bad)}).find("index 120"),
                std::string::npos);
    }
}

TEST(NativeCol2Im, AgainstScatterReference) {
  struct Case {
    int64_t N, C;
    Shape Image, Block, Strides, Pads, Dil;
  };
  const std::vector<Case> Cases = {
      {1, 1, {5, 5}, {1, 5}, {1, 1}, {0, 0, 0, 0}, {1, 1}},
      {1, 1, {6, 6}, {2, 2}, {1, 1}, {0, 0, 0, 0}, {1, 5}},
      {1, 1, {5, 5}, {1, 5}, {1, 1}, {0, 1, 0, 1}, {1, 1}},
      {2, 3, {5, 7}, {2, 3}, {2, 2}, {1, 0, 2, 1}, {1, 2}},
      {1, 2, {3, 4, 5}, {1, 1, 5}, {1, 1, 1}, {0, 0, 0, 0, 0, 0}, {1, 1, 1}},
      {2, 2, {9}, {3}, {2}, {1, 2}, {2}}};
  for (const char *Type : {"F32", "F16", "F64", "I32"})
    for (const Case &C : Cases) {
      SCOPED_TRACE(std::string(Type) + " " + ::testing::PrintToString(C.Image) + " block " +
                   ::testing::PrintToString(C.Block));
      size_t R = C.Image.size();
      Shape Blocks;
      for (size_t D = 0; D < R; ++D)
        Blocks.push_back(
            (C.Image[D] + C.Pads[D] + C.Pads[D + R] - C.Dil[D] * (C.Block[D] - 1) - 1) /
                C.Strides[D] +
            1);
      int64_t BL = int64_t(elementCount(C.Block)), L = int64_t(elementCount(Blocks));
      Shape XS{C.N, C.C * BL, L};
      std::vector<double> X(elementCount(XS));
      for (size_t I = 0; I < X.size(); ++I)
        X[I] = double(int(I * 7 % 23) - 11);
      Shape YS{C.N, C.C};
      YS.insert(YS.end(), C.Image.begin(), C.Image.end());
      std::vector<double> Ref(elementCount(YS), 0.0);
      // Scatter: column value (n, c, k, l) lands on pixel l * stride - pad + k * dilation.
      for (int64_t N = 0; N < C.N; ++N)
        for (int64_t Ch = 0; Ch < C.C; ++Ch)
          for (int64_t K = 0; K < BL; ++K)
            for (int64_t Li = 0; Li < L; ++Li) {
              auto Kc = coordsOf(size_t(K), C.Block), Lc = coordsOf(size_t(Li), Blocks);
              std::vector<int64_t> P{N, Ch};
              bool In = true;
              for (size_t D = 0; D < R; ++D) {
                int64_t V = Lc[D] * C.Strides[D] - C.Pads[D] + Kc[D] * C.Dil[D];
                In = In && V >= 0 && V < C.Image[D];
                P.push_back(V);
              }
              if (In)
                Ref[flatOf(P, YS)] += X[size_t((N * C.C * BL + Ch * BL + K) * L + Li)];
            }
      GraphSpec G;
      G.tensor("x", XS, Type).constantI64("is", {int64_t(R)}, C.Image);
      G.constantI64("bs", {int64_t(R)}, C.Block).tensor("y", YS, Type);
      G.input("x").output("y");
      G.node("c", "Col2Im", {"x", "is", "bs"}, {"y"},
             {attrInts("strides", C.Strides), attrInts("pads", C.Pads),
              attrInts("dilations", C.Dil)});
      TempDir Dir;
      auto Graph = load(G, Dir);
      for (unsigned Threads : {1u, 3u})
        ASSERT_EQ(decode(run(*Graph, {encode(X, Type)}, Threads)[0], Type), Ref);
    }
}

TEST(NativeCol2Im, RejectsInconsistentColumns) {
  GraphSpec G;
  G.tensor("x", {1, 4, 5}).constantI64("is", {2}, {3, 3}).constantI64("bs", {2}, {2, 2});
  G.tensor("y", {1, 1, 3, 3}).input("x").output("y");
  G.node("c", "Col2Im", {"x", "is", "bs"}, {"y"});
  expectLoadError(G, OPTIMA_STATUS_INVALID_MODEL, {"must be [N, C * 4, 4]"});
}
