#include "DeviceMemory.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_set>

namespace optima_v2::test_accel {

struct Buffer {
  void *Device = nullptr;  // the "device" block: never handed to the host
  size_t Bytes = 0;
  void *Staging = nullptr; // host copy while mapped
  uint32_t MapAccess = 0;
};

namespace {
constexpr unsigned char PoisonByte = 0xFF; // every float made of it is a NaN

std::mutex RegistryMutex;
std::unordered_set<Buffer *> &registry() {
  static auto *Set = new std::unordered_set<Buffer *>(); // leaked: may be used at exit
  return *Set;
}

void *alignedBlock(size_t Bytes) {
  size_t Rounded = (Bytes + DeviceAlignment - 1) / DeviceAlignment * DeviceAlignment;
  return std::aligned_alloc(DeviceAlignment, Rounded == 0 ? DeviceAlignment : Rounded);
}

// Looks a handle up; the caller holds RegistryMutex.
Buffer *findLocked(OptimaExtBuffer *Handle) {
  auto *B = reinterpret_cast<Buffer *>(Handle);
  return registry().count(B) ? B : nullptr;
}
} // namespace

OptimaStatus allocDeviceBuffer(size_t Bytes, OptimaExtBuffer **Out, std::string &Error) {
  if (Bytes > MaxBufferBytes) {
    Error = "sim_accel: cannot allocate " + std::to_string(Bytes) +
            " bytes of device memory (at most " + std::to_string(MaxBufferBytes) + ")";
    return OPTIMA_STATUS_OUT_OF_RESOURCE;
  }
  auto *B = new (std::nothrow) Buffer();
  void *Block = alignedBlock(Bytes);
  if (!B || !Block) {
    delete B;
    std::free(Block);
    Error = "sim_accel: out of host memory allocating a device buffer";
    return OPTIMA_STATUS_OUT_OF_RESOURCE;
  }
  std::memset(Block, PoisonByte, Bytes);
  B->Device = Block;
  B->Bytes = Bytes;
  std::lock_guard<std::mutex> Lock(RegistryMutex);
  registry().insert(B);
  *Out = reinterpret_cast<OptimaExtBuffer *>(B);
  return OPTIMA_STATUS_OK;
}

void freeDeviceBuffer(OptimaExtBuffer *Handle) {
  if (!Handle)
    return;
  Buffer *B;
  {
    std::lock_guard<std::mutex> Lock(RegistryMutex);
    B = findLocked(Handle);
    if (!B)
      return; // unknown or double free: ignored (release functions accept anything harmlessly)
    registry().erase(B);
  }
  std::free(B->Staging);
  std::free(B->Device);
  delete B;
}

OptimaStatus mapDeviceBuffer(OptimaExtBuffer *Handle, uint32_t Access, void **HostPtr,
                             std::string &Error) {
  if (!HostPtr || Access == 0 || (Access & ~(OPTIMA_EXT_MAP_READ | OPTIMA_EXT_MAP_WRITE))) {
    Error = "sim_accel: mapBuffer: invalid access flags " + std::to_string(Access) +
            " or null output pointer";
    return OPTIMA_STATUS_INVALID_ARGUMENT;
  }
  std::lock_guard<std::mutex> Lock(RegistryMutex);
  Buffer *B = findLocked(Handle);
  if (!B) {
    Error = "sim_accel: mapBuffer: not a live buffer of this extension";
    return OPTIMA_STATUS_INVALID_ARGUMENT;
  }
  if (B->Staging) {
    Error = "sim_accel: mapBuffer: buffer is already mapped";
    return OPTIMA_STATUS_INVALID_ARGUMENT;
  }
  void *Staging = alignedBlock(B->Bytes);
  if (!Staging) {
    Error = "sim_accel: mapBuffer: out of host memory for the staging copy";
    return OPTIMA_STATUS_OUT_OF_RESOURCE;
  }
  std::memcpy(Staging, B->Device, B->Bytes); // download, whatever the access
  B->Staging = Staging;
  B->MapAccess = Access;
  *HostPtr = Staging;
  return OPTIMA_STATUS_OK;
}

OptimaStatus unmapDeviceBuffer(OptimaExtBuffer *Handle, std::string &Error) {
  void *Staging;
  size_t Bytes;
  {
    std::lock_guard<std::mutex> Lock(RegistryMutex);
    Buffer *B = findLocked(Handle);
    if (!B) {
      Error = "sim_accel: unmapBuffer: not a live buffer of this extension";
      return OPTIMA_STATUS_INVALID_ARGUMENT;
    }
    if (!B->Staging) {
      Error = "sim_accel: unmapBuffer: buffer is not mapped";
      return OPTIMA_STATUS_INVALID_ARGUMENT;
    }
    if (B->MapAccess & OPTIMA_EXT_MAP_WRITE)
      std::memcpy(B->Device, B->Staging, B->Bytes); // upload
    Staging = B->Staging;
    Bytes = B->Bytes;
    B->Staging = nullptr;
    B->MapAccess = 0;
  }
  // Scribble over the staging copy so a host still holding the pointer sees garbage.
  std::memset(Staging, PoisonByte, Bytes);
  std::free(Staging);
  return OPTIMA_STATUS_OK;
}

OptimaStatus deviceView(OptimaExtBuffer *Handle, size_t MinBytes, void **Device,
                        std::string &Error) {
  std::lock_guard<std::mutex> Lock(RegistryMutex);
  Buffer *B = findLocked(Handle);
  if (!B) {
    Error = "not a live buffer of this extension";
    return OPTIMA_STATUS_INVALID_ARGUMENT;
  }
  if (B->Staging) {
    Error = "buffer is still mapped (a device cannot run on it until it is unmapped)";
    return OPTIMA_STATUS_INVALID_ARGUMENT;
  }
  if (B->Bytes < MinBytes) {
    Error = "buffer has " + std::to_string(B->Bytes) + " bytes, the tensor needs " +
            std::to_string(MinBytes);
    return OPTIMA_STATUS_INVALID_ARGUMENT;
  }
  *Device = B->Device;
  return OPTIMA_STATUS_OK;
}

uint64_t liveBufferCount() {
  std::lock_guard<std::mutex> Lock(RegistryMutex);
  return registry().size();
}

uint64_t mappedBufferCount() {
  std::lock_guard<std::mutex> Lock(RegistryMutex);
  uint64_t N = 0;
  for (Buffer *B : registry())
    N += B->Staging != nullptr;
  return N;
}

} // namespace optima_v2::test_accel
