// Fused activation epilogue for Conv, ConvTranspose, Gemm and MatMul: the compiler folds an
// activation node into its producer as the attributes "activation" (string) and
// "activation_params" (floats). The function is chosen once at load; kernels call apply() on
// a block of output they just finished (a GEMM tile row, a conv plane) while it is in cache:
// one indirect call per block, a plain loop inside.
#pragma once

#include "../NodeContext.h"
#include "../simd/VecMath.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace optima_v2::native {

struct Epilogue {
  using F32Fn = void (*)(float *, size_t, const Epilogue &);
  using F64Fn = void (*)(double *, size_t, const Epilogue &);
  F32Fn F32 = nullptr;
  F64Fn F64 = nullptr;
  double P0 = 0.0, P1 = 0.0; // activation parameters (alpha/beta, min/max)

  bool active() const noexcept { return F32 != nullptr; }
  // Applies the activation in place; integer types never carry one (refused at load).
  template <typename T> void apply(T *Data, size_t Count) const {
    if constexpr (std::is_same_v<T, float>) {
      if (F32)
        F32(Data, Count, *this);
    } else if constexpr (std::is_same_v<T, double>) {
      if (F64)
        F64(Data, Count, *this);
    }
  }
};

// Y = act(Y + Z) over Count elements: a residual input added before the activation (Conv's
// fourth input).
template <typename T> void addThenApply(T *Y, const T *Z, size_t Count, const Epilogue &E) {
  if constexpr (std::is_same_v<T, float>)
    simd::vecMath().Binary[simd::BinaryAdd](Y, Z, Y, Count);
  else
    for (size_t I = 0; I < Count; ++I)
      Y[I] += Z[I];
  E.apply(Y, Count);
}

// Attribute names a fusable op must also allow.
#define OPTIMA_V2_EPILOGUE_ATTRIBUTES "activation", "activation_params"

namespace epilogue_detail {

// Same formulas as the standalone activation kernels (ops/Activation.cpp), so fused and unfused
// graphs agree to the last bit for the simple ones. Simd names the float32 vector function
// (simd/VecMath.h) with the same semantics, or -1 where there is none (scalar loop).
struct Relu {
  static constexpr int Simd = simd::UnaryReluKeepNaN;
  template <typename C> static C f(C X, const Epilogue &) { return X < C(0) ? C(0) : X; }
};
struct LeakyRelu {
  static constexpr int Simd = simd::UnaryLeakyRelu;
  template <typename C> static C f(C X, const Epilogue &E) { return X < C(0) ? C(E.P0) * X : X; }
};
struct Clip { // NaN passes through like ONNX Clip
  static constexpr int Simd = simd::UnaryClip;
  template <typename C> static C f(C X, const Epilogue &E) {
    return X < C(E.P0) ? C(E.P0) : X > C(E.P1) ? C(E.P1) : X;
  }
};
struct Sigmoid {
  static constexpr int Simd = simd::UnarySigmoid;
  template <typename C> static C f(C X, const Epilogue &) {
    if (X >= C(0))
      return C(1) / (C(1) + std::exp(-X));
    C Ex = std::exp(X);
    return Ex / (C(1) + Ex);
  }
};
struct Tanh {
  static constexpr int Simd = simd::UnaryTanh;
  template <typename C> static C f(C X, const Epilogue &) { return std::tanh(X); }
};
struct HardSigmoid {
  static constexpr int Simd = -1;
  template <typename C> static C f(C X, const Epilogue &E) {
    return std::max(C(0), std::min(C(1), C(E.P0) * X + C(E.P1)));
  }
};
struct HardSwish {
  static constexpr int Simd = -1;
  template <typename C> static C f(C X, const Epilogue &) {
    return X * std::max(C(0), std::min(C(1), X / C(6) + C(0.5)));
  }
};
struct Gelu {
  static constexpr int Simd = simd::UnaryGeluErf;
  template <typename C> static C f(C X, const Epilogue &) {
    return C(0.5) * X * (C(1) + std::erf(X * C(0.7071067811865476)));
  }
};
struct GeluTanh {
  static constexpr int Simd = -1;
  template <typename C> static C f(C X, const Epilogue &) {
    const C K = C(0.7978845608028654); // sqrt(2 / pi)
    return C(0.5) * X * (C(1) + std::tanh(K * (X + C(0.044715) * X * X * X)));
  }
};

template <typename Op, typename C> void applyAll(C *Data, size_t Count, const Epilogue &E) {
  for (size_t I = 0; I < Count; ++I)
    Data[I] = Op::f(Data[I], E);
}

template <int SimdOp> void applySimd(float *Data, size_t Count, const Epilogue &E) {
  simd::vecMath().Unary[SimdOp](Data, Data, Count, float(E.P0), float(E.P1));
}

template <typename Op> Epilogue make(double P0 = 0.0, double P1 = 0.0) {
  Epilogue E;
  if constexpr (Op::Simd >= 0)
    E.F32 = applySimd<Op::Simd>;
  else
    E.F32 = applyAll<Op, float>;
  E.F64 = applyAll<Op, double>;
  E.P0 = P0;
  E.P1 = P1;
  return E;
}

} // namespace epilogue_detail

