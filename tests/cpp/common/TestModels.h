// Writes model folders (format v1, native graph format) from C++ tests, and computes their expected
// outputs with naive reference code independent of the runtime's kernels.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace optima_v2::test {

struct TensorDecl {
  std::string Name;
  std::vector<uint32_t> Shape;
  std::string Type = "F32";
};

// One native-format subgraph: graph.json + weights.bin.
class NativeGraphWriter {
public:
  void addInput(const TensorDecl &T);
  void addOutput(const TensorDecl &T);
  void addIntermediate(const TensorDecl &T);
  void addConstant(const std::string &Name, const std::vector<uint32_t> &Shape,
                   const std::vector<float> &Data);
  void addConstantI64(const std::string &Name, const std::vector<uint32_t> &Shape,
                      const std::vector<int64_t> &Data);
  // AttributesJson is the JSON text of the "attributes" object, e.g.
  // R"({"pads": {"type": "ints", "value": [1,1,1,1]}})"; empty = no attributes.
  void addNode(const std::string &Op, const std::string &Name, const std::vector<std::string> &Inputs,
               const std::vector<std::string> &Outputs, const std::string &AttributesJson = "");
  void write(const std::filesystem::path &Folder) const;

private:
  std::string tensorJson(const TensorDecl &T, long long Offset = -1, size_t Size = 0) const;
  std::vector<TensorDecl> Tensors;
  std::vector<std::pair<long long, size_t>> Data; // per tensor: weights offset (or -1), size
  std::vector<std::string> Inputs, Outputs, Nodes;
  std::vector<uint8_t> Weights;
};

struct SubgraphDecl {
  std::string Name;
  std::string Framework = "Native";
  std::string Device = "X64:0";
  std::vector<std::string> Inputs, Outputs;
  NativeGraphWriter Graph;
};

class ModelWriter {
public:
  explicit ModelWriter(std::string Name = "test_model") : Name(std::move(Name)) {}
  void addInput(const TensorDecl &T) { Inputs.push_back(T); }
  void addOutput(const TensorDecl &T) { Outputs.push_back(T); }
  void addBoundary(const TensorDecl &T) { Boundaries.push_back(T); }
  // The subgraph is written to Folder/Subgraph_<i>.
  void addSubgraph(SubgraphDecl S) { Subgraphs.push_back(std::move(S)); }
  void write(const std::filesystem::path &Folder) const;

private:
  std::string Name;
  std::vector<TensorDecl> Inputs, Outputs, Boundaries;
  std::vector<SubgraphDecl> Subgraphs;
};

// A fresh empty folder under the system temp dir, removed on destruction.
class TempDir {
public:
  explicit TempDir(const std::string &Prefix = "optima_v2_test");
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::filesystem::path &path() const { return Path; }

private:
  std::filesystem::path Path;
};

// Deterministic pseudo-random floats in [-1, 1).
std::vector<float> randomFloats(size_t Count, uint32_t Seed);

// The guide's SampleModel: output_1 = Conv2d(input_1; W[1,3,3,3], stride 1, pad 1, no bias)
// + input_2, shapes [1,3,32,32], [1,1,32,32] -> [1,1,32,32]. Device defaults to native x64.
std::vector<float> sampleModelWeights();
void writeSampleModel(const std::filesystem::path &Folder, const std::string &Framework = "Native",
                      const std::string &Device = "X64:0");

// A chain split into subgraphs over the given (framework, device) pairs, alternating as listed:
// x[1,4,8,8] -> Conv3x3(pad 1, W_0) -> Relu -> [boundary] -> Conv3x3(W_1) -> Relu -> ... -> y.
// Each subgraph holds one Conv + Relu.
void writeChainModel(const std::filesystem::path &Folder,
                     const std::vector<std::pair<std::string, std::string>> &Placement);
std::vector<float> chainModelWeights(size_t Stage); // [4,4,3,3] per stage

// Naive references (the oracle).
std::vector<float> referenceConv2d(const std::vector<float> &X, uint32_t N, uint32_t C, uint32_t H,
                                   uint32_t W, const std::vector<float> &Weights, uint32_t M,
                                   uint32_t KH, uint32_t KW, uint32_t Pad);
std::vector<float> referenceSampleModel(const std::vector<float> &Input1,
                                        const std::vector<float> &Input2);
std::vector<float> referenceChainModel(const std::vector<float> &X, size_t Stages);

} // namespace optima_v2::test
