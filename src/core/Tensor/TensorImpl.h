// A request's model input or output: a view into the request's host arena. Keeps the arena and
// the model (its TensorInfo, and through it the extensions) alive, so a Tensor outlives its
// request safely.
#pragma once

#include "core/Tensor/HostArena.h"

#include <OptimaV2/Runtime/Tensor.h>

#include <memory>

namespace optima_v2::runtime::detail {

class ModelImpl;

class TensorImpl {
public:
  TensorImpl(std::shared_ptr<const ModelImpl> Model, std::shared_ptr<HostArena> Arena, const TensorInfo &Info,
             std::byte *Data, size_t Bytes)
      : Model(std::move(Model)), Arena(std::move(Arena)), Info(&Info), Data(Data), Bytes(Bytes) {}

  const TensorInfo &info() const noexcept { return *Info; }
  std::byte *data() const noexcept { return Data; }
  size_t bytes() const noexcept { return Bytes; }

  // Host memory: mapping is the identity and unmapping does nothing. Kept as the one place a
  // device-resident tensor would map, should model I/O ever live on a device.
  void *map() const noexcept { return Data; }
  void unmap() const noexcept {}

private:
  std::shared_ptr<const ModelImpl> Model;
  std::shared_ptr<HostArena> Arena;
  const TensorInfo *Info;
  std::byte *Data;
  size_t Bytes;
};

} // namespace optima_v2::runtime::detail
