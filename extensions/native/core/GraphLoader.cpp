// Loads and validates a native subgraph folder (docs/model-format.md, "Native subgraph folder").
// Everything is checked here, once: execute() trusts the result.
#include "GraphData.h"
#include "MemoryPlan.h"
#include "OpRegistry.h"

#include "support/Json.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <unordered_map>

namespace optima_v2::native {

namespace json = support::json;

namespace {

constexpr const char *GraphFile = "graph.json";
constexpr size_t MaxGraphBytes = size_t(64) << 20;
// JSON values in graph.json: bounds the parser's memory (~100 bytes a value, ~200 MiB here) where
// the byte limit alone would let 64 MiB of "0," become gigabytes (docs/security.md).
constexpr size_t MaxGraphValues = size_t(1) << 21;
constexpr size_t MaxNameBytes = 256;
constexpr size_t MaxTensors = size_t(1) << 20;
constexpr size_t MaxNodes = size_t(1) << 20;
constexpr size_t MaxNodeIo = 1024;
constexpr size_t MaxAttributeValues = size_t(1) << 16;
constexpr size_t WeightsAlignment = 64;

[[noreturn]] void invalid(const std::string &Message) {
  throw NativeError(OPTIMA_STATUS_INVALID_MODEL, Message);
}

// Reads the validated fields of graph.json into GraphData; kernels are built afterwards.
class Loader {
public:
  Loader(const std::string &Folder, const OptimaExtTensorDesc *Inputs, uint32_t InputCount,
         const OptimaExtTensorDesc *Outputs, uint32_t OutputCount)
      : Folder(canonicalFolder(Folder)), DeclInputs(Inputs), DeclInputCount(InputCount),
        DeclOutputs(Outputs), DeclOutputCount(OutputCount) {}

  std::unique_ptr<GraphData> load() {
    checkDescriptors(DeclInputs, DeclInputCount, "inputs");
    checkDescriptors(DeclOutputs, DeclOutputCount, "outputs");
    FolderFile File = FolderFile::open(Folder, GraphFile, /*AllowMissing=*/false);
    std::string Text = File.readAll(MaxGraphBytes, GraphFile);
    json::Value Doc;
    try {
      json::ParseOptions Options;
      Options.MaxBytes = MaxGraphBytes;
      Options.MaxValues = MaxGraphValues;
      Doc = json::parse(Text, Options);
    } catch (const json::ParseError &E) {
      invalid(std::string(GraphFile) + ": " + E.what());
    }
    G = std::make_unique<GraphData>();
    try {
      readDocument(json::Cursor(Doc));
    } catch (const json::SchemaError &E) {
      invalid(std::string(GraphFile) + ": " + E.what());
    }
    buildKernels();
    planMemory();
    return std::move(G);
  }

private:
  std::string Folder;
  const OptimaExtTensorDesc *DeclInputs;
  uint32_t DeclInputCount;
  const OptimaExtTensorDesc *DeclOutputs;
  uint32_t DeclOutputCount;
  std::unique_ptr<GraphData> G;
  std::unordered_map<std::string, int32_t> TensorIds;
  std::vector<bool> IsDefined;          // graph input, constant, or already produced
  std::vector<size_t> Producer, LastUse; // node indices, for intermediates

  static void checkDescriptors(const OptimaExtTensorDesc *Descs, uint32_t Count,
                               const char *What) {
    if (Count && !Descs)
      throw NativeError(OPTIMA_STATUS_INVALID_ARGUMENT,
                        std::string("model.meta ") + What + ": descriptor array is null");
    for (uint32_t I = 0; I < Count; ++I)
      if (!Descs[I].Name || Descs[I].Rank > OPTIMA_EXT_MAX_DIMS)
        throw NativeError(OPTIMA_STATUS_INVALID_ARGUMENT, std::string("model.meta ") + What +
                                                              "[" + std::to_string(I) +
                                                              "]: malformed tensor descriptor");
  }

