#include "NodeContext.h"

#include "OptimaV2/Native/NativeGraph.h"

#include <algorithm>
#include <cstring>

namespace optima_v2::native {

const char *attrTypeName(AttrType T) noexcept {
  switch (T) {
  case AttrType::Int:
    return "int";
  case AttrType::Float:
    return "float";
  case AttrType::String:
    return "string";
  case AttrType::Ints:
    return "ints";
  case AttrType::Floats:
    return "floats";
  case AttrType::Strings:
    return "strings";
  case AttrType::Tensor:
    return "tensor";
  }
  return "?";
}

const TensorInfo *NodeContext::input(size_t I) const noexcept {
  if (I >= Node.Inputs.size() || Node.Inputs[I] < 0)
    return nullptr;
  return &Tensors[size_t(Node.Inputs[I])];
}

std::string NodeContext::where() const {
  return FileName + ": nodes[" + std::to_string(Node.Index) + "] (" + Node.Op + " \"" + Node.Name +
         "\")";
}

void NodeContext::invalid(const std::string &Problem) const {
  throw NativeError(OPTIMA_STATUS_INVALID_MODEL, where() + ": " + Problem);
}

void NodeContext::invalidAttribute(const char *Name, const std::string &Problem) const {
  throw NativeError(OPTIMA_STATUS_INVALID_MODEL, FileName + ": nodes[" +
                                                     std::to_string(Node.Index) + "].attributes." +
                                                     Name + ": " + Problem);
}

void NodeContext::unsupported(const std::string &Problem) const { throw UnsupportedNode(Problem); }

void NodeContext::expectArity(size_t MinInputs, size_t MaxInputs, size_t Outputs) const {
  if (Node.Inputs.size() < MinInputs || Node.Inputs.size() > MaxInputs) {
    std::string Range = MinInputs == MaxInputs
                            ? std::to_string(MinInputs)
                            : std::to_string(MinInputs) + " to " + std::to_string(MaxInputs);
    invalid("expected " + Range + " inputs, got " + std::to_string(Node.Inputs.size()));
  }
  for (size_t I = 0; I < MinInputs; ++I)
    if (Node.Inputs[I] < 0)
      invalid("input " + std::to_string(I) + " is required but omitted");
  if (Node.Outputs.size() != Outputs)
    invalid("expected " + std::to_string(Outputs) + " outputs, got " +
            std::to_string(Node.Outputs.size()));
}

void NodeContext::allowAttributes(std::initializer_list<const char *> Names) const {
  for (const Attribute &A : Node.Attributes) {
    bool Known = std::any_of(Names.begin(), Names.end(),
                             [&](const char *N) { return A.Name == N; });
    if (!Known)
      unsupported("attribute \"" + A.Name + "\"");
  }
}

void NodeContext::requireType(size_t InputIndex, std::initializer_list<int32_t> Types) const {
  const TensorInfo *T = input(InputIndex);
  if (!T)
    return;
  if (std::find(Types.begin(), Types.end(), T->Type) == Types.end())
    unsupported(std::string(typeName(T->Type)) + " input \"" + T->Name + "\"");
}

void NodeContext::expectOutput(size_t I, int32_t Type, const Dims &Shape) const {
  const TensorInfo &O = output(I);
  if (O.Type != Type || O.Shape != Shape)
    invalid("output \"" + O.Name + "\" is declared " + describe(O.Type, O.Shape) + " but " +
            Node.Op + " produces " + describe(Type, Shape));
}

const Attribute *NodeContext::typedAttribute(const char *Name, AttrType Type) const {
  const Attribute *A = Node.findAttribute(Name);
  if (A && A->Type != Type)
    invalidAttribute(Name, std::string("expected ") + attrTypeName(Type) + ", got " +
                               attrTypeName(A->Type));
  return A;
}

int64_t NodeContext::getInt(const char *Name, int64_t Default) const {
  const Attribute *A = typedAttribute(Name, AttrType::Int);
  return A ? A->I : Default;
}

double NodeContext::getFloat(const char *Name, double Default) const {
  const Attribute *A = typedAttribute(Name, AttrType::Float);
  return A ? A->F : Default;
}

std::string NodeContext::getString(const char *Name, const std::string &Default) const {
  const Attribute *A = typedAttribute(Name, AttrType::String);
  return A ? A->S : Default;
}

std::vector<int64_t> NodeContext::getInts(const char *Name,
                                          const std::vector<int64_t> &Default) const {
  const Attribute *A = typedAttribute(Name, AttrType::Ints);
  return A ? A->Ints : Default;
}

std::vector<double> NodeContext::getFloats(const char *Name,
                                           const std::vector<double> &Default) const {
  const Attribute *A = typedAttribute(Name, AttrType::Floats);
  return A ? A->Floats : Default;
}

const TensorInfo *NodeContext::getTensor(const char *Name) const {
  const Attribute *A = typedAttribute(Name, AttrType::Tensor);
  if (!A)
    return nullptr;
  if (A->TensorId < 0 || size_t(A->TensorId) >= Tensors.size())
    invalidAttribute(Name, "refers to no tensor");
  return &Tensors[size_t(A->TensorId)];
}

void NodeContext::releaseConstantInput(size_t I) const noexcept {
  const TensorInfo *T = input(I);
  if (Weights && T && T->Where == Storage::Constant && T->Data)
    Weights->releasePages(T->Data, T->Bytes);
}

} // namespace optima_v2::native
