#include "core/Model/ModelMeta.h"

#include "core/Model/ModelPaths.h"
#include "support/Json.h"

#include <OptimaV2/Runtime/Exception.h>
#include <OptimaV2/Runtime/Utils/ToString.h>

#include <algorithm>
#include <system_error>
#include <unordered_map>

namespace fs = std::filesystem;
namespace json = optima_v2::support::json;

namespace optima_v2::runtime::detail {
namespace {

constexpr const char *File = "model.meta";
constexpr size_t MaxNameBytes = 256;
constexpr int64_t MaxDim = (int64_t(1) << 31) - 1;

[[noreturn]] void invalid(const std::string &Field, const std::string &Problem) {
  throw InvalidModelException(format("{}: {}: {}", File, Field, Problem));
}
[[noreturn]] void unsupported(const std::string &Field, const std::string &Problem) {
  throw UnsupportedModelException(format("{}: {}: {}", File, Field, Problem));
}

const char *roleList(TensorRole R) {
  switch (R) {
  case TensorRole::Input: return "inputs";
  case TensorRole::Output: return "outputs";
  case TensorRole::Boundary: return "tensors";
  }
  return "?";
}

std::string tensorField(const MetaTensor &T) { return format("{}[{}]", roleList(T.Role), T.RoleIndex); }

// Element count * element size, or nullopt past MaxTensorBytes (without overflowing).
bool checkedByteSize(const Shape &S, size_t ElementSize, uint64_t &Bytes) {
  for (auto D : S)
    if (D == 0) {
      Bytes = 0;
      return true;
    }
  uint64_t Total = ElementSize;
  for (auto D : S) {
    if (Total > MaxTensorBytes / D)
      return false;
    Total *= D;
  }
  if (Total > MaxTensorBytes)
    return false;
  Bytes = Total;
  return true;
}

class MetaParser {
public:
  MetaParser(const json::Value &Root, const fs::path &ModelDir) : Root(Root, ""), Dir(ModelDir) {}

  ModelMeta run() {
    const std::string &Format = Root.field("format").getString();
    if (Format != "optima-v2-model")
      Root.field("format").fail(format("expected \"optima-v2-model\", got \"{}\"", Format));
    auto Version = Root.field("format_version").getInt(INT64_MIN, INT64_MAX);
    if (Version != 1)
      Root.field("format_version").fail(format("unsupported format version {} (this runtime reads 1)", Version));
    Meta.Name = Root.has("name") ? Root.field("name").getString() : Dir.filename().string();

    // No inputs is valid: a model whose outputs are computed from constants only.
    parseTensorList("inputs", TensorRole::Input, false);
    parseTensorList("outputs", TensorRole::Output, true);
    if (Root.has("tensors"))
      parseTensorList("tensors", TensorRole::Boundary, false);
    Meta.InputCount = countRole(TensorRole::Input);
    Meta.OutputCount = countRole(TensorRole::Output);

    json::Cursor Subgraphs = Root.field("subgraphs");
    size_t Count = Subgraphs.getArray(MaxSubgraphs).size();
    if (Count == 0)
      Subgraphs.fail("at least one subgraph is required");
    for (size_t I = 0; I < Count; ++I)
      parseSubgraph(Subgraphs.at(I), static_cast<uint32_t>(I));
    checkWriters();
    orderSubgraphs();
    return std::move(Meta);
  }

private:
  uint32_t countRole(TensorRole R) const {
    return static_cast<uint32_t>(std::count_if(Meta.Tensors.begin(), Meta.Tensors.end(),
                                               [&](const MetaTensor &T) { return T.Role == R; }));
  }

  void parseTensorList(const char *Key, TensorRole Role, bool NonEmpty) {
    json::Cursor List = Root.field(Key);
    size_t Count = List.getArray().size();
    if (NonEmpty && Count == 0)
      List.fail("at least one tensor is required");
    for (size_t I = 0; I < Count; ++I)
      parseTensor(List.at(I), Role, static_cast<uint32_t>(I));
  }