  static std::string readName(const json::Cursor &C) {
    const std::string &S = C.getString();
    if (S.empty() || S.size() > MaxNameBytes)
      C.fail("expected a name of 1 to " + std::to_string(MaxNameBytes) + " bytes");
    return S;
  }

  void readDocument(const json::Cursor &Root) {
    Root.getObject();
    if (Root.field("format").getString() != "optima-v2-native-graph")
      Root.field("format").fail("expected \"optima-v2-native-graph\"");
    json::Cursor Version = Root.field("format_version");
    int64_t V = Version.getInt(INT64_MIN, INT64_MAX);
    if (V != 1)
      Version.fail("unsupported version " + std::to_string(V) + " (this backend reads version 1)");
    std::string WeightsName = Root.getString("weights", "weights.bin");
    if (!isPlainFileName(WeightsName))
      Root.field("weights").fail("expected a file name inside the subgraph folder");
    readTensors(Root.field("tensors"), WeightsName);
    G->InputIds = readGraphIo(Root.field("inputs"), DeclInputs, DeclInputCount, true);
    G->OutputIds = readGraphIo(Root.field("outputs"), DeclOutputs, DeclOutputCount, false);
    readNodes(Root.field("nodes"));
  }

  void readTensors(const json::Cursor &List, const std::string &WeightsName) {
    size_t Count = List.getArray(MaxTensors).size();
    G->Tensors.resize(Count);
    IsDefined.assign(Count, false);
    bool AnyData = false;
    for (size_t I = 0; I < Count; ++I) {
      json::Cursor T = List.at(I);
      TensorInfo &Info = G->Tensors[I];
      Info.Name = readName(T.field("name"));
      if (!TensorIds.emplace(Info.Name, int32_t(I)).second)
        T.field("name").fail("duplicate tensor name \"" + Info.Name + "\"");
      json::Cursor Type = T.field("type");
      if (!parseTypeName(Type.getString(), Info.Type))
        Type.fail("unknown element type \"" + Type.getString() + "\"");
      json::Cursor Shape = T.field("shape");
      size_t Rank = Shape.getArray(OPTIMA_EXT_MAX_DIMS).size();
      for (size_t D = 0; D < Rank; ++D)
        Info.Shape.push_back(Shape.at(D).getInt(0, INT32_MAX));
      if (!checkedElementCount(Info.Shape, elementSize(Info.Type), Info.Elements))
        Shape.fail("tensor is larger than " + std::to_string(MaxTensorBytes) + " bytes");
      Info.Bytes = Info.Elements * elementSize(Info.Type);
      AnyData = AnyData || T.has("data");
    }
    if (!AnyData)
      return;
    FolderFile Weights = FolderFile::open(Folder, WeightsName, /*AllowMissing=*/false);
    size_t FileSize = Weights.size();
    std::vector<uint64_t> Offsets(Count, 0);
    for (size_t I = 0; I < Count; ++I) {
      json::Cursor T = List.at(I);
      if (!T.has("data"))
        continue;
      json::Cursor Data = T.field("data");
      Data.getObject();
      uint64_t Offset = Data.field("offset").getUInt(INT64_MAX);
      uint64_t Size = Data.field("size").getUInt(INT64_MAX);
      TensorInfo &Info = G->Tensors[I];
      if (Offset % WeightsAlignment != 0)
        Data.field("offset").fail("offset " + std::to_string(Offset) + " is not a multiple of " +
                                  std::to_string(WeightsAlignment));
      if (Size != Info.Bytes)
        Data.field("size").fail("size " + std::to_string(Size) + " does not match the tensor (" +
                                describe(Info.Type, Info.Shape) + " is " +
                                std::to_string(Info.Bytes) + " bytes)");
      if (Offset > FileSize || Size > FileSize - Offset)
        Data.fail("range [" + std::to_string(Offset) + ", " + std::to_string(Offset + Size) +
                  ") lies outside " + WeightsName + " (" + std::to_string(FileSize) + " bytes)");
      Info.Where = Storage::Constant;
      Offsets[I] = Offset; // becomes a pointer once the file is mapped
      IsDefined[I] = true;
    }
    G->Weights = MappedFile::map(Weights.fd(), FileSize, WeightsName);
    for (size_t I = 0; I < Count; ++I) {
      TensorInfo &Info = G->Tensors[I];
      if (Info.Where != Storage::Constant)
        continue;
      // A zero-byte constant in an empty file still gets a valid (never dereferenced) pointer.
      Info.Data = G->Weights.data() ? static_cast<const void *>(G->Weights.data() + Offsets[I])
                                    : static_cast<const void *>(&G->Weights);
    }
  }

