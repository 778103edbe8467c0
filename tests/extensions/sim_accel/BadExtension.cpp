// A deliberately broken extension for the host's validation of the table it gets from
// optimaV2ExtensionInit. Built twice (see CMakeLists.txt):
//  OPTIMA_TEST_BAD_ABI_VERSION: the table claims ABI version BadAbiVersion;
//  OPTIMA_TEST_BAD_TABLE_SIZE:  the table's StructSize stops before allocBuffer (too small for v1).
// Every slot is valid anyway, so a host that wrongly accepts the table still does not crash here.
#include <OptimaV2/Extension/Extension.h>

#include <cstddef>

namespace {

constexpr uint32_t BadAbiVersion = 999;

uint32_t getDeviceCount(void *) { return 0; }
OptimaStatus getDevice(void *, uint32_t, OptimaExtDeviceDesc *, OptimaExtError *) {
  return OPTIMA_STATUS_INVALID_ARGUMENT;
}
OptimaStatus loadSubgraph(void *, uint32_t, const char *, const OptimaExtTensorDesc *, uint32_t,
                          const OptimaExtTensorDesc *, uint32_t, OptimaExtSubgraph **,
                          OptimaExtError *) {
  return OPTIMA_STATUS_UNSUPPORTED;
}
void unloadSubgraph(void *, OptimaExtSubgraph *) {}
OptimaStatus createRequestState(void *, OptimaExtSubgraph *, OptimaExtRequestState **,
                                OptimaExtError *) {
  return OPTIMA_STATUS_UNSUPPORTED;
}
void destroyRequestState(void *, OptimaExtRequestState *) {}
OptimaStatus execute(void *, OptimaExtRequestState *, void *const *, void *const *,
                     const OptimaExecContext *, OptimaExtError *) {
  return OPTIMA_STATUS_UNSUPPORTED;
}
OptimaStatus allocBuffer(void *, uint32_t, size_t, OptimaExtBuffer **, OptimaExtError *) {
  return OPTIMA_STATUS_UNSUPPORTED;
}
void freeBuffer(void *, OptimaExtBuffer *) {}
OptimaStatus mapBuffer(void *, OptimaExtBuffer *, uint32_t, void **, OptimaExtError *) {
  return OPTIMA_STATUS_UNSUPPORTED;
}
OptimaStatus unmapBuffer(void *, OptimaExtBuffer *, OptimaExtError *) {
  return OPTIMA_STATUS_UNSUPPORTED;
}
void release(void *) {}

OptimaExtension Table = {
#if defined(OPTIMA_TEST_BAD_TABLE_SIZE)
    static_cast<uint32_t>(offsetof(OptimaExtension, allocBuffer)),
    OPTIMA_EXT_ABI_VERSION,
#else
    sizeof(OptimaExtension),
    BadAbiVersion,
#endif
    "bad_ext", "0.0.1", "OpenCL", nullptr,
    getDeviceCount, getDevice, loadSubgraph, unloadSubgraph, createRequestState,
    destroyRequestState, execute, allocBuffer, freeBuffer, mapBuffer, unmapBuffer, release};

} // namespace

extern "C" OPTIMA_EXT_EXPORT OptimaStatus optimaV2ExtensionInit(const OptimaHostApi *, uint32_t,
                                                                OptimaExtension **Out,
                                                                OptimaExtError *) {
  if (!Out)
    return OPTIMA_STATUS_INVALID_ARGUMENT;
  *Out = &Table;
  return OPTIMA_STATUS_OK;
}
