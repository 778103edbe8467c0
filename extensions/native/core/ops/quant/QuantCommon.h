// Shared by the quantization ops: parameter (scale / zero point) layouts relative to a tensor,
// conversion of small parameter tensors at run time, and round-half-to-even saturation.
#pragma once

#include "../../NodeContext.h"
#include "../../TypeDispatch.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace optima_v2::native {

// How a scale/zero-point tensor maps onto the elements of X viewed as [Outer, Axis, Inner].
struct QuantParamLayout {
  enum class Kind { PerTensor, PerAxis, Blocked } How = Kind::PerTensor;
  size_t Outer = 1, Axis = 1, Inner = 1;
  size_t Block = 0, AxisBlocks = 1; // Blocked
  size_t Count = 1;                 // parameter elements

  // Parameter index of the first element of row (O, A) (then + I for Blocked).
  size_t rowIndex(size_t O, size_t A) const {
    switch (How) {
    case Kind::PerTensor:
      return 0;
    case Kind::PerAxis:
      return A;
    case Kind::Blocked:
      return (O * AxisBlocks + A / Block) * Inner;
    }
    return 0;
  }
};

// Validates Param against X for the given axis attribute and block_size (0: none).
QuantParamLayout planQuantParams(const NodeContext &Ctx, const Dims &X, const TensorInfo &Param,
                                 int64_t Axis, int64_t BlockSize);

// Copies N parameter values of element type Type into float (or int32) at run time.
void paramsToFloat(int32_t Type, const void *Src, float *Dst, size_t N);
void paramsToInt32(int32_t Type, const void *Src, int32_t *Dst, size_t N);

template <typename T> constexpr bool isQuantStorage() {
  return std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t> ||
         std::is_same_v<T, int16_t> || std::is_same_v<T, uint16_t>;
}

// round half to even (np.rint), then clamp to T's range. NaN maps to 0.
template <typename T> T saturateRound(double V) {
  if (std::isnan(V))
    return T(0);
  double R = std::nearbyint(V);
  R = std::min<double>(std::max<double>(R, double(std::numeric_limits<T>::min())),
                       double(std::numeric_limits<T>::max()));
  return T(R);
}

// Refusal text for quantized element types the runtime has no storage for.
[[noreturn]] void refuseQuantType(const NodeContext &Ctx, const TensorInfo &T);

} // namespace optima_v2::native