  int32_t resolve(const json::Cursor &C) const {
    const std::string &Name = C.getString();
    auto It = TensorIds.find(Name);
    if (It == TensorIds.end())
      C.fail("unknown tensor \"" + Name + "\" (not in \"tensors\")");
    return It->second;
  }

  std::vector<int32_t> readGraphIo(const json::Cursor &List, const OptimaExtTensorDesc *Decl,
                                   uint32_t DeclCount, bool IsInput) {
    const char *What = IsInput ? "inputs" : "outputs";
    size_t Count = List.getArray(MaxTensors).size();
    if (Count != DeclCount)
      List.fail("graph declares " + std::to_string(Count) + " " + What + " but model.meta declares " +
                std::to_string(DeclCount));
    std::vector<int32_t> Ids;
    for (size_t I = 0; I < Count; ++I) {
      json::Cursor C = List.at(I);
      int32_t Id = resolve(C);
      TensorInfo &T = G->Tensors[size_t(Id)];
      if (T.Where == Storage::Constant)
        C.fail("\"" + T.Name + "\" is a constant and cannot be a graph " + (IsInput ? "input" : "output"));
      if (T.Where == Storage::GraphInput || T.Where == Storage::GraphOutput)
        C.fail("\"" + T.Name + "\" is listed twice among the graph inputs and outputs");
      const OptimaExtTensorDesc &D = Decl[I];
      Dims DeclShape(D.Dims, D.Dims + D.Rank);
      if (T.Name != D.Name || T.Type != D.ElementType || T.Shape != DeclShape)
        C.fail("\"" + T.Name + "\" " + describe(T.Type, T.Shape) + " does not match model.meta's \"" +
               D.Name + "\" " + describe(D.ElementType, DeclShape));
      T.Where = IsInput ? Storage::GraphInput : Storage::GraphOutput;
      T.Slot = uint32_t(I);
      if (IsInput)
        IsDefined[size_t(Id)] = true;
      Ids.push_back(Id);
    }
    return Ids;
  }

  void readAttribute(const std::string &Name, const json::Cursor &C, Attribute &A) {
    C.getObject();
    A.Name = Name;
    json::Cursor TypeC = C.field("type");
    const std::string &Type = TypeC.getString();
    json::Cursor V = C.field("value");
    if (Type == "int") {
      A.Type = AttrType::Int;
      A.I = V.getInt(INT64_MIN, INT64_MAX);
    } else if (Type == "float") {
      A.Type = AttrType::Float;
      A.F = V.getNumber();
    } else if (Type == "string") {
      A.Type = AttrType::String;
      A.S = V.getString();
    } else if (Type == "ints") {
      A.Type = AttrType::Ints;
      size_t N = V.getArray(MaxAttributeValues).size();
      for (size_t I = 0; I < N; ++I)
        A.Ints.push_back(V.at(I).getInt(INT64_MIN, INT64_MAX));
    } else if (Type == "floats") {
      A.Type = AttrType::Floats;
      size_t N = V.getArray(MaxAttributeValues).size();
      for (size_t I = 0; I < N; ++I)
        A.Floats.push_back(V.at(I).getNumber());
    } else if (Type == "strings") {
      A.Type = AttrType::Strings;
      size_t N = V.getArray(MaxAttributeValues).size();
      for (size_t I = 0; I < N; ++I)
        A.Strings.push_back(V.at(I).getString());
    } else if (Type == "tensor") {
      A.Type = AttrType::Tensor;
      A.TensorId = resolve(V);
      if (G->Tensors[size_t(A.TensorId)].Where != Storage::Constant)
        V.fail("tensor \"" + V.getString() + "\" is not a constant");
    } else {
      TypeC.fail("unknown attribute type \"" + Type +
                 "\" (expected int, float, string, ints, floats, strings or tensor)");
    }
  }

