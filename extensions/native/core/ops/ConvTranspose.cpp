// Op family: ConvTranspose.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerConvTransposeOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
