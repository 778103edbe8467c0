// Conv through the GEMM engine vs the naive N-D reference of ConvTestUtil.h: constant weights (packed
// once at load, im2col written straight into packed B panels) and runtime weights (packed per
// run), on every GEMM microkernel this CPU supports, serial and threaded. Shapes cover one input
// channel with one group (GEMM, not the depthwise direct path), several K panels (> 256 rows),
// several N chunks (> 512 output pixels), output rows crossing sliver boundaries, small N (< NR),
// small output planes with many filters (computed as Y^T = Col^T W^T, padded ones by row bands
// that skip the padding kernel rows, output rows that read nothing but padding included),
// stride-1 2-D convs through the shifted-rows GEMM and through im2col, strides, dilations,
// asymmetric pads, groups, 1-D and 3-D, with and without bias, with a fused Relu, and with a
// residual input added before it on every path.
#include "ConvTestUtil.h"
#include "NativeTestUtil.h"

#include "Gemm.h"
#include "ops/conv/ConvCommon.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace native_test;
namespace nat = optima_v2::native;

namespace {

struct Case {
  std::string Label;
  Shape X, W;
  bool Bias = true;
  int64_t Group = 1;
  std::vector<int64_t> Strides, Dilations, Pads; // empty: defaults
  bool Relu = false;
  bool Residual = false; // a fourth input Z shaped like Y: Y = act(conv + B + Z)
};

ConvCase asConv(const Case &C) {
  return ConvCase{C.Label, C.X, C.W, C.Bias, C.Group, C.Strides, C.Dilations, C.Pads, ""};
}

std::vector<float> reference(const Case &C, const std::vector<float> &X, const std::vector<float> &W,
                             const std::vector<float> &B, Shape &Out, std::vector<float> &Z) {
  const ConvCase Conv = asConv(C);
  std::vector<int64_t> PadBegin;
  geometry(Conv, Out, PadBegin);
  std::vector<float> Y = referenceConv(Conv, X, W, B, Out, PadBegin);
  if (C.Residual) {
    Z = randomFloats(Y.size(), 14);
    for (size_t I = 0; I < Y.size(); ++I)
      Y[I] += Z[I];
  }
  if (C.Relu)
    for (float &V : Y)
      V = std::max(0.0f, V);
  return Y;
}

void check(const Case &C, bool ConstW, unsigned Threads) {
  SCOPED_TRACE(C.Label + (ConstW ? " const W" : " runtime W") + " threads=" +
               std::to_string(Threads));
  std::vector<float> X = randomFloats(elementCount(C.X), 11);
  std::vector<float> W = randomFloats(elementCount(C.W), 12);
  std::vector<float> B = C.Bias ? randomFloats(size_t(C.W[0]), 13) : std::vector<float>();
  Shape Out;
  std::vector<float> Z;
  std::vector<float> Ref = reference(C, X, W, B, Out, Z);
  std::vector<std::string> Attrs = convAttributes(asConv(C));
  if (C.Relu)
    Attrs.push_back(attrString("activation", "Relu"));
  GraphSpec G;
  G.tensor("x", C.X).tensor("y", Out).input("x").output("y");
  std::vector<Bytes> Inputs{toBytes(X)};
  if (ConstW) {
    G.constantF32("w", C.W, W);
  } else {
    G.tensor("w", C.W).input("w");
    Inputs.push_back(toBytes(W));
  }
  std::vector<std::string> Ins{"x", "w"};
  if (C.Bias) {
    G.constantF32("b", {C.W[0]}, B);
    Ins.push_back("b");
  }
  if (C.Residual) {
    G.tensor("z", Out).input("z");
    Inputs.push_back(toBytes(Z));
    Ins.push_back("z");
  }
  G.node("conv", "Conv", Ins, {"y"}, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  std::vector<float> Y = fromBytes<float>(run(*Graph, Inputs, Threads)[0]);
  ASSERT_EQ(Y.size(), Ref.size());
  const double Depth = double(elementCount(C.W) / size_t(C.W[0]));
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], 1e-6 * Depth * (1.0 + std::fabs(Ref[I]))) << "at " << I;
}

