// Native graph.json loader (validation, weights ranges, memory plan and every kernel factory's
// attribute checks), through a scratch subgraph folder holding the input as graph.json and a
// fixed 4 KiB weights.bin. The declared I/O is the sample model's. Only NativeError may escape.
#include "FuzzSupport.h"

#include "OptimaV2/Native/NativeGraph.h"

#include <cstring>
#include <string>

namespace fs = std::filesystem;
using optima_v2::native::NativeError;
using optima_v2::native::NativeGraph;

namespace {
OptimaExtTensorDesc desc(const char *Name, std::initializer_list<uint32_t> Dims) {
  OptimaExtTensorDesc D;
  std::memset(&D, 0, sizeof(D));
  D.StructSize = sizeof(D);
  D.Name = Name;
  D.ElementType = OPTIMA_ELEMENT_F32;
  D.Rank = uint32_t(Dims.size());
  uint32_t I = 0;
  for (uint32_t V : Dims)
    D.Dims[I++] = V;
  return D;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  static const fs::path Dir = [] {
    fs::path D = optima_v2::fuzz::scratch() / "Subgraph_0";
    fs::create_directories(D);
    std::string Weights(4096, '\0');
    for (size_t I = 0; I < Weights.size(); ++I)
      Weights[I] = char((I * 37) & 0x3F); // small finite floats
    optima_v2::fuzz::writeFile(D / "weights.bin", Weights);
    return D;
  }();
  static const OptimaExtTensorDesc Inputs[] = {desc("input_1", {1, 3, 32, 32}), desc("input_2", {1, 1, 32, 32})};
  static const OptimaExtTensorDesc Outputs[] = {desc("output_1", {1, 1, 32, 32})};
  optima_v2::fuzz::writeFile(Dir / "graph.json", std::string_view(reinterpret_cast<const char *>(Data), Size));
  try {
    auto G = NativeGraph::load(Dir.string(), Inputs, 2, Outputs, 1);
    (void)G->arenaBytes();
  } catch (const NativeError &) {
  }
  return 0;
}
