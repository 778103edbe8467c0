// Model: tensor information, lookups and their errors, subgraph information, empty models.
#include "ApiTestUtil.h"

#include <stdexcept>

namespace optima_v2::test {
namespace {

using ModelInfo = SampleModelTest;

TEST_F(ModelInfo, InputTensorInfoByIndexAndName) {
  ASSERT_EQ(Model.getInputTensorCount(), 2u);
  const rt::TensorInfo &In1 = Model.getInputTensorInfo(0);
  EXPECT_EQ(In1.TensorName, "input_1");
  EXPECT_EQ(In1.TensorShape, rt::Shape(1, 3, 32, 32));
  EXPECT_EQ(In1.TensorType, rt::ElementType::F32);
  EXPECT_EQ(In1.Alignment, 64u); // the default when model.meta gives none
  EXPECT_EQ(&Model.getInputTensorInfo(), &In1); // default index is 0

  const rt::TensorInfo &In2 = Model.getInputTensorInfo("input_2");
  EXPECT_EQ(In2.TensorName, "input_2");
  EXPECT_EQ(In2.TensorShape, rt::Shape(1, 1, 32, 32));
  EXPECT_EQ(&Model.getInputTensorInfo(1), &In2);

  // The guide's loop over all inputs.
  auto InputCount = Model.getInputTensorCount();
  std::vector<std::string> Names;
  for (auto i = 0u; i < InputCount; ++i) {
    auto &Info = Model.getInputTensorInfo(i);
    Names.push_back(Info.TensorName);
  }
  EXPECT_EQ(Names, (std::vector<std::string>{"input_1", "input_2"}));
}

TEST_F(ModelInfo, InputErrors) {
  EXPECT_THROW(Model.getInputTensorInfo(2), std::out_of_range);
  EXPECT_THROW(Model.getInputTensorInfo(rt::Model::IndexNotFound), std::out_of_range);
  EXPECT_THROW(Model.getInputTensorInfo("nope"), std::invalid_argument);
  EXPECT_THROW(Model.getInputTensorInfo("output_1"), std::invalid_argument); // an output, not an input
  EXPECT_EQ(Model.getInputIndexByName("input_1"), 0u);
  EXPECT_EQ(Model.getInputIndexByName("input_2"), 1u);
  EXPECT_EQ(Model.getInputIndexByName("nope"), rt::Model::IndexNotFound);
  EXPECT_EQ(Model.getInputIndexByName("output_1"), rt::Model::IndexNotFound);
  EXPECT_EQ(rt::Model::IndexNotFound, uint32_t(-1));
}

TEST_F(ModelInfo, OutputTensorInfoAndErrors) {
  ASSERT_EQ(Model.getOutputTensorCount(), 1u);
  const rt::TensorInfo &Out = Model.getOutputTensorInfo(0);
  EXPECT_EQ(Out.TensorName, "output_1");
  EXPECT_EQ(Out.TensorShape, rt::Shape(1, 1, 32, 32));
  EXPECT_EQ(Out.TensorType, rt::ElementType::F32);
  EXPECT_EQ(&Model.getOutputTensorInfo("output_1"), &Out);
  EXPECT_EQ(&Model.getOutputTensorInfo(), &Out);
  EXPECT_THROW(Model.getOutputTensorInfo(1), std::out_of_range);
  EXPECT_THROW(Model.getOutputTensorInfo("input_1"), std::invalid_argument);
  EXPECT_EQ(Model.getOutputIndexByName("output_1"), 0u);
  EXPECT_EQ(Model.getOutputIndexByName("input_1"), rt::Model::IndexNotFound);
}

TEST_F(ModelInfo, NameAndSubgraphInfo) {
  EXPECT_EQ(Model.getName(), "sample_model");
  auto Subgraphs = Model.getSubgraphInfo();
  ASSERT_EQ(Subgraphs.size(), 1u);
  const rt::SubgraphInfo &S = Subgraphs[0];
  EXPECT_EQ(S.Name, "Subgraph_0");
  EXPECT_EQ(S.Framework, rt::FrameworkKind::Native);
  EXPECT_TRUE(rt::isDeviceCPU(S.Device));
  EXPECT_EQ(S.DeviceIndex, 0u);
  EXPECT_FALSE(S.FellBack);
  EXPECT_EQ(S.Inputs, (std::vector<std::string>{"input_1", "input_2"}));
  EXPECT_EQ(S.Outputs, (std::vector<std::string>{"output_1"}));
}

TEST(ModelSubgraphs, ChainModelListsEverySubgraphInOrder) {
  TempDir Dir;
  writeChainModel(Dir.path() / "chain", {{"Native", "X64:0"}, {"Native", "x64:0"}, {"native", "X64:0"}});
  rt::Context Context;
  auto Model = Context.loadModel(Dir.path() / "chain");
  auto Subgraphs = Model.getSubgraphInfo();
  ASSERT_EQ(Subgraphs.size(), 3u);
  for (size_t I = 0; I < 3; ++I) {
    EXPECT_EQ(Subgraphs[I].Name, "stage_" + std::to_string(I));
    EXPECT_EQ(Subgraphs[I].Framework, rt::FrameworkKind::Native);
    ASSERT_EQ(Subgraphs[I].Outputs.size(), 1u);
  }
  EXPECT_EQ(Subgraphs[0].Inputs, std::vector<std::string>{"x"});
  EXPECT_EQ(Subgraphs[1].Inputs, std::vector<std::string>{"b0"});
  EXPECT_EQ(Subgraphs[2].Outputs, std::vector<std::string>{"y"});
}

TEST_F(ModelInfo, LoadProfileData) {
  auto Load = Model.getLoadProfileData();
  size_t ModelInit = 0, SubgraphInit = 0;
  for (const auto &P : Load) {
    ModelInit += P.Kind == rt::ProfileKind::ModelInit;
    SubgraphInit += P.Kind == rt::ProfileKind::SubgraphInit;
    if (P.Kind == rt::ProfileKind::SubgraphInit) {
      EXPECT_EQ(P.Name, "Subgraph_0");
    }
    EXPECT_GE(P.Time.count(), 0);
  }
  EXPECT_EQ(ModelInit, 1u);
  EXPECT_EQ(SubgraphInit, 1u);
}

TEST_F(ModelInfo, CopiesShareTheModel) {
  rt::Model Copy = Model;
  EXPECT_EQ(&Copy.getInputTensorInfo(0), &Model.getInputTensorInfo(0));
  rt::Model Moved = std::move(Copy);
  EXPECT_TRUE(Moved);
  EXPECT_FALSE(Copy); // NOLINT(bugprone-use-after-move): moved-from handles are empty
}

TEST_F(ModelInfo, ModelOutlivesContextAndStillRuns) {
  rt::Model Kept = Model;
  { rt::Context Other; } // unrelated context lifetimes do not matter
  Context = rt::Context(); // drops the fixture's handle to the context that loaded Kept
  auto Req = Kept.createRequest();
  auto Case = makeSampleCase(3);
  expectRunMatches(Req, Case);
}

TEST(EmptyModel, EveryMethodIsInvalidOperation) {
  rt::Model Model;
  EXPECT_FALSE(Model);
  EXPECT_THROW(Model.createRequest(), rt::InvalidOperationException);
  EXPECT_THROW(Model.getInputTensorInfo(0), rt::InvalidOperationException);
  EXPECT_THROW(Model.getInputTensorInfo("x"), rt::InvalidOperationException);
  EXPECT_THROW(Model.getInputTensorCount(), rt::InvalidOperationException);
  EXPECT_THROW(Model.getInputIndexByName("x"), rt::InvalidOperationException);
  EXPECT_THROW(Model.getOutputTensorInfo(0), rt::InvalidOperationException);
  EXPECT_THROW(Model.getOutputTensorInfo("x"), rt::InvalidOperationException);
  EXPECT_THROW(Model.getOutputTensorCount(), rt::InvalidOperationException);
  EXPECT_THROW(Model.getOutputIndexByName("x"), rt::InvalidOperationException);
  EXPECT_THROW(Model.getSubgraphInfo(), rt::InvalidOperationException);
  EXPECT_THROW(Model.getName(), rt::InvalidOperationException);
  EXPECT_THROW(Model.getLoadProfileData(), rt::InvalidOperationException);
}

} // namespace
} // namespace optima_v2::test
