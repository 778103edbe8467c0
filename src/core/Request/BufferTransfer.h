// Copies between host memory and extension buffers through map / memcpy / unmap.
#pragma once

#include "core/Extension/ExtensionLibrary.h"

#include <cstddef>

namespace optima_v2::runtime::detail {

void copyHostToBuffer(const ExtensionLibrary &Ext, OptimaExtBuffer *Buffer, const void *Source, size_t Bytes);
void copyBufferToHost(const ExtensionLibrary &Ext, OptimaExtBuffer *Buffer, void *Destination, size_t Bytes);
void copyBufferToBuffer(const ExtensionLibrary &SourceExt, OptimaExtBuffer *Source, const ExtensionLibrary &DestExt,
                        OptimaExtBuffer *Destination, size_t Bytes);

} // namespace optima_v2::runtime::detail
