// Profile events of one run, written lock-free from any thread into a preallocated array (the
// name is kept as the const char* given: no string is built on the hot path).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace optima_v2::runtime::detail {

struct RawEvent {
  int32_t Kind = 0;
  uint32_t Subgraph = UINT32_MAX; // UINT32_MAX: model-level
  const char *Name = nullptr;
  int64_t StartNs = 0; // relative to the run's start
  int64_t DurationNs = 0;
};

class EventBuffer {
public:
  explicit EventBuffer(size_t Capacity = 0) : Events(Capacity) {}

  // Claims a slot; when full the event is counted as dropped.
  void record(const RawEvent &E) noexcept {
    size_t Slot = Count.fetch_add(1, std::memory_order_relaxed);
    if (Slot < Events.size())
      Events[Slot] = E;
  }
  size_t size() const noexcept { return std::min(Count.load(std::memory_order_acquire), Events.size()); }
  size_t attempted() const noexcept { return Count.load(std::memory_order_acquire); }
  size_t dropped() const noexcept { return attempted() - size(); }
  const RawEvent &operator[](size_t I) const noexcept { return Events[I]; }

  // Between runs only. Grows (allocates) to fit Needed events, at most Cap.
  void reset(size_t Needed, size_t Cap) {
    if (Needed > Events.size())
      Events.resize(std::min(Needed, Cap));
    Count.store(0, std::memory_order_relaxed);
  }
  size_t capacity() const noexcept { return Events.size(); }

private:
  std::vector<RawEvent> Events;
  std::atomic<size_t> Count{0};
};

} // namespace optima_v2::runtime::detail
