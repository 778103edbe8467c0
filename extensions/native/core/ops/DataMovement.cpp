// Op family: Transpose, Concat, Split, Slice, Pad, Tile, Expand, DepthToSpace, SpaceToDepth, Squeeze/Unsqueeze.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerDataMovementOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
