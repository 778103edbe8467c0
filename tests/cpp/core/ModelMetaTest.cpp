// model.meta validation: each malformed file is refused with the right exception, naming the
// file and the field.
#include "CoreTestUtil.h"
#include "TestModels.h"
#include "core/Model/ModelMeta.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace rt = optima_v2::runtime;
namespace fs = std::filesystem;
using namespace optima_v2::coretest;

namespace {

const char *BaseMeta = R"({
 "format": "optima-v2-model", "format_version": 1, "name": "m",
 "inputs": [{"name": "x", "type": "F32", "shape": [2, 3]}],
 "outputs": [{"name": "y", "type": "F32", "shape": [2, 3]}],
 "tensors": [{"name": "t", "type": "F32", "shape": [2, 3]}],
 "subgraphs": [
  {"name": "a", "path": "Subgraph_0", "framework": "TFLite", "device": "X64:0", "inputs": ["x"], "outputs": ["t"]},
  {"name": "b", "path": "Subgraph_1", "framework": "TFLite", "device": "X64:0", "inputs": ["t"], "outputs": ["y"]}
 ]
})";

std::string replaced(std::string Text, const std::string &From, const std::string &To) {
  auto Pos = Text.find(From);
  EXPECT_NE(Pos, std::string::npos) << "test bug: \"" << From << "\" not in model.meta";
  if (Pos != std::string::npos)
    Text.replace(Pos, From.size(), To);
  return Text;
}

class ModelMetaTest : public ::testing::Test {
protected:
  void SetUp() override {
    writeFile(Dir.path() / "Subgraph_0" / "op.txt", "add 1");
    writeFile(Dir.path() / "Subgraph_1" / "op.txt", "add 2");
    Root = fs::canonical(Dir.path());
  }
  // Parses Text; returns the InvalidModelException message ("" when it parsed).
  std::string invalid(const std::string &Text) {
    try {
      rt::detail::parseModelMeta(Text, Root);
    } catch (const rt::InvalidModelException &E) {
      return E.what();
    } catch (const std::exception &E) {
      return std::string("wrong exception: ") + E.what();
    }
    return "";
  }
  std::string unsupported(const std::string &Text) {
    try {
      rt::detail::parseModelMeta(Text, Root);
    } catch (const rt::UnsupportedModelException &E) {
      return E.what();
    } catch (const std::exception &E) {
      return std::string("wrong exception: ") + E.what();
    }
    return "";
  }
  optima_v2::test::TempDir Dir;
  fs::path Root;
};

#define EXPECT_HAS(Text, Part) EXPECT_NE(std::string(Text).find(Part), std::string::npos) << (Text)

} // namespace

TEST_F(ModelMetaTest, ValidFileParses) {
  auto Meta = rt::detail::parseModelMeta(BaseMeta, Root);
  EXPECT_EQ(Meta.Name, "m");
  ASSERT_EQ(Meta.Tensors.size(), 3u);
  EXPECT_EQ(Meta.InputCount, 1u);
  EXPECT_EQ(Meta.OutputCount, 1u);
  EXPECT_EQ(Meta.Tensors[0].Bytes, 24u);
  EXPECT_EQ(Meta.Tensors[0].Info.Alignment, 64u);
  ASSERT_EQ(Meta.Order.size(), 2u);
  EXPECT_EQ(Meta.Order[0], 0u);
  EXPECT_EQ(Meta.Subgraphs[1].Producers, std::vector<uint32_t>{0});
  EXPECT_EQ(Meta.Subgraphs[0].Folder, Root / "Subgraph_0");
  // Case-insensitive kinds, BOOL type, scalar shape, explicit alignment.
  auto Meta2 = rt::detail::parseModelMeta(
      replaced(replaced(replaced(BaseMeta, "\"X64:0\"", "\"x64:0\""), "\"type\": \"F32\", \"shape\": [2, 3]}],\n \"outputs\"",
                        "\"type\": \"BOOL\", \"shape\": [], \"alignment\": 128}],\n \"outputs\""),
               "\"TFLite\"", "\"tflite\""),
      Root);
  EXPECT_EQ(Meta2.Tensors[0].Info.TensorType, rt::ElementType::Bool);
  EXPECT_EQ(Meta2.Tensors[0].Bytes, 1u);
  EXPECT_EQ(Meta2.Tensors[0].Info.Alignment, 128u);
}

