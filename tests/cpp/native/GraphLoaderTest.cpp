// graph.json / weights validation: every wrong field gets INVALID_MODEL naming the file and
// field; unsupported nodes are all listed; files may not escape the folder.
#include "NativeTestUtil.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

using namespace native_test;
using optima_v2::native::NativeError;
using optima_v2::native::NativeGraph;

namespace {

// x[2,3] -> Relu -> y, plus a constant bias added: y = relu(x) + b.
GraphSpec validSpec() {
  GraphSpec G;
  G.tensor("x", {2, 3}).tensor("h", {2, 3}).constantF32("b", {3}, {1, 2, 3}).tensor("y", {2, 3});
  G.input("x").output("y");
  G.node("relu", "Relu", {"x"}, {"h"}).node("add", "Add", {"h", "b"}, {"y"});
  return G;
}

// Writes Json (and the valid spec's weights) and loads with the valid spec's descriptors.
void expectJsonError(const std::string &Json, OptimaStatus Status,
                     const std::vector<std::string> &Fragments, const GraphSpec &Descs = validSpec()) {
  TempDir Dir;
  Dir.writeFile("graph.json", Json);
  Bytes W = validSpec().weights();
  Dir.writeFile("weights.bin", std::string(W.begin(), W.end()));
  auto In = Descs.inputDescs();
  auto Out = Descs.outputDescs();
  try {
    NativeGraph::load(Dir.path(), In.data(), uint32_t(In.size()), Out.data(), uint32_t(Out.size()));
    ADD_FAILURE() << "load succeeded for:\n" << Json;
  } catch (const NativeError &E) {
    EXPECT_EQ(E.status(), Status) << E.what();
    for (const std::string &F : Fragments)
      EXPECT_NE(std::string(E.what()).find(F), std::string::npos)
          << "message: " << E.what() << "\nmissing: " << F;
  }
}

std::string replaced(std::string S, const std::string &From, const std::string &To) {
  size_t P = S.find(From);
  EXPECT_NE(P, std::string::npos) << "test bug: " << From << " not in\n" << S;
  if (P != std::string::npos)
    S.replace(P, From.size(), To);
  return S;
}

} // namespace

TEST(NativeGraphLoader, ValidGraphRuns) {
  TempDir Dir;
  auto Graph = load(validSpec(), Dir);
  EXPECT_EQ(Graph->inputCount(), 1u);
  EXPECT_EQ(Graph->outputCount(), 1u);
  EXPECT_EQ(Graph->inputBytes(0), 24u);
  EXPECT_EQ(Graph->nodeCount(), 2u);
  EXPECT_STREQ(Graph->nodeName(1), "add");
  std::vector<float> X{-1, 2, -3, 4, -5, 6};
  EXPECT_EQ(fromBytes<float>(run(*Graph, {toBytes(X)})[0]), (std::vector<float>{1, 4, 3, 5, 2, 9}));
}

