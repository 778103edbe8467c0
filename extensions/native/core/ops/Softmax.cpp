// Op family: Softmax, LogSoftmax, Hardmax.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerSoftmaxOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
