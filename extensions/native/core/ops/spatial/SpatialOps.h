// Factories of the spatial family (sampling, im2col-style rearrangement, region pooling and
// cache/state updates), one per file; registered together by registerSpatialOps.
#pragma once

#include "../../OpRegistry.h"

#include <memory>

namespace optima_v2::native {

std::unique_ptr<Kernel> makeGridSample(const NodeContext &Ctx);
std::unique_ptr<Kernel> makeAffineGrid(const NodeContext &Ctx);
std::unique_ptr<Kernel> makeCol2Im(const NodeContext &Ctx);
std::unique_ptr<Kernel> makeDeformConv(const NodeContext &Ctx);
std::unique_ptr<Kernel> makeRoiAlign(const NodeContext &Ctx);
std::unique_ptr<Kernel> makeMaxUnpool(const NodeContext &Ctx);
std::unique_ptr<Kernel> makeCenterCropPad(const NodeContext &Ctx);
std::unique_ptr<Kernel> makeTensorScatter(const NodeContext &Ctx);
std::unique_ptr<Kernel> makeCausalConvWithState(const NodeContext &Ctx);

} // namespace optima_v2::native
