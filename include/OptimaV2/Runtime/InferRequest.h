#pragma once

#include <OptimaV2/Runtime/Profile.h>
#include <OptimaV2/Runtime/Tensor.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace optima_v2::runtime {

class InferRequest;

namespace detail {
class RequestImpl;
} // namespace detail

// Called on a runtime thread when an inference finishes; Error == nullptr means success.
// Calling Req.infer() from inside is safe (chained inference).
using InferRequestCallback = std::function<void(InferRequest &Req, std::exception_ptr Error)>;
// The reference API's one-argument form.
using InferRequestSimpleCallback = std::function<void(std::exception_ptr Error)>;

// One inference of a model; independent of the model's other requests. Movable, not copyable.
// Destroying a running request cancels what has not started yet and waits for the rest.
class InferRequest {
public:
  static constexpr uint32_t InvalidRequestID = UINT32_MAX;

  InferRequest() = default;
  InferRequest(InferRequest &&) noexcept = default;
  InferRequest &operator=(InferRequest &&Other) noexcept;
  InferRequest(const InferRequest &) = delete;
  InferRequest &operator=(const InferRequest &) = delete;
  ~InferRequest();

  // Bad index -> std::out_of_range; unknown name -> std::invalid_argument.
  Tensor getInputTensor(uint32_t Index = 0);
  Tensor getInputTensor(const std::string &Name);
  uint32_t getInputTensorCount() const;
  std::vector<Tensor> getInputTensors();
  Tensor getOutputTensor(uint32_t Index = 0);
  Tensor getOutputTensor(const std::string &Name);
  uint32_t getOutputTensorCount() const;
  std::vector<Tensor> getOutputTensors();

  // Replaces the previous callback (an empty function removes it). While running ->
  // InvalidOperationException.
  void setCallback(InferRequestCallback Callback);
  void setCallback(InferRequestSimpleCallback Callback);

  // Starts the inference and returns at once. Already running -> InvalidOperationException;
  // failure to start -> InferException.
  void infer();

  // Blocks until the inference finishes or Timeout passes (0 = no timeout). Returns true when the
  // timeout expired first, false when finished. Rethrows an error raised during the inference.
  // Never started -> InferException.
  bool wait(std::chrono::milliseconds Timeout = std::chrono::milliseconds(0));

  // Profile data of the latest finished infer(); empty if never run or running.
  std::vector<ProfileData> getProfileData() const;

  // Identifier unique within the process (for logs and traces); InvalidRequestID when empty.
  uint32_t getID() const noexcept;

  explicit operator bool() const noexcept { return Impl != nullptr; }

private:
  friend class Model;
  friend class detail::RequestImpl;
  explicit InferRequest(std::shared_ptr<detail::RequestImpl> Impl, bool Owning = true)
      : Impl(std::move(Impl)), Owning(Owning) {}
  detail::RequestImpl &impl() const;

  std::shared_ptr<detail::RequestImpl> Impl;
  bool Owning = true; // false for the handle passed to a callback: it does not cancel on death
};

} // namespace optima_v2::runtime
