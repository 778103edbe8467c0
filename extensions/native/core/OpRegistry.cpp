#include "OpRegistry.h"

#include <stdexcept>
#include <type_traits>

namespace optima_v2::native {

void OpRegistry::add(const char *Op, KernelFactory Factory) {
  if (Size == Capacity)
    throw std::length_error("native OpRegistry: more than OpRegistry::Capacity ops registered");
  Entries[Size++] = {Op, Factory};
}

KernelFactory OpRegistry::find(const std::string &Op) const {
  for (size_t I = 0; I < Size; ++I)
    if (Op == Entries[I].Op)
      return Entries[I].Factory;
  return nullptr;
}

KernelFactory findKernelFactory(const std::string &Op) {
  // Built once, explicitly (no static-initialiser self-registration: the linker would drop
  // unreferenced objects of a static library).
  static_assert(std::is_trivially_destructible_v<OpRegistry>, "nothing may run at dlclose");
  static const OpRegistry Registry = [] {
    OpRegistry R;
    registerElementwiseOps(R);
    registerActivationOps(R);
    registerConvOps(R);
    registerMatMulOps(R);
    registerShapeOps(R);
    registerUnaryOps(R);
    registerCompareOps(R);
    registerCastOps(R);
    registerDataMovementOps(R);
    registerIndexingOps(R);
    registerResizeOps(R);
    registerReduceOps(R);
    registerSoftmaxOps(R);
    registerNormalizationOps(R);
    registerPoolOps(R);
    registerSortOps(R);
    registerEinsumOps(R);
    registerConvTransposeOps(R);
    registerQuantizationOps(R);
    registerRecurrentOps(R);
    registerSignalOps(R);
    registerBitCastOps(R);
    registerTfIdfVectorizerOps(R);
    registerLinearAttentionOps(R);
    registerLossOps(R);
    registerLinalgOps(R);
    registerDropoutOps(R);
    registerSpatialOps(R);
    registerAttentionOps(R);
    return R;
  }();
  return Registry.find(Op);
}

} // namespace optima_v2::native
