#include "CpuFeatures.h"

#include <cstdlib>
#include <cstring>

namespace optima_v2::native::simd {

bool cpuHasIsa(Isa Which) {
  switch (Which) {
  case Isa::Generic:
    return true;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  case Isa::Avx2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case Isa::Avx512:
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
  default:
    return false;
  }
}

bool isaSupported(Isa Which) {
  switch (Which) {
  case Isa::Generic:
    return true;
  case Isa::Avx2:
    return vecMathAvx2Table() && cpuHasIsa(Isa::Avx2);
  case Isa::Avx512:
    return vecMathAvx512Table() && cpuHasIsa(Isa::Avx512);
  }
  return false;
}

Isa selectedIsa() {
  static const Isa Chosen = [] {
    Isa Best = isaSupported(Isa::Avx512) ? Isa::Avx512
               : isaSupported(Isa::Avx2) ? Isa::Avx2
                                         : Isa::Generic;
    const char *Env = std::getenv("OPTIMA_V2_NATIVE_ISA");
    if (!Env)
      return Best;
    Isa Asked = Best;
    if (std::strcmp(Env, "generic") == 0)
      Asked = Isa::Generic;
    else if (std::strcmp(Env, "avx2") == 0)
      Asked = Isa::Avx2;
    else if (std::strcmp(Env, "avx512") == 0)
      Asked = Isa::Avx512;
    return isaSupported(Asked) ? Asked : Best;
  }();
  return Chosen;
}

} // namespace optima_v2::native::simd