const std::vector<Case> &cases() {
  static const std::vector<Case> All = {
      {"lenet stem: 1 channel, 1 group", {1, 1, 28, 28}, {6, 1, 5, 5}, true, 1, {}, {}, {2, 2, 2, 2}},
      {"1 channel strided no bias relu", {2, 1, 13, 11}, {5, 1, 3, 3}, false, 1, {2, 2}, {}, {1, 0, 0, 1}, true},
      {"many K panels (C*K = 585), 7x7 out", {1, 65, 7, 7}, {29, 65, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}, true},
      {"N > 512 (two chunks), odd width", {1, 3, 25, 23}, {14, 3, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}},
      {"stride 2 dilation 2 asym pads", {1, 4, 17, 19}, {13, 4, 3, 2}, true, 1, {2, 2}, {2, 3}, {2, 0, 1, 3}},
      {"7x7 stride 2 stem", {1, 3, 30, 29}, {8, 3, 7, 7}, false, 1, {2, 2}, {}, {3, 3, 3, 3}, true},
      {"tiny N (< NR)", {1, 9, 3, 3}, {25, 9, 3, 3}, true, 1, {}, {}, {0, 0, 0, 0}},
      {"pointwise", {2, 20, 6, 7}, {17, 20, 1, 1}, true, 1, {}, {}, {}, true},
      {"1x1 strided", {1, 6, 9, 8}, {5, 6, 1, 1}, false, 1, {2, 3}, {}, {}},
      {"groups", {2, 6, 8, 7}, {9, 2, 3, 3}, true, 3, {1, 2}, {}, {1, 1, 0, 2}},
      {"1d dilated", {2, 5, 40}, {7, 5, 4}, true, 1, {3}, {2}, {3, 1}},
      {"3d", {1, 3, 5, 6, 4}, {4, 3, 2, 3, 2}, true, 1, {1, 2, 1}, {}, {1, 0, 1, 0, 1, 0}, true},
      {"small plane, many filters (Y^T)", {2, 30, 7, 7}, {70, 30, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}, true},
      {"small plane pointwise (Y^T)", {1, 40, 5, 5}, {66, 40, 1, 1}, false, 1, {}, {}, {}},
      {"deep pointwise 14x14 (Y^T pads less)", {1, 260, 14, 14}, {96, 260, 1, 1}, true, 1, {}, {}, {}, true},
      {"small plane grouped strided (Y^T)", {1, 8, 8, 7}, {140, 4, 3, 3}, true, 2, {2, 2}, {}, {1, 1, 1, 0}},
      {"kernel wider than input", {1, 2, 2, 3}, {3, 2, 3, 5}, true, 1, {}, {}, {1, 2, 1, 2}},
      {"stride 1 dilated asym pads", {2, 4, 17, 19}, {13, 4, 3, 2}, true, 1, {}, {2, 3}, {2, 0, 1, 3}, true},
      {"stride 1 wide rows, 2 groups", {1, 6, 9, 40}, {10, 3, 3, 3}, true, 2, {}, {}, {1, 1, 1, 1}},
      {"stride 1 no padding (lenet c3)", {1, 6, 14, 14}, {16, 6, 5, 5}, true, 1, {}, {}, {}, true},
      {"small plane 5x5 kernel (row bands)", {1, 8, 6, 6}, {80, 8, 5, 5}, true, 1, {}, {}, {2, 2, 2, 2}, true},
      {"small plane dilated asym pads (row bands)", {2, 16, 7, 7}, {96, 16, 3, 3}, false, 1, {}, {2, 1}, {2, 1, 1, 0}},
      {"output rows in the padding only (row bands)", {1, 5, 2, 4}, {70, 5, 3, 3}, true, 1, {}, {}, {3, 1, 3, 1}, true},
      {"row bands read in place, rows split", {2, 24, 20, 23}, {69, 24, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}, true},
      {"row bands in place, dilated wide kernel", {1, 13, 16, 18}, {70, 13, 3, 5}, true, 1, {}, {2, 2}, {2, 4, 1, 3}},
      {"row bands in place, stride 2", {1, 24, 17, 20}, {70, 24, 3, 3}, true, 1, {2, 2}, {}, {1, 1, 1, 1}, true},
      {"row bands in place, strides 3 x 2, no padding", {1, 22, 20, 21}, {66, 22, 3, 3}, false, 1, {3, 2}, {}, {0, 0, 0, 0}},
      {"1x1 stride 2 in place (row bands)", {1, 24, 30, 29}, {66, 24, 1, 1}, true, 1, {2, 2}, {}, {0, 0, 0, 0}, true},
      {"shallow stem in place, one product for the whole kernel", {1, 3, 40, 37}, {70, 3, 7, 7}, true, 1, {2, 2}, {}, {3, 3, 2, 3}, true},
      {"residual + relu, 7x7 row bands", {2, 30, 7, 7}, {70, 30, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}, true, true},
      {"residual, row bands in row chunks, rows split", {1, 16, 21, 23}, {69, 16, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}, false, true},
      {"residual + relu, pointwise", {2, 20, 6, 7}, {17, 20, 1, 1}, true, 1, {}, {}, {}, true, true},
      {"residual + relu, depthwise 3x3", {1, 8, 9, 9}, {8, 1, 3, 3}, true, 8, {}, {}, {1, 1, 1, 1}, true, true},
      {"residual, strided im2col", {1, 4, 17, 19}, {13, 4, 3, 2}, true, 1, {2, 2}, {2, 3}, {2, 0, 1, 3}, true, true},
  };
  return All;
}

