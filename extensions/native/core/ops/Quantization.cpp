// Op family: QuantizeLinear, DequantizeLinear, QLinear*, *Integer, DynamicQuantizeLinear.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerQuantizationOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
