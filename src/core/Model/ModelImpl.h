// A loaded model: the validated description, one loaded subgraph per model.meta entry, and the
// per-request memory plan. Immutable after load, so requests read it without locks.
#pragma once

#include "core/Context/ContextImpl.h"
#include "core/Extension/ExtensionLibrary.h"
#include "core/Model/ModelMeta.h"

#include <OptimaV2/Runtime/Model.h>
#include <OptimaV2/Runtime/Profile.h>

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace optima_v2::runtime::detail {

// A subgraph loaded by its extension; unloads on destruction (and keeps the library loaded).
struct LoadedSubgraph {
  LoadedSubgraph() = default;
  LoadedSubgraph(const LoadedSubgraph &) = delete;
  LoadedSubgraph &operator=(const LoadedSubgraph &) = delete;
  ~LoadedSubgraph();

  std::string Name;
  std::string Path; // as written in model.meta, for messages
  std::shared_ptr<ExtensionLibrary> Extension;
  OptimaExtSubgraph *Handle = nullptr;
  ExtensionDevice Device;
  bool FellBack = false;
  std::vector<uint32_t> Inputs, Outputs; // tensor ids
  std::vector<uint32_t> Dependents;      // subgraph ids
  uint32_t ProducerCount = 0;
};

// Where a tensor lives in a request.
struct TensorPlan {
  bool InHostArena = false; // model inputs/outputs always; boundary tensors touching a host device
  size_t HostOffset = 0;
};

class ModelImpl {
public:
  explicit ModelImpl(std::shared_ptr<ContextImpl> Context) : Context(std::move(Context)) {}
  ModelImpl(const ModelImpl &) = delete;
  ModelImpl &operator=(const ModelImpl &) = delete;

  ContextImpl &context() const noexcept { return *Context; }
  const std::string &name() const noexcept { return Meta.Name; }
  const ModelMeta &meta() const noexcept { return Meta; }
  const MetaTensor &tensor(uint32_t Id) const noexcept { return Meta.Tensors[Id]; }
  const TensorPlan &plan(uint32_t Id) const noexcept { return Plans[Id]; }
  uint32_t inputCount() const noexcept { return Meta.InputCount; }
  uint32_t outputCount() const noexcept { return Meta.OutputCount; }
  uint32_t inputTensorId(uint32_t Index) const noexcept { return Index; }
  uint32_t outputTensorId(uint32_t Index) const noexcept { return Meta.InputCount + Index; }
  // IndexNotFound when absent.
  uint32_t inputIndex(const std::string &Name) const noexcept;
  uint32_t outputIndex(const std::string &Name) const noexcept;
  const TensorInfo &inputInfo(uint32_t Index) const; // std::out_of_range
  const TensorInfo &outputInfo(uint32_t Index) const;

  size_t subgraphCount() const noexcept { return Subgraphs.size(); }
  const LoadedSubgraph &subgraph(size_t I) const noexcept { return *Subgraphs[I]; }
  const std::vector<uint32_t> &roots() const noexcept { return Roots; }

  size_t arenaSize() const noexcept { return ArenaSize; }
  size_t arenaAlignment() const noexcept { return ArenaAlignment; }
  bool profilingEnabled() const noexcept { return Context->options().EnableProfile; }

  std::vector<SubgraphInfo> subgraphInfo() const;
  const std::vector<ProfileData> &loadProfile() const noexcept { return LoadProfile; }

  // Layer events seen in one run (max over finished runs): sizes new requests' event buffers.
  size_t layerEventHint() const noexcept { return LayerEventHint.load(std::memory_order_relaxed); }
  void noteLayerEvents(size_t Count) const noexcept;

private:
  friend class ModelLoader;
  void planMemory();

  // Declared first: destroyed last, after the subgraphs (which need the extensions alive).
  std::shared_ptr<ContextImpl> Context;
  ModelMeta Meta;
  std::vector<TensorPlan> Plans;
  std::vector<std::unique_ptr<LoadedSubgraph>> Subgraphs;
  std::vector<uint32_t> Roots;
  std::unordered_map<std::string, uint32_t> InputByName, OutputByName;
  size_t ArenaSize = 0;
  size_t ArenaAlignment = 64;
  std::vector<ProfileData> LoadProfile;
  mutable std::atomic<size_t> LayerEventHint{0};
};

} // namespace optima_v2::runtime::detail
