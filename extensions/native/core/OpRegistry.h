// Op type -> kernel factory. A factory validates the node (arity, types, attributes, declared
// output shapes) and precomputes everything its kernel needs; it throws NativeError
// (INVALID_MODEL) or UnsupportedNode.
#pragma once

#include "Kernel.h"
#include "NodeContext.h"

#include <memory>
#include <string>

namespace optima_v2::native {

using KernelFactory = std::unique_ptr<Kernel> (*)(const NodeContext &Ctx);

// nullptr for an op this backend does not implement.
KernelFactory findKernelFactory(const std::string &Op);

// Registration hooks, one per op family (ops/*.cpp).
class OpRegistry;
void registerElementwiseOps(OpRegistry &R);
void registerActivationOps(OpRegistry &R);
void registerConvOps(OpRegistry &R);
void registerMatMulOps(OpRegistry &R);
void registerShapeOps(OpRegistry &R);

class OpRegistry {
public:
  void add(const char *Op, KernelFactory Factory);
  KernelFactory find(const std::string &Op) const;

private:
  struct Entry {
    const char *Op;
    KernelFactory Factory;
  };
  std::vector<Entry> Entries;
};

} // namespace optima_v2::native
