// Bounded resources (issue #9 item 7): models declaring absurd sizes or counts, or a cyclic graph,
// are refused with a clear message naming the file before any large allocation. "Large" is
// measured: the process's peak RSS (getrusage) may not grow by more than LimitKiB across the load.
#include "MutationSupport.h"

#include <gtest/gtest.h>

#include <sstream>

namespace optima_v2::test::mutation {
namespace {

constexpr long LimitKiB = 48 * 1024;

class BoundedResources : public ::testing::Test {
protected:
  void SetUp() override {
    Context.setVerbosity(rt::LogLevel::Error);
    Model = Dir.path() / "model";
    fs::copy(fs::path(OPTIMA_V2_TEST_SOURCE_DIR) / "examples" / "sample_model", Model, fs::copy_options::recursive);
  }

  // Loads Model expecting InvalidModelException whose message contains every Needle, and checks
  // the peak RSS grew by at most LimitKiB while doing so.
  void expectRefusedCheaply(const std::vector<std::string> &Needles) {
    long Before = maxRssKiB();
    std::string Message;
    try {
      Context.loadModel(Model);
      ADD_FAILURE() << "the model loaded";
    } catch (const rt::InvalidModelException &E) {
      Message = E.what();
    }
    long Growth = maxRssKiB() - Before;
    for (const auto &N : Needles)
      EXPECT_NE(Message.find(N), std::string::npos) << "message lacks \"" << N << "\": " << Message;
    if (!UnderSanitizer) {
      EXPECT_LE(Growth, LimitKiB) << "peak RSS grew by " << Growth << " KiB before the refusal: " << Message;
    }
    RecordProperty("peak_rss_growth_kib", int(Growth));
    std::printf("[ bounded ] refused, peak RSS +%ld KiB: %s\n", Growth, Message.substr(0, 160).c_str());
  }

  // The sample model.meta with one subgraph object replaced by Subgraphs (JSON text).
  void writeMeta(const std::string &Inputs, const std::string &Outputs, const std::string &Tensors,
                 const std::string &Subgraphs) {
    writeBytes(Model / "model.meta", R"({"format": "optima-v2-model", "format_version": 1, "inputs": )" + Inputs +
                                         R"(, "outputs": )" + Outputs + R"(, "tensors": )" + Tensors +
                                         R"(, "subgraphs": )" + Subgraphs + "}");
  }

