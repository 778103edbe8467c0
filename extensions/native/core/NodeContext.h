// What an op factory sees at load time: the node, its tensors, typed attribute access, and the
// two ways to refuse it (invalid model vs unsupported by this backend).
#pragma once

#include "FileAccess.h"
#include "Node.h"
#include "Tensor.h"

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <vector>

namespace optima_v2::native {

// Thrown by a factory for something valid ONNX this backend cannot run; the loader collects one
// per node and reports them all together.
class UnsupportedNode : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class NodeContext {
public:
  NodeContext(const NodeDesc &Node, const std::vector<TensorInfo> &Tensors,
              const std::string &FileName, const MappedFile *Weights = nullptr)
      : Node(Node), Tensors(Tensors), FileName(FileName), Weights(Weights) {}

  const NodeDesc &node() const noexcept { return Node; }
  size_t inputCount() const noexcept { return Node.Inputs.size(); }
  size_t outputCount() const noexcept { return Node.Outputs.size(); }
  // nullptr when the input is omitted ("") or beyond the list.
  const TensorInfo *input(size_t I) const noexcept;
  int32_t inputId(size_t I) const noexcept { return I < Node.Inputs.size() ? Node.Inputs[I] : -1; }
  const TensorInfo &output(size_t I) const { return Tensors[size_t(Node.Outputs[I])]; }
  int32_t outputId(size_t I) const noexcept { return Node.Outputs[I]; }

  // Checks the number of inputs (required ones present) and outputs; invalid otherwise.
  void expectArity(size_t MinInputs, size_t MaxInputs, size_t Outputs) const;
  // Every attribute not listed is refused as unsupported.
  void allowAttributes(std::initializer_list<const char *> Names) const;
  // Input I must have one of the listed types (unsupported otherwise).
  void requireType(size_t InputIndex, std::initializer_list<int32_t> Types) const;
  // Output I must be declared with exactly this type and shape (invalid otherwise).
  void expectOutput(size_t I, int32_t Type, const Dims &Shape) const;

  bool hasAttribute(const char *Name) const noexcept { return Node.findAttribute(Name); }
  int64_t getInt(const char *Name, int64_t Default) const;
  double getFloat(const char *Name, double Default) const;
  std::string getString(const char *Name, const std::string &Default) const;
  std::vector<int64_t> getInts(const char *Name, const std::vector<int64_t> &Default) const;
  std::vector<double> getFloats(const char *Name, const std::vector<double> &Default) const;
  // A kernel that copied constant input I into its own layout at load (pre-packed weights) and
  // never reads the original at run time calls this: the original's pages leave the process's
  // resident set (they stay readable, re-read from the weights file if anyone touches them).
  void releaseConstantInput(size_t I) const noexcept;
  // The constant tensor of a "tensor" attribute; nullptr when absent.
  const TensorInfo *getTensor(const char *Name) const;

  // "graph.json: nodes[3] (Conv "c1")" — prefix for node-level messages.
  std::string where() const;
  [[noreturn]] void invalid(const std::string &Problem) const;
  [[noreturn]] void invalidAttribute(const char *Name, const std::string &Problem) const;
  [[noreturn]] void unsupported(const std::string &Problem) const;

private:
  const Attribute *typedAttribute(const char *Name, AttrType Type) const;

  const NodeDesc &Node;
  const std::vector<TensorInfo> &Tensors;
  const std::string &FileName;
  const MappedFile *Weights;
};

} // namespace optima_v2::native
