// Op family: Einsum.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerEinsumOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
