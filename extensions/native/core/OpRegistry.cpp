#include "OpRegistry.h"

namespace optima_v2::native {

void OpRegistry::add(const char *Op, KernelFactory Factory) { Entries.push_back({Op, Factory}); }

KernelFactory OpRegistry::find(const std::string &Op) const {
  for (const Entry &E : Entries)
    if (Op == E.Op)
      return E.Factory;
  return nullptr;
}

KernelFactory findKernelFactory(const std::string &Op) {
  // Built once, explicitly (no static-initialiser self-registration: the linker would drop
  // unreferenced objects of a static library).
  static const OpRegistry Registry = [] {
    OpRegistry R;
    registerElementwiseOps(R);
    registerActivationOps(R);
    registerConvOps(R);
    registerMatMulOps(R);
    registerShapeOps(R);
    return R;
  }();
  return Registry.find(Op);
}

} // namespace optima_v2::native
