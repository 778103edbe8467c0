#include "QuantCommon.h"

namespace optima_v2::native {

QuantParamLayout planQuantParams(const NodeContext &Ctx, const Dims &X, const TensorInfo &Param,
                                 int64_t Axis, int64_t BlockSize) {
  QuantParamLayout L;
  L.Count = Param.Elements;
  int64_t Rank = int64_t(X.size());
  if (Param.Elements == 1 && Param.Shape.size() <= 1 && BlockSize == 0) {
    for (int64_t D : X) // per tensor: one row of every element
      L.Inner *= size_t(D);
    return L;
  }
  if (Axis < -Rank || Axis >= Rank || Rank == 0)
    Ctx.invalidAttribute("axis", "value " + std::to_string(Axis) + " is out of range for " +
                                     formatShape(X));
  size_t A = size_t(Axis < 0 ? Axis + Rank : Axis);
  for (size_t D = 0; D < A; ++D)
    L.Outer *= size_t(X[D]);
  L.Axis = size_t(X[A]);
  for (size_t D = A + 1; D < X.size(); ++D)
    L.Inner *= size_t(X[D]);
  if (BlockSize == 0) {
    if (Param.Shape.size() != 1 || Param.Shape[0] != X[A])
      Ctx.invalid("scale/zero point \"" + Param.Name + "\" " + formatShape(Param.Shape) +
                  " must be a scalar or 1-D of size " + std::to_string(X[A]) + " (axis " +
                  std::to_string(A) + " of " + formatShape(X) + ")");
    L.How = QuantParamLayout::Kind::PerAxis;
    return L;
  }
  if (BlockSize < 0)
    Ctx.invalidAttribute("block_size", "must be positive");
  Dims Expected = X;
  Expected[A] = (X[A] + BlockSize - 1) / BlockSize;
  if (Param.Shape != Expected)
    Ctx.invalid("blocked scale/zero point \"" + Param.Name + "\" " + formatShape(Param.Shape) +
                " must be " + formatShape(Expected) + " for block_size " +
                std::to_string(BlockSize));
  L.How = QuantParamLayout::Kind::Blocked;
  L.Block = size_t(BlockSize);
  L.AxisBlocks = size_t(Expected[A]);
  return L;
}

void paramsToFloat(int32_t Type, const void *Src, float *Dst, size_t N) {
  bool Low = dispatchLowPrecision(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    const T *S = static_cast<const T *>(Src);
    for (size_t I = 0; I < N; ++I) {
      if constexpr (lowp::isSmallInt<T>)
        Dst[I] = float(lowp::smallIntValue(S[I]));
      else
        Dst[I] = lowpToFloat(S[I]);
    }
  });
  if (Low)
    return;
  dispatchType(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    const T *S = static_cast<const T *>(Src);
    if constexpr (!std::is_same_v<T, bool>)
      for (size_t I = 0; I < N; ++I)
        Dst[I] = float(load(S[I]));
  });
}

void paramsToInt32(int32_t Type, const void *Src, int32_t *Dst, size_t N) {
  bool Low = dispatchLowPrecision(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    const T *S = static_cast<const T *>(Src);
    if constexpr (lowp::isSmallInt<T>)
      for (size_t I = 0; I < N; ++I)
        Dst[I] = lowp::smallIntValue(S[I]);
  });
  if (Low)
    return;
  dispatchType(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    const T *S = static_cast<const T *>(Src);
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
      for (size_t I = 0; I < N; ++I)
        Dst[I] = int32_t(S[I]);
  });
}

void refuseQuantType(const NodeContext &Ctx, const TensorInfo &T) {
  Ctx.unsupported(std::string(typeName(T.Type)) + " tensor \"" + T.Name +
                  "\": quantized types supported are int8, uint8, int16, uint16, int4, uint4, int2, "
                  "uint2, float8 (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ) and float4 E2M1 (and int32 for "
                  "DequantizeLinear)");
}

} // namespace optima_v2::native
