#include "core/Tensor/HostArena.h"

#include <OptimaV2/Runtime/Exception.h>

#include <cstring>

namespace optima_v2::runtime::detail {

HostArena::HostArena(size_t SizeIn, size_t AlignmentIn) : Size(SizeIn), Alignment(AlignmentIn) {
  // At least one byte so every tensor pointer, even of an empty tensor, is valid and aligned.
  size_t Bytes = Size ? Size : 1;
  Data = static_cast<std::byte *>(::operator new(Bytes, std::align_val_t(Alignment), std::nothrow));
  if (!Data)
    throwFormat<OutOfResourceException>("cannot allocate {} bytes of request memory", Bytes);
  std::memset(Data, 0, Bytes);
}

HostArena::~HostArena() { ::operator delete(Data, std::align_val_t(Alignment), std::nothrow); }

} // namespace optima_v2::runtime::detail
