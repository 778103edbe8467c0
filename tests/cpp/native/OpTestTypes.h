// Test-side encoding of values into tensors of any element type (F16/BF16 through the core's
// IEEE conversions, which the Half tests cover) and back to double, for typed kernel tests.
#pragma once

#include "NativeTestUtil.h"

#include "Half.h"

#include <string>
#include <vector>

namespace native_test {

template <typename T> Bytes encodeAs(const std::vector<double> &V) {
  std::vector<T> Out(V.size());
  for (size_t I = 0; I < V.size(); ++I) {
    if constexpr (std::is_same_v<T, optima_v2::native::Half>)
      Out[I] = optima_v2::native::toHalf(float(V[I]));
    else if constexpr (std::is_same_v<T, optima_v2::native::BFloat16>)
      Out[I] = optima_v2::native::toBFloat16(float(V[I]));
    else
      Out[I] = T(V[I]);
  }
  return toBytes(Out);
}

inline Bytes encode(const std::vector<double> &V, const std::string &Type) {
  using namespace optima_v2::native;
  if (Type == "F32") return encodeAs<float>(V);
  if (Type == "F64") return encodeAs<double>(V);
  if (Type == "F16") return encodeAs<Half>(V);
  if (Type == "BF16") return encodeAs<BFloat16>(V);
  if (Type == "I8") return encodeAs<int8_t>(V);
  if (Type == "U8") return encodeAs<uint8_t>(V);
  if (Type == "I16") return encodeAs<int16_t>(V);
  if (Type == "U16") return encodeAs<uint16_t>(V);
  if (Type == "I32") return encodeAs<int32_t>(V);
  if (Type == "U32") return encodeAs<uint32_t>(V);
  if (Type == "I64") return encodeAs<int64_t>(V);
  if (Type == "U64") return encodeAs<uint64_t>(V);
  return {};
}

template <typename T> std::vector<double> decodeAs(const Bytes &B) {
  std::vector<T> In = fromBytes<T>(B);
  std::vector<double> Out(In.size());
  for (size_t I = 0; I < In.size(); ++I) {
    if constexpr (std::is_same_v<T, optima_v2::native::Half> ||
                  std::is_same_v<T, optima_v2::native::BFloat16>)
      Out[I] = double(optima_v2::native::toFloat(In[I]));
    else
      Out[I] = double(In[I]);
  }
  return Out;
}

inline std::vector<double> decode(const Bytes &B, const std::string &Type) {
  using namespace optima_v2::native;
  if (Type == "F32") return decodeAs<float>(B);
  if (Type == "F64") return decodeAs<double>(B);
  if (Type == "F16") return decodeAs<Half>(B);
  if (Type == "BF16") return decodeAs<BFloat16>(B);
  if (Type == "I8") return decodeAs<int8_t>(B);
  if (Type == "U8") return decodeAs<uint8_t>(B);
  if (Type == "I16") return decodeAs<int16_t>(B);
  if (Type == "U16") return decodeAs<uint16_t>(B);
  if (Type == "I32") return decodeAs<int32_t>(B);
  if (Type == "U32") return decodeAs<uint32_t>(B);
  if (Type == "I64") return decodeAs<int64_t>(B);
  if (Type == "U64") return decodeAs<uint64_t>(B);
  return {};
}

// Values exactly representable in every float type (multiples of 1/8 in [-2, 2]), so a typed
// run and a double reference see the same inputs.
inline std::vector<double> gridValues(size_t N, uint32_t Seed) {
  std::vector<float> R = randomFloats(N, Seed, -2.0f, 2.0f);
  std::vector<double> V(N);
  for (size_t I = 0; I < N; ++I)
    V[I] = double(int(R[I] * 8.0f)) / 8.0;
  return V;
}

// Tolerance of a result of type Type relative to its magnitude.
inline double typeTolerance(const std::string &Type) {
  if (Type == "F16") return 4e-3;
  if (Type == "BF16") return 2e-2;
  if (Type == "F32") return 1e-5;
  return 1e-12;
}

} // namespace native_test