  void readNodes(const json::Cursor &List) {
    size_t Count = List.getArray(MaxNodes).size();
    size_t TensorCount = G->Tensors.size();
    Producer.assign(TensorCount, SIZE_MAX);
    LastUse.assign(TensorCount, 0);
    std::unordered_map<std::string, size_t> NodeNames;
    G->Nodes.resize(Count);
    for (size_t N = 0; N < Count; ++N) {
      json::Cursor C = List.at(N);
      NodeDesc &D = G->Nodes[N].Desc;
      D.Index = N;
      D.Name = readName(C.field("name"));
      if (!NodeNames.emplace(D.Name, N).second)
        C.field("name").fail("duplicate node name \"" + D.Name + "\"");
      D.Op = C.field("op").getString();
      if (D.Op.empty())
        C.field("op").fail("expected an op type");
      json::Cursor Ins = C.field("inputs");
      size_t InCount = Ins.getArray(MaxNodeIo).size();
      for (size_t I = 0; I < InCount; ++I) {
        json::Cursor In = Ins.at(I);
        if (In.getString().empty()) {
          D.Inputs.push_back(-1); // omitted optional input
          continue;
        }
        int32_t Id = resolve(In);
        if (!IsDefined[size_t(Id)])
          In.fail("tensor \"" + In.getString() + "\" is used before any node produces it");
        LastUse[size_t(Id)] = N;
        D.Inputs.push_back(Id);
      }
      json::Cursor Outs = C.field("outputs");
      size_t OutCount = Outs.getArray(MaxNodeIo).size();
      if (OutCount == 0)
        Outs.fail("a node needs at least one output");
      for (size_t I = 0; I < OutCount; ++I) {
        json::Cursor Out = Outs.at(I);
        int32_t Id = resolve(Out);
        const TensorInfo &T = G->Tensors[size_t(Id)];
        if (T.Where == Storage::GraphInput || T.Where == Storage::Constant)
          Out.fail("tensor \"" + T.Name + "\" is a graph " +
                   (T.Where == Storage::Constant ? "constant" : "input") + " and cannot be written");
        if (Producer[size_t(Id)] != SIZE_MAX)
          Out.fail("tensor \"" + T.Name + "\" is already written by nodes[" +
                   std::to_string(Producer[size_t(Id)]) + "]");
        Producer[size_t(Id)] = N;
        LastUse[size_t(Id)] = N;
        IsDefined[size_t(Id)] = true;
        D.Outputs.push_back(Id);
      }
      if (C.has("attributes")) {
        json::Cursor Attrs = C.field("attributes");
        for (const auto &Member : Attrs.getObject()) {
          D.Attributes.emplace_back();
          readAttribute(Member.first, Attrs.field(Member.first), D.Attributes.back());
        }
      }
    }
    for (size_t I = 0; I < G->OutputIds.size(); ++I) {
      int32_t Id = G->OutputIds[I];
      if (Producer[size_t(Id)] == SIZE_MAX)
        List.fail("graph output \"" + G->Tensors[size_t(Id)].Name + "\" is not written by any node");
    }
    for (size_t I = 0; I < TensorCount; ++I)
      if (Producer[I] != SIZE_MAX && G->Tensors[I].Where == Storage::Unused)
        G->Tensors[I].Where = Storage::Intermediate;
  }

