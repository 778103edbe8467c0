// Models split over the native CPU and the simulated accelerator: outputs equal those of the same
// chain run entirely on native (and the naive reference), and the profile data account for every
// subgraph, layer and transfer.
#include "SimAccelTesting.h"
#include "TestModels.h"

#include <map>
#include <set>

namespace optima_v2::test {
namespace {

using Placement = std::vector<std::pair<std::string, std::string>>;

// 'N' = native CPU, 'A' = accelerator, one letter per subgraph of the chain.
Placement placementOf(const std::string &Letters) {
  Placement P;
  for (char L : Letters)
    P.push_back(L == 'A' ? std::pair<std::string, std::string>{AccelFramework, AccelDevice}
                         : std::pair<std::string, std::string>{"Native", HostDevice});
  return P;
}

// Boundary tensors between two subgraphs on different devices: each needs one copy.
size_t crossings(const std::string &Letters) {
  size_t N = 0;
  for (size_t I = 1; I < Letters.size(); ++I)
    N += Letters[I] != Letters[I - 1];
  return N;
}

// Boundary tensors that may be copied: the crossings, plus those between two subgraphs on the
// accelerator (a runtime may share that buffer or copy it on the device).
size_t copyableBoundaries(const std::string &Letters) {
  size_t N = 0;
  for (size_t I = 1; I < Letters.size(); ++I)
    N += Letters[I] == 'A' || Letters[I - 1] == 'A';
  return N;
}

std::vector<float> runChain(rt::Context &Ctx, const std::filesystem::path &Folder,
                            const std::vector<float> &X, std::vector<rt::ProfileData> *Profile = nullptr,
                            std::chrono::microseconds *Wall = nullptr) {
  rt::Model Model = Ctx.loadModel(Folder);
  rt::InferRequest Req = Model.createRequest();
  setInput(Req, 0, X);
  auto Start = std::chrono::steady_clock::now();
  Req.infer();
  EXPECT_FALSE(Req.wait());
  if (Wall)
    *Wall = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - Start);
  if (Profile)
    *Profile = Req.getProfileData();
  return getOutput(Req);
}

class SplitModel : public SimAccelTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(SplitModel, SameOutputAsNativeAlone) {
  const std::string Letters = GetParam();
  TempDir Dir;
  writeChainModel(Dir.path() / "split", placementOf(Letters));
  writeChainModel(Dir.path() / "native", placementOf(std::string(Letters.size(), 'N')));
  rt::Context Ctx = makeAccelContext();

