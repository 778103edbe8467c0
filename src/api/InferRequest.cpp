#include <OptimaV2/Runtime/InferRequest.h>

#include "core/Request/RequestImpl.h"

#include <stdexcept>

namespace optima_v2::runtime {

detail::RequestImpl &InferRequest::impl() const {
  if (!Impl)
    throw InvalidOperationException("InferRequest: this request is empty (default-constructed or moved from)");
  return *Impl;
}

InferRequest &InferRequest::operator=(InferRequest &&Other) noexcept {
  if (this == &Other)
    return *this;
  if (Impl && Owning)
    Impl->abandon();
  Impl = std::move(Other.Impl);
  Owning = Other.Owning;
  return *this;
}

InferRequest::~InferRequest() {
  if (Impl && Owning)
    Impl->abandon();
}

Tensor InferRequest::getInputTensor(uint32_t Index) { return Tensor(impl().input(Index)); }

Tensor InferRequest::getInputTensor(const std::string &Name) {
  uint32_t Index = impl().model().inputIndex(Name);
  if (Index == Model::IndexNotFound)
    throw std::invalid_argument(format("model \"{}\" has no input named \"{}\"", impl().model().name(), Name));
  return getInputTensor(Index);
}

uint32_t InferRequest::getInputTensorCount() const { return impl().model().inputCount(); }

std::vector<Tensor> InferRequest::getInputTensors() {
  std::vector<Tensor> Result;
  for (uint32_t I = 0; I < getInputTensorCount(); ++I)
    Result.push_back(getInputTensor(I));
  return Result;
}

Tensor InferRequest::getOutputTensor(uint32_t Index) { return Tensor(impl().output(Index)); }

Tensor InferRequest::getOutputTensor(const std::string &Name) {
  uint32_t Index = impl().model().outputIndex(Name);
  if (Index == Model::IndexNotFound)
    throw std::invalid_argument(format("model \"{}\" has no output named \"{}\"", impl().model().name(), Name));
  return getOutputTensor(Index);
}

uint32_t InferRequest::getOutputTensorCount() const { return impl().model().outputCount(); }

std::vector<Tensor> InferRequest::getOutputTensors() {
  std::vector<Tensor> Result;
  for (uint32_t I = 0; I < getOutputTensorCount(); ++I)
    Result.push_back(getOutputTensor(I));
  return Result;
}

void InferRequest::setCallback(InferRequestCallback Callback) { impl().setCallback(std::move(Callback)); }

void InferRequest::setCallback(InferRequestSimpleCallback Callback) {
  if (!Callback) {
    impl().setCallback(nullptr);
    return;
  }
  impl().setCallback([Fn = std::move(Callback)](InferRequest &, std::exception_ptr Error) { Fn(std::move(Error)); });
}

void InferRequest::infer() { impl().infer(); }

bool InferRequest::wait(std::chrono::milliseconds Timeout) { return impl().wait(Timeout); }

std::vector<ProfileData> InferRequest::getProfileData() const { return impl().getProfileData(); }

uint32_t InferRequest::getID() const noexcept { return Impl ? Impl->id() : InvalidRequestID; }

} // namespace optima_v2::runtime