  void parseTensor(const json::Cursor &C, TensorRole Role, uint32_t RoleIndex) {
    C.getObject();
    MetaTensor T;
    T.Role = Role;
    T.RoleIndex = RoleIndex;
    json::Cursor NameField = C.field("name");
    const std::string &Name = NameField.getString();
    if (Name.empty() || Name.size() > MaxNameBytes)
      NameField.fail(format("name must be 1..{} bytes, got {}", MaxNameBytes, Name.size()));
    auto Found = TensorIds.find(Name);
    if (Found != TensorIds.end())
      NameField.fail(format("tensor name \"{}\" is already used by {}", Name, tensorField(Meta.Tensors[Found->second])));
    T.Info.TensorName = Name;

    json::Cursor TypeField = C.field("type");
    auto Type = parseElementType(TypeField.getString());
    if (!Type)
      TypeField.fail(format("unknown element type \"{}\"", TypeField.getString()));
    T.Info.TensorType = *Type;

    json::Cursor ShapeField = C.field("shape");
    size_t Rank = ShapeField.getArray().size();
    if (Rank > Shape::MaxDimensions)
      ShapeField.fail(format("{} dimensions, at most {} are supported", Rank, Shape::MaxDimensions));
    std::vector<uint32_t> Dims;
    for (size_t D = 0; D < Rank; ++D)
      Dims.push_back(static_cast<uint32_t>(ShapeField.at(D).getInt(0, MaxDim)));
    T.Info.TensorShape = Shape(Dims.begin(), Dims.end());

    if (C.has("alignment")) {
      json::Cursor A = C.field("alignment");
      auto Value = A.getInt(1, 4096);
      if ((Value & (Value - 1)) != 0)
        A.fail(format("alignment {} is not a power of two", Value));
      T.Info.Alignment = static_cast<size_t>(Value);
    }
    uint64_t Bytes = 0;
    if (!checkedByteSize(T.Info.TensorShape, getSizeOfElement(T.Info.TensorType), Bytes))
      ShapeField.fail(format("tensor \"{}\" is larger than the limit of {} bytes", Name, MaxTensorBytes));
    T.Bytes = static_cast<size_t>(Bytes);

    TensorIds.emplace(Name, static_cast<uint32_t>(Meta.Tensors.size()));
    Meta.Tensors.push_back(std::move(T));
  }

  void parseSubgraph(const json::Cursor &C, uint32_t Index) {
    C.getObject();
    MetaSubgraph S;
    json::Cursor NameField = C.field("name");
    S.Name = NameField.getString();
    if (S.Name.empty() || S.Name.size() > MaxNameBytes)
      NameField.fail(format("name must be 1..{} bytes, got {}", MaxNameBytes, S.Name.size()));
    for (uint32_t J = 0; J < Index; ++J)
      if (Meta.Subgraphs[J].Name == S.Name)
        NameField.fail(format("subgraph name \"{}\" is already used by subgraphs[{}]", S.Name, J));

    json::Cursor PathField = C.field("path");
    S.Path = PathField.getString();
    S.Folder = resolveInside(Dir, S.Path, format("{}: {}", File, PathField.path()));
    std::error_code EC;
    if (!fs::is_directory(S.Folder, EC))
      PathField.fail(format("folder \"{}\" does not exist in the model folder", S.Path));

    json::Cursor FrameworkField = C.field("framework");
    auto Framework = parseFrameworkKind(FrameworkField.getString());
    if (!Framework)
      unsupported(FrameworkField.path(), format("unknown framework \"{}\"", FrameworkField.getString()));
    S.Framework = *Framework;

    parseDevice(C.field("device"), S);

    json::Cursor Inputs = C.field("inputs");
    size_t InCount = Inputs.getArray().size();
    for (size_t K = 0; K < InCount; ++K) {
      json::Cursor Item = Inputs.at(K);
      const std::string &Name = Item.getString();
      auto Found = TensorIds.find(Name);
      if (Found == TensorIds.end())
        Item.fail(format("tensor \"{}\" is neither a model input nor a boundary tensor", Name));
      MetaTensor &T = Meta.Tensors[Found->second];
      if (T.Role == TensorRole::Output)
        Item.fail(format("tensor \"{}\" is a model output, not a model input or boundary tensor", Name));
      S.Inputs.push_back(Found->second);
      if (std::find(T.Consumers.begin(), T.Consumers.end(), Index) == T.Consumers.end())
        T.Consumers.push_back(Index);
    }

    json::Cursor Outputs = C.field("outputs");
    size_t OutCount = Outputs.getArray().size();
    for (size_t K = 0; K < OutCount; ++K) {
      json::Cursor Item = Outputs.at(K);
      const std::string &Name = Item.getString();
      auto Found = TensorIds.find(Name);
      if (Found == TensorIds.end())
        Item.fail(format("tensor \"{}\" is neither a model output nor a boundary tensor", Name));
      MetaTensor &T = Meta.Tensors[Found->second];
      if (T.Role == TensorRole::Input)
        Item.fail(format("tensor \"{}\" is a model input and cannot be written", Name));
      if (T.Producer >= 0)
        Item.fail(format("tensor \"{}\" is already written by subgraphs[{}] (\"{}\")", Name, T.Producer,
                         Meta.Subgraphs[static_cast<size_t>(T.Producer)].Name));
      if (std::find(S.Outputs.begin(), S.Outputs.end(), Found->second) != S.Outputs.end())
        Item.fail(format("tensor \"{}\" is listed twice", Name));
      T.Producer = static_cast<int32_t>(Index);
      T.ProducerSlot = static_cast<uint32_t>(K);
      S.Outputs.push_back(Found->second);
    }
    Meta.Subgraphs.push_back(std::move(S));
  }

