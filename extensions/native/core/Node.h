// A graph node as parsed from graph.json, before a kernel is built for it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace optima_v2::native {

enum class AttrType { Int, Float, String, Ints, Floats, Strings, Tensor };

const char *attrTypeName(AttrType T) noexcept; // spelling used in graph.json ("ints", ...)

struct Attribute {
  std::string Name;
  AttrType Type = AttrType::Int;
  int64_t I = 0;
  double F = 0;
  std::string S;
  std::vector<int64_t> Ints;
  std::vector<double> Floats;
  std::vector<std::string> Strings;
  int32_t TensorId = -1; // AttrType::Tensor: a constant tensor
};

struct NodeDesc {
  size_t Index = 0; // position in graph.json "nodes"
  std::string Name;
  std::string Op;
  std::vector<int32_t> Inputs;  // tensor ids; -1 marks an omitted optional input ("")
  std::vector<int32_t> Outputs; // tensor ids
  std::vector<Attribute> Attributes;

  const Attribute *findAttribute(const std::string &Key) const noexcept {
    for (const Attribute &A : Attributes)
      if (A.Name == Key)
        return &A;
    return nullptr;
  }
};

} // namespace optima_v2::native
