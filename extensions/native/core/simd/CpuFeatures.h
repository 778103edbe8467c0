// Run-time CPU feature detection for the whole native backend (the vector math tables here and
// the GEMM microkernels in gemm/Dispatch.cpp): one definition of what each ISA level needs.
#pragma once

#include "VecMath.h"

namespace optima_v2::native::simd {

// Whether this CPU (and OS) runs code of that ISA level: Avx2 = AVX2 + FMA; Avx512 = AVX-512
// F + DQ + BW + VL (plus AVX2 + FMA, which every such CPU has). Generic is always true.
bool cpuHasIsa(Isa Which);
// cpuHasIsa and the build has a vector math table for it.
bool isaSupported(Isa Which);
// The best supported ISA, unless OPTIMA_V2_NATIVE_ISA=generic|avx2|avx512 names a supported
// one (an unknown or unsupported value means "best"). Read once.
Isa selectedIsa();

} // namespace optima_v2::native::simd
