// Run-time CPU feature detection shared by the vectorised kernels (a tiny stand-alone copy that
// the GEMM dispatch can merge with).
#pragma once

#include "VecMath.h"

namespace optima_v2::native::simd {

// Whether this CPU and OS run code of that ISA, and the build has a table for it.
bool isaSupported(Isa Which);
// The best supported ISA, unless OPTIMA_V2_NATIVE_ISA=generic|avx2|avx512 names a supported
// one (an unknown or unsupported value means "best"). Read once.
Isa selectedIsa();

} // namespace optima_v2::native::simd
