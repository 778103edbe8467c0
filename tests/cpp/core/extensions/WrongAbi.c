/* An extension built for a future ABI: its table says AbiVersion 7. */
#include <OptimaV2/Extension/Extension.h>

static OptimaExtension Table;

OPTIMA_EXT_EXPORT OptimaStatus optimaV2ExtensionInit(const OptimaHostApi *Host, uint32_t HostAbiVersion,
                                                     OptimaExtension **Out, OptimaExtError *Error) {
  (void)Host; (void)HostAbiVersion; (void)Error;
  Table.StructSize = sizeof(OptimaExtension);
  Table.AbiVersion = 7;
  Table.Name = "wrong-abi";
  Table.Version = "0";
  Table.Framework = "Vulkan";
  *Out = &Table;
  return OPTIMA_STATUS_OK;
}
