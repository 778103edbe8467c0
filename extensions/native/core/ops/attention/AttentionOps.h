// Factories of the attention family (registered by registerAttentionOps in Attention.cpp).
#pragma once

#include "../../Kernel.h"
#include "../../NodeContext.h"

#include <memory>

namespace optima_v2::native {

std::unique_ptr<Kernel> makeRotaryEmbedding(const NodeContext &Ctx);

} // namespace optima_v2::native
