// Op family: RNN, GRU, LSTM.
#include "../OpRegistry.h"

namespace optima_v2::native {

void registerRecurrentOps(OpRegistry &R) { (void)R; }

} // namespace optima_v2::native
