#include <OptimaV2/Runtime/Tensor.h>

#include "core/Tensor/TensorImpl.h"

#include <cstring>
#include <stdexcept>

namespace optima_v2::runtime {

BufferHolder::BufferHolder(std::shared_ptr<detail::TensorImpl> ImplIn) : Impl(std::move(ImplIn)) {
  Data = Impl->map();
}

BufferHolder::~BufferHolder() {
  if (Impl)
    Impl->unmap();
}

size_t BufferHolder::size() const noexcept { return Impl ? Impl->bytes() : 0; }

const detail::TensorImpl &Tensor::impl() const {
  if (!Impl)
    throw InvalidOperationException("Tensor: this tensor is empty (obtain tensors from an InferRequest)");
  return *Impl;
}

BufferHolder Tensor::getBuffer() {
  impl();
  return BufferHolder(Impl);
}

size_t Tensor::checkedBytes(size_t Count, size_t ElementSize) {
  if (ElementSize != 0 && Count > SIZE_MAX / ElementSize)
    throw std::out_of_range(format("Tensor: {} elements of {} bytes overflow size_t", Count, ElementSize));
  return Count * ElementSize;
}

namespace {
void checkRange(const detail::TensorImpl &T, size_t Bytes, size_t From, const char *What) {
  size_t Size = T.bytes();
  if (From > Size || Bytes > Size - From)
    throw std::out_of_range(format("Tensor \"{}\": {} of {} bytes at offset {} is past the end ({} bytes)",
                                   T.info().TensorName, What, Bytes, From, Size));
}
} // namespace

void Tensor::copyFromBytes(const void *Source, size_t Bytes, size_t From) {
  const detail::TensorImpl &T = impl();
  if (!Source)
    throw std::invalid_argument(format("Tensor \"{}\": copyFrom: source is null", T.info().TensorName));
  checkRange(T, Bytes, From, "copyFrom");
  if (Bytes)
    std::memcpy(T.data() + From, Source, Bytes);
}

void Tensor::copyToBytes(void *Destination, size_t Bytes, size_t From) const {
  const detail::TensorImpl &T = impl();
  if (!Destination)
    throw std::invalid_argument(format("Tensor \"{}\": copyTo: destination is null", T.info().TensorName));
  checkRange(T, Bytes, From, "copyTo");
  if (Bytes)
    std::memcpy(Destination, T.data() + From, Bytes);
}

const std::string &Tensor::getName() const { return impl().info().TensorName; }
const Shape &Tensor::getShape() const { return impl().info().TensorShape; }
ElementType Tensor::getType() const { return impl().info().TensorType; }
size_t Tensor::getTensorSize() const { return impl().bytes(); }
const TensorInfo &Tensor::getInfo() const { return impl().info(); }

} // namespace optima_v2::runtime