  void parseDevice(const json::Cursor &Field, MetaSubgraph &S) {
    const std::string &Text = Field.getString();
    size_t Colon = Text.rfind(':');
    if (Colon == std::string::npos || Colon == 0 || Colon + 1 == Text.size())
      Field.fail(format("expected \"KIND:INDEX\" such as \"X64:0\", got \"{}\"", Text));
    std::string IndexText = Text.substr(Colon + 1);
    if (IndexText.size() > 9 || !std::all_of(IndexText.begin(), IndexText.end(), [](char Ch) { return Ch >= '0' && Ch <= '9'; }))
      Field.fail(format("device index \"{}\" is not a decimal number below 10^9", IndexText));
    auto Kind = parseDeviceKind(std::string_view(Text).substr(0, Colon));
    if (!Kind)
      unsupported(Field.path(), format("unknown device kind \"{}\"", Text.substr(0, Colon)));
    S.Device = *Kind;
    S.DeviceIndex = static_cast<uint32_t>(std::stoul(IndexText));
  }

  void checkWriters() {
    for (auto &T : Meta.Tensors) {
      if (T.Role == TensorRole::Input)
        continue;
      if (T.Producer < 0)
        invalid(tensorField(T), format("{} \"{}\" is not written by any subgraph",
                                       T.Role == TensorRole::Output ? "model output" : "boundary tensor",
                                       T.Info.TensorName));
      if (T.Role == TensorRole::Boundary && T.Consumers.empty())
        invalid(tensorField(T), format("boundary tensor \"{}\" is not read by any subgraph", T.Info.TensorName));
    }
    // Dependency edges: producer of each boundary tensor a subgraph reads.
    for (uint32_t I = 0; I < Meta.Subgraphs.size(); ++I) {
      auto &S = Meta.Subgraphs[I];
      for (uint32_t Id : S.Inputs) {
        const MetaTensor &T = Meta.Tensors[Id];
        if (T.Producer < 0)
          continue;
        auto P = static_cast<uint32_t>(T.Producer);
        if (std::find(S.Producers.begin(), S.Producers.end(), P) == S.Producers.end()) {
          S.Producers.push_back(P);
          Meta.Subgraphs[P].Dependents.push_back(I);
        }
      }
    }
  }

  // Kahn's algorithm; a leftover subgraph lies on (or behind) a cycle.
  void orderSubgraphs() {
    size_t N = Meta.Subgraphs.size();
    std::vector<size_t> Pending(N);
    std::vector<uint32_t> Ready;
    for (uint32_t I = 0; I < N; ++I) {
      Pending[I] = Meta.Subgraphs[I].Producers.size();
      if (Pending[I] == 0)
        Ready.push_back(I);
    }
    for (size_t Next = 0; Next < Ready.size(); ++Next) {
      uint32_t I = Ready[Next];
      Meta.Order.push_back(I);
      for (uint32_t D : Meta.Subgraphs[I].Dependents)
        if (--Pending[D] == 0)
          Ready.push_back(D);
    }
    if (Meta.Order.size() == N)
      return;
    for (uint32_t I = 0; I < N; ++I)
      if (Pending[I] != 0)
        invalid(format("subgraphs[{}]", I),
                format("the subgraph dependency graph has a cycle through \"{}\"", Meta.Subgraphs[I].Name));
  }

  json::Cursor Root;
  fs::path Dir;
  ModelMeta Meta;
  std::unordered_map<std::string, uint32_t> TensorIds;
};

} // namespace

ModelMeta parseModelMeta(std::string_view Text, const fs::path &ModelDir) {
  json::Value Root;
  try {
    Root = json::parse(Text, json::ParseOptions{64, MaxModelMetaBytes, MaxModelMetaValues});
  } catch (const json::ParseError &E) {
    throw InvalidModelException(format("{}: invalid JSON: {}", File, E.what()));
  }
  try {
    if (!Root.isObject())
      json::Cursor(Root, "").fail("expected a JSON object at the top level");
    return MetaParser(Root, ModelDir).run();
  } catch (const json::SchemaError &E) {
    throw InvalidModelException(format("{}: {}", File, E.what()));
  }
}

ModelMeta readModelMeta(const fs::path &ModelDir) {
  fs::path MetaPath = ModelDir / File;
  // model.meta itself must not be a symlink leading out of the folder.
  std::error_code EC;
  if (fs::exists(fs::symlink_status(MetaPath, EC))) {
    fs::path Resolved = fs::weakly_canonical(MetaPath, EC);
    if (!EC && !isInside(ModelDir, Resolved))
      throwFormat<InvalidModelException>("{}: leads outside the model folder (to {})", File, Resolved.string());
  }
  std::string Text = readBoundedFile(MetaPath, File, MaxModelMetaBytes);
  return parseModelMeta(Text, ModelDir);
}

} // namespace optima_v2::runtime::detail
