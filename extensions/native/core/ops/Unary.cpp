// Op family: unary math and activations beyond Relu/Sigmoid/Tanh.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerUnaryOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
