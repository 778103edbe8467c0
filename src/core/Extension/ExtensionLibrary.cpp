#include "core/Extension/ExtensionLibrary.h"

#include "core/Extension/ExtensionCall.h"

#include <OptimaV2/Runtime/Utils/ToString.h>

#include <dlfcn.h>

#include <cstddef>
#include <cstring>

namespace optima_v2::runtime::detail {
namespace {

constexpr uint32_t MaxDevices = 1024;
constexpr size_t MaxNameLength = 4096;

// Copies an extension-owned C string, bounded; nullptr -> "".
std::string boundedString(const char *S) {
  if (!S)
    return {};
  const char *End = static_cast<const char *>(std::memchr(S, '\0', MaxNameLength));
  return std::string(S, End ? static_cast<size_t>(End - S) : MaxNameLength);
}

} // namespace

std::shared_ptr<ExtensionLibrary> ExtensionLibrary::open(const std::filesystem::path &Path,
                                                         std::shared_ptr<HostEnvironment> Host) {
  std::shared_ptr<ExtensionLibrary> Lib(new ExtensionLibrary());
  Lib->Host = std::move(Host);
  Lib->Path = Path;
  std::string Where = Path.string();

  dlerror(); // clear a stale error
  Lib->Handle = dlopen(Path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!Lib->Handle) {
    const char *Why = dlerror();
    throwFormat<InvalidExtensionException>("extension {}: cannot load: {}", Where, Why ? Why : "dlopen failed");
  }
  // From here on the destructor closes the handle (and releases once initialized).

  dlerror();
  void *Symbol = dlsym(Lib->Handle, OPTIMA_EXT_ENTRY_POINT);
  if (!Symbol)
    throwFormat<InvalidExtensionException>("extension {}: entry point " OPTIMA_EXT_ENTRY_POINT " not found",
                                           Where);
  auto Init = reinterpret_cast<OptimaExtInitFn>(Symbol);

  ExtError Error;
  OptimaExtension *Table = nullptr;
  int32_t Status;
  try {
    Status = static_cast<int32_t>(Init(Lib->Host->api(), OPTIMA_EXT_ABI_VERSION, &Table, &Error));
  } catch (...) {
    throwFormat<InvalidExtensionException>("extension {}: " OPTIMA_EXT_ENTRY_POINT " threw: {}", Where,
                                           getCause(std::current_exception()));
  }
  if (Status != OPTIMA_STATUS_OK)
    throwFormat<InvalidExtensionException>("extension {}: " OPTIMA_EXT_ENTRY_POINT " failed (status {}): {}",
                                           Where, Status, Error.text());
  if (!Table)
    throwFormat<InvalidExtensionException>("extension {}: " OPTIMA_EXT_ENTRY_POINT " returned no table", Where);
  Lib->Table = Table;
  Lib->validateTable(); // release() is not called on a table that fails validation
  Lib->Initialized = true;
  Lib->enumerateDevices();
  Lib->Host->logger().logf(LogLevel::Info, "loaded extension {}", Lib->describe());
  return Lib;
}

void ExtensionLibrary::validateTable() {
  std::string Where = Path.string();
  const OptimaExtension &T = *Table;
  constexpr size_t HeaderSize = offsetof(OptimaExtension, AbiVersion) + sizeof(uint32_t);
  if (T.StructSize < HeaderSize)
    throwFormat<InvalidExtensionException>(
        "extension {}: table size {} is smaller than the ABI v1 table ({} bytes)", Where, T.StructSize,
        sizeof(OptimaExtension));
  if (T.AbiVersion != OPTIMA_EXT_ABI_VERSION)
    throwFormat<InvalidExtensionException>("extension {}: ABI version {} does not match the runtime's {}",
                                           Where, T.AbiVersion, OPTIMA_EXT_ABI_VERSION);
  if (T.StructSize < sizeof(OptimaExtension))
    throwFormat<InvalidExtensionException>(
        "extension {}: table size {} is smaller than the ABI v1 table ({} bytes)", Where, T.StructSize,
        sizeof(OptimaExtension));

  struct Required {
    const char *Name;
    bool Present;
  };
  const Required Members[] = {
      {"Name", T.Name != nullptr},
      {"Version", T.Version != nullptr},
      {"Framework", T.Framework != nullptr},
      {"getDeviceCount", T.getDeviceCount != nullptr},
      {"getDevice", T.getDevice != nullptr},
      {"loadSubgraph", T.loadSubgraph != nullptr},
      {"unloadSubgraph", T.unloadSubgraph != nullptr},
      {"createRequestState", T.createRequestState != nullptr},
      {"destroyRequestState", T.destroyRequestState != nullptr},
      {"execute", T.execute != nullptr},
      {"release", T.release != nullptr},
  };
  for (const auto &M : Members)
    if (!M.Present)
      throwFormat<InvalidExtensionException>("extension {}: table member {} is null", Where, M.Name);

  Name = boundedString(T.Name);
  Version = boundedString(T.Version);
  std::string FrameworkName = boundedString(T.Framework);
  auto Parsed = parseFrameworkKind(FrameworkName);
  if (!Parsed)
    throwFormat<InvalidExtensionException>("extension {}: unknown framework \"{}\"", Where, FrameworkName);
  Framework = *Parsed;
  if (Name.empty())
    throwFormat<InvalidExtensionException>("extension {}: empty Name", Where);
}

void ExtensionLibrary::enumerateDevices() {
  std::string Where = Path.string();
  const OptimaExtension &T = *Table;
  uint32_t Count = 0;
  try {
    Count = T.getDeviceCount(T.Self);
  } catch (...) {
    throwFormat<InvalidExtensionException>("extension {}: getDeviceCount threw: {}", Where,
                                           getCause(std::current_exception()));
  }
  if (Count > MaxDevices)
    throwFormat<InvalidExtensionException>("extension {}: reports {} devices (at most {})", Where, Count, MaxDevices);

  bool NeedsBufferApi = false;
  for (uint32_t Ordinal = 0; Ordinal < Count; ++Ordinal) {
    OptimaExtDeviceDesc Desc{};
    Desc.StructSize = sizeof(Desc);
    try {
      callExtension(Name, "getDevice", "", [&](OptimaExtError *E) { return T.getDevice(T.Self, Ordinal, &Desc, E); });
    } catch (const std::exception &Ex) {
      throwFormat<InvalidExtensionException>("extension {}: device {}: {}", Where, Ordinal, Ex.what());
    }
    if (Desc.StructSize < sizeof(OptimaExtDeviceDesc))
      throwFormat<InvalidExtensionException>("extension {}: device {}: descriptor size {} is smaller than {}",
                                             Where, Ordinal, Desc.StructSize, sizeof(OptimaExtDeviceDesc));
    if (Desc.Kind < 0 || toString(static_cast<DeviceKind>(Desc.Kind)) == "Unknown")
      throwFormat<InvalidExtensionException>("extension {}: device {}: unknown device kind {}", Where, Ordinal,
                                             Desc.Kind);
    if (Desc.Alignment == 0 || (Desc.Alignment & (Desc.Alignment - 1)) != 0 || Desc.Alignment > 65536)
      throwFormat<InvalidExtensionException>(
          "extension {}: device {}: alignment {} is not a power of two in [1, 65536]", Where, Ordinal,
          Desc.Alignment);
    if (!Desc.Name)
      throwFormat<InvalidExtensionException>("extension {}: device {}: null Name", Where, Ordinal);
    ExtensionDevice D;
    D.Info.Framework = Framework;
    D.Info.Kind = static_cast<DeviceKind>(Desc.Kind);
    D.Info.Index = Desc.Index;
    D.Info.Name = boundedString(Desc.Name);
    D.Info.ID = boundedString(Desc.Id);
    D.Ordinal = Ordinal;
    D.Flags = Desc.Flags;
    D.Alignment = Desc.Alignment;
    if (findDevice(D.Info.Kind, D.Info.Index))
      throwFormat<InvalidExtensionException>("extension {}: device {}: {}:{} is offered twice", Where, Ordinal,
                                             toString(D.Info.Kind), D.Info.Index);
    NeedsBufferApi |= !D.hostMemory();
    Devices.push_back(std::move(D));
  }
  if (NeedsBufferApi && (!T.allocBuffer || !T.freeBuffer || !T.mapBuffer || !T.unmapBuffer))
    throwFormat<InvalidExtensionException>(
        "extension {}: a device without host memory needs allocBuffer, freeBuffer, mapBuffer and unmapBuffer",
        Where);
}

ExtensionLibrary::~ExtensionLibrary() {
  if (Initialized && Table) {
    OptimaExtension *T = Table;
    callExtensionNoThrow(&Host->logger(), Name, "release", [&] { T->release(T->Self); });
  }
  if (Handle)
    dlclose(Handle);
}

std::string ExtensionLibrary::describe() const {
  return format("{} {} ({}) at {}", Name, Version, toString(Framework), Path.string());
}

const ExtensionDevice *ExtensionLibrary::findDevice(DeviceKind Kind, uint32_t Index) const noexcept {
  for (const auto &D : Devices)
    if (D.Info.Kind == Kind && D.Info.Index == Index)
      return &D;
  return nullptr;
}

const ExtensionDevice *ExtensionLibrary::findCpuDevice() const noexcept {
  for (const auto &D : Devices)
    if (isDeviceCPU(D.Info.Kind))
      return &D;
  return nullptr;
}

} // namespace optima_v2::runtime::detail
