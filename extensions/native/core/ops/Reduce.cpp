// Op family: reductions and ArgMax/ArgMin.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerReduceOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