TEST_F(ModelMetaTest, ZeroInputsParse) {
  // A model computed from constants only (e.g. Range of constants) has no inputs.
  auto Meta = rt::detail::parseModelMeta(
      replaced(replaced(BaseMeta, "\"inputs\": [{\"name\": \"x\", \"type\": \"F32\", \"shape\": [2, 3]}]", "\"inputs\": []"),
               "\"inputs\": [\"x\"]", "\"inputs\": []"),
      Root);
  EXPECT_EQ(Meta.InputCount, 0u);
  EXPECT_EQ(Meta.OutputCount, 1u);
  ASSERT_EQ(Meta.Tensors.size(), 2u);
  EXPECT_EQ(Meta.Tensors[0].Info.TensorName, "y");
  ASSERT_EQ(Meta.Order.size(), 2u);
  EXPECT_EQ(Meta.Order[0], 0u);
}

TEST_F(ModelMetaTest, SyntaxAndTopLevelErrors) {
  EXPECT_HAS(invalid(std::string(BaseMeta).substr(0, 100)), "model.meta: invalid JSON: line");
  EXPECT_HAS(invalid("[1, 2]"), "model.meta: expected a JSON object");
  EXPECT_HAS(invalid(replaced(BaseMeta, "optima-v2-model", "other")), "model.meta: format: expected \"optima-v2-model\"");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"format_version\": 1", "\"format_version\": 2")),
             "model.meta: format_version: unsupported format version 2");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"format_version\": 1", "\"format_version\": \"1\"")),
             "model.meta: format_version:");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"inputs\": [{", "\"inputz\": [{")), "model.meta: inputs: required field is missing");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"subgraphs\": [", "\"subgraphs\": [], \"old\": [")),
             "model.meta: subgraphs: at least one subgraph");
}

TEST_F(ModelMetaTest, TensorFieldErrors) {
  const std::string X = R"({"name": "x", "type": "F32", "shape": [2, 3]})";
  auto WithX = [&](const std::string &NewX) { return replaced(BaseMeta, X, NewX); };
  // No model inputs is valid, but a subgraph still reading "x" then reads an unknown tensor.
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"inputs\": [" + X + "]", "\"inputs\": []")),
             "model.meta: subgraphs[0].inputs[0]: tensor \"x\" is neither a model input nor a boundary tensor");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"outputs\": [{\"name\": \"y\", \"type\": \"F32\", \"shape\": [2, 3]}]",
                              "\"outputs\": []")),
             "model.meta: outputs: at least one");
  EXPECT_HAS(invalid(WithX(R"({"name": "x", "type": "F33", "shape": [2, 3]})")),
             "model.meta: inputs[0].type: unknown element type \"F33\"");
  EXPECT_HAS(invalid(WithX(R"({"name": "x", "type": "F32", "shape": [1,1,1,1,1,1,1,1,1]})")),
             "model.meta: inputs[0].shape: 9 dimensions");
  EXPECT_HAS(invalid(WithX(R"({"name": "x", "type": "F32", "shape": [2, -3]})")), "model.meta: inputs[0].shape[1]");
  EXPECT_HAS(invalid(WithX(R"({"name": "x", "type": "F32", "shape": [2, 2147483648]})")), "model.meta: inputs[0].shape[1]");
  EXPECT_HAS(invalid(WithX(R"({"name": "x", "type": "F32", "shape": [2147483647, 2147483647, 2147483647]})")),
             "model.meta: inputs[0].shape: tensor \"x\" is larger than the limit");
  EXPECT_HAS(invalid(WithX(R"({"name": "x", "type": "F32", "shape": [2, 3], "alignment": 3})")),
             "model.meta: inputs[0].alignment: alignment 3 is not a power of two");
  EXPECT_HAS(invalid(WithX(R"({"name": "x", "type": "F32", "shape": [2, 3], "alignment": 8192})")),
             "model.meta: inputs[0].alignment");
  EXPECT_HAS(invalid(WithX(R"({"name": 5, "type": "F32", "shape": [2, 3]})")), "model.meta: inputs[0].name: expected a string");
  EXPECT_HAS(invalid(WithX(R"({"name": "", "type": "F32", "shape": [2, 3]})")), "model.meta: inputs[0].name:");
  EXPECT_HAS(invalid(WithX(R"({"type": "F32", "shape": [2, 3]})")), "model.meta: inputs[0].name: required field is missing");
  EXPECT_HAS(invalid(replaced(BaseMeta, R"("tensors": [{"name": "t")", R"("tensors": [{"name": "x")")),
             "model.meta: tensors[0].name: tensor name \"x\" is already used by inputs[0]");
}

