// Liveness-based placement of intermediate tensors in one per-request arena.
#pragma once

#include <cstddef>
#include <vector>

namespace optima_v2::native {

struct LiveRange {
  size_t Bytes = 0;
  size_t First = 0; // index of the producing node
  size_t Last = 0;  // index of the last node that reads it (>= First)
};

constexpr size_t ArenaAlignment = 64;

// Assigns each range a 64-aligned offset so that ranges alive at the same node never overlap
// (greedy by size, lowest fitting offset). Returns the arena size; Offsets[i] for Ranges[i].
size_t planArena(const std::vector<LiveRange> &Ranges, std::vector<size_t> &Offsets);

inline size_t alignUp(size_t V, size_t A) { return (V + A - 1) / A * A; }

} // namespace optima_v2::native
