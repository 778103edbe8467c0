// model.meta parser + validator. Anything but the two documented model exceptions escaping, a
// sanitizer report, a hang or a leak is a finding.
#include "FuzzSupport.h"

#include "core/Model/ModelMeta.h"

#include <OptimaV2/Runtime/Exception.h>

namespace rt = optima_v2::runtime;
namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  // Subgraph paths resolve against this folder; a few subgraph folders exist so that inputs get
  // past the path checks into the graph rules.
  static const fs::path Dir = [] {
    fs::path D = optima_v2::fuzz::scratch() / "model";
    for (const char *Sub : {"Subgraph_0", "Subgraph_1", "Subgraph_2", "s"})
      fs::create_directories(D / Sub);
    return fs::canonical(D);
  }();
  try {
    rt::detail::parseModelMeta(std::string_view(reinterpret_cast<const char *>(Data), Size), Dir);
  } catch (const rt::InvalidModelException &) {
  } catch (const rt::UnsupportedModelException &) {
  }
  return 0;
}
