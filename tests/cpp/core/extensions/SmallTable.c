/* An extension whose table is only 12 bytes long (StructSize = 12). */
#include <OptimaV2/Extension/Extension.h>

static OptimaExtension Table;

OPTIMA_EXT_EXPORT OptimaStatus optimaV2ExtensionInit(const OptimaHostApi *Host, uint32_t HostAbiVersion,
                                                     OptimaExtension **Out, OptimaExtError *Error) {
  (void)Host; (void)HostAbiVersion; (void)Error;
  Table.StructSize = 12;
  Table.AbiVersion = OPTIMA_EXT_ABI_VERSION;
  *Out = &Table;
  return OPTIMA_STATUS_OK;
}
