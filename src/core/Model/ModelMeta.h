// model.meta (format version 1): reading, parsing and validation exactly as docs/model-format.md
// states. The result is a checked description; nothing here touches extensions.
#pragma once

#include <OptimaV2/Runtime/Device.h>
#include <OptimaV2/Runtime/FrameworkKind.h>
#include <OptimaV2/Runtime/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace optima_v2::runtime::detail {

enum class TensorRole { Input, Output, Boundary };

struct MetaTensor {
  TensorInfo Info;
  size_t Bytes = 0;
  TensorRole Role = TensorRole::Input;
  uint32_t RoleIndex = 0;   // position in inputs / outputs / tensors of model.meta
  int32_t Producer = -1;    // subgraph writing it (-1 for model inputs)
  uint32_t ProducerSlot = 0; // its position in that subgraph's outputs
  std::vector<uint32_t> Consumers; // distinct subgraphs reading it, ascending
};

struct MetaSubgraph {
  std::string Name;
  std::string Path;              // as written in model.meta (relative)
  std::filesystem::path Folder;  // canonical absolute folder, inside the model folder
  FrameworkKind Framework = FrameworkKind::Native;
  DeviceKind Device = DeviceKind::x64;
  uint32_t DeviceIndex = 0;
  std::vector<uint32_t> Inputs;  // tensor ids, in declared order
  std::vector<uint32_t> Outputs;
  std::vector<uint32_t> Producers;  // distinct subgraphs it depends on
  std::vector<uint32_t> Dependents; // distinct subgraphs depending on it
};

struct ModelMeta {
  std::string Name;
  // Model inputs first (ids 0..InputCount-1), then outputs, then boundary tensors.
  std::vector<MetaTensor> Tensors;
  uint32_t InputCount = 0;
  uint32_t OutputCount = 0;
  std::vector<MetaSubgraph> Subgraphs;
  std::vector<uint32_t> Order; // a topological order of the subgraphs
};

inline constexpr uint64_t MaxModelMetaBytes = uint64_t(64) << 20;
inline constexpr uint64_t MaxTensorBytes = uint64_t(1) << 34;
inline constexpr size_t MaxSubgraphs = 4096;
// JSON values in model.meta (bounds the parser's memory, ~100 bytes a value; docs/security.md).
inline constexpr size_t MaxModelMetaValues = size_t(1) << 18;

// Reads ModelDir/model.meta and validates it. Errors: InvalidModelException
// ("model.meta: subgraphs[1].inputs[0]: ..."), UnsupportedModelException for a framework or
// device kind the runtime does not know.
ModelMeta readModelMeta(const std::filesystem::path &ModelDir);

// The same on text already read (ModelDir is used to resolve subgraph folders).
ModelMeta parseModelMeta(std::string_view Text, const std::filesystem::path &ModelDir);

} // namespace optima_v2::runtime::detail
