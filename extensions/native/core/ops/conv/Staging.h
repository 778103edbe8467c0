// Helpers for kernels that compute F16/BF16 in float: a 64-aligned scratch layout planned at
// load, and array conversions between a storage type and float.
#pragma once

#include "../../Tensor.h"
#include "../../TypeDispatch.h"

#include <cstddef>
#include <type_traits>
#include <vector>

namespace optima_v2::native {

class ScratchLayout {
public:
  // Reserves Bytes and returns its offset (64-aligned).
  size_t add(size_t Bytes) {
    size_t Offset = Size;
    Size += (Bytes + 63) / 64 * 64;
    return Offset;
  }
  size_t size() const { return Size; }

private:
  size_t Size = 0;
};

template <typename S, typename D> void convertArray(const S *Src, D *Dst, size_t N) {
  for (size_t I = 0; I < N; ++I) {
    if constexpr (std::is_same_v<D, Half> || std::is_same_v<D, BFloat16>)
      Dst[I] = store<D>(float(load(Src[I])));
    else
      Dst[I] = D(load(Src[I]));
  }
}

// A constant tensor of any float storage type converted to float at load.
inline std::vector<float> constantAsFloat(const TensorInfo &T) {
  std::vector<float> V(T.Elements);
  dispatchType(T.Type, [&](auto Tag) {
    using E = typename decltype(Tag)::type;
    if constexpr (!std::is_same_v<E, bool>)
      convertArray(static_cast<const E *>(T.Data), V.data(), T.Elements);
  });
  return V;
}

} // namespace optima_v2::native
