#include "core/Model/ModelLoader.h"

#include "core/Extension/ExtensionCall.h"

#include <OptimaV2/Runtime/Utils/ToString.h>

#include <chrono>
#include <stdexcept>
#include <system_error>

namespace fs = std::filesystem;

namespace optima_v2::runtime::detail {
namespace {

using Clock = std::chrono::steady_clock;

std::chrono::microseconds since(Clock::time_point From, Clock::time_point To) {
  return std::chrono::duration_cast<std::chrono::microseconds>(To - From);
}

std::string deviceName(DeviceKind Kind, uint32_t Index) { return format("{}:{}", toString(Kind), Index); }

std::string listDevices(const ExtensionLibrary &Ext) {
  std::string List;
  for (const auto &D : Ext.devices())
    List += (List.empty() ? "" : ", ") + deviceName(D.Info.Kind, D.Info.Index);
  return List.empty() ? "none" : List;
}

OptimaExtTensorDesc describe(const MetaTensor &T) {
  OptimaExtTensorDesc D{};
  D.StructSize = sizeof(D);
  D.Name = T.Info.TensorName.c_str();
  D.ElementType = static_cast<int32_t>(T.Info.TensorType);
  D.Rank = static_cast<uint32_t>(T.Info.TensorShape.getDimensionSize());
  for (uint32_t I = 0; I < D.Rank; ++I)
    D.Dims[I] = T.Info.TensorShape[I];
  return D;
}

} // namespace

std::shared_ptr<ModelImpl> ModelLoader::load(std::shared_ptr<ContextImpl> Context, const fs::path &Path,
                                             bool Fallback) {
  auto Start = Clock::now();
  std::error_code EC;
  if (Path.empty() || !fs::is_directory(Path, EC))
    throw std::invalid_argument(format("loadModel: \"{}\" is not an existing folder", Path.string()));
  fs::path Dir = fs::canonical(Path, EC);
  if (EC)
    throw std::invalid_argument(format("loadModel: cannot resolve \"{}\": {}", Path.string(), EC.message()));

  auto Model = std::make_shared<ModelImpl>(Context);
  Logger &Log = Context->logger();
  Model->Meta = readModelMeta(Dir);
  const ModelMeta &Meta = Model->Meta;

  // Decide every placement before loading anything, so an unsupported subgraph fails fast.
  std::vector<std::unique_ptr<LoadedSubgraph>> Subgraphs;
  for (size_t I = 0; I < Meta.Subgraphs.size(); ++I) {
    auto S = std::make_unique<LoadedSubgraph>();
    placeSubgraph(*Model, I, Fallback, *S);
    Subgraphs.push_back(std::move(S));
  }
  Model->Subgraphs = std::move(Subgraphs);

  for (size_t I = 0; I < Meta.Subgraphs.size(); ++I) {
    auto SubStart = Clock::now();
    loadSubgraph(*Model, I, *Model->Subgraphs[I]);
    auto SubEnd = Clock::now();
    ProfileData P;
    P.Kind = ProfileKind::SubgraphInit;
    P.Name = Meta.Subgraphs[I].Name;
    P.Subgraph = P.Name;
    P.Time = since(SubStart, SubEnd);
    P.Start = since(Start, SubStart);
    Model->LoadProfile.push_back(std::move(P));
  }

  for (uint32_t I = 0; I < Meta.InputCount; ++I)
    Model->InputByName.emplace(Meta.Tensors[Model->inputTensorId(I)].Info.TensorName, I);
  for (uint32_t I = 0; I < Meta.OutputCount; ++I)
    Model->OutputByName.emplace(Meta.Tensors[Model->outputTensorId(I)].Info.TensorName, I);
  for (uint32_t I = 0; I < Meta.Subgraphs.size(); ++I)
    if (Model->Subgraphs[I]->ProducerCount == 0)
      Model->Roots.push_back(I);
  Model->planMemory();

  ProfileData Total;
  Total.Kind = ProfileKind::ModelInit;
  Total.Name = Meta.Name;
  Total.Time = since(Start, Clock::now());
  Model->LoadProfile.insert(Model->LoadProfile.begin(), std::move(Total));
  Log.logf(LogLevel::Info, "loaded model \"{}\" from {}: {} subgraphs, {} bytes of request memory", Meta.Name,
           Dir.string(), Meta.Subgraphs.size(), Model->ArenaSize);
  return Model;
}

void ModelLoader::placeSubgraph(ModelImpl &Model, size_t Index, bool Fallback, LoadedSubgraph &Out) {
  const MetaSubgraph &S = Model.Meta.Subgraphs[Index];
  ExtensionRegistry &Registry = Model.context().registry();
  std::string Field = format("model.meta: subgraphs[{}]", Index);
  std::string Wanted = deviceName(S.Device, S.DeviceIndex);

  std::shared_ptr<ExtensionLibrary> Ext = Registry.find(S.Framework);
  const ExtensionDevice *Device = Ext ? Ext->findDevice(S.Device, S.DeviceIndex) : nullptr;
  bool FellBack = false;
  if (!Device) {
    std::string Why = Ext ? format("framework {} has no device {} (available: {})", toString(S.Framework), Wanted,
                                   listDevices(*Ext))
                          : format("no loaded extension provides framework {}", toString(S.Framework));
    if (!Fallback)
      throwFormat<UnsupportedModelException>("{}.{}: {}", Field, Ext ? "device" : "framework", Why);
    // Fallback: a CPU device of the same framework, else the Native extension's CPU device.
    if (Ext)
      Device = Ext->findCpuDevice();
    if (!Device) {
      Ext = Registry.find(FrameworkKind::Native);
      Device = Ext ? Ext->findCpuDevice() : nullptr;
    }
    if (!Device)
      throwFormat<UnsupportedModelException>("{}.device: {}, and no CPU device is available to fall back to", Field,
                                             Why);
    FellBack = true;
    Model.context().logger().logf(LogLevel::Warning, "subgraph \"{}\": {}; falling back to {} {}", S.Name, Why,
                                  toString(Ext->framework()), deviceName(Device->Info.Kind, Device->Info.Index));
  }
  Out.Name = S.Name;
  Out.Path = S.Path;
  Out.Extension = Ext;
  Out.Device = *Device;
  Out.FellBack = FellBack;
  Out.Inputs = S.Inputs;
  Out.Outputs = S.Outputs;
  Out.Dependents = S.Dependents;
  Out.ProducerCount = static_cast<uint32_t>(S.Producers.size());
}

void ModelLoader::loadSubgraph(ModelImpl &Model, size_t Index, LoadedSubgraph &Out) {
  const MetaSubgraph &S = Model.Meta.Subgraphs[Index];
  std::vector<OptimaExtTensorDesc> Inputs, Outputs;
  for (uint32_t Id : S.Inputs)
    Inputs.push_back(describe(Model.Meta.Tensors[Id]));
  for (uint32_t Id : S.Outputs)
    Outputs.push_back(describe(Model.Meta.Tensors[Id]));
  const ExtensionLibrary &Ext = *Out.Extension;
  const OptimaExtension &T = Ext.table();
  std::string Folder = S.Folder.string();
  OptimaExtSubgraph *Handle = nullptr;
  callExtension(Ext.name(), "loadSubgraph", S.Path + "/", [&](OptimaExtError *E) {
    return T.loadSubgraph(T.Self, Out.Device.Ordinal, Folder.c_str(), Inputs.data(),
                          static_cast<uint32_t>(Inputs.size()), Outputs.data(), static_cast<uint32_t>(Outputs.size()),
                          &Handle, E);
  });
  if (!Handle)
    throwFormat<BackendException>("{}: loadSubgraph returned OK without a subgraph for {}", Ext.name(), S.Path);
  Out.Handle = Handle;
}

} // namespace optima_v2::runtime::detail
