// Op family: TopK, CumSum.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerSortOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
