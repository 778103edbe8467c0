// Op family: BatchNormalization, LayerNormalization, InstanceNormalization, GroupNormalization, LRN.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerNormalizationOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
