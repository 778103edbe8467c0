/* An extension whose init refuses to start, with a message. */
#include <OptimaV2/Extension/Extension.h>
#include <string.h>

OPTIMA_EXT_EXPORT OptimaStatus optimaV2ExtensionInit(const OptimaHostApi *Host, uint32_t HostAbiVersion,
                                                     OptimaExtension **Out, OptimaExtError *Error) {
  (void)Host; (void)HostAbiVersion; (void)Out;
  strcpy(Error->Message, "no device found on this machine");
  return OPTIMA_STATUS_UNSUPPORTED;
}
