// Internal representation of a loaded native graph (shared, immutable after load).
#pragma once

#include "FileAccess.h"
#include "Kernel.h"
#include "Node.h"
#include "Tensor.h"

#include <memory>
#include <vector>

namespace optima_v2::native {

struct LoadedNode {
  NodeDesc Desc;
  std::unique_ptr<Kernel> Impl;
};

struct GraphData {
  std::vector<TensorInfo> Tensors;
  std::vector<int32_t> InputIds;
  std::vector<int32_t> OutputIds;
  std::vector<LoadedNode> Nodes;
  size_t ArenaBytes = 0;    // intermediates + scratch
  size_t ScratchOffset = 0; // scratch region (shared by nodes: they run one at a time)
  MappedFile Weights;
};

} // namespace optima_v2::native
