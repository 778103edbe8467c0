// Chooses the microkernel family once: the best the CPU (and OS) supports, unless the
// environment variable OPTIMA_V2_NATIVE_ISA names a supported one. Tests may switch it.
#include "../Gemm.h"
#include "GemmKernels.h"
#include "../simd/CpuFeatures.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace optima_v2::native {

namespace {

const gemm::IsaTable &tableFor(GemmIsa Isa) {
#if defined(OPTIMA_V2_GEMM_X86)
  if (Isa == GemmIsa::Avx512)
    return gemm::Avx512Table;
  if (Isa == GemmIsa::Avx2)
    return gemm::Avx2Table;
#endif
#if defined(OPTIMA_V2_GEMM_NEON)
  if (Isa == GemmIsa::Neon)
    return gemm::NeonTable;
#endif
  (void)Isa;
  return gemm::GenericTable;
}

GemmIsa bestIsa() {
  if (gemmIsaSupported(GemmIsa::Neon))
    return GemmIsa::Neon;
  if (gemmIsaSupported(GemmIsa::Avx512))
    return GemmIsa::Avx512;
  if (gemmIsaSupported(GemmIsa::Avx2))
    return GemmIsa::Avx2;
  return GemmIsa::Generic;
}

GemmIsa initialIsa() {
  const char *Env = std::getenv("OPTIMA_V2_NATIVE_ISA");
  if (Env) {
    for (GemmIsa I : AllGemmIsas)
      if (std::strcmp(Env, gemmIsaName(I)) == 0 && gemmIsaSupported(I))
        return I;
  }
  return bestIsa();
}

std::atomic<const gemm::IsaTable *> &activeSlot() {
  static std::atomic<const gemm::IsaTable *> Slot{&tableFor(initialIsa())};
  return Slot;
}

} // namespace

bool gemmIsaSupported(GemmIsa Isa) {
  switch (Isa) {
  case GemmIsa::Generic:
    return true;
#if defined(OPTIMA_V2_GEMM_X86)
  case GemmIsa::Avx2: // the backend's one CPU detector (simd/CpuFeatures.h)
    return simd::cpuHasIsa(simd::Isa::Avx2);
  case GemmIsa::Avx512:
    return simd::cpuHasIsa(simd::Isa::Avx512);
#endif
#if defined(OPTIMA_V2_GEMM_NEON)
  case GemmIsa::Neon: // part of every AArch64 CPU
    return true;
#endif
  default:
    return false;
  }
}

const char *gemmIsaName(GemmIsa Isa) {
  switch (Isa) {
  case GemmIsa::Avx2:
    return "avx2";
  case GemmIsa::Avx512:
    return "avx512";
  case GemmIsa::Neon:
    return "neon";
  default:
    return "generic";
  }
}

GemmIsa activeGemmIsa() { return GemmIsa(gemm::activeTable().Id); }

size_t gemmTileWidth() { return gemm::activeTable().NR; }

size_t gemmTileHeight() { return gemm::activeTable().MR; }

bool setGemmIsa(GemmIsa Isa) {
  if (!gemmIsaSupported(Isa))
    return false;
  activeSlot().store(&tableFor(Isa), std::memory_order_release);
  return true;
}

const gemm::IsaTable &gemm::activeTable() {
  return *activeSlot().load(std::memory_order_acquire);
}

} // namespace optima_v2::native
