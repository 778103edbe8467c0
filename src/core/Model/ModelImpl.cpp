#include "core/Model/ModelImpl.h"

#include "core/Extension/ExtensionCall.h"

#include <stdexcept>

namespace optima_v2::runtime::detail {

LoadedSubgraph::~LoadedSubgraph() {
  if (Handle && Extension) {
    const OptimaExtension &T = Extension->table();
    callExtensionNoThrow(&Extension->logger(), Extension->name(), "unloadSubgraph",
                         [&] { T.unloadSubgraph(T.Self, Handle); });
  }
}

uint32_t ModelImpl::inputIndex(const std::string &Name) const noexcept {
  auto It = InputByName.find(Name);
  return It == InputByName.end() ? Model::IndexNotFound : It->second;
}

uint32_t ModelImpl::outputIndex(const std::string &Name) const noexcept {
  auto It = OutputByName.find(Name);
  return It == OutputByName.end() ? Model::IndexNotFound : It->second;
}

const TensorInfo &ModelImpl::inputInfo(uint32_t Index) const {
  if (Index >= Meta.InputCount)
    throw std::out_of_range(format("input index {} out of range (model \"{}\" has {} inputs)", Index, Meta.Name,
                                   Meta.InputCount));
  return Meta.Tensors[inputTensorId(Index)].Info;
}

const TensorInfo &ModelImpl::outputInfo(uint32_t Index) const {
  if (Index >= Meta.OutputCount)
    throw std::out_of_range(format("output index {} out of range (model \"{}\" has {} outputs)", Index,
                                   Meta.Name, Meta.OutputCount));
  return Meta.Tensors[outputTensorId(Index)].Info;
}

std::vector<SubgraphInfo> ModelImpl::subgraphInfo() const {
  std::vector<SubgraphInfo> Result;
  for (const auto &S : Subgraphs) {
    SubgraphInfo Info;
    Info.Name = S->Name;
    Info.Framework = S->Extension->framework();
    Info.Device = S->Device.Info.Kind;
    Info.DeviceIndex = S->Device.Info.Index;
    Info.DeviceName = S->Device.Info.Name;
    Info.FellBack = S->FellBack;
    for (uint32_t Id : S->Inputs)
      Info.Inputs.push_back(Meta.Tensors[Id].Info.TensorName);
    for (uint32_t Id : S->Outputs)
      Info.Outputs.push_back(Meta.Tensors[Id].Info.TensorName);
    Result.push_back(std::move(Info));
  }
  return Result;
}

void ModelImpl::noteLayerEvents(size_t Count) const noexcept {
  size_t Seen = LayerEventHint.load(std::memory_order_relaxed);
  while (Count > Seen && !LayerEventHint.compare_exchange_weak(Seen, Count, std::memory_order_relaxed)) {
  }
}

// One arena per request: every tensor that lives in host memory gets its own aligned slot
// (model I/O must persist across runs; boundary reuse is a later optimisation).
void ModelImpl::planMemory() {
  Plans.assign(Meta.Tensors.size(), TensorPlan{});
  size_t Offset = 0;
  ArenaAlignment = 64;
  for (uint32_t Id = 0; Id < Meta.Tensors.size(); ++Id) {
    const MetaTensor &T = Meta.Tensors[Id];
    size_t Align = std::max<size_t>(64, T.Info.Alignment);
    bool Host = T.Role != TensorRole::Boundary;
    auto Touch = [&](uint32_t S) {
      const LoadedSubgraph &G = *Subgraphs[S];
      if (G.Device.hostMemory()) {
        Host = true;
        Align = std::max<size_t>(Align, G.Device.Alignment);
      }
    };
    if (T.Producer >= 0)
      Touch(static_cast<uint32_t>(T.Producer));
    for (uint32_t C : T.Consumers)
      Touch(C);
    if (!Host)
      continue;
    Offset = (Offset + Align - 1) / Align * Align;
    Plans[Id].InHostArena = true;
    Plans[Id].HostOffset = Offset;
    if (T.Bytes > SIZE_MAX - Offset - 4096)
      throwFormat<OutOfResourceException>("model \"{}\": request memory exceeds the address space", Meta.Name);
    Offset += T.Bytes;
    ArenaAlignment = std::max(ArenaAlignment, Align);
  }
  ArenaSize = Offset;
}

} // namespace optima_v2::runtime::detail
