// The `native` extension: the C ABI shim over optima_v2_native_core. Every entry point catches
// everything and turns it into a status plus message; nothing crosses the boundary.
#include "CpuInfo.h"

#include "OptimaV2/Extension/Extension.h"
#include "OptimaV2/Native/NativeGraph.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>

namespace native = optima_v2::native;

namespace {

constexpr uint32_t Alignment = 64;

struct NativeExtension {
  OptimaExtension Table{};
  const OptimaHostApi *Host = nullptr;
  std::string DeviceName;
};

struct Subgraph {
  std::shared_ptr<const native::NativeGraph> Graph;
};

struct RequestState {
  explicit RequestState(std::shared_ptr<const native::NativeGraph> G) : Instance(std::move(G)) {}
  native::GraphInstance Instance;
};

struct HostBuffer {
  void *Data = nullptr;
  size_t Bytes = 0;
};

NativeExtension &self(void *Self) { return *static_cast<NativeExtension *>(Self); }

void setError(OptimaExtError *Error, const char *Message) {
  if (!Error)
    return;
  size_t N = std::strlen(Message);
  if (N >= OPTIMA_EXT_ERROR_CAPACITY)
    N = OPTIMA_EXT_ERROR_CAPACITY - 1;
  std::memcpy(Error->Message, Message, N);
  Error->Message[N] = '\0';
}

OptimaStatus fail(OptimaExtError *Error, OptimaStatus Status, const std::string &Message) {
  setError(Error, Message.c_str());
  return Status;
}

// Runs Body, mapping every exception to a status and message.
template <typename Fn> OptimaStatus guarded(OptimaExtError *Error, Fn &&Body) noexcept {
  try {
    return Body();
  } catch (const native::NativeError &E) {
    setError(Error, E.what());
    return E.status();
  } catch (const std::bad_alloc &) {
    setError(Error, "native: out of memory");
    return OPTIMA_STATUS_OUT_OF_RESOURCE;
  } catch (const std::exception &E) {
    setError(Error, (std::string("native: internal error: ") + E.what()).c_str());
    return OPTIMA_STATUS_INTERNAL;
  } catch (...) {
    setError(Error, "native: internal error: unknown exception");
    return OPTIMA_STATUS_INTERNAL;
  }
}

uint32_t threadCount(const OptimaHostApi *Host) {
  if (Host && Host->getThreadCount) {
    uint32_t N = Host->getThreadCount(Host->HostContext);
    if (N)
      return N;
  }
  unsigned N = std::thread::hardware_concurrency();
  return N ? N : 1;
}

uint32_t getDeviceCount(void *) { return 1; }

OptimaStatus getDevice(void *Self, uint32_t Ordinal, OptimaExtDeviceDesc *Out,
                       OptimaExtError *Error) {
  return guarded(Error, [&] {
    if (!Out)
      return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT, "native: getDevice: output is null");
    if (Ordinal != 0)
      return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT,
                  "native: no device ordinal " + std::to_string(Ordinal) + " (only 0)");
    OptimaExtDeviceDesc D{};
    D.StructSize = sizeof(OptimaExtDeviceDesc);
    D.Kind = native::hostDeviceKind();
    D.Index = 0;
    D.Name = self(Self).DeviceName.c_str();
    D.Id = "";
    D.Flags = OPTIMA_EXT_DEVICE_HOST_MEMORY;
    D.Alignment = Alignment;
    *Out = D;
    return OPTIMA_STATUS_OK;
  });
}

OptimaStatus loadSubgraph(void *, uint32_t DeviceOrdinal, const char *FolderPath,
                          const OptimaExtTensorDesc *Inputs, uint32_t InputCount,
                          const OptimaExtTensorDesc *Outputs, uint32_t OutputCount,
                          OptimaExtSubgraph **Out, OptimaExtError *Error) {
  return guarded(Error, [&] {
    if (!Out || !FolderPath)
      return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT, "native: loadSubgraph: null argument");
    if (DeviceOrdinal != 0)
      return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT,
                  "native: no device ordinal " + std::to_string(DeviceOrdinal));
    auto S = std::make_unique<Subgraph>();
    S->Graph = native::NativeGraph::load(FolderPath, Inputs, InputCount, Outputs, OutputCount);
    *Out = reinterpret_cast<OptimaExtSubgraph *>(S.release());
    return OPTIMA_STATUS_OK;
  });
}

void unloadSubgraph(void *, OptimaExtSubgraph *S) { delete reinterpret_cast<Subgraph *>(S); }

OptimaStatus createRequestState(void *, OptimaExtSubgraph *S, OptimaExtRequestState **Out,
                                OptimaExtError *Error) {
  return guarded(Error, [&] {
    if (!S || !Out)
      return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT,
                  "native: createRequestState: null argument");
    auto State = std::make_unique<RequestState>(reinterpret_cast<Subgraph *>(S)->Graph);
    *Out = reinterpret_cast<OptimaExtRequestState *>(State.release());
    return OPTIMA_STATUS_OK;
  });
}

void destroyRequestState(void *, OptimaExtRequestState *S) {
  delete reinterpret_cast<RequestState *>(S);
}