  TempDir Dir{"optima_v2_bounded"};
  fs::path Model;
  rt::Context Context;
};

const std::string SampleInputs =
    R"([{"name": "input_1", "type": "F32", "shape": [1, 3, 32, 32]}, {"name": "input_2", "type": "F32", "shape": [1, 1, 32, 32]}])";
const std::string SampleOutputs = R"([{"name": "output_1", "type": "F32", "shape": [1, 1, 32, 32]}])";
std::string subgraph(const std::string &Name, const std::string &Inputs, const std::string &Outputs,
                     const std::string &Path = "Subgraph_0") {
  return R"({"name": ")" + Name + R"(", "path": ")" + Path + R"(", "framework": "Native", "device": "x64:0", "inputs": )" +
         Inputs + R"(, "outputs": )" + Outputs + "}";
}

TEST_F(BoundedResources, TensorOfTwoToTheFortyElementsInModelMeta) {
  writeMeta(R"([{"name": "input_1", "type": "F32", "shape": [1048576, 1048576]}, {"name": "input_2", "type": "F32", "shape": [1, 1, 32, 32]}])",
            SampleOutputs, "[]", "[" + subgraph("s", R"(["input_1", "input_2"])", R"(["output_1"])") + "]");
  expectRefusedCheaply({"model.meta", "inputs[0].shape", "larger than the limit"});
}

TEST_F(BoundedResources, ElementCountOverflowingSixtyFourBitsInModelMeta) {
  // 2^31-1 ^ 8 overflows uint64: the check must be overflow-safe, not wrap to a small size.
  std::string Huge = "[2147483647, 2147483647, 2147483647, 2147483647, 2147483647, 2147483647, 2147483647, 2147483647]";
  writeMeta(SampleInputs, R"([{"name": "output_1", "type": "U8", "shape": )" + Huge + "}]", "[]",
            "[" + subgraph("s", R"(["input_1", "input_2"])", R"(["output_1"])") + "]");
  expectRefusedCheaply({"model.meta", "outputs[0].shape", "larger than the limit"});
}

TEST_F(BoundedResources, TensorOfTwoToTheFortyElementsInGraphJson) {
  fs::path Graph = Model / "Subgraph_0" / "graph.json";
  std::string Text = readBytes(Graph);
  auto At = Text.find("\"conv_out\"");
  ASSERT_NE(At, std::string::npos);
  auto Shape = Text.find("[1, 1, 32, 32]", At);
  ASSERT_NE(Shape, std::string::npos);
  Text.replace(Shape, 14, "[1048576, 1048576]");
  writeBytes(Graph, Text);
  expectRefusedCheaply({"Subgraph_0/graph.json", "tensors[3].shape", "larger than"});
}

TEST_F(BoundedResources, AMillionSubgraphs) {
  // Compact form: each entry is an empty object, so the whole file is ~3 MB, far under the file
  // size limit; the count limit must refuse it without materialising a million parsed entries.
  std::string List = "[";
  for (int I = 0; I < 1000000; ++I)
    List += I ? ",{}" : "{}";
  List += "]";
  writeMeta(SampleInputs, SampleOutputs, "[]", List);
  expectRefusedCheaply({"model.meta", "values"});
}

TEST_F(BoundedResources, AMillionFullSubgraphsExceedTheFileSizeLimitBeforeAnyRead) {
  std::ostringstream List;
  List << "[";
  for (int I = 0; I < 1000000; ++I)
    List << (I ? "," : "") << subgraph("s" + std::to_string(I), R"(["input_1", "input_2"])", R"(["output_1"])");
  List << "]";
  writeMeta(SampleInputs, SampleOutputs, "[]", List.str());
  ASSERT_GT(fs::file_size(Model / "model.meta"), uint64_t(64) << 20);
  expectRefusedCheaply({"model.meta", "more than the limit"});
}

TEST_F(BoundedResources, SparseModelMetaOverTheSizeLimit) {
  writeBytes(Model / "model.meta", "{");
  fs::resize_file(Model / "model.meta", (uint64_t(1) << 40)); // 1 TiB, sparse: nothing is on disk
  expectRefusedCheaply({"model.meta", "more than the limit"});
}

TEST_F(BoundedResources, DeepNestingIsRefusedWithoutRecursingIntoIt) {
  writeBytes(Model / "model.meta", std::string(8 << 20, '['));
  expectRefusedCheaply({"model.meta", "nesting"});
}

TEST_F(BoundedResources, ManyTinyValuesDoNotAmplifyIntoGigabytes) {
  // 32 MB of "0," is 16 million values: a parser that materialises them all needs ~1.6 GB.
  std::string List = "[";
  List.reserve(32 << 20);
  for (int I = 0; I < (16 << 20) - 1; ++I)
    List += "0,";
  List += "0]";
  writeMeta(SampleInputs, SampleOutputs, List, "[]");
  expectRefusedCheaply({"model.meta", "values"});
}

TEST_F(BoundedResources, ManyTinyValuesInGraphJsonStayWithinTheGraphBudget) {
  // graph.json may hold up to 2^21 values (large graphs), so its bound is higher: the parser stops
  // at the budget, never near the gigabytes 16 million values would take.
  fs::path Graph = Model / "Subgraph_0" / "graph.json";
  std::string Text = readBytes(Graph);
  std::string List = "[";
  List.reserve(32 << 20);
  for (int I = 0; I < (16 << 20) - 1; ++I)
    List += "0,";
  List += "0]";
  auto At = Text.find("\"nodes\"");
  ASSERT_NE(At, std::string::npos);
  Text.insert(At, "\"padding\": " + List + ", ");
  writeBytes(Graph, Text);
  long Before = maxRssKiB();
  EXPECT_THROW(
      try { Context.loadModel(Model); } catch (const rt::InvalidModelException &E) {
        EXPECT_NE(std::string(E.what()).find("Subgraph_0/graph.json"), std::string::npos) << E.what();
        EXPECT_NE(std::string(E.what()).find("values"), std::string::npos) << E.what();
        throw;
      },
      rt::InvalidModelException);
  long Growth = maxRssKiB() - Before;
  if (!UnderSanitizer) {
    EXPECT_LE(Growth, 384 * 1024) << "peak RSS grew by " << Growth << " KiB";
  }
  std::printf("[ bounded ] graph.json with 16M values refused, peak RSS +%ld KiB\n", Growth);
}

TEST_F(BoundedResources, CyclicSubgraphGraphIsRefused) {
  fs::create_directory(Model / "Subgraph_1"); // never read: the cycle is found first
  writeMeta(R"([{"name": "x", "type": "F32", "shape": [4]}])", R"([{"name": "y", "type": "F32", "shape": [4]}])",
            R"([{"name": "b0", "type": "F32", "shape": [4]}, {"name": "b1", "type": "F32", "shape": [4]}])",
            "[" + subgraph("first", R"(["x", "b1"])", R"(["b0"])") + "," +
                subgraph("second", R"(["b0"])", R"(["b1", "y"])", "Subgraph_1") + "]");
  expectRefusedCheaply({"model.meta", "cycle"});
}

TEST_F(BoundedResources, SubgraphReadingItsOwnOutputIsRefused) {
  writeMeta(R"([{"name": "x", "type": "F32", "shape": [4]}])", R"([{"name": "y", "type": "F32", "shape": [4]}])",
            R"([{"name": "b0", "type": "F32", "shape": [4]}])",
            "[" + subgraph("self", R"(["x", "b0"])", R"(["b0", "y"])") + "]");
  expectRefusedCheaply({"model.meta", "cycle"});
}

TEST_F(BoundedResources, CyclicNodesInGraphJsonAreRefused) {
  // Two nodes feeding each other: nodes must be listed in a topological order, so one of them
  // uses a tensor before it is produced.
  fs::path Graph = Model / "Subgraph_0" / "graph.json";
  writeBytes(Graph, R"({"format": "optima-v2-native-graph", "format_version": 1,
 "tensors": [{"name": "input_1", "type": "F32", "shape": [1, 3, 32, 32]},
             {"name": "input_2", "type": "F32", "shape": [1, 1, 32, 32]},
             {"name": "a", "type": "F32", "shape": [1, 1, 32, 32]},
             {"name": "output_1", "type": "F32", "shape": [1, 1, 32, 32]}],
 "inputs": ["input_1", "input_2"], "outputs": ["output_1"],
 "nodes": [{"name": "n0", "op": "Add", "inputs": ["input_2", "output_1"], "outputs": ["a"]},
           {"name": "n1", "op": "Add", "inputs": ["a", "input_2"], "outputs": ["output_1"]}]})");
  expectRefusedCheaply({"Subgraph_0/graph.json", "nodes[0].inputs[1]", "before"});
}

} // namespace
} // namespace optima_v2::test::mutation
