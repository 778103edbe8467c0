// Kernel interface. A kernel is built once per node at load time (all validation, shape maths and
// plans done then); run() only computes: no allocation, no strings, one virtual call per node.
#pragma once

#include "OptimaV2/Native/NativeGraph.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace optima_v2::native {

// A run-time failure of one node (e.g. an index input out of range): the first fail() wins.
// Owned by the request state, so reporting allocates nothing.
struct KernelFailure {
  std::atomic<bool> Set{false};
  char Message[256] = {};
};

// What a kernel sees during execute().
struct KernelContext {
  void *const *Tensors = nullptr; // by tensor id: inputs, outputs, constants, arena slots
  std::byte *Scratch = nullptr;   // this node's scratch (Kernel::scratchBytes, 64-aligned)
  const ExecHooks *Hooks = nullptr;
  KernelFailure *Failure = nullptr; // set by the executor

  // Reports bad run-time data (printf-style message, no allocation; any thread). run() must
  // then return without touching memory out of bounds; the executor stops after this node and
  // returns OPTIMA_STATUS_EXECUTION_FAILED with "node \"<name>\": <message>".
  void fail(const char *Format, ...) const __attribute__((format(printf, 2, 3)));
  bool failed() const noexcept { return Failure && Failure->Set.load(std::memory_order_relaxed); }

  template <typename T> T *tensor(int32_t Id) const { return static_cast<T *>(Tensors[Id]); }

  // Runs Body(Begin, End) over [0, Count) in chunks of at least Grain items, through the host's
  // pool when there is one. Body is called by reference: no allocation.
  template <typename Fn> void parallelFor(size_t Count, size_t Grain, const Fn &Body) const {
    if (Count == 0)
      return;
    if (!Hooks || !Hooks->ParallelFor || Hooks->ThreadCount <= 1 || Count <= Grain) {
      Body(size_t(0), Count);
      return;
    }
    Hooks->ParallelFor(
        Hooks->HostContext, Count, Grain ? Grain : 1,
        [](void *User, size_t Begin, size_t End) { (*static_cast<const Fn *>(User))(Begin, End); },
        const_cast<Fn *>(&Body));
  }

  uint32_t threadCount() const { return Hooks && Hooks->ParallelFor ? Hooks->ThreadCount : 1; }
};

class Kernel {
public:
  virtual ~Kernel() = default;
  virtual void run(const KernelContext &Ctx) const = 0;
  // Per-request scratch this kernel needs while it runs (taken from the request arena).
  virtual size_t scratchBytes() const { return 0; }
};

} // namespace optima_v2::native
