#include <OptimaV2/Runtime/Model.h>

#include "core/Model/ModelImpl.h"
#include "core/Request/RequestImpl.h"

#include <stdexcept>

namespace optima_v2::runtime {

const detail::ModelImpl &Model::impl() const {
  if (!Impl)
    throw InvalidOperationException("Model: this model is empty (default-constructed or moved from)");
  return *Impl;
}

InferRequest Model::createRequest() {
  impl();
  return InferRequest(detail::RequestImpl::create(Impl));
}

const TensorInfo &Model::getInputTensorInfo(uint32_t Index) const { return impl().inputInfo(Index); }

const TensorInfo &Model::getInputTensorInfo(const std::string &Name) const {
  uint32_t Index = impl().inputIndex(Name);
  if (Index == IndexNotFound)
    throw std::invalid_argument(format("model \"{}\" has no input named \"{}\"", impl().name(), Name));
  return impl().inputInfo(Index);
}

uint32_t Model::getInputTensorCount() const { return impl().inputCount(); }
uint32_t Model::getInputIndexByName(const std::string &Name) const { return impl().inputIndex(Name); }

const TensorInfo &Model::getOutputTensorInfo(uint32_t Index) const { return impl().outputInfo(Index); }

const TensorInfo &Model::getOutputTensorInfo(const std::string &Name) const {
  uint32_t Index = impl().outputIndex(Name);
  if (Index == IndexNotFound)
    throw std::invalid_argument(format("model \"{}\" has no output named \"{}\"", impl().name(), Name));
  return impl().outputInfo(Index);
}

uint32_t Model::getOutputTensorCount() const { return impl().outputCount(); }
uint32_t Model::getOutputIndexByName(const std::string &Name) const { return impl().outputIndex(Name); }

std::vector<SubgraphInfo> Model::getSubgraphInfo() const { return impl().subgraphInfo(); }
const std::string &Model::getName() const { return impl().name(); }
std::vector<ProfileData> Model::getLoadProfileData() const { return impl().loadProfile(); }

} // namespace optima_v2::runtime
