// Op family: Gather*, Scatter*, OneHot, NonZero-style ops.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerIndexingOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
