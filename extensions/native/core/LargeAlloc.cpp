#include "LargeAlloc.h"

#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace optima_v2::native {

namespace {

constexpr size_t HugePage = size_t(1) << 21;

// Blocks of at least one huge page start on a huge-page boundary, so the kernel can back all
// but their tail with huge pages.
size_t alignmentFor(size_t Bytes) { return Bytes >= HugePage ? HugePage : 64; }

} // namespace

void *allocateLarge(size_t Bytes, bool Huge) noexcept {
  void *P = ::operator new(Bytes, std::align_val_t(alignmentFor(Bytes)), std::nothrow);
  (void)Huge;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advice only: where THP is off (or "never"), this fails and 4 KiB pages are used.
  if (P && Huge && Bytes >= HugePage)
    (void)madvise(P, Bytes / HugePage * HugePage, MADV_HUGEPAGE);
#endif
  return P;
}

void freeLarge(void *P, size_t Bytes) noexcept {
  ::operator delete(P, std::align_val_t(alignmentFor(Bytes)), std::nothrow);
}

} // namespace optima_v2::native
