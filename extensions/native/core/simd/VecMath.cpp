// Picks the vector math table once per process: the best ISA the CPU (and OS) supports, or the
// one OPTIMA_V2_NATIVE_ISA names when that is supported. Baseline code only.
#include "VecMath.h"

#include "CpuFeatures.h"

namespace optima_v2::native::simd {

const VecMathTable *vecMathFor(Isa Which) {
  if (!isaSupported(Which))
    return nullptr;
  switch (Which) {
  case Isa::Avx512: return vecMathAvx512Table();
  case Isa::Avx2: return vecMathAvx2Table();
  case Isa::Generic: return vecMathGenericTable();
  }
  return nullptr;
}

const VecMathTable &vecMath() {
  static const VecMathTable *Chosen = [] {
    const VecMathTable *T = vecMathFor(selectedIsa());
    return T ? T : vecMathGenericTable();
  }();
  return *Chosen;
}

const char *isaName(Isa Which) {
  switch (Which) {
  case Isa::Avx512: return "avx512";
  case Isa::Avx2: return "avx2";
  case Isa::Generic: return "generic";
  }
  return "generic";
}

} // namespace optima_v2::native::simd
