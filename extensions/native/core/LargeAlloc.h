// Allocation of large, long-lived host blocks (packed conv weights, request arenas) on transparent
// huge pages where the OS offers them: a conv streaming 9 MiB of packed weights touches 2,300
// 4 KiB pages, whose TLB misses and page walks cost ResNet-18 about 2 % of its time; 2 MiB pages
// take that away. Small blocks get ordinary cache-line-aligned memory.
#pragma once

#include <cstddef>

namespace optima_v2::native {

// Bytes (> 0) aligned to at least 64, on huge pages if Huge and the OS agrees; nullptr when memory
// runs out. Free with freeLarge(P, Bytes), the same Bytes.
void *allocateLarge(size_t Bytes, bool Huge = true) noexcept;
void freeLarge(void *P, size_t Bytes) noexcept;

} // namespace optima_v2::native
