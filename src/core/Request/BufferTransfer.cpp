#include "core/Request/BufferTransfer.h"

#include "core/Extension/ExtensionCall.h"

#include <cstring>

namespace optima_v2::runtime::detail {
namespace {

// A mapped buffer; unmaps on scope exit (an unmap error then is logged, not thrown, unless the
// copy itself succeeded and unmap() is called explicitly).
class Mapping {
public:
  Mapping(const ExtensionLibrary &Ext, OptimaExtBuffer *Buffer, uint32_t Access) : Ext(Ext), Buffer(Buffer) {
    const OptimaExtension &T = Ext.table();
    void *Out = nullptr;
    callExtension(Ext.name(), "mapBuffer", "", [&](OptimaExtError *E) { return T.mapBuffer(T.Self, Buffer, Access, &Out, E); });
    if (!Out)
      throw BackendException(Ext.name() + ": mapBuffer returned OK without a pointer", Ext.name());
    Ptr = Out;
  }
  ~Mapping() {
    if (!Ptr)
      return;
    try {
      unmap();
    } catch (const std::exception &E) {
      Ext.logger().logf(LogLevel::Error, "{}: unmapBuffer failed: {}", Ext.name(), E.what());
    }
  }
  void unmap() {
    if (!Ptr)
      return;
    Ptr = nullptr;
    const OptimaExtension &T = Ext.table();
    callExtension(Ext.name(), "unmapBuffer", "", [&](OptimaExtError *E) { return T.unmapBuffer(T.Self, Buffer, E); });
  }
  void *get() const noexcept { return Ptr; }

private:
  const ExtensionLibrary &Ext;
  OptimaExtBuffer *Buffer;
  void *Ptr = nullptr;
};

} // namespace

void copyHostToBuffer(const ExtensionLibrary &Ext, OptimaExtBuffer *Buffer, const void *Source, size_t Bytes) {
  if (Bytes == 0)
    return;
  Mapping M(Ext, Buffer, OPTIMA_EXT_MAP_WRITE);
  std::memcpy(M.get(), Source, Bytes);
  M.unmap();
}

void copyBufferToHost(const ExtensionLibrary &Ext, OptimaExtBuffer *Buffer, void *Destination, size_t Bytes) {
  if (Bytes == 0)
    return;
  Mapping M(Ext, Buffer, OPTIMA_EXT_MAP_READ);
  std::memcpy(Destination, M.get(), Bytes);
  M.unmap();
}

void copyBufferToBuffer(const ExtensionLibrary &SourceExt, OptimaExtBuffer *Source, const ExtensionLibrary &DestExt,
                        OptimaExtBuffer *Destination, size_t Bytes) {
  if (Bytes == 0)
    return;
  Mapping From(SourceExt, Source, OPTIMA_EXT_MAP_READ);
  Mapping To(DestExt, Destination, OPTIMA_EXT_MAP_WRITE);
  std::memcpy(To.get(), From.get(), Bytes);
  To.unmap();
  From.unmap();
}

} // namespace optima_v2::runtime::detail
