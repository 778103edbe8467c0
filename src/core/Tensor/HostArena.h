// One request's host memory: an aligned block holding its model inputs, outputs and the boundary
// tensors that live in host memory (offsets planned by ModelImpl). Zeroed at creation.
#pragma once

#include <cstddef>
#include <new>

namespace optima_v2::runtime::detail {

class HostArena {
public:
  // Throws OutOfResourceException when the allocation fails.
  HostArena(size_t Size, size_t Alignment);
  ~HostArena();
  HostArena(const HostArena &) = delete;
  HostArena &operator=(const HostArena &) = delete;

  std::byte *data() const noexcept { return Data; }
  size_t size() const noexcept { return Size; }

private:
  std::byte *Data = nullptr;
  size_t Size = 0;
  size_t Alignment = 64;
};

} // namespace optima_v2::runtime::detail