TEST(NativeGraphLoader, BadJsonNamesLineAndColumn) {
  expectJsonError("{\n  \"format\" \"x\"\n}", OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: line 2, column 12: expected ':' after object key"});
  expectJsonError("", OPTIMA_STATUS_INVALID_MODEL, {"graph.json: line 1, column 1"});
}

TEST(NativeGraphLoader, TopLevelFields) {
  std::string J = validSpec().json();
  expectJsonError(replaced(J, "\"optima-v2-native-graph\"", "\"other\""), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: format: expected \"optima-v2-native-graph\""});
  expectJsonError(replaced(J, "\"format_version\": 1", "\"format_version\": 2"),
                  OPTIMA_STATUS_INVALID_MODEL, {"graph.json: format_version: unsupported version 2"});
  expectJsonError(replaced(J, "\"format_version\": 1", "\"format_version\": \"1\""),
                  OPTIMA_STATUS_INVALID_MODEL, {"graph.json: format_version: expected an integer"});
  expectJsonError(replaced(J, "\"nodes\"", "\"nodez\""), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes: required field is missing"});
  expectJsonError(replaced(J, "\"tensors\": [", "\"tensors\": {\"a\": 1}, \"x\": ["),
                  OPTIMA_STATUS_INVALID_MODEL, {"graph.json: tensors: expected an array, got an object"});
  expectJsonError("[]", OPTIMA_STATUS_INVALID_MODEL, {"graph.json: expected an object, got an array"});
  expectJsonError(replaced(J, "\"format_version\": 1,", "\"format_version\": 1, \"weights\": \"../w.bin\","),
                  OPTIMA_STATUS_INVALID_MODEL, {"graph.json: weights: expected a file name"});
}

TEST(NativeGraphLoader, TensorFields) {
  std::string J = validSpec().json();
  expectJsonError(replaced(J, "\"type\": \"F32\", \"shape\": [2, 3]}", "\"type\": \"F33\", \"shape\": [2, 3]}"),
                  OPTIMA_STATUS_INVALID_MODEL, {"graph.json: tensors[0].type: unknown element type \"F33\""});
  expectJsonError(replaced(J, "\"shape\": [2, 3]", "\"shape\": [2, -3]"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: tensors[0].shape[1]: expected an integer in [0, 2147483647]"});
  expectJsonError(replaced(J, "\"shape\": [2, 3]", "\"shape\": [1, 1, 1, 1, 1, 1, 1, 1, 1]"),
                  OPTIMA_STATUS_INVALID_MODEL, {"graph.json: tensors[0].shape: array has 9 elements, at most 8"});
  expectJsonError(replaced(J, "\"shape\": [2, 3]", "\"shape\": [2147483647, 2147483647, 8]"),
                  OPTIMA_STATUS_INVALID_MODEL, {"tensors[0].shape: tensor is larger than"});
  expectJsonError(replaced(J, "{\"name\": \"h\"", "{\"name\": \"x\""), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: tensors[1].name: duplicate tensor name \"x\""});
  expectJsonError(replaced(J, "{\"name\": \"h\"", "{\"name\": \"\""), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: tensors[1].name: expected a name of 1 to 256 bytes"});
  expectJsonError(replaced(J, "{\"name\": \"h\", ", "{"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: tensors[1].name: required field is missing"});
}

TEST(NativeGraphLoader, WeightsRanges) {
  std::string J = validSpec().json();
  expectJsonError(replaced(J, "\"offset\": 0", "\"offset\": 8"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: tensors[2].data.offset: offset 8 is not a multiple of 64"});
  expectJsonError(replaced(J, "\"offset\": 0", "\"offset\": 64"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: tensors[2].data: range [64, 76) lies outside weights.bin (64 bytes)"});
  expectJsonError(replaced(J, "\"size\": 12", "\"size\": 16"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: tensors[2].data.size: size 16 does not match the tensor (F32 [3] is 12 bytes)"});
  expectJsonError(replaced(J, "\"offset\": 0", "\"offset\": 9223372036854775744"),
                  OPTIMA_STATUS_INVALID_MODEL, {"lies outside weights.bin"});
  expectJsonError(replaced(J, "\"offset\": 0", "\"offset\": -64"), OPTIMA_STATUS_INVALID_MODEL,
                  {"tensors[2].data.offset: expected an integer in [0, "});
}

TEST(NativeGraphLoader, WeightsFileProblems) {
  GraphSpec G = validSpec();
  {
    TempDir Dir; // truncated weights file
    G.write(Dir);
    ASSERT_EQ(::truncate(Dir.file("weights.bin").c_str(), 8), 0);
    auto In = G.inputDescs(), Out = G.outputDescs();
    try {
      NativeGraph::load(Dir.path(), In.data(), 1, Out.data(), 1);
      ADD_FAILURE();
    } catch (const NativeError &E) {
      EXPECT_EQ(E.status(), OPTIMA_STATUS_INVALID_MODEL);
      EXPECT_NE(std::string(E.what()).find("lies outside weights.bin (8 bytes)"), std::string::npos) << E.what();
    }
  }
  auto LoadIn = [&](const TempDir &Dir, const std::string &Fragment) {
    auto In = G.inputDescs(), Out = G.outputDescs();
    try {
      NativeGraph::load(Dir.path(), In.data(), 1, Out.data(), 1);
      ADD_FAILURE() << "expected: " << Fragment;
    } catch (const NativeError &E) {
      EXPECT_EQ(E.status(), OPTIMA_STATUS_INVALID_MODEL);
      EXPECT_NE(std::string(E.what()).find(Fragment), std::string::npos) << E.what();
    }
  };
  {
    TempDir Dir; // missing weights file
    G.write(Dir);
    std::filesystem::remove(Dir.file("weights.bin"));
    LoadIn(Dir, "weights.bin: cannot open");
  }
  {
    TempDir Dir, Outside; // symlink escaping the folder
    G.write(Dir);
    G.write(Outside);
    std::filesystem::remove(Dir.file("weights.bin"));
    std::filesystem::create_symlink(Outside.file("weights.bin"), Dir.file("weights.bin"));
    LoadIn(Dir, "weights.bin: symbolic link leading outside the subgraph folder");
  }
  {
    TempDir Dir; // symlink staying inside is fine
    G.write(Dir);
    std::filesystem::rename(Dir.file("weights.bin"), Dir.file("real.bin"));
    std::filesystem::create_symlink("real.bin", Dir.file("weights.bin"));
    auto In = G.inputDescs(), Out = G.outputDescs();
    EXPECT_NO_THROW(NativeGraph::load(Dir.path(), In.data(), 1, Out.data(), 1));
  }
  {
    TempDir Dir; // a folder instead of a file
    G.write(Dir);
    std::filesystem::remove(Dir.file("weights.bin"));
    std::filesystem::create_directory(Dir.file("weights.bin"));
    LoadIn(Dir, "weights.bin: not a regular file");
  }
  {
    TempDir Dir, Outside; // graph.json itself escaping
    G.write(Dir);
    G.write(Outside);
    std::filesystem::remove(Dir.file("graph.json"));
    std::filesystem::create_symlink(Outside.file("graph.json"), Dir.file("graph.json"));
    LoadIn(Dir, "graph.json: symbolic link leading outside");
  }
  {
    TempDir Dir; // no graph.json
    LoadIn(Dir, "graph.json: cannot open");
  }
  auto In = G.inputDescs(), Out = G.outputDescs();
  EXPECT_THROW(NativeGraph::load("/nonexistent/optima/folder", In.data(), 1, Out.data(), 1), NativeError);
}

TEST(NativeGraphLoader, NoWeightsFileNeededWithoutConstants) {
  GraphSpec G;
  G.tensor("x", {2}).tensor("y", {2}).input("x").output("y").node("r", "Relu", {"x"}, {"y"});
  TempDir Dir;
  EXPECT_NO_THROW(load(G, Dir));
}

TEST(NativeGraphLoader, GraphInputsOutputsMatchModelMeta) {
  std::string J = validSpec().json();
  GraphSpec Other;
  Other.tensor("x", {2, 4}).tensor("y", {2, 3}).input("x").output("y");
  expectJsonError(J, OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: inputs[0]: \"x\" F32 [2, 3] does not match model.meta's \"x\" F32 [2, 4]"},
                  Other);
  GraphSpec Typed;
  Typed.tensor("x", {2, 3}, "I32").tensor("y", {2, 3}).input("x").output("y");
  expectJsonError(J, OPTIMA_STATUS_INVALID_MODEL, {"inputs[0]", "does not match model.meta's \"x\" I32 [2, 3]"}, Typed);
  GraphSpec Renamed;
  Renamed.tensor("x", {2, 3}).tensor("z", {2, 3}).input("x").output("z");
  expectJsonError(J, OPTIMA_STATUS_INVALID_MODEL, {"graph.json: outputs[0]: \"y\"", "model.meta's \"z\""}, Renamed);
  GraphSpec Two;
  Two.tensor("x", {2, 3}).tensor("y", {2, 3}).tensor("y2", {1}).input("x").output("y").output("y2");
  expectJsonError(J, OPTIMA_STATUS_INVALID_MODEL, {"graph.json: outputs: graph declares 1 outputs but model.meta declares 2"}, Two);
  expectJsonError(replaced(J, "\"inputs\": [\"x\"]", "\"inputs\": [\"nope\"]"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: inputs[0]: unknown tensor \"nope\""});
  expectJsonError(replaced(J, "\"inputs\": [\"x\"]", "\"inputs\": [\"b\"]"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: inputs[0]: \"b\" is a constant"});
}

TEST(NativeGraphLoader, NodeStructure) {
  std::string J = validSpec().json();
  expectJsonError(replaced(J, "\"inputs\": [\"h\", \"b\"]", "\"inputs\": [\"h\", \"q\"]"),
                  OPTIMA_STATUS_INVALID_MODEL, {"graph.json: nodes[1].inputs[1]: unknown tensor \"q\""});
  expectJsonError(replaced(J, "\"inputs\": [\"x\"], \"outputs\": [\"h\"]", "\"inputs\": [\"y\"], \"outputs\": [\"h\"]"),
                  OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[0].inputs[0]: tensor \"y\" is used before any node produces it"});
  expectJsonError(replaced(J, "\"outputs\": [\"y\"]}", "\"outputs\": [\"h\"]}"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[1].outputs[0]: tensor \"h\" is already written by nodes[0]"});
  expectJsonError(replaced(J, "\"outputs\": [\"h\"]", "\"outputs\": [\"x\"]"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[0].outputs[0]: tensor \"x\" is a graph input and cannot be written"});
  expectJsonError(replaced(J, "\"outputs\": [\"y\"]}", "\"outputs\": [\"b\"]}"), OPTIMA_STATUS_INVALID_MODEL,
                  {"tensor \"b\" is a graph constant and cannot be written"});
  expectJsonError(replaced(replaced(J, "\"outputs\": [\"y\"]}", "\"outputs\": [\"h2\"]}"), "{\"name\": \"h\", ",
                           "{\"name\": \"h2\", \"type\": \"F32\", \"shape\": [2, 3]}, {\"name\": \"h\", "),
                  OPTIMA_STATUS_INVALID_MODEL, {"graph.json: nodes: graph output \"y\" is not written by any node"});
  expectJsonError(replaced(J, "{\"name\": \"add\"", "{\"name\": \"relu\""), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[1].name: duplicate node name \"relu\""});
  expectJsonError(replaced(J, "\"op\": \"Add\"", "\"op\": 5"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[1].op: expected a string, got a number"});
  expectJsonError(replaced(J, "\"outputs\": [\"y\"]}", "\"outputs\": []}"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[1].outputs: a node needs at least one output"});
  expectJsonError(replaced(J, "\"inputs\": [\"h\", \"b\"]", "\"inputs\": [\"h\"]"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[1] (Add \"add\"): expected 2 inputs, got 1"});
  expectJsonError(replaced(J, "\"inputs\": [\"h\", \"b\"]", "\"inputs\": [\"h\", \"\"]"), OPTIMA_STATUS_INVALID_MODEL,
                  {"input 1 is required but omitted"});
}

TEST(NativeGraphLoader, Attributes) {
  std::string J = validSpec().json();
  auto WithAttr = [&](const std::string &A) {
    return replaced(J, "\"outputs\": [\"h\"]", "\"outputs\": [\"h\"], \"attributes\": {" + A + "}");
  };
  expectJsonError(WithAttr("\"a\": {\"type\": \"ints\", \"value\": [1, 2.5]}"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[0].attributes.a.value[1]: expected an integer"});
  expectJsonError(WithAttr("\"a\": {\"type\": \"int64\", \"value\": 1}"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[0].attributes.a.type: unknown attribute type \"int64\""});
  expectJsonError(WithAttr("\"a\": {\"type\": \"int\"}"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[0].attributes.a.value: required field is missing"});
  expectJsonError(WithAttr("\"a\": 3"), OPTIMA_STATUS_INVALID_MODEL,
                  {"graph.json: nodes[0].attributes.a: expected an object, got a number"});
  expectJsonError(WithAttr("\"a\": {\"type\": \"tensor\", \"value\": \"x\"}"), OPTIMA_STATUS_INVALID_MODEL,
                  {"nodes[0].attributes.a.value: tensor \"x\" is not a constant"});
  // Well-formed but unknown to Relu: unsupported, named with the node.
  expectJsonError(WithAttr("\"alpha\": {\"type\": \"float\", \"value\": 0.1}"), OPTIMA_STATUS_UNSUPPORTED,
                  {"graph.json: not supported by the native backend: node \"relu\" (op Relu: attribute \"alpha\")"});
}

TEST(NativeGraphLoader, UnsupportedOpsAreAllListed) {
  GraphSpec G;
  G.tensor("x", {2}).tensor("a", {2}).tensor("b", {2}).tensor("y", {2}).input("x").output("y");
  G.node("n1", "Foo", {"x"}, {"a"}).node("ok", "Relu", {"a"}, {"b"}).node("n2", "Bar", {"b"}, {"y"});
  expectLoadError(G, OPTIMA_STATUS_UNSUPPORTED,
                  {"node \"n1\" (op Foo), node \"n2\" (op Bar)"});
}
