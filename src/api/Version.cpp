#include <OptimaV2/Runtime/Context.h>
#include <OptimaV2/Runtime/Version.h>

namespace optima_v2::runtime {

// The library's own version (the headers' is OPTIMA_RT_CURRENT_VERSION).
VersionTuple Context::getVersion() { return OPTIMA_RT_CURRENT_VERSION; }

} // namespace optima_v2::runtime