  void buildKernels() {
    std::string Unsupported;
    for (LoadedNode &N : G->Nodes) {
      std::string Reason;
      KernelFactory Factory = findKernelFactory(N.Desc.Op);
      if (Factory) {
        try {
          N.Impl = Factory(NodeContext(N.Desc, G->Tensors, GraphFile, &G->Weights));
        } catch (const UnsupportedNode &E) {
          Reason = E.what();
        }
      }
      if (!N.Impl) {
        if (!Unsupported.empty())
          Unsupported += ", ";
        Unsupported += "node \"" + N.Desc.Name + "\" (op " + N.Desc.Op +
                       (Reason.empty() ? std::string() : ": " + Reason) + ")";
      }
    }
    if (!Unsupported.empty())
      throw NativeError(OPTIMA_STATUS_UNSUPPORTED,
                        std::string(GraphFile) + ": not supported by the native backend: " +
                            Unsupported);
  }

  void planMemory() {
    std::vector<LiveRange> Ranges;
    std::vector<int32_t> Ids;
    for (size_t I = 0; I < G->Tensors.size(); ++I)
      if (G->Tensors[I].Where == Storage::Intermediate) {
        Ranges.push_back({G->Tensors[I].Bytes, Producer[I], LastUse[I]});
        Ids.push_back(int32_t(I));
      }
    std::vector<size_t> Offsets;
    size_t Bytes = planArena(Ranges, Offsets);
    for (size_t I = 0; I < Ids.size(); ++I)
      G->Tensors[size_t(Ids[I])].ArenaOffset = Offsets[I];
    size_t Scratch = 0;
    for (const LoadedNode &N : G->Nodes)
      Scratch = std::max(Scratch, N.Impl->scratchBytes());
    G->ScratchOffset = alignUp(Bytes, ArenaAlignment);
    G->ArenaBytes = G->ScratchOffset + alignUp(Scratch, ArenaAlignment);
  }
};

} // namespace

std::shared_ptr<const NativeGraph>
NativeGraph::load(const std::string &FolderPath, const OptimaExtTensorDesc *Inputs,
                  uint32_t InputCount, const OptimaExtTensorDesc *Outputs, uint32_t OutputCount) {
  try {
    std::unique_ptr<GraphData> Data =
        Loader(FolderPath, Inputs, InputCount, Outputs, OutputCount).load();
    return std::shared_ptr<const NativeGraph>(new NativeGraph(std::move(Data)));
  } catch (const std::bad_alloc &) {
    throw NativeError(OPTIMA_STATUS_OUT_OF_RESOURCE, "out of memory while loading the graph");
  }
}

NativeGraph::NativeGraph(std::unique_ptr<GraphData> Data) : Data(std::move(Data)) {}
NativeGraph::~NativeGraph() = default;

uint32_t NativeGraph::inputCount() const noexcept { return uint32_t(Data->InputIds.size()); }
uint32_t NativeGraph::outputCount() const noexcept { return uint32_t(Data->OutputIds.size()); }

size_t NativeGraph::inputBytes(uint32_t Index) const noexcept {
  return Index < Data->InputIds.size() ? Data->Tensors[size_t(Data->InputIds[Index])].Bytes : 0;
}

size_t NativeGraph::outputBytes(uint32_t Index) const noexcept {
  return Index < Data->OutputIds.size() ? Data->Tensors[size_t(Data->OutputIds[Index])].Bytes : 0;
}

size_t NativeGraph::arenaBytes() const noexcept { return Data->ArenaBytes; }
size_t NativeGraph::nodeCount() const noexcept { return Data->Nodes.size(); }

const char *NativeGraph::nodeName(size_t Index) const noexcept {
  return Index < Data->Nodes.size() ? Data->Nodes[Index].Desc.Name.c_str() : "";
}

} // namespace optima_v2::native