template <typename Fn> void forEachIsa(const Fn &Body) {
  RestoreGemmIsa Restore;
  for (nat::GemmIsa I : nat::AllGemmIsas) {
    if (!nat::gemmIsaSupported(I))
      continue;
    ASSERT_TRUE(nat::setGemmIsa(I));
    SCOPED_TRACE(nat::gemmIsaName(I));
    Body();
  }
}

} // namespace

// Every case with constant weights three ways (im2col materialised, im2col written straight
// into packed panels, as ConvPanelIm2ColMinBytes picks at load; stride-1 2-D cases also through
// the shifted-rows GEMM, and small padded planes through the row bands, the defaults for them)
// and with runtime weights.
TEST(NativeConvGemm, ConstantAndRuntimeWeightsEveryIsa) {
  const size_t Saved = nat::ConvPanelIm2ColMinBytes.load();
  const size_t SavedSkip = nat::RowBandsSkipMinChannels.load();
  const size_t SavedUnpadded = nat::RowBandsUnpaddedMinPlane.load();
  const size_t SavedRunMajor = nat::RunMajorMinBytes.load();
  forEachIsa([] {
    const char *Names[] = {"materialised im2col", "panel im2col", "shifted rows (default)",
                           "runtime weights"};
    for (const Case &C : cases())
      for (int Way = 0; Way < 4; ++Way)
        for (unsigned Threads : {1u, 3u}) {
          nat::ConvPanelIm2ColMinBytes = Way == 1 ? 0 : size_t(1) << 40;
          nat::ConvShiftedRowsEnabled = Way >= 2;
          nat::ConvRowBandsEnabled = Way >= 2;
          // Row bands skip every border pixel's padded kernel columns (the default does only
          // from 64 channels on, which these shapes stay under), reading the input unpadded
          // in place on 1 thread and a padded copy on 3 (the default picks by plane size).
          // Where every tile is a border tile, 1 thread also takes the depth runs outermost
          // (the default does for large slivers only). Plain row bands (no skipping) run under
          // the defaults in PackedWeightsSurviveIsaSwitch.
          nat::RowBandsSkipMinChannels = 1;
          nat::RowBandsUnpaddedMinPlane = Threads == 1 ? 0 : size_t(1) << 40;
          nat::RunMajorMinBytes = Threads == 1 ? 0 : size_t(1) << 40;
          SCOPED_TRACE(Names[Way]);
          check(C, Way != 3, Threads);
          if (::testing::Test::HasFatalFailure())
            return;
        }
  });
  nat::ConvPanelIm2ColMinBytes = Saved;
  nat::ConvShiftedRowsEnabled = true;
  nat::ConvRowBandsEnabled = true;
  nat::RowBandsSkipMinChannels = SavedSkip;
  nat::RowBandsUnpaddedMinPlane = SavedUnpadded;
  nat::RunMajorMinBytes = SavedRunMajor;
}

