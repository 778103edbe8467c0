// Registration of the spatial family (see SpatialOps.h).
#include "SpatialOps.h"

namespace optima_v2::native {

void registerSpatialOps(OpRegistry &R) {
  R.add("GridSample", makeGridSample);
  R.add("AffineGrid", makeAffineGrid);
  R.add("Col2Im", makeCol2Im);
  R.add("DeformConv", makeDeformConv);
  R.add("RoiAlign", makeRoiAlign);
  R.add("MaxUnpool", makeMaxUnpool);
  R.add("CenterCropPad", makeCenterCropPad);
  R.add("TensorScatter", makeTensorScatter);
  R.add("CausalConvWithState", makeCausalConvWithState);
}

} // namespace optima_v2::native