TEST_F(ModelMetaTest, ExactByteLimitIsAllowed) {
  // 65536 * 65536 * 4 U8 = 2^34 bytes: the limit itself is accepted (parsing only; no allocation).
  const std::string X = R"({"name": "x", "type": "F32", "shape": [2, 3]})";
  std::string Text = replaced(BaseMeta, X, R"({"name": "x", "type": "U8", "shape": [65536, 65536, 4]})");
  EXPECT_EQ(invalid(Text), "");
  Text = replaced(BaseMeta, X, R"({"name": "x", "type": "U8", "shape": [65536, 65536, 5]})");
  EXPECT_HAS(invalid(Text), "larger than the limit");
}

TEST_F(ModelMetaTest, SubgraphFieldErrors) {
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"Subgraph_0\"", "\"/tmp\"")), "model.meta: subgraphs[0].path: path \"/tmp\" is absolute");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"Subgraph_0\"", "\"Subgraph_0/../Subgraph_1\"")),
             "model.meta: subgraphs[0].path: path \"Subgraph_0/../Subgraph_1\" contains \"..\"");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"Subgraph_0\"", "\"Nope\"")), "model.meta: subgraphs[0].path: folder \"Nope\" does not exist");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"Subgraph_0\"", "\"\"")), "model.meta: subgraphs[0].path: path is empty");
  fs::create_directory_symlink("/tmp", Dir.path() / "Escape");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"Subgraph_0\"", "\"Escape\"")),
             "model.meta: subgraphs[0].path: path \"Escape\" leads outside the model folder");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"device\": \"X64:0\", \"inputs\": [\"x\"]", "\"device\": \"X64\", \"inputs\": [\"x\"]")),
             "model.meta: subgraphs[0].device: expected \"KIND:INDEX\"");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"device\": \"X64:0\", \"inputs\": [\"x\"]", "\"device\": \"X64:a\", \"inputs\": [\"x\"]")),
             "model.meta: subgraphs[0].device: device index \"a\"");
  EXPECT_HAS(unsupported(replaced(BaseMeta, "\"device\": \"X64:0\", \"inputs\": [\"x\"]", "\"device\": \"TPU:0\", \"inputs\": [\"x\"]")),
             "model.meta: subgraphs[0].device: unknown device kind \"TPU\"");
  EXPECT_HAS(unsupported(replaced(BaseMeta, "\"framework\": \"TFLite\"", "\"framework\": \"Caffe\"")),
             "model.meta: subgraphs[0].framework: unknown framework \"Caffe\"");
  EXPECT_HAS(invalid(replaced(BaseMeta, "{\"name\": \"b\"", "{\"name\": \"a\"")),
             "model.meta: subgraphs[1].name: subgraph name \"a\" is already used by subgraphs[0]");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"framework\": \"TFLite\"", "\"framework\": 6")),
             "model.meta: subgraphs[0].framework: expected a string");
}

