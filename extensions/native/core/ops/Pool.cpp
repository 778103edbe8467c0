// Op family: MaxPool, AveragePool, LpPool, global pools.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerPoolOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
