#pragma once

// Umbrella header of the OptimaV2 Runtime. The Utils/ helpers are opt-in.
#include <OptimaV2/Runtime/Context.h>
#include <OptimaV2/Runtime/ContextOptions.h>
#include <OptimaV2/Runtime/Device.h>
#include <OptimaV2/Runtime/Exception.h>
#include <OptimaV2/Runtime/FrameworkKind.h>
#include <OptimaV2/Runtime/InferRequest.h>
#include <OptimaV2/Runtime/Logging/LogLevel.h>
#include <OptimaV2/Runtime/Model.h>
#include <OptimaV2/Runtime/Profile.h>
#include <OptimaV2/Runtime/Shape.h>
#include <OptimaV2/Runtime/Tensor.h>
#include <OptimaV2/Runtime/Type.h>
#include <OptimaV2/Runtime/Version.h>
