// End to end on the native extension: model folders written here, results compared with a naive
// reference computed here.
#include "TestModels.h"

#include <OptimaV2/Runtime.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>

namespace rt = optima_v2::runtime;
namespace fs = std::filesystem;
using optima_v2::test::NativeGraphWriter;
using optima_v2::test::randomFloats;

namespace {

bool nativeBuilt() { return fs::exists(fs::path(OPTIMA_V2_TEST_EXTENSION_DIR) / "liboptima_v2_native.so"); }

rt::Context nativeContext() {
  rt::ContextOptions O;
  O.LoadDefaultExtensions = false;
  O.Verbosity = rt::LogLevel::Error;
  O.ThreadCount = 2;
  rt::Context C(O);
  C.loadExtension(fs::path(OPTIMA_V2_TEST_EXTENSION_DIR) / "liboptima_v2_native.so");
  return C;
}

// y = Conv(x; W[M,C,3,3], B[M], stride 1, pad 1) + r, written straight from the definition.
std::vector<float> naiveConvAdd(const std::vector<float> &X, const std::vector<float> &W, const std::vector<float> &B,
                                const std::vector<float> &R, int C, int M, int H, int Wd) {
  std::vector<float> Y(static_cast<size_t>(M * H * Wd));
  for (int m = 0; m < M; ++m)
    for (int h = 0; h < H; ++h)
      for (int w = 0; w < Wd; ++w) {
        double Acc = B[static_cast<size_t>(m)];
        for (int c = 0; c < C; ++c)
          for (int kh = 0; kh < 3; ++kh)
            for (int kw = 0; kw < 3; ++kw) {
              int ih = h + kh - 1, iw = w + kw - 1;
              if (ih < 0 || ih >= H || iw < 0 || iw >= Wd)
                continue;
              Acc += double(X[static_cast<size_t>((c * H + ih) * Wd + iw)]) *
                     W[static_cast<size_t>(((m * C + c) * 3 + kh) * 3 + kw)];
            }
        size_t O = static_cast<size_t>((m * H + h) * Wd + w);
        Y[O] = static_cast<float>(Acc + R[O]);
      }
  return Y;
}

constexpr int C = 3, M = 2, H = 9, Wd = 7;

void writeConvAdd(const fs::path &Dir, const std::string &Device) {
  optima_v2::test::ModelWriter Model("conv_add");
  optima_v2::test::TensorDecl X{"x", {1, C, H, Wd}}, R{"r", {1, M, H, Wd}}, Y{"y", {1, M, H, Wd}};
  Model.addInput(X);
  Model.addInput(R);
  Model.addOutput(Y);
  optima_v2::test::SubgraphDecl S;
  S.Name = "conv_add";
  S.Device = Device;
  S.Inputs = {"x", "r"};
  S.Outputs = {"y"};
  S.Graph.addInput(X);
  S.Graph.addInput(R);
  S.Graph.addOutput(Y);
  S.Graph.addConstant("w", {M, C, 3, 3}, randomFloats(M * C * 9, 5));
  S.Graph.addConstant("b", {M}, randomFloats(M, 6));
  S.Graph.addIntermediate({"conv", {1, M, H, Wd}});
  S.Graph.addNode("Conv", "conv0", {"x", "w", "b"}, {"conv"},
                  R"({"pads":{"type":"ints","value":[1,1,1,1]},"strides":{"type":"ints","value":[1,1]}})");
  S.Graph.addNode("Add", "add0", {"conv", "r"}, {"y"});
  Model.addSubgraph(std::move(S));
  Model.write(Dir);
}

void runAndCompare(rt::Model &Model) {
  auto Req = Model.createRequest();
  for (uint32_t Seed = 1; Seed <= 2; ++Seed) {
    auto X = randomFloats(C * H * Wd, 10 * Seed), R = randomFloats(M * H * Wd, 10 * Seed + 1);
    Req.getInputTensor("x").copyFrom(X.data(), X.size());
    Req.getInputTensor("r").copyFrom(R.data(), R.size());
    Req.infer();
    ASSERT_FALSE(Req.wait());
    std::vector<float> Y(M * H * Wd);
    Req.getOutputTensor("y").copyTo(Y.data(), Y.size());
    auto Ref = naiveConvAdd(X, randomFloats(M * C * 9, 5), randomFloats(M, 6), R, C, M, H, Wd);
    for (size_t I = 0; I < Y.size(); ++I)
      ASSERT_NEAR(Y[I], Ref[I], 1e-4f * (1 + std::fabs(Ref[I]))) << "item " << I;
  }
  bool SawConv = false;
  for (const auto &P : Req.getProfileData())
    SawConv |= P.Kind == rt::ProfileKind::LayerExecute && P.Name == "conv0" && P.Subgraph == "conv_add";
  EXPECT_TRUE(SawConv);
}

} // namespace

