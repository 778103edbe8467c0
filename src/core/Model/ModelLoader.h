// Context::loadModel: reads model.meta, picks an extension and device for every subgraph
// (applying Fallback), asks the extensions to load their folders, and plans request memory.
#pragma once

#include "core/Model/ModelImpl.h"

#include <filesystem>
#include <memory>

namespace optima_v2::runtime::detail {

class ModelLoader {
public:
  // Path not an existing folder -> std::invalid_argument; see ModelMeta.h and
  // docs/model-format.md for the rest.
  static std::shared_ptr<ModelImpl> load(std::shared_ptr<ContextImpl> Context, const std::filesystem::path &Path,
                                         bool Fallback);

private:
  static void placeSubgraph(ModelImpl &Model, size_t Index, bool Fallback, LoadedSubgraph &Out);
  static void loadSubgraph(ModelImpl &Model, size_t Index, LoadedSubgraph &Out);
};

} // namespace optima_v2::runtime::detail
