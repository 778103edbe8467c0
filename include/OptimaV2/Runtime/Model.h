#pragma once

#include <OptimaV2/Runtime/Device.h>
#include <OptimaV2/Runtime/InferRequest.h>
#include <OptimaV2/Runtime/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace optima_v2::runtime {

namespace detail {
class ModelImpl;
} // namespace detail

// Where a subgraph runs, as decided at load.
struct SubgraphInfo {
  std::string Name;
  FrameworkKind Framework = FrameworkKind::Native; // the framework actually running it
  DeviceKind Device = DeviceKind::x64;             // the device actually running it
  uint32_t DeviceIndex = 0;
  std::string DeviceName;
  bool FellBack = false; // true when Fallback moved it off the device model.meta asked for
  std::vector<std::string> Inputs;
  std::vector<std::string> Outputs;
};

// A loaded model. A cheap shared handle: copies refer to the same model; requests keep it alive.
// Calling a method on an empty (default-constructed) Model -> InvalidOperationException.
class Model {
public:
  static constexpr uint32_t IndexNotFound = UINT32_MAX;

  Model() = default;

  InferRequest createRequest();

  // Bad index -> std::out_of_range; unknown name -> std::invalid_argument.
  const TensorInfo &getInputTensorInfo(uint32_t Index = 0) const;
  const TensorInfo &getInputTensorInfo(const std::string &Name) const;
  uint32_t getInputTensorCount() const;
  uint32_t getInputIndexByName(const std::string &Name) const; // or IndexNotFound
  const TensorInfo &getOutputTensorInfo(uint32_t Index = 0) const;
  const TensorInfo &getOutputTensorInfo(const std::string &Name) const;
  uint32_t getOutputTensorCount() const;
  uint32_t getOutputIndexByName(const std::string &Name) const; // or IndexNotFound

  std::vector<SubgraphInfo> getSubgraphInfo() const;
  const std::string &getName() const;
  // Profile entries of the load: one ModelInit and one SubgraphInit per subgraph.
  std::vector<ProfileData> getLoadProfileData() const;

  explicit operator bool() const noexcept { return Impl != nullptr; }

private:
  friend class Context;
  explicit Model(std::shared_ptr<detail::ModelImpl> Impl) : Impl(std::move(Impl)) {}
  const detail::ModelImpl &impl() const;

  std::shared_ptr<detail::ModelImpl> Impl;
};

} // namespace optima_v2::runtime
