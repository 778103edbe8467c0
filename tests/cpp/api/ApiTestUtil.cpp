#include "ApiTestUtil.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

namespace fs = std::filesystem;

namespace optima_v2::test {

fs::path nativeExtensionPath() {
  return fs::path(OPTIMA_V2_TEST_EXTENSION_DIR) / "liboptima_v2_native.so";
}

std::string readText(const fs::path &Path) {
  std::ifstream In(Path, std::ios::binary);
  std::ostringstream Out;
  Out << In.rdbuf();
  return Out.str();
}

void writeTextFile(const fs::path &Path, const std::string &Text) {
  std::ofstream Out(Path, std::ios::binary | std::ios::trunc);
  Out << Text;
}

void replaceInFile(const fs::path &Path, const std::string &From, const std::string &To) {
  std::string Text = readText(Path);
  auto Pos = Text.find(From);
  ASSERT_NE(Pos, std::string::npos) << "'" << From << "' not found in " << Path;
  Text.replace(Pos, From.size(), To);
  writeTextFile(Path, Text);
}

Watchdog::Watchdog(std::chrono::seconds Limit, std::string What) {
  Thread = std::thread([this, Limit, What = std::move(What)] {
    std::unique_lock<std::mutex> Lock(Mutex);
    if (!Cv.wait_for(Lock, Limit, [this] { return Done; })) {
      std::fprintf(stderr, "WATCHDOG: '%s' did not finish within %lld s (deadlock?)\n", What.c_str(),
                   static_cast<long long>(Limit.count()));
      std::fflush(stderr);
      std::abort();
    }
  });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    Done = true;
  }
  Cv.notify_all();
  Thread.join();
}

SampleCase makeSampleCase(uint32_t Variant) {
  SampleCase C;
  C.Input1 = randomFloats(3 * 32 * 32, 1000 + 2 * Variant);
  C.Input2 = randomFloats(1 * 32 * 32, 1001 + 2 * Variant);
  C.Expected = referenceSampleModel(C.Input1, C.Input2);
  return C;
}

float maxAbsDiff(const std::vector<float> &A, const std::vector<float> &B) {
  if (A.size() != B.size())
    return std::numeric_limits<float>::infinity();
  float Max = 0;
  for (size_t I = 0; I < A.size(); ++I) {
    float D = std::fabs(A[I] - B[I]);
    if (!(D <= Max)) // NaN counts as a mismatch
      Max = std::isnan(D) ? std::numeric_limits<float>::infinity() : D;
  }
  return Max;
}

void writeSlowModel(const fs::path &Folder, uint32_t Layers, uint32_t Channels, uint32_t Size) {
  ModelWriter M("slow_model");
  const std::vector<uint32_t> Shape{1, Channels, Size, Size};
  M.addInput({"x", Shape});
  M.addOutput({"y", Shape});
  SubgraphDecl S;
  S.Inputs = {"x"};
  S.Outputs = {"y"};
  S.Graph.addInput({"x", Shape});
  S.Graph.addOutput({"y", Shape});
  std::string Prev = "x";
  for (uint32_t L = 0; L < Layers; ++L) {
    std::string W = "w" + std::to_string(L), C = "c" + std::to_string(L);
    std::string Out = L + 1 == Layers ? "y" : "r" + std::to_string(L);
    auto Weights = randomFloats(size_t(Channels) * Channels * 9, 500 + L);
    for (auto &V : Weights)
      V /= std::sqrt(float(Channels) * 9); // keeps activations in range through the chain
    S.Graph.addConstant(W, {Channels, Channels, 3, 3}, Weights);
    S.Graph.addIntermediate({C, Shape});
    if (Out != "y")
      S.Graph.addIntermediate({Out, Shape});
    S.Graph.addNode("Conv", "conv_" + std::to_string(L), {Prev, W}, {C},
                    R"({"kernel_shape":{"type":"ints","value":[3,3]},"pads":{"type":"ints","value":[1,1,1,1]}})");
    S.Graph.addNode("Relu", "relu_" + std::to_string(L), {C}, {Out});
    Prev = Out;
  }
  M.addSubgraph(std::move(S));
  M.write(Folder);
}

void SampleModelTest::SetUp() {
  ModelPath = Dir.path() / "sample_model";
  writeSampleModel(ModelPath);
  Model = Context.loadModel(ModelPath);
}

void setInputs(rt::InferRequest &Req, const SampleCase &Case) {
  Req.getInputTensor("input_1").copyFrom(Case.Input1.data(), Case.Input1.size());
  Req.getInputTensor("input_2").copyFrom(Case.Input2.data(), Case.Input2.size());
}

std::vector<float> output(rt::InferRequest &Req) {
  std::vector<float> Out(32 * 32);
  Req.getOutputTensor(0).copyTo(Out.data(), Out.size());
  return Out;
}

void expectRunMatches(rt::InferRequest &Req, const SampleCase &Case) {
  setInputs(Req, Case);
  Req.infer();
  EXPECT_FALSE(Req.wait());
  EXPECT_LE(maxAbsDiff(output(Req), Case.Expected), 1e-4f);
}

} // namespace optima_v2::test