TEST_F(ModelMetaTest, GraphRuleErrors) {
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"inputs\": [\"t\"]", "\"inputs\": [\"t7\"]")),
             "model.meta: subgraphs[1].inputs[0]: tensor \"t7\" is neither a model input nor a boundary tensor");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"inputs\": [\"t\"]", "\"inputs\": [\"y\"]")),
             "model.meta: subgraphs[1].inputs[0]: tensor \"y\" is a model output");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"outputs\": [\"t\"]", "\"outputs\": [\"x\"]")),
             "model.meta: subgraphs[0].outputs[0]: tensor \"x\" is a model input and cannot be written");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"outputs\": [\"y\"]", "\"outputs\": [\"t\"]")),
             "model.meta: subgraphs[1].outputs[0]: tensor \"t\" is already written by subgraphs[0] (\"a\")");
  EXPECT_HAS(invalid(replaced(BaseMeta, "\"outputs\": [\"t\"]", "\"outputs\": [\"q\"]")),
             "model.meta: subgraphs[0].outputs[0]: tensor \"q\" is neither a model output nor a boundary tensor");
  EXPECT_HAS(invalid(replaced(BaseMeta, R"("outputs": [{"name": "y", "type": "F32", "shape": [2, 3]}])",
                              R"("outputs": [{"name": "y", "type": "F32", "shape": [2, 3]}, {"name": "z", "type": "F32", "shape": [1]}])")),
             "model.meta: outputs[1]: model output \"z\" is not written by any subgraph");
  EXPECT_HAS(invalid(replaced(replaced(BaseMeta, R"("tensors": [{"name": "t", "type": "F32", "shape": [2, 3]}])",
                                       R"("tensors": [{"name": "t", "type": "F32", "shape": [2, 3]}, {"name": "u", "type": "F32", "shape": [2]}])"),
                              "\"outputs\": [\"t\"]", "\"outputs\": [\"t\", \"u\"]")),
             "model.meta: tensors[1]: boundary tensor \"u\" is not read by any subgraph");
  EXPECT_HAS(invalid(replaced(replaced(BaseMeta, R"("tensors": [{"name": "t", "type": "F32", "shape": [2, 3]}])",
                                       R"("tensors": [{"name": "t", "type": "F32", "shape": [2, 3]}, {"name": "u", "type": "F32", "shape": [2]}])"),
                              "\"outputs\": [\"t\"]", "\"outputs\": [\"t\"], \"x\": 0")),
             "model.meta: tensors[1]: boundary tensor \"u\" is not written by any subgraph");
  // a reads x and u, writes t; b reads t, writes y and u: a cycle a -> b -> a.
  std::string Cycle = replaced(
      replaced(replaced(BaseMeta, R"("tensors": [{"name": "t", "type": "F32", "shape": [2, 3]}])",
                        R"("tensors": [{"name": "t", "type": "F32", "shape": [2, 3]}, {"name": "u", "type": "F32", "shape": [2]}])"),
               "\"inputs\": [\"x\"]", "\"inputs\": [\"x\", \"u\"]"),
      "\"outputs\": [\"y\"]", "\"outputs\": [\"y\", \"u\"]");
  EXPECT_HAS(invalid(Cycle), "model.meta: subgraphs[0]: the subgraph dependency graph has a cycle through \"a\"");
  // A subgraph reading its own output.
  std::string SelfLoop = replaced(BaseMeta, "\"inputs\": [\"x\"]", "\"inputs\": [\"x\", \"t\"]");
  EXPECT_HAS(invalid(SelfLoop), "cycle through \"a\"");
}

