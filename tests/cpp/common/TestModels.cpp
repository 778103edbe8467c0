#include "TestModels.h"

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace fs = std::filesystem;

namespace optima_v2::test {

namespace {
std::string quote(const std::string &S) { return "\"" + S + "\""; }

std::string shapeJson(const std::vector<uint32_t> &Shape) {
  std::string Out = "[";
  for (size_t I = 0; I < Shape.size(); ++I)
    Out += (I ? "," : "") + std::to_string(Shape[I]);
  return Out + "]";
}

std::string namesJson(const std::vector<std::string> &Names) {
  std::string Out = "[";
  for (size_t I = 0; I < Names.size(); ++I)
    Out += (I ? "," : "") + quote(Names[I]);
  return Out + "]";
}

std::string declJson(const TensorDecl &T) {
  return "{\"name\":" + quote(T.Name) + ",\"type\":" + quote(T.Type) + ",\"shape\":" + shapeJson(T.Shape) + "}";
}

void writeText(const fs::path &Path, const std::string &Text) {
  std::ofstream Out(Path, std::ios::binary);
  Out << Text;
  if (!Out)
    throw std::runtime_error("cannot write " + Path.string());
}
} // namespace

void NativeGraphWriter::addInput(const TensorDecl &T) {
  Tensors.push_back(T);
  Data.push_back({-1, 0});
  Inputs.push_back(T.Name);
}

void NativeGraphWriter::addOutput(const TensorDecl &T) {
  Tensors.push_back(T);
  Data.push_back({-1, 0});
  Outputs.push_back(T.Name);
}

void NativeGraphWriter::addIntermediate(const TensorDecl &T) {
  Tensors.push_back(T);
  Data.push_back({-1, 0});
}

void NativeGraphWriter::addConstant(const std::string &Name, const std::vector<uint32_t> &Shape,
                                    const std::vector<float> &Values) {
  Weights.resize((Weights.size() + 63) / 64 * 64, 0);
  long long Offset = static_cast<long long>(Weights.size());
  const auto *Bytes = reinterpret_cast<const uint8_t *>(Values.data());
  Weights.insert(Weights.end(), Bytes, Bytes + Values.size() * sizeof(float));
  Tensors.push_back({Name, Shape, "F32"});
  Data.push_back({Offset, Values.size() * sizeof(float)});
}

void NativeGraphWriter::addConstantI64(const std::string &Name, const std::vector<uint32_t> &Shape,
                                       const std::vector<int64_t> &Values) {
  Weights.resize((Weights.size() + 63) / 64 * 64, 0);
  long long Offset = static_cast<long long>(Weights.size());
  const auto *Bytes = reinterpret_cast<const uint8_t *>(Values.data());
  Weights.insert(Weights.end(), Bytes, Bytes + Values.size() * sizeof(int64_t));
  Tensors.push_back({Name, Shape, "I64"});
  Data.push_back({Offset, Values.size() * sizeof(int64_t)});
}

void NativeGraphWriter::addNode(const std::string &Op, const std::string &Name,
                                const std::vector<std::string> &In,
                                const std::vector<std::string> &Out, const std::string &Attrs) {
  std::string Node = "{\"name\":" + quote(Name) + ",\"op\":" + quote(Op) + ",\"inputs\":" + namesJson(In) +
                     ",\"outputs\":" + namesJson(Out);
  if (!Attrs.empty())
    Node += ",\"attributes\":" + Attrs;
  Nodes.push_back(Node + "}");
}

void NativeGraphWriter::write(const fs::path &Folder) const {
  fs::create_directories(Folder);
  std::ostringstream J;
  J << "{\"format\":\"optima-v2-native-graph\",\"format_version\":1,\"weights\":\"weights.bin\",\n\"tensors\":[";
  for (size_t I = 0; I < Tensors.size(); ++I) {
    std::string T = declJson(Tensors[I]);
    if (Data[I].first >= 0) {
      T.pop_back();
      T += ",\"data\":{\"offset\":" + std::to_string(Data[I].first) + ",\"size\":" +
           std::to_string(Data[I].second) + "}}";
    }
    J << (I ? ",\n" : "\n") << T;
  }
  J << "],\n\"inputs\":" << namesJson(Inputs) << ",\n\"outputs\":" << namesJson(Outputs) << ",\n\"nodes\":[";
  for (size_t I = 0; I < Nodes.size(); ++I)
    J << (I ? ",\n" : "\n") << Nodes[I];
  J << "]}\n";
  writeText(Folder / "graph.json", J.str());
  std::ofstream W(Folder / "weights.bin", std::ios::binary);
  W.write(reinterpret_cast<const char *>(Weights.data()), static_cast<std::streamsize>(Weights.size()));
}

void ModelWriter::write(const fs::path &Folder) const {
  fs::create_directories(Folder);
  auto List = [](const std::vector<TensorDecl> &Ts) {
    std::string Out = "[";
    for (size_t I = 0; I < Ts.size(); ++I)
      Out += (I ? "," : "") + declJson(Ts[I]);
    return Out + "]";
  };
  std::ostringstream J;
  J << "{\"format\":\"optima-v2-model\",\"format_version\":1,\"name\":" << quote(Name)
    << ",\n\"inputs\":" << List(Inputs) << ",\n\"outputs\":" << List(Outputs)
    << ",\n\"tensors\":" << List(Boundaries) << ",\n\"subgraphs\":[";
  for (size_t I = 0; I < Subgraphs.size(); ++I) {
    const auto &S = Subgraphs[I];
    std::string Dir = "Subgraph_" + std::to_string(I);
    J << (I ? ",\n" : "\n") << "{\"name\":" << quote(S.Name.empty() ? Dir : S.Name)
      << ",\"path\":" << quote(Dir) << ",\"framework\":" << quote(S.Framework)
      << ",\"device\":" << quote(S.Device) << ",\"inputs\":" << namesJson(S.Inputs)
      << ",\"outputs\":" << namesJson(S.Outputs) << "}";
    S.Graph.write(Folder / Dir);
  }
  J << "]}\n";
  writeText(Folder / "model.meta", J.str());
}

TempDir::TempDir(const std::string &Prefix) {
  std::string Pattern = (fs::temp_directory_path() / (Prefix + "_XXXXXX")).string();
  if (!mkdtemp(Pattern.data()))
    throw std::runtime_error("mkdtemp failed");
  Path = Pattern;
}

TempDir::~TempDir() {
  std::error_code Ec;
  fs::remove_all(Path, Ec);
}

std::vector<float> randomFloats(size_t Count, uint32_t Seed) {
  std::mt19937 Gen(Seed);
  std::uniform_real_distribution<float> Dist(-1.0f, 1.0f);
  std::vector<float> Out(Count);
  for (auto &V : Out)
    V = Dist(Gen);
  return Out;
}

std::vector<float> sampleModelWeights() { return randomFloats(1 * 3 * 3 * 3, 1234); }

void writeSampleModel(const fs::path &Folder, const std::string &Framework, const std::string &Device) {
  ModelWriter M("sample_model");
  TensorDecl In1{"input_1", {1, 3, 32, 32}}, In2{"input_2", {1, 1, 32, 32}}, Out{"output_1", {1, 1, 32, 32}};
  M.addInput(In1);
  M.addInput(In2);
  M.addOutput(Out);
  SubgraphDecl S;
  S.Framework = Framework;
  S.Device = Device;
  S.Inputs = {"input_1", "input_2"};
  S.Outputs = {"output_1"};
  S.Graph.addInput(In1);
  S.Graph.addInput(In2);
  S.Graph.addOutput(Out);
  S.Graph.addConstant("conv_w", {1, 3, 3, 3}, sampleModelWeights());
  S.Graph.addIntermediate({"conv_out", {1, 1, 32, 32}});
  S.Graph.addNode("Conv", "conv2d_1", {"input_1", "conv_w"}, {"conv_out"},
                  R"({"kernel_shape":{"type":"ints","value":[3,3]},"pads":{"type":"ints","value":[1,1,1,1]},"strides":{"type":"ints","value":[1,1]}})");
  S.Graph.addNode("Add", "add_1", {"conv_out", "input_2"}, {"output_1"});
  M.addSubgraph(std::move(S));
  M.write(Folder);
}

std::vector<float> chainModelWeights(size_t Stage) {
  return randomFloats(4 * 4 * 3 * 3, 77 + static_cast<uint32_t>(Stage));
}

void writeChainModel(const fs::path &Folder,
                     const std::vector<std::pair<std::string, std::string>> &Placement) {
  ModelWriter M("chain_model");
  const std::vector<uint32_t> Shape{1, 4, 8, 8};
  M.addInput({"x", Shape});
  M.addOutput({"y", Shape});
  for (size_t I = 0; I < Placement.size(); ++I) {
    std::string In = I == 0 ? "x" : "b" + std::to_string(I - 1);
    std::string Out = I + 1 == Placement.size() ? "y" : "b" + std::to_string(I);
    if (I + 1 != Placement.size())
      M.addBoundary({Out, Shape});
    SubgraphDecl S;
    S.Name = "stage_" + std::to_string(I);
    S.Framework = Placement[I].first;
    S.Device = Placement[I].second;
    S.Inputs = {In};
    S.Outputs = {Out};
    S.Graph.addInput({In, Shape});
    S.Graph.addOutput({Out, Shape});
    std::string W = "w" + std::to_string(I), C = "c" + std::to_string(I);
    S.Graph.addConstant(W, {4, 4, 3, 3}, chainModelWeights(I));
    S.Graph.addIntermediate({C, Shape});
    S.Graph.addNode("Conv", "conv_" + std::to_string(I), {In, W}, {C},
                    R"({"kernel_shape":{"type":"ints","value":[3,3]},"pads":{"type":"ints","value":[1,1,1,1]}})");
    S.Graph.addNode("Relu", "relu_" + std::to_string(I), {C}, {Out});
    M.addSubgraph(std::move(S));
  }
  M.write(Folder);
}

std::vector<float> referenceConv2d(const std::vector<float> &X, uint32_t N, uint32_t C, uint32_t H,
                                   uint32_t W, const std::vector<float> &Wt, uint32_t M, uint32_t KH,
                                   uint32_t KW, uint32_t Pad) {
  std::vector<float> Y(size_t(N) * M * H * W, 0.0f);
  for (uint32_t n = 0; n < N; ++n)
    for (uint32_t m = 0; m < M; ++m)
      for (uint32_t y = 0; y < H; ++y)
        for (uint32_t x = 0; x < W; ++x) {
          double Acc = 0;
          for (uint32_t c = 0; c < C; ++c)
            for (uint32_t ky = 0; ky < KH; ++ky)
              for (uint32_t kx = 0; kx < KW; ++kx) {
                long iy = long(y) + ky - Pad, ix = long(x) + kx - Pad;
                if (iy < 0 || ix < 0 || iy >= long(H) || ix >= long(W))
                  continue;
                Acc += double(X[((size_t(n) * C + c) * H + iy) * W + ix]) *
                       Wt[((size_t(m) * C + c) * KH + ky) * KW + kx];
              }
          Y[((size_t(n) * M + m) * H + y) * W + x] = float(Acc);
        }
  return Y;
}

std::vector<float> referenceSampleModel(const std::vector<float> &Input1, const std::vector<float> &Input2) {
  auto Y = referenceConv2d(Input1, 1, 3, 32, 32, sampleModelWeights(), 1, 3, 3, 1);
  for (size_t I = 0; I < Y.size(); ++I)
    Y[I] += Input2[I];
  return Y;
}

std::vector<float> referenceChainModel(const std::vector<float> &X, size_t Stages) {
  std::vector<float> Cur = X;
  for (size_t S = 0; S < Stages; ++S) {
    Cur = referenceConv2d(Cur, 1, 4, 8, 8, chainModelWeights(S), 4, 3, 3, 1);
    for (auto &V : Cur)
      V = V > 0 ? V : 0;
  }
  return Cur;
}

} // namespace optima_v2::test
