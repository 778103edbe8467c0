#pragma once

#include <OptimaV2/Runtime/Shape.h>
#include <OptimaV2/Runtime/Type.h>

#include <cstddef>
#include <memory>
#include <string>

namespace optima_v2::runtime {

namespace detail {
class TensorImpl;
} // namespace detail

struct TensorInfo {
  Shape TensorShape;
  size_t Alignment = 64; // bytes
  ElementType TensorType = ElementType::F32;
  std::string TensorName;
};

// Guard over a tensor's memory while the user touches it: maps it on construction and unmaps it
// on destruction. Neither copyable nor movable; `auto Buffer = Tensor.getBuffer();` works through
// C++17 guaranteed copy elision. Keeps the tensor (and the library that made it) alive.
class BufferHolder {
public:
  BufferHolder(const BufferHolder &) = delete;
  BufferHolder(BufferHolder &&) = delete;
  BufferHolder &operator=(const BufferHolder &) = delete;
  BufferHolder &operator=(BufferHolder &&) = delete;
  ~BufferHolder();

  void *data() noexcept { return Data; }
  const void *data() const noexcept { return Data; }
  template <class T> T *cast() noexcept { return static_cast<T *>(Data); }
  template <class T> const T *cast() const noexcept { return static_cast<const T *>(Data); }
  size_t size() const noexcept; // bytes

private:
  friend class Tensor;
  explicit BufferHolder(std::shared_ptr<detail::TensorImpl> Impl);

  std::shared_ptr<detail::TensorImpl> Impl;
  void *Data = nullptr;
};

// A request's input or output tensor. Only obtained from an InferRequest; cheap to copy (a
// handle). Element types are not checked by copyFrom/copyTo: sizes and bounds are.
class Tensor {
public:
  Tensor() = default;

  BufferHolder getBuffer();

  // Copies Count elements of T into the tensor starting at element From (in units of T).
  template <class T> void copyFrom(const T *Source, size_t Count, size_t From = 0) {
    copyFromBytes(Source, checkedBytes(Count, sizeof(T)), checkedBytes(From, sizeof(T)));
  }
  // Copies Bytes bytes into the tensor starting at byte From. Past the end -> std::out_of_range;
  // null Source -> std::invalid_argument.
  void copyFrom(const void *Source, size_t Bytes, size_t From = 0) {
    copyFromBytes(Source, Bytes, From);
  }
  template <class T> void copyTo(T *Destination, size_t Count, size_t From = 0) const {
    copyToBytes(Destination, checkedBytes(Count, sizeof(T)), checkedBytes(From, sizeof(T)));
  }
  void copyTo(void *Destination, size_t Bytes, size_t From = 0) const {
    copyToBytes(Destination, Bytes, From);
  }

  const std::string &getName() const;
  const Shape &getShape() const;
  ElementType getType() const;
  size_t getTensorSize() const; // bytes
  const TensorInfo &getInfo() const;

  explicit operator bool() const noexcept { return Impl != nullptr; }

private:
  friend class InferRequest;
  explicit Tensor(std::shared_ptr<detail::TensorImpl> Impl) : Impl(std::move(Impl)) {}
  static size_t checkedBytes(size_t Count, size_t ElementSize);
  void copyFromBytes(const void *Source, size_t Bytes, size_t From);
  void copyToBytes(void *Destination, size_t Bytes, size_t From) const;
  const detail::TensorImpl &impl() const;

  std::shared_ptr<detail::TensorImpl> Impl;
};

} // namespace optima_v2::runtime