TEST(NativeEndToEnd, ConvAddMatchesNaiveReference) {
  if (!nativeBuilt())
    GTEST_SKIP() << "native extension not built";
  optima_v2::test::TempDir Dir;
  writeConvAdd(Dir.path(), "X64:0");
  auto Context = nativeContext();
  auto Model = Context.loadModel(Dir.path());
  EXPECT_EQ(Model.getName(), "conv_add");
  EXPECT_EQ(Model.getInputTensorInfo("r").TensorShape, rt::Shape(1, M, H, Wd));
  runAndCompare(Model);
}

TEST(NativeEndToEnd, FallbackFromAMissingDeviceRunsOnTheCpu) {
  if (!nativeBuilt())
    GTEST_SKIP() << "native extension not built";
  optima_v2::test::TempDir Dir;
  writeConvAdd(Dir.path(), "NVIDIA:0");
  auto Context = nativeContext();
  EXPECT_THROW(Context.loadModel(Dir.path()), rt::UnsupportedModelException);
  auto Model = Context.loadModel(Dir.path(), /*Fallback=*/true);
  auto Info = Model.getSubgraphInfo();
  ASSERT_EQ(Info.size(), 1u);
  EXPECT_TRUE(Info[0].FellBack);
  EXPECT_TRUE(rt::isDeviceCPU(Info[0].Device));
  runAndCompare(Model);
}

TEST(NativeEndToEnd, ChainOfHostSubgraphs) {
  if (!nativeBuilt())
    GTEST_SKIP() << "native extension not built";
  optima_v2::test::TempDir Dir;
  optima_v2::test::writeChainModel(Dir.path(), {{"Native", "X64:0"}, {"Native", "X64:0"}, {"Native", "X64:0"}});
  auto Context = nativeContext();
  auto Model = Context.loadModel(Dir.path());
  auto Req = Model.createRequest();
  auto X = randomFloats(4 * 8 * 8, 3);
  Req.getInputTensor().copyFrom(X.data(), X.size());
  Req.infer();
  ASSERT_FALSE(Req.wait());
  std::vector<float> Y(4 * 8 * 8);
  Req.getOutputTensor().copyTo(Y.data(), Y.size());
  auto Ref = optima_v2::test::referenceChainModel(X, 3);
  for (size_t I = 0; I < Y.size(); ++I)
    ASSERT_NEAR(Y[I], Ref[I], 1e-4f * (1 + std::fabs(Ref[I]))) << "item " << I;
}

// A model computed from constants only (what the compiler writes for Range/ConstantOfShape of
// constants): no model inputs; every request computes the same output.
TEST(NativeEndToEnd, ZeroInputModelInfers) {
  if (!nativeBuilt())
    GTEST_SKIP() << "native extension not built";
  optima_v2::test::TempDir Dir;
  optima_v2::test::ModelWriter Writer("constants_only");
  optima_v2::test::TensorDecl Y{"y", {2, 3}};
  Writer.addOutput(Y);
  optima_v2::test::SubgraphDecl S;
  S.Name = "constants_only";
  S.Device = "X64:0";
  S.Outputs = {"y"};
  S.Graph.addOutput(Y);
  auto A = randomFloats(6, 21), B = randomFloats(6, 22);
  S.Graph.addConstant("a", {2, 3}, A);
  S.Graph.addConstant("b", {2, 3}, B);
  S.Graph.addIntermediate({"a_copy", {2, 3}});
  S.Graph.addNode("Identity", "copy0", {"a"}, {"a_copy"});
  S.Graph.addNode("Add", "add0", {"a_copy", "b"}, {"y"});
  Writer.addSubgraph(std::move(S));
  Writer.write(Dir.path());

  auto Context = nativeContext();
  auto Model = Context.loadModel(Dir.path());
  EXPECT_EQ(Model.getInputTensorCount(), 0u);
  ASSERT_EQ(Model.getOutputTensorCount(), 1u);
  EXPECT_THROW(Model.getInputTensorInfo(0), std::out_of_range);
  for (int Run = 0; Run < 2; ++Run) {
    auto Req = Model.createRequest();
    EXPECT_EQ(Req.getInputTensorCount(), 0u);
    Req.infer();
    ASSERT_FALSE(Req.wait());
    std::vector<float> Out(6);
    Req.getOutputTensor("y").copyTo(Out.data(), Out.size());
    for (size_t I = 0; I < Out.size(); ++I)
      EXPECT_FLOAT_EQ(Out[I], A[I] + B[I]) << "item " << I;
  }
}
