// Op family: comparisons, logical and bitwise ops, Where.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerCompareOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
