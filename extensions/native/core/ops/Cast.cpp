// Op family: Cast, CastLike and related conversions.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerCastOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