  {
    rt::Model Model = Ctx.loadModel(Dir.path() / "split");
    auto Info = Model.getSubgraphInfo();
    ASSERT_EQ(Info.size(), Letters.size());
    for (size_t I = 0; I < Letters.size(); ++I) {
      EXPECT_EQ(Info[I].Name, "stage_" + std::to_string(I));
      EXPECT_EQ(Info[I].Device, Letters[I] == 'A' ? rt::DeviceKind::NVIDIA : HostDeviceKind);
      EXPECT_FALSE(Info[I].FellBack);
    }
  }
  for (uint32_t Seed : {1u, 2u}) {
    auto X = randomFloats(4 * 8 * 8, Seed);
    auto Split = runChain(Ctx, Dir.path() / "split", X);
    auto Native = runChain(Ctx, Dir.path() / "native", X);
    EXPECT_TRUE(allClose(Split, Native, 1e-5f, 0.0f)) << Letters << " vs native, seed " << Seed;
    EXPECT_TRUE(allClose(Split, referenceChainModel(X, Letters.size()), 1e-4f, 1e-4f))
        << Letters << " vs reference, seed " << Seed;
  }
}

// What is checked in the profile of one infer() of a chain (subgraphs run one after another):
//  - exactly one ModelExecute (Subgraph ""), one SubgraphExecute per subgraph (named after it),
//    one LayerExecute per node (conv_i, relu_i) attributed to its subgraph, at least one Wait;
//  - TransferFromInput only when the first subgraph is on the accelerator (one, for x),
//    TransferToOutput only when the last one is (one, for y), one BufferCopy per boundary
//    tensor between different devices, none between two native subgraphs (zero-copy), and
//    between two accelerator subgraphs none or one;
//  - timing, tolerant of the microsecond truncation of each entry (1 us per summed entry):
//    ModelExecute >= every other entry; ModelExecute >= sum of SubgraphExecute (they cannot
//    overlap in a chain); ModelExecute >= sum of LayerExecute + BufferCopy + Transfer* (disjoint
//    work); each SubgraphExecute >= the sum of its own layers; ModelExecute <= the wall time the
//    test measured around infer() + wait().
TEST_P(SplitModel, ProfileAccountsForEveryPart) {
  const std::string Letters = GetParam();
  TempDir Dir;
  writeChainModel(Dir.path(), placementOf(Letters));
  rt::Context Ctx = makeAccelContext();
  std::vector<rt::ProfileData> P;
  std::chrono::microseconds Wall{};
  runChain(Ctx, Dir.path(), randomFloats(4 * 8 * 8, 3), &P, &Wall);

  ASSERT_EQ(countKind(P, rt::ProfileKind::ModelExecute), 1u);
  const rt::ProfileData *Model = nullptr;
  std::map<std::string, const rt::ProfileData *> Subgraphs;
  std::map<std::string, std::multiset<std::string>> Layers;
  std::map<std::string, long long> LayerTimeBySubgraph;
  long long SubgraphSum = 0, WorkSum = 0;
  size_t SubgraphEntries = 0, WorkEntries = 0;
  for (const auto &D : P) {
    switch (D.Kind) {
    case rt::ProfileKind::ModelExecute:
      Model = &D;
      break;
    case rt::ProfileKind::SubgraphExecute:
      EXPECT_TRUE(Subgraphs.emplace(D.Name, &D).second) << "two SubgraphExecute for " << D.Name;
      SubgraphSum += D.Time.count();
      ++SubgraphEntries;
      break;
    case rt::ProfileKind::LayerExecute:
      Layers[D.Subgraph].insert(D.Name);
      LayerTimeBySubgraph[D.Subgraph] += D.Time.count();
      [[fallthrough]];
    case rt::ProfileKind::BufferCopy:
    case rt::ProfileKind::TransferFromInput:
    case rt::ProfileKind::TransferToOutput:
      WorkSum += D.Time.count();
      ++WorkEntries;
      break;
    default:
      break;
    }
    EXPECT_GE(D.Time.count(), 0) << D.Name;
  }
  ASSERT_NE(Model, nullptr);
  EXPECT_EQ(Model->Subgraph, "");

  ASSERT_EQ(Subgraphs.size(), Letters.size());
  for (size_t I = 0; I < Letters.size(); ++I) {
    std::string Name = "stage_" + std::to_string(I);
    ASSERT_TRUE(Subgraphs.count(Name)) << "no SubgraphExecute for " << Name;
    EXPECT_EQ(Layers[Name], (std::multiset<std::string>{"conv_" + std::to_string(I),
                                                         "relu_" + std::to_string(I)}))
        << "LayerExecute entries of " << Name;
    EXPECT_GE(Subgraphs[Name]->Time.count() + 2, LayerTimeBySubgraph[Name]) << Name;
    EXPECT_LE(Subgraphs[Name]->Time.count(), Model->Time.count()) << Name;
  }
  EXPECT_EQ(Layers.size(), Letters.size()) << "LayerExecute entries outside the subgraphs";
  EXPECT_GE(countKind(P, rt::ProfileKind::Wait), 1u);

  EXPECT_EQ(countKind(P, rt::ProfileKind::TransferFromInput), Letters.front() == 'A' ? 1u : 0u);
  EXPECT_EQ(countKind(P, rt::ProfileKind::TransferToOutput), Letters.back() == 'A' ? 1u : 0u);
  EXPECT_GE(countKind(P, rt::ProfileKind::BufferCopy), crossings(Letters));
  EXPECT_LE(countKind(P, rt::ProfileKind::BufferCopy), copyableBoundaries(Letters));

  for (const auto &D : P) {
    bool InitKind = D.Kind == rt::ProfileKind::ModelInit || D.Kind == rt::ProfileKind::SubgraphInit ||
                    D.Kind == rt::ProfileKind::RequestInit; // not part of the infer() itself
    if (!InitKind) {
      EXPECT_LE(D.Time.count(), Model->Time.count()) << "entry " << D.Name << " exceeds ModelExecute";
    }
  }
  EXPECT_LE(SubgraphSum, Model->Time.count() + static_cast<long long>(SubgraphEntries));
  EXPECT_LE(WorkSum, Model->Time.count() + static_cast<long long>(WorkEntries));
  EXPECT_LE(Model->Time.count(), Wall.count() + 1);
}

TEST_P(SplitModel, RepeatedAndConcurrentInferences) {
  const std::string Letters = GetParam();
  TempDir Dir;
  writeChainModel(Dir.path(), placementOf(Letters));
  rt::Context Ctx = makeAccelContext();
  rt::Model Model = Ctx.loadModel(Dir.path());
  constexpr uint32_t N = 3;
  std::vector<rt::InferRequest> Reqs;
  for (uint32_t I = 0; I < N; ++I)
    Reqs.push_back(Model.createRequest());
  for (uint32_t Round = 0; Round < 3; ++Round) {
    std::vector<std::vector<float>> X(N);
    for (uint32_t I = 0; I < N; ++I) {
      X[I] = randomFloats(4 * 8 * 8, 1000 + 10 * Round + I);
      setInput(Reqs[I], 0, X[I]);
    }
    for (auto &R : Reqs)
      R.infer();
    for (uint32_t I = 0; I < N; ++I) {
      EXPECT_FALSE(Reqs[I].wait());
      EXPECT_TRUE(allClose(getOutput(Reqs[I]), referenceChainModel(X[I], Letters.size()), 1e-4f, 1e-4f))
          << Letters << " request " << I << " round " << Round;
      // Profile data are per infer(), not accumulated over rounds.
      EXPECT_EQ(countKind(Reqs[I].getProfileData(), rt::ProfileKind::ModelExecute), 1u);
      EXPECT_EQ(countKind(Reqs[I].getProfileData(), rt::ProfileKind::SubgraphExecute), Letters.size());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Placements, SplitModel,
                         ::testing::Values("NA", "AN", "NAN", "ANA", "AA", "NN"),
                         [](const ::testing::TestParamInfo<std::string> &I) { return I.param; });

} // namespace
} // namespace optima_v2::test
