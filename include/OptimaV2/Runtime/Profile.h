#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace optima_v2::runtime {

// What a ProfileData entry measures. Values match OptimaProfileKind in the extension ABI.
enum class ProfileKind : int32_t {
  ModelInit = 0,         // loading the whole model
  SubgraphInit = 1,      // loading one subgraph
  RequestInit = 2,       // creating a request
  TransferFromInput = 3, // input tensor -> device memory
  TransferToOutput = 4,  // device memory -> output tensor
  LayerExecute = 5,      // one kernel
  Wait = 6,              // a subgraph waiting in a queue or on its dependencies
  BufferCopy = 7,        // copy between subgraphs on different devices
  ModelExecute = 8,      // whole model = LayerExecute + Wait + BufferCopy
  SubgraphExecute = 9    // one subgraph = LayerExecute + Wait
};

struct ProfileData {
  ProfileKind Kind = ProfileKind::LayerExecute;
  std::string Name; // layer, subgraph or model name
  std::chrono::microseconds Time{0};
  // Additions for traces: start relative to the beginning of the infer() it belongs to (or of the
  // load for init kinds), and the subgraph it belongs to ("" for model-level entries).
  std::chrono::microseconds Start{0};
  std::string Subgraph;
};

} // namespace optima_v2::runtime
