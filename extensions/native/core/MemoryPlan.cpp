#include "MemoryPlan.h"

#include <algorithm>
#include <numeric>

namespace optima_v2::native {

size_t planArena(const std::vector<LiveRange> &Ranges, std::vector<size_t> &Offsets) {
  Offsets.assign(Ranges.size(), 0);
  std::vector<size_t> Order(Ranges.size());
  std::iota(Order.begin(), Order.end(), size_t(0));
  // Largest first packs better; ties broken by position for determinism.
  std::stable_sort(Order.begin(), Order.end(),
                   [&](size_t A, size_t B) { return Ranges[A].Bytes > Ranges[B].Bytes; });
  struct Placed {
    size_t Offset, End, Index;
  };
  std::vector<Placed> Done; // kept sorted by offset
  std::vector<Placed> Conflicts;
  size_t Total = 0;
  for (size_t I : Order) {
    const LiveRange &R = Ranges[I];
    size_t Bytes = alignUp(R.Bytes, ArenaAlignment);
    Conflicts.clear();
    for (const Placed &P : Done) {
      const LiveRange &O = Ranges[P.Index];
      if (O.First <= R.Last && R.First <= O.Last)
        Conflicts.push_back(P);
    }
    size_t Offset = 0;
    for (const Placed &P : Conflicts) { // sorted by offset: first gap that fits
      if (Offset + Bytes <= P.Offset)
        break;
      Offset = std::max(Offset, P.End);
    }
    Offsets[I] = Offset;
    Placed New{Offset, Offset + Bytes, I};
    Done.insert(std::upper_bound(Done.begin(), Done.end(), New,
                                 [](const Placed &A, const Placed &B) { return A.Offset < B.Offset; }),
                New);
    Total = std::max(Total, Offset + Bytes);
  }
  return Total;
}

} // namespace optima_v2::native
