// Registration of the signal family: DFT, STFT, window generators, MelWeightMatrix.
#include "../../OpRegistry.h"

namespace optima_v2::native {

void registerDftOps(OpRegistry &R);
void registerStftOps(OpRegistry &R);
void registerWindowOps(OpRegistry &R);
void registerMelWeightMatrixOps(OpRegistry &R);

void registerSignalOps(OpRegistry &R) {
  registerDftOps(R);
  registerStftOps(R);
  registerWindowOps(R);
  registerMelWeightMatrixOps(R);
}

} // namespace optima_v2::native
