// The whole model-folder loader through Context::loadModel, with the native extension: the input
// holds model.meta, graph.json and weights.bin separated by "\n--8<--\n" (missing parts become
// missing files). Only InvalidModelException / UnsupportedModelException may escape. Inference is
// not run: a loaded fuzzed model may legitimately declare 16 GiB of request memory (see
// docs/security.md, Known gaps), which would read as an out-of-memory finding.
#include "FuzzSupport.h"

#include <OptimaV2/Runtime.h>

namespace rt = optima_v2::runtime;
namespace fs = std::filesystem;

namespace {
constexpr std::string_view Separator = "\n--8<--\n";
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  static rt::Context *Context = [] {
    auto *C = new rt::Context(); // never destroyed: extensions stay loaded across inputs
    C->setVerbosity(rt::LogLevel::Error);
    return C;
  }();
  static const fs::path Dir = optima_v2::fuzz::scratch() / "folder";
  std::error_code EC;
  fs::remove_all(Dir, EC);
  fs::create_directories(Dir / "Subgraph_0");
  std::string_view Rest(reinterpret_cast<const char *>(Data), Size);
  std::string_view Meta = optima_v2::fuzz::splitAt(Rest, Separator);
  std::string_view Graph = optima_v2::fuzz::splitAt(Rest, Separator);
  std::string_view Weights = Rest;
  optima_v2::fuzz::writeFile(Dir / "model.meta", Meta);
  if (!Graph.empty())
    optima_v2::fuzz::writeFile(Dir / "Subgraph_0" / "graph.json", Graph);
  if (!Weights.empty())
    optima_v2::fuzz::writeFile(Dir / "Subgraph_0" / "weights.bin", Weights);
  try {
    rt::Model Model = Context->loadModel(Dir);
    (void)Model.getInputTensorCount();
  } catch (const rt::InvalidModelException &) {
  } catch (const rt::UnsupportedModelException &) {
  }
  return 0;
}
