// The simulated accelerator's ABI table: framework "OpenCL", one device NVIDIA:0 whose memory is
// not host-visible (DeviceMemory.h), running the native graph format with optima_v2_native_core,
// with per-subgraph fault injection (FaultPlan.h). Test-only; never installed.
#include "DeviceMemory.h"
#include "FaultPlan.h"
#include "SimAccelState.h"

#include <OptimaV2/Extension/Extension.h>
#include <OptimaV2/Native/NativeGraph.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <new>
#include <string>
#include <thread>

using namespace optima_v2::test_accel;
namespace native = optima_v2::native;

namespace {

void setError(OptimaExtError *Error, const std::string &Message) {
  constexpr size_t Offset = offsetof(OptimaExtError, Message);
  if (!Error || Error->StructSize <= Offset)
    return;
  size_t Capacity = std::min<size_t>(Error->StructSize - Offset, OPTIMA_EXT_ERROR_CAPACITY);
  size_t N = std::min(Message.size(), Capacity - 1);
  std::memcpy(Error->Message, Message.data(), N);
  Error->Message[N] = '\0';
}

// Runs Body, turning exceptions into statuses as the ABI demands, except the injected one, which
// escapes on purpose so the host's guard gets tested.
template <class Fn> OptimaStatus guarded(OptimaExtError *Error, Fn &&Body) {
  try {
    std::string Message;
    OptimaStatus Status = Body(Message);
    if (Status != OPTIMA_STATUS_OK)
      setError(Error, Message);
    return Status;
  } catch (const InjectedException &) {
    throw;
  } catch (const native::NativeError &E) {
    setError(Error, std::string("sim_accel: ") + E.what());
    return E.status();
  } catch (const std::bad_alloc &) {
    setError(Error, "sim_accel: out of memory");
    return OPTIMA_STATUS_OUT_OF_RESOURCE;
  } catch (const std::exception &E) {
    setError(Error, std::string("sim_accel: internal error: ") + E.what());
    return OPTIMA_STATUS_INTERNAL;
  } catch (...) {
    setError(Error, "sim_accel: internal error: unknown exception");
    return OPTIMA_STATUS_INTERNAL;
  }
}

Extension &self(void *Self) { return *static_cast<Extension *>(Self); }

uint32_t getDeviceCount(void *) { return 1; }

OptimaStatus getDevice(void *Self, uint32_t Ordinal, OptimaExtDeviceDesc *Out,
                       OptimaExtError *Error) {
  return guarded(Error, [&](std::string &Message) {
    if (Ordinal != 0 || !Out) {
      Message = "sim_accel: getDevice: no device number " + std::to_string(Ordinal) +
                " (there is one) or null output";
      return OPTIMA_STATUS_INVALID_ARGUMENT;
    }
    *Out = self(Self).Device;
    return OPTIMA_STATUS_OK;
  });
}

OptimaStatus loadSubgraph(void *Self, uint32_t DeviceOrdinal, const char *FolderPath,
                          const OptimaExtTensorDesc *Inputs, uint32_t InputCount,
                          const OptimaExtTensorDesc *Outputs, uint32_t OutputCount,
                          OptimaExtSubgraph **Out, OptimaExtError *Error) {
  return guarded(Error, [&](std::string &Message) {
    if (DeviceOrdinal != 0 || !FolderPath || !Out) {
      Message = "sim_accel: loadSubgraph: bad device number " + std::to_string(DeviceOrdinal) +
                ", null folder or null output";
      return OPTIMA_STATUS_INVALID_ARGUMENT;
    }
    Extension &Ext = self(Self);
    FaultPlan Plan;
    try {
      Plan = readFaultPlan(FolderPath);
    } catch (const std::runtime_error &E) {
      Message = std::string("sim_accel: ") + E.what();
      return OPTIMA_STATUS_INVALID_MODEL;
    }
    if (Plan.Point == FaultPoint::Load) {
      uint64_t Call;
      {
        std::lock_guard<std::mutex> Lock(Ext.Mutex);
        Call = ++Ext.LoadCalls[FolderPath];
      }
      if (Plan.failsOnCall(Call))
        return injectFailure(Plan, FaultPoint::Load, Call, Message);
    }
    auto Graph = native::NativeGraph::load(FolderPath, Inputs, InputCount, Outputs, OutputCount);
    auto *S = new Subgraph(Ext, FolderPath, Plan, std::move(Graph));
    {
      std::lock_guard<std::mutex> Lock(Ext.Mutex);
      Ext.Loaded.push_back(S);
    }
    *Out = reinterpret_cast<OptimaExtSubgraph *>(S);
    return OPTIMA_STATUS_OK;
  });
}

void unloadSubgraph(void *Self, OptimaExtSubgraph *Handle) {
  if (!Handle)
    return;
  auto *S = reinterpret_cast<Subgraph *>(Handle);
  Extension &Ext = self(Self);
  {
    std::lock_guard<std::mutex> Lock(Ext.Mutex);
    Ext.Loaded.erase(std::remove(Ext.Loaded.begin(), Ext.Loaded.end(), S), Ext.Loaded.end());
  }
  delete S;
}

OptimaStatus createRequestState(void *, OptimaExtSubgraph *Handle, OptimaExtRequestState **Out,
                                OptimaExtError *Error) {
  return guarded(Error, [&](std::string &Message) {
    if (!Handle || !Out) {
      Message = "sim_accel: createRequestState: null subgraph or output";
      return OPTIMA_STATUS_INVALID_ARGUMENT;
    }
    auto &S = *reinterpret_cast<Subgraph *>(Handle);
    if (OptimaStatus Status = S.CreateStateSite.check(Message); Status != OPTIMA_STATUS_OK)
      return Status;
    *Out = reinterpret_cast<OptimaExtRequestState *>(new RequestState(S));
    return OPTIMA_STATUS_OK;
  });
}

void destroyRequestState(void *, OptimaExtRequestState *Handle) {
  delete reinterpret_cast<RequestState *>(Handle);
}

// Sleeps StallMs in 1 ms steps; false when the host asked to cancel meanwhile.
bool stall(uint32_t StallMs, const OptimaExecContext *Exec) {
  auto End = std::chrono::steady_clock::now() + std::chrono::milliseconds(StallMs);
  while (std::chrono::steady_clock::now() < End) {
    if (Exec && Exec->isCancelled && Exec->isCancelled(Exec->Sink))
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Resolves the buffer handles to device blocks (the accelerator's own view of its memory).
OptimaStatus resolve(void *const *Handles, std::vector<void *> &Views, bool IsInput,
                     const native::NativeGraph &Graph, std::string &Message) {
  for (uint32_t I = 0; I < Views.size(); ++I) {
    size_t Bytes = IsInput ? Graph.inputBytes(I) : Graph.outputBytes(I);
    std::string Why;
    OptimaStatus Status = deviceView(static_cast<OptimaExtBuffer *>(Handles[I]), Bytes, &Views[I], Why);
    if (Status != OPTIMA_STATUS_OK) {
      Message = std::string("sim_accel: execute: ") + (IsInput ? "input " : "output ") +
                std::to_string(I) + ": " + Why;
      return Status;
    }
  }
  return OPTIMA_STATUS_OK;
}

OptimaStatus execute(void *Self, OptimaExtRequestState *Handle, void *const *Inputs,
                     void *const *Outputs, const OptimaExecContext *Exec, OptimaExtError *Error) {
  return guarded(Error, [&](std::string &Message) {
    auto *State = reinterpret_cast<RequestState *>(Handle);
    if (!State || State->Magic != RequestState::MagicValue ||
        (!Inputs && !State->InputViews.empty()) || (!Outputs && !State->OutputViews.empty())) {
      Message = "sim_accel: execute: invalid request state or null buffer array";
      return OPTIMA_STATUS_INVALID_ARGUMENT;
    }
    Subgraph &S = State->Owner;
    if (S.Plan.StallMs && !stall(S.Plan.StallMs, Exec)) {
      Message = "sim_accel: execute cancelled by the host while stalling";
      return OPTIMA_STATUS_CANCELLED;
    }
    if (OptimaStatus Status = S.ExecuteSite.check(Message); Status != OPTIMA_STATUS_OK)
      return Status;
    const native::NativeGraph &Graph = *S.Graph;
    if (OptimaStatus Status = resolve(Inputs, State->InputViews, true, Graph, Message);
        Status != OPTIMA_STATUS_OK)
      return Status;
    if (OptimaStatus Status = resolve(Outputs, State->OutputViews, false, Graph, Message);
        Status != OPTIMA_STATUS_OK)
      return Status;
    auto Hooks = native::ExecHooks::fromHost(self(Self).Host, Exec);
    OptimaStatus Status =
        State->Instance.execute(State->InputViews.data(), State->OutputViews.data(), Hooks);
    if (Status == OPTIMA_STATUS_CANCELLED)
      Message = "sim_accel: execute cancelled by the host";
    else if (Status != OPTIMA_STATUS_OK)
      Message = std::string("sim_accel: execute failed: ") + State->Instance.failureMessage();
    return Status;
  });
}

OptimaStatus allocBuffer(void *Self, uint32_t DeviceOrdinal, size_t Bytes, OptimaExtBuffer **Out,
                         OptimaExtError *Error) {
  return guarded(Error, [&](std::string &Message) {
    if (DeviceOrdinal != 0 || !Out) {
      Message = "sim_accel: allocBuffer: bad device number " + std::to_string(DeviceOrdinal) +
                " or null output";
      return OPTIMA_STATUS_INVALID_ARGUMENT;
    }
    if (OptimaStatus Status = self(Self).checkBufferFaults(FaultPoint::Alloc, Message);
        Status != OPTIMA_STATUS_OK)
      return Status;
    return allocDeviceBuffer(Bytes, Out, Message);
  });
}

void freeBuffer(void *, OptimaExtBuffer *Buffer) { freeDeviceBuffer(Buffer); }

OptimaStatus mapBuffer(void *Self, OptimaExtBuffer *Buffer, uint32_t Access, void **HostPtr,
                       OptimaExtError *Error) {
  return guarded(Error, [&](std::string &Message) {
    if (OptimaStatus Status = self(Self).checkBufferFaults(FaultPoint::Map, Message);
        Status != OPTIMA_STATUS_OK)
      return Status;
    return mapDeviceBuffer(Buffer, Access, HostPtr, Message);
  });
}

OptimaStatus unmapBuffer(void *, OptimaExtBuffer *Buffer, OptimaExtError *Error) {
  return guarded(Error, [&](std::string &Message) { return unmapDeviceBuffer(Buffer, Message); });
}

void release(void *Self) {
  if (!Self)
    return;
  Extension *Ext = &self(Self);
  {
    std::lock_guard<std::mutex> Lock(Ext->Mutex);
    if (!Ext->Loaded.empty())
      Ext->log(OPTIMA_LOG_ERROR, "sim_accel: released with " + std::to_string(Ext->Loaded.size()) +
                                     " subgraphs still loaded");
  }
  delete Ext;
  --liveCounters().Extensions;
}

} // namespace

extern "C" {

OPTIMA_EXT_EXPORT OptimaStatus optimaV2ExtensionInit(const OptimaHostApi *Host,
                                                     uint32_t HostAbiVersion,
                                                     OptimaExtension **Out, OptimaExtError *Error) {
  return guarded(Error, [&](std::string &Message) {
    if (!Out || !Host || Host->StructSize < sizeof(OptimaHostApi) || HostAbiVersion < 1) {
      Message = "sim_accel: needs a host of ABI version >= 1 with a complete host API (host "
                "ABI version " + std::to_string(HostAbiVersion) + ")";
      return OPTIMA_STATUS_UNSUPPORTED;
    }
    auto *Ext = new Extension(Host);
    ++liveCounters().Extensions;
    Ext->Device.StructSize = sizeof(OptimaExtDeviceDesc);
    Ext->Device.Kind = OPTIMA_DEVICE_NVIDIA;
    Ext->Device.Index = 0;
    Ext->Device.Name = "SimAccel (test)";
    Ext->Device.Id = "sim-accel-0";
    Ext->Device.Flags = 0; // NOT host memory: the host must go through the buffer API
    Ext->Device.Alignment = DeviceAlignment;

    OptimaExtension &T = Ext->Table;
    T.StructSize = sizeof(OptimaExtension);
    T.AbiVersion = OPTIMA_EXT_ABI_VERSION;
    T.Name = "sim_accel";
    T.Version = "0.1.0";
    T.Framework = "OpenCL";
    T.Self = Ext;
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
    *Out = &T;
    return OPTIMA_STATUS_OK;
  });
}

// Test probe: live objects of all instances in this process. What is one of "buffers", "mapped",
// "subgraphs", "states", "extensions"; anything else gives UINT64_MAX.
OPTIMA_EXT_EXPORT uint64_t optimaV2TestAccelLiveCount(const char *What) {
  std::string W = What ? What : "";
  if (W == "buffers")
    return liveBufferCount();
  if (W == "mapped")
    return mappedBufferCount();
  if (W == "subgraphs")
    return liveCounters().Subgraphs;
  if (W == "states")
    return liveCounters().States;
  if (W == "extensions")
    return liveCounters().Extensions;
  return UINT64_MAX;
}

} // extern "C"
