#include "CoreTestUtil.h"

#include <fstream>
#include <sstream>

namespace optima_v2::coretest {

void writeFile(const std::filesystem::path &Path, const std::string &Text) {
  std::filesystem::create_directories(Path.parent_path());
  std::ofstream Out(Path, std::ios::binary);
  Out << Text;
}

rt::Context makeTestContext(uint32_t Threads, bool EnableProfile) {
  rt::ContextOptions Options;
  Options.LoadDefaultExtensions = false;
  Options.ThreadCount = Threads;
  Options.EnableProfile = EnableProfile;
  Options.Verbosity = rt::LogLevel::Error;
  rt::Context C(Options);
  C.loadExtension(CORE_TEST_EXT);
  return C;
}

static std::string quoted(const std::vector<std::string> &Names) {
  std::string S = "[";
  for (size_t I = 0; I < Names.size(); ++I)
    S += (I ? ", \"" : "\"") + Names[I] + "\"";
  return S + "]";
}

void writeTestModel(const std::filesystem::path &Dir, const std::vector<std::string> &Inputs,
                    const std::vector<std::string> &Outputs, const std::vector<std::string> &Boundaries,
                    const std::vector<TestSubgraph> &Subgraphs, const std::vector<uint32_t> &Shape) {
  std::string ShapeText = "[";
  for (size_t I = 0; I < Shape.size(); ++I)
    ShapeText += (I ? ", " : "") + std::to_string(Shape[I]);
  ShapeText += "]";
  auto Tensors = [&](const std::vector<std::string> &Names) {
    std::string S = "[";
    for (size_t I = 0; I < Names.size(); ++I)
      S += std::string(I ? ", " : "") + "{\"name\": \"" + Names[I] + "\", \"type\": \"F32\", \"shape\": " + ShapeText + "}";
    return S + "]";
  };
  std::ostringstream Meta;
  Meta << "{\"format\": \"optima-v2-model\", \"format_version\": 1, \"name\": \"coretest\",\n"
       << " \"inputs\": " << Tensors(Inputs) << ",\n \"outputs\": " << Tensors(Outputs) << ",\n"
       << " \"tensors\": " << Tensors(Boundaries) << ",\n \"subgraphs\": [";
  for (size_t I = 0; I < Subgraphs.size(); ++I) {
    const auto &S = Subgraphs[I];
    std::string Folder = "Subgraph_" + std::to_string(I);
    Meta << (I ? ",\n  " : "\n  ") << "{\"name\": \"" << S.Name << "\", \"path\": \"" << Folder
         << "\", \"framework\": \"TFLite\", \"device\": \"" << S.Device << "\", \"inputs\": " << quoted(S.Inputs)
         << ", \"outputs\": " << quoted(S.Outputs) << "}";
    writeFile(Dir / Folder / "op.txt", S.Op);
  }
  Meta << "]}\n";
  writeFile(Dir / "model.meta", Meta.str());
}

} // namespace optima_v2::coretest
