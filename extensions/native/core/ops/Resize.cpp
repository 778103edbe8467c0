// Op family: Resize and Upsample.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerResizeOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
