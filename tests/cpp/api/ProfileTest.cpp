// getProfileData: empty before the first run, and after a run the documented kinds with the names
// of the layers, subgraphs and model, with consistent times.
#include "ApiTestUtil.h"

#include <algorithm>

namespace optima_v2::test {
namespace {

using Profile = SampleModelTest;

std::vector<rt::ProfileData> ofKind(const std::vector<rt::ProfileData> &All, rt::ProfileKind Kind) {
  std::vector<rt::ProfileData> Out;
  std::copy_if(All.begin(), All.end(), std::back_inserter(Out),
               [Kind](const rt::ProfileData &P) { return P.Kind == Kind; });
  return Out;
}

bool hasName(const std::vector<rt::ProfileData> &Entries, const std::string &Name) {
  return std::any_of(Entries.begin(), Entries.end(), [&](const rt::ProfileData &P) { return P.Name == Name; });
}

TEST_F(Profile, EmptyBeforeTheFirstRun) {
  auto Req = Model.createRequest();
  EXPECT_TRUE(Req.getProfileData().empty());
}

TEST_F(Profile, KindsAndNamesAfterARun) {
  auto Req = Model.createRequest();
  Req.infer();
  Req.wait();
  auto Data = Req.getProfileData();
  ASSERT_FALSE(Data.empty());

  EXPECT_EQ(ofKind(Data, rt::ProfileKind::RequestInit).size(), 1u);

  auto Layers = ofKind(Data, rt::ProfileKind::LayerExecute);
  EXPECT_EQ(Layers.size(), 2u);
  EXPECT_TRUE(hasName(Layers, "conv2d_1"));
  EXPECT_TRUE(hasName(Layers, "add_1"));
  for (const auto &L : Layers)
    EXPECT_EQ(L.Subgraph, "Subgraph_0") << L.Name;

  auto Subgraphs = ofKind(Data, rt::ProfileKind::SubgraphExecute);
  ASSERT_EQ(Subgraphs.size(), 1u);
  EXPECT_EQ(Subgraphs[0].Name, "Subgraph_0");

  auto Whole = ofKind(Data, rt::ProfileKind::ModelExecute);
  ASSERT_EQ(Whole.size(), 1u);
  EXPECT_EQ(Whole[0].Name, "sample_model");

  // Load-time kinds belong to Model::getLoadProfileData, not to a request's data.
  EXPECT_TRUE(ofKind(Data, rt::ProfileKind::ModelInit).empty());
  EXPECT_TRUE(ofKind(Data, rt::ProfileKind::SubgraphInit).empty());
  // Host-memory native subgraphs are zero-copy: no transfers, no copies between devices.
  EXPECT_TRUE(ofKind(Data, rt::ProfileKind::TransferFromInput).empty());
  EXPECT_TRUE(ofKind(Data, rt::ProfileKind::BufferCopy).empty());

  // Nesting: the layers ran inside the subgraph, which ran inside the model execution (times are
  // whole microseconds, so allow one per entry for rounding).
  long long LayerSum = 0;
  for (const auto &L : Layers)
    LayerSum += L.Time.count();
  EXPECT_LE(LayerSum, Subgraphs[0].Time.count() + static_cast<long long>(Layers.size()));
  EXPECT_LE(Subgraphs[0].Time.count(), Whole[0].Time.count() + 1);
  for (const auto &P : Data)
    EXPECT_GE(P.Time.count(), 0) << P.Name;
}

TEST_F(Profile, EachRunReplacesThePreviousData) {
  auto Req = Model.createRequest();
  Req.infer();
  Req.wait();
  ASSERT_FALSE(Req.getProfileData().empty());
  Req.infer();
  Req.wait();
  auto Second = Req.getProfileData();
  EXPECT_EQ(ofKind(Second, rt::ProfileKind::LayerExecute).size(), 2u);
  EXPECT_EQ(ofKind(Second, rt::ProfileKind::ModelExecute).size(), 1u);
}

TEST(ProfileChain, OneSubgraphExecutePerSubgraph) {
  TempDir Dir;
  writeChainModel(Dir.path() / "chain", {{"Native", "X64:0"}, {"Native", "X64:0"}});
  rt::Context Context;
  auto Model = Context.loadModel(Dir.path() / "chain");
  auto Req = Model.createRequest();
  auto X = randomFloats(4 * 8 * 8, 9);
  Req.getInputTensor(0).copyFrom(X.data(), X.size());
  Req.infer();
  Req.wait();
  std::vector<float> Y(X.size());
  Req.getOutputTensor(0).copyTo(Y.data(), Y.size());
  EXPECT_LE(maxAbsDiff(Y, referenceChainModel(X, 2)), 1e-4f);

  auto Data = Req.getProfileData();
  auto Subgraphs = ofKind(Data, rt::ProfileKind::SubgraphExecute);
  ASSERT_EQ(Subgraphs.size(), 2u);
  EXPECT_TRUE(hasName(Subgraphs, "stage_0"));
  EXPECT_TRUE(hasName(Subgraphs, "stage_1"));
  auto Layers = ofKind(Data, rt::ProfileKind::LayerExecute);
  for (const char *Name : {"conv_0", "relu_0", "conv_1", "relu_1"})
    EXPECT_TRUE(hasName(Layers, Name)) << Name;
  auto Load = Model.getLoadProfileData();
  EXPECT_EQ(ofKind(Load, rt::ProfileKind::SubgraphInit).size(), 2u);
}

TEST(ProfileDisabled, LayerEntriesOnlyWhenEnabled) {
  TempDir Dir;
  writeSampleModel(Dir.path() / "m");
  rt::ContextOptions Options;
  Options.EnableProfile = false;
  rt::Context Context(Options);
  auto Req = Context.loadModel(Dir.path() / "m").createRequest();
  Req.infer();
  Req.wait();
  auto Data = Req.getProfileData();
  EXPECT_TRUE(ofKind(Data, rt::ProfileKind::LayerExecute).empty());
  // Model- and subgraph-level entries are always recorded.
  EXPECT_EQ(ofKind(Data, rt::ProfileKind::ModelExecute).size(), 1u);
  EXPECT_EQ(ofKind(Data, rt::ProfileKind::SubgraphExecute).size(), 1u);
}

} // namespace
} // namespace optima_v2::test