OptimaStatus execute(void *Self, OptimaExtRequestState *StateHandle, void *const *Inputs,
                     void *const *Outputs, const OptimaExecContext *Exec, OptimaExtError *Error) {
  return guarded(Error, [&] {
    if (!StateHandle)
      return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT, "native: execute: request state is null");
    if (Exec && Exec->StructSize < sizeof(OptimaExecContext))
      return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT, "native: execute: exec context too small");
    native::GraphInstance &Instance = reinterpret_cast<RequestState *>(StateHandle)->Instance;
    const native::NativeGraph &G = Instance.graph();
    if ((G.inputCount() && !Inputs) || (G.outputCount() && !Outputs))
      return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT, "native: execute: tensor array is null");
    for (uint32_t I = 0; I < G.inputCount(); ++I)
      if (!Inputs[I] && G.inputBytes(I))
        return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT,
                    "native: execute: input " + std::to_string(I) + " is null");
    for (uint32_t I = 0; I < G.outputCount(); ++I)
      if (!Outputs[I] && G.outputBytes(I))
        return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT,
                    "native: execute: output " + std::to_string(I) + " is null");
    native::ExecHooks Hooks = native::ExecHooks::fromHost(self(Self).Host, Exec);
    OptimaStatus Status = Instance.execute(Inputs, Outputs, Hooks);
    if (Status == OPTIMA_STATUS_CANCELLED)
      return fail(Error, Status, "native: execution cancelled");
    if (Status == OPTIMA_STATUS_EXECUTION_FAILED)
      return fail(Error, Status, std::string("native: ") + Instance.failureMessage());
    return Status;
  });
}

// Host-memory buffers: unused by a host (the device is HOST_MEMORY) but complete for callers
// that use the buffer API generically.
OptimaStatus allocBuffer(void *, uint32_t DeviceOrdinal, size_t Bytes, OptimaExtBuffer **Out,
                         OptimaExtError *Error) {
  return guarded(Error, [&] {
    if (!Out || DeviceOrdinal != 0)
      return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT, "native: allocBuffer: bad argument");
    if (Bytes > (size_t(1) << 40))
      return fail(Error, OPTIMA_STATUS_OUT_OF_RESOURCE,
                  "native: allocBuffer: " + std::to_string(Bytes) + " bytes is too large");
    size_t Rounded = (Bytes + Alignment - 1) / Alignment * Alignment;
    auto B = std::make_unique<HostBuffer>();
    B->Data = std::aligned_alloc(Alignment, Rounded ? Rounded : Alignment);
    if (!B->Data)
      return fail(Error, OPTIMA_STATUS_OUT_OF_RESOURCE,
                  "native: cannot allocate " + std::to_string(Bytes) + " bytes");
    B->Bytes = Bytes;
    *Out = reinterpret_cast<OptimaExtBuffer *>(B.release());
    return OPTIMA_STATUS_OK;
  });
}

void freeBuffer(void *, OptimaExtBuffer *Buffer) {
  auto *B = reinterpret_cast<HostBuffer *>(Buffer);
  if (B)
    std::free(B->Data);
  delete B;
}

OptimaStatus mapBuffer(void *, OptimaExtBuffer *Buffer, uint32_t, void **HostPtr,
                       OptimaExtError *Error) {
  if (!Buffer || !HostPtr)
    return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT, "native: mapBuffer: null argument");
  *HostPtr = reinterpret_cast<HostBuffer *>(Buffer)->Data;
  return OPTIMA_STATUS_OK;
}

OptimaStatus unmapBuffer(void *, OptimaExtBuffer *Buffer, OptimaExtError *Error) {
  if (!Buffer)
    return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT, "native: unmapBuffer: null buffer");
  return OPTIMA_STATUS_OK;
}

void release(void *Self) { delete static_cast<NativeExtension *>(Self); }

} // namespace

extern "C" OPTIMA_EXT_EXPORT OptimaStatus optimaV2ExtensionInit(const OptimaHostApi *Host,
                                                                 uint32_t HostAbiVersion,
                                                                 OptimaExtension **Out,
                                                                 OptimaExtError *Error) {
  return guarded(Error, [&] {
    if (!Out)
      return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT, "native: init: output is null");
    if (HostAbiVersion != OPTIMA_EXT_ABI_VERSION)
      return fail(Error, OPTIMA_STATUS_UNSUPPORTED,
                  "native: host ABI version " + std::to_string(HostAbiVersion) +
                      " is not supported (this extension implements version " +
                      std::to_string(OPTIMA_EXT_ABI_VERSION) + ")");
    if (!Host || Host->StructSize < sizeof(OptimaHostApi))
      return fail(Error, OPTIMA_STATUS_INVALID_ARGUMENT,
                  "native: init: host API table is missing or smaller than ABI version 1's");
    auto E = std::make_unique<NativeExtension>();
    E->Host = Host;
    E->DeviceName = native::hostDeviceName(threadCount(Host));
    OptimaExtension &T = E->Table;
    T.StructSize = sizeof(OptimaExtension);
    T.AbiVersion = OPTIMA_EXT_ABI_VERSION;
    T.Name = "native";
    T.Version = "0.1.0";
    T.Framework = "Native";
    T.Self = E.get();
    T.getDeviceCount = getDeviceCount;
    T.getDevice = getDevice;
    T.loadSubgraph = loadSubgraph;
    T.unloadSubgraph = unloadSubgraph;
    T.createRequestState = createRequestState;
    T.destroyRequestState = destroyRequestState;
    T.execute = execute;
    T.allocBuffer = allocBuffer;
    T.freeBuffer = freeBuffer;
    T.mapBuffer = mapBuffer;
    T.unmapBuffer = unmapBuffer;
    T.release = release;
    *Out = &E.release()->Table;
    return OPTIMA_STATUS_OK;
  });
}
