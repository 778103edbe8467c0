// Op type -> kernel factory. A factory validates the node (arity, types, attributes, declared
// output shapes) and precomputes everything its kernel needs; it throws NativeError
// (INVALID_MODEL) or UnsupportedNode.
#pragma once

#include "Kernel.h"
#include "NodeContext.h"

#include <cstddef>
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
void registerUnaryOps(OpRegistry &R);
void registerCompareOps(OpRegistry &R);
void registerCastOps(OpRegistry &R);
void registerDataMovementOps(OpRegistry &R);
void registerIndexingOps(OpRegistry &R);
void registerResizeOps(OpRegistry &R);
void registerReduceOps(OpRegistry &R);
void registerSoftmaxOps(OpRegistry &R);
void registerNormalizationOps(OpRegistry &R);
void registerPoolOps(OpRegistry &R);
void registerSortOps(OpRegistry &R);
void registerEinsumOps(OpRegistry &R);
void registerConvTransposeOps(OpRegistry &R);
void registerQuantizationOps(OpRegistry &R);
void registerRecurrentOps(OpRegistry &R);
void registerSignalOps(OpRegistry &R);
void registerBitCastOps(OpRegistry &R);
void registerTfIdfVectorizerOps(OpRegistry &R);
void registerLinearAttentionOps(OpRegistry &R);
void registerLossOps(OpRegistry &R);
void registerLinalgOps(OpRegistry &R);
void registerDropoutOps(OpRegistry &R);
void registerSpatialOps(OpRegistry &R);
void registerAttentionOps(OpRegistry &R);

// Fixed capacity and trivially destructible on purpose: the registry is a function-local static
// of a module that is dlopen'ed and dlclose'd repeatedly, and a destructor (freeing a vector)
// running inside dlclose can race with another thread's dlopen of the same module (TSan).
class OpRegistry {
public:
  static constexpr size_t Capacity = 512;

  // Throws std::length_error past Capacity (a programming error, caught by every test).
  void add(const char *Op, KernelFactory Factory);
  KernelFactory find(const std::string &Op) const;

private:
  struct Entry {
    const char *Op;
    KernelFactory Factory;
  };
  Entry Entries[Capacity] = {};
  size_t Size = 0;
};

} // namespace optima_v2::native