TEST_F(ModelMetaTest, FileLevelErrors) {
  EXPECT_THROW(
      {
        try {
          rt::detail::readModelMeta(Root);
        } catch (const rt::InvalidModelException &E) {
          EXPECT_HAS(E.what(), "model.meta: file not found");
          throw;
        }
      },
      rt::InvalidModelException);
  fs::create_directory(Root / "model.meta");
  EXPECT_HAS(messageOf<rt::InvalidModelException>([&] { rt::detail::readModelMeta(Root); }),
             "model.meta: not a regular file");
  fs::remove(Root / "model.meta");
  { std::ofstream Out(Root / "model.meta"); }
  ASSERT_EQ(truncate((Root / "model.meta").c_str(), (64 << 20) + 1), 0);
  EXPECT_HAS(messageOf<rt::InvalidModelException>([&] { rt::detail::readModelMeta(Root); }),
             "model.meta: file is 67108865 bytes, more than the limit");
  fs::remove(Root / "model.meta");
  // model.meta as a symlink to a file outside the folder.
  optima_v2::test::TempDir Other;
  writeFile(Other.path() / "model.meta", BaseMeta);
  fs::create_symlink(Other.path() / "model.meta", Root / "model.meta");
  EXPECT_HAS(messageOf<rt::InvalidModelException>([&] { rt::detail::readModelMeta(Root); }),
             "model.meta: leads outside the model folder");
}

// Through the public API: resolution against the loaded extensions, fallback, load errors.
TEST_F(ModelMetaTest, LoadModelResolvesDevicesAndFallback) {
  auto Context = makeTestContext();
  EXPECT_THROW(Context.loadModel(Root / "missing"), std::invalid_argument);
  EXPECT_THROW(Context.loadModel(Root / "Subgraph_0" / "op.txt"), std::invalid_argument);
  EXPECT_THROW(Context.loadModel(""), std::invalid_argument);
  EXPECT_HAS(messageOf<rt::InvalidModelException>([&] { Context.loadModel(Root); }), "model.meta: file not found");

  writeFile(Root / "model.meta", replaced(BaseMeta, "\"device\": \"X64:0\", \"inputs\": [\"t\"]", "\"device\": \"NVIDIA:5\", \"inputs\": [\"t\"]"));
  EXPECT_HAS(messageOf<rt::UnsupportedModelException>([&] { Context.loadModel(Root); }),
             "model.meta: subgraphs[1].device: framework TFLite has no device NVIDIA:5 (available: x64:0, NVIDIA:0)");
  auto Model = Context.loadModel(Root, /*Fallback=*/true);
  auto Info = Model.getSubgraphInfo();
  ASSERT_EQ(Info.size(), 2u);
  EXPECT_FALSE(Info[0].FellBack);
  EXPECT_TRUE(Info[1].FellBack);
  EXPECT_EQ(Info[1].Device, rt::DeviceKind::x64);
  EXPECT_EQ(Info[1].Framework, rt::FrameworkKind::TFLite);
  EXPECT_EQ(Info[1].Inputs, std::vector<std::string>{"t"});

  writeFile(Root / "model.meta", replaced(BaseMeta, "\"framework\": \"TFLite\"", "\"framework\": \"OpenVINO\""));
  EXPECT_HAS(messageOf<rt::UnsupportedModelException>([&] { Context.loadModel(Root); }),
             "model.meta: subgraphs[0].framework: no loaded extension provides framework OpenVINO");
  // No Native extension in this context: nothing to fall back to.
  EXPECT_HAS(messageOf<rt::UnsupportedModelException>([&] { Context.loadModel(Root, true); }),
             "no CPU device is available to fall back to");
}

TEST_F(ModelMetaTest, ExtensionLoadErrorsNameTheSubgraphFolder) {
  auto Context = makeTestContext();
  writeFile(Root / "model.meta", BaseMeta);
  writeFile(Root / "Subgraph_1" / "op.txt", "loadfail");
  EXPECT_HAS(messageOf<rt::InvalidModelException>([&] { Context.loadModel(Root); }),
             "Subgraph_1/op.txt: injected load failure");
  writeFile(Root / "Subgraph_1" / "op.txt", "add 1");
  writeFile(Root / "model.meta", replaced(BaseMeta, R"({"name": "x", "type": "F32")", R"({"name": "x", "type": "I32")"));
  EXPECT_HAS(messageOf<rt::UnsupportedModelException>([&] { Context.loadModel(Root); }),
             "Subgraph_0/tensor x: only F32 is supported");
}
