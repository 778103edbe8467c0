// "Device memory" of the simulated accelerator: each buffer is a heap block the host must not
// touch directly. Mapping copies it to a separate staging block; unmapping after a WRITE map copies
// the staging block back. A host that bypasses map/unmap therefore reads or writes the wrong
// memory and the tests see wrong numbers. Every buffer is tracked in a registry, so handles are
// validated and tests can check that none leaked.
#pragma once

#include <OptimaV2/Extension/Extension.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace optima_v2::test_accel {

constexpr uint32_t DeviceAlignment = 256;
// Simulated device capacity per buffer: larger requests fail with OUT_OF_RESOURCE.
constexpr size_t MaxBufferBytes = size_t(1) << 30;

struct Buffer; // opaque here; OptimaExtBuffer* handles point to it

// Allocates a block of Bytes (0 allowed) filled with a poison pattern, so a missing upload shows.
OptimaStatus allocDeviceBuffer(size_t Bytes, OptimaExtBuffer **Out, std::string &Error);
void freeDeviceBuffer(OptimaExtBuffer *Handle);
OptimaStatus mapDeviceBuffer(OptimaExtBuffer *Handle, uint32_t Access, void **HostPtr,
                             std::string &Error);
OptimaStatus unmapDeviceBuffer(OptimaExtBuffer *Handle, std::string &Error);

// The device block behind a live, unmapped handle with at least MinBytes, for execute().
OptimaStatus deviceView(OptimaExtBuffer *Handle, size_t MinBytes, void **Device,
                        std::string &Error);

// Registry counters (all extension instances in the process).
uint64_t liveBufferCount();
uint64_t mappedBufferCount();

} // namespace optima_v2::test_accel