// Past the default threshold: the 4 MiB+ im2col matrix goes straight into packed panels; the
// same shape by default takes the shifted-rows GEMM (its rows are long, 2 of 65 columns wasted).
TEST(NativeConvGemm, LargeIm2ColDefaultThreshold) {
  const Case C{"large", {1, 33, 62, 63}, {13, 33, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}, true};
  ASSERT_GT(33u * 9 * 62 * 63 * sizeof(float), nat::ConvPanelIm2ColMinBytes.load());
  for (bool Shifted : {false, true}) {
    nat::ConvShiftedRowsEnabled = Shifted;
    for (unsigned Threads : {1u, 2u})
      check(C, true, Threads);
  }
  nat::ConvShiftedRowsEnabled = true;
}

// Weights packed for one ISA keep working after another becomes active (each pack remembers its
// microkernel family).
TEST(NativeConvGemm, PackedWeightsSurviveIsaSwitch) {
  RestoreGemmIsa Restore;
  // An im2col/shifted-rows shape and a row-bands one (150 filters: slivers of the loading ISA's
  // width, split over 2 threads), each loaded and run under every ISA the CPU has.
  const Case Cases[] = {{"switch", {1, 4, 9, 10}, {7, 4, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}},
                        {"switch, row bands", {1, 8, 7, 7}, {150, 8, 3, 3}, true, 1, {}, {}, {1, 1, 1, 1}}};
  for (const Case &C : Cases) {
    std::vector<float> X = randomFloats(elementCount(C.X), 21), W = randomFloats(elementCount(C.W), 22);
    std::vector<float> B = randomFloats(size_t(C.W[0]), 23);
    Shape Out;
    std::vector<float> Unused;
    std::vector<float> Ref = reference(C, X, W, B, Out, Unused);
    GraphSpec G;
    G.tensor("x", C.X).tensor("y", Out).input("x").output("y");
    G.constantF32("w", C.W, W).constantF32("b", {C.W[0]}, B);
    G.node("conv", "Conv", {"x", "w", "b"}, {"y"}, {attrInts("pads", {1, 1, 1, 1})});
    for (nat::GemmIsa LoadIsa : nat::AllGemmIsas) {
      if (!nat::setGemmIsa(LoadIsa))
        continue;
      TempDir Dir;
      auto Graph = load(G, Dir);
      for (nat::GemmIsa I : nat::AllGemmIsas) {
        if (!nat::setGemmIsa(I))
          continue;
        std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X)}, 2)[0]);
        ASSERT_EQ(Y.size(), Ref.size());
        for (size_t K = 0; K < Y.size(); ++K)
          ASSERT_NEAR(Y[K], Ref[K], 1e-4 * (1.0 + std::fabs(Ref[K])))
              << C.Label << ": loaded " << nat::gemmIsaName(LoadIsa) << ", run "
              << nat::gemmIsaName(I);
      }
    }
  }
}

// Constant conv weights are packed once at load and counted with the other packed GEMM operands.
TEST(NativeConvGemm, PackedWeightsAreCounted) {
  size_t Before = nat::packedGemmBytes();
  {
    GraphSpec G;
    G.tensor("x", {1, 8, 6, 6}).tensor("y", {1, 16, 6, 6}).input("x").output("y");
    G.constantF32("w", {16, 8, 3, 3}, randomFloats(16 * 8 * 9, 31));
    G.node("conv", "Conv", {"x", "w"}, {"y"}, {attrInts("pads", {1, 1, 1, 1})});
    TempDir Dir;
    auto Graph = load(G, Dir);
    EXPECT_GE(nat::packedGemmBytes(), Before + 16 * 72 * sizeof(float));
  }
  EXPECT_EQ(nat::packedGemmBytes(), Before);
}