// True when E is a Relu or a Clip, with its float32 bounds in Lo and Hi (Relu: 0, +inf): the
// activations kernels apply inline as x < Lo ? Lo : x > Hi ? Hi : x (NaN passes), the formula
// of both, instead of calling apply() over a finished block.
inline bool clampBounds(const Epilogue &E, float &Lo, float &Hi) {
  namespace D = epilogue_detail;
  if (E.F32 == &D::applySimd<simd::UnaryReluKeepNaN>) {
    Lo = 0.0f;
    Hi = std::numeric_limits<float>::infinity();
    return true;
  }
  if (E.F32 == &D::applySimd<simd::UnaryClip>) {
    Lo = float(E.P0);
    Hi = float(E.P1);
    return true;
  }
  return false;
}

// The node's fused activation (inactive when it has no "activation" attribute). Unknown names,
// wrong parameter counts and non-float element types are refused here, at load.
inline Epilogue readEpilogue(const NodeContext &Ctx, int32_t ElementType) {
  namespace D = epilogue_detail;
  if (!Ctx.hasAttribute("activation")) {
    if (Ctx.hasAttribute("activation_params"))
      Ctx.invalidAttribute("activation_params", "given without \"activation\"");
    return Epilogue();
  }
  std::string Name = Ctx.getString("activation", "");
  std::vector<double> P = Ctx.getFloats("activation_params", {});
  auto expectParams = [&](size_t Count) {
    if (P.size() != Count)
      Ctx.invalidAttribute("activation_params",
                           "activation \"" + Name + "\" takes " + std::to_string(Count) +
                               " parameters, got " + std::to_string(P.size()));
  };
  Epilogue E;
  if (Name == "Relu" || Name == "Sigmoid" || Name == "Tanh" || Name == "HardSwish" ||
      Name == "Gelu" || Name == "GeluTanh") {
    expectParams(0);
    E = Name == "Relu"        ? D::make<D::Relu>()
        : Name == "Sigmoid"   ? D::make<D::Sigmoid>()
        : Name == "Tanh"      ? D::make<D::Tanh>()
        : Name == "HardSwish" ? D::make<D::HardSwish>()
        : Name == "Gelu"      ? D::make<D::Gelu>()
                              : D::make<D::GeluTanh>();
  } else if (Name == "LeakyRelu") {
    expectParams(1);
    E = D::make<D::LeakyRelu>(P[0]);
  } else if (Name == "Clip") {
    expectParams(2);
    if (std::isnan(P[0]) || std::isnan(P[1]) || P[0] > P[1])
      Ctx.invalidAttribute("activation_params", "Clip needs min <= max");
    E = D::make<D::Clip>(P[0], P[1]);
  } else if (Name == "HardSigmoid") {
    expectParams(2);
    E = D::make<D::HardSigmoid>(P[0], P[1]);
  } else {
    Ctx.unsupported("unknown fused activation \"" + Name +
                    "\" (supported: Relu, LeakyRelu, Clip, Sigmoid, Tanh, HardSigmoid, "
                    "HardSwish, Gelu, GeluTanh)");
  }
  if (ElementType != OPTIMA_ELEMENT_F32 && ElementType != OPTIMA_ELEMENT_F64 &&
      ElementType != OPTIMA_ELEMENT_F16 && ElementType != OPTIMA_ELEMENT_BF16)
    Ctx.unsupported("fused activation \"" + Name + "\" needs a float type, not " +
                    typeName(ElementType));
  return E;
}

} // namespace optima_v2::native
