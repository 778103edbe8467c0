/*
 * OptimaV2 Runtime extension ABI, version 1.
 *
 * Plain C, system headers only, so an extension can be built with any compiler. The runtime
 * core ("host") and an extension meet only through this header; see docs/extension-abi.md.
 *
 * Rules:
 *  - No exception and no longjmp crosses this boundary. Every fallible call returns an
 *    OptimaStatus and, on failure, writes a message into the caller's OptimaExtError.
 *    A failing call leaves its out-parameters untouched.
 *  - Every struct begins with StructSize and (for tables) AbiVersion. Tables are append-only:
 *    new members go at the end and are tagged with the version that added them, so a host never
 *    calls a slot an older extension lacks (it checks StructSize first).
 *  - Release/free/destroy functions return void and accept NULL.
 *  - Ownership is stated on every pointer parameter.
 */
#ifndef OPTIMA_V2_EXTENSION_EXTENSION_H
#define OPTIMA_V2_EXTENSION_EXTENSION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OPTIMA_EXT_ABI_VERSION 1u
#define OPTIMA_EXT_MAX_DIMS 8u
#define OPTIMA_EXT_ERROR_CAPACITY 1024u

#if defined(_WIN32)
#define OPTIMA_EXT_EXPORT __declspec(dllexport)
#else
#define OPTIMA_EXT_EXPORT __attribute__((visibility("default")))
#endif

/* Status codes. OK is 0; anything else is a failure the host maps to a runtime exception. */
typedef enum OptimaStatus {
  OPTIMA_STATUS_OK = 0,
  OPTIMA_STATUS_INVALID_ARGUMENT = 1,  /* caller passed something wrong -> InvalidArgumentException */
  OPTIMA_STATUS_INVALID_MODEL = 2,     /* subgraph folder corrupt or inconsistent -> InvalidModelException */
  OPTIMA_STATUS_UNSUPPORTED = 3,       /* op/type/device not supported -> UnsupportedModelException */
  OPTIMA_STATUS_OUT_OF_RESOURCE = 4,   /* allocation failed -> OutOfResourceException */
  OPTIMA_STATUS_EXECUTION_FAILED = 5,  /* kernel failed at run time -> InferException */
  OPTIMA_STATUS_INTERNAL = 6,          /* bug or escaped exception inside the extension -> BackendException */
  OPTIMA_STATUS_CANCELLED = 7          /* execution stopped because the host asked -> InferException */
} OptimaStatus;

/* Filled by the callee on failure. Message is NUL-terminated, at most CAPACITY-1 chars. */
typedef struct OptimaExtError {
  uint32_t StructSize;
  char Message[OPTIMA_EXT_ERROR_CAPACITY];
} OptimaExtError;

/* Numeric values match optima_v2::runtime::ElementType. */
typedef enum OptimaElementType {
  OPTIMA_ELEMENT_I8 = 0,
  OPTIMA_ELEMENT_U8 = 1,
  OPTIMA_ELEMENT_I16 = 2,
  OPTIMA_ELEMENT_U16 = 3,
  OPTIMA_ELEMENT_I32 = 4,
  OPTIMA_ELEMENT_U32 = 5,
  OPTIMA_ELEMENT_I64 = 6,
  OPTIMA_ELEMENT_U64 = 7,
  OPTIMA_ELEMENT_F16 = 8,
  OPTIMA_ELEMENT_F32 = 9,
  OPTIMA_ELEMENT_F64 = 10,
  OPTIMA_ELEMENT_Q8 = 11,
  OPTIMA_ELEMENT_Q16 = 12,
  OPTIMA_ELEMENT_BF16 = 13,
  OPTIMA_ELEMENT_BOOL = 14,
  /* ONNX low-precision types, one byte per element in memory (unpacked). */
  OPTIMA_ELEMENT_F8E4M3FN = 15,
  OPTIMA_ELEMENT_F8E4M3FNUZ = 16,
  OPTIMA_ELEMENT_F8E5M2 = 17,
  OPTIMA_ELEMENT_F8E5M2FNUZ = 18,
  OPTIMA_ELEMENT_F8E8M0 = 19,
  OPTIMA_ELEMENT_I4 = 20,
  OPTIMA_ELEMENT_U4 = 21,
  OPTIMA_ELEMENT_F4E2M1 = 22,
  OPTIMA_ELEMENT_I2 = 23,
  OPTIMA_ELEMENT_U2 = 24
} OptimaElementType;

/* Numeric values match optima_v2::runtime::DeviceKind. */
typedef enum OptimaDeviceKind {
  OPTIMA_DEVICE_X86 = 0,
  OPTIMA_DEVICE_X64 = 1,
  OPTIMA_DEVICE_ARM = 2,
  OPTIMA_DEVICE_ARM64 = 3,
  OPTIMA_DEVICE_NVIDIA = 4,
  OPTIMA_DEVICE_AMDGPU = 5,
  OPTIMA_DEVICE_INTELGPU = 6,
  OPTIMA_DEVICE_MALI = 7,
  OPTIMA_DEVICE_ADRENO = 8,
  OPTIMA_DEVICE_HEXAGON = 9,
  OPTIMA_DEVICE_MYRIAD = 10,
  OPTIMA_DEVICE_ARA1 = 11,
  OPTIMA_DEVICE_EDGETPU = 12,
  OPTIMA_DEVICE_CV22 = 13
} OptimaDeviceKind;

/* Numeric values match optima_v2::runtime::FrameworkKind. */
typedef enum OptimaFrameworkKind {
  OPTIMA_FRAMEWORK_TFLITE = 0,
  OPTIMA_FRAMEWORK_OPENVINO = 1,
  OPTIMA_FRAMEWORK_SNPE = 2,
  OPTIMA_FRAMEWORK_DVAPI = 3,
  OPTIMA_FRAMEWORK_VULKAN = 4,
  OPTIMA_FRAMEWORK_OPENCL = 5,
  OPTIMA_FRAMEWORK_NATIVE = 6
} OptimaFrameworkKind;

/* Numeric values match optima_v2::runtime::LogLevel. */
typedef enum OptimaLogLevel {
  OPTIMA_LOG_DEBUG = 0,
  OPTIMA_LOG_VERBOSE = 1,
  OPTIMA_LOG_INFO = 2,
  OPTIMA_LOG_WARNING = 3,
  OPTIMA_LOG_ERROR = 4
} OptimaLogLevel;

/* Numeric values match optima_v2::runtime::ProfileKind. Extensions report LayerExecute, and
 * TransferFromInput / TransferToOutput / Wait where they do such work themselves. */
typedef enum OptimaProfileKind {
  OPTIMA_PROFILE_MODEL_INIT = 0,
  OPTIMA_PROFILE_SUBGRAPH_INIT = 1,
  OPTIMA_PROFILE_REQUEST_INIT = 2,
  OPTIMA_PROFILE_TRANSFER_FROM_INPUT = 3,
  OPTIMA_PROFILE_TRANSFER_TO_OUTPUT = 4,
  OPTIMA_PROFILE_LAYER_EXECUTE = 5,
  OPTIMA_PROFILE_WAIT = 6,
  OPTIMA_PROFILE_BUFFER_COPY = 7,
  OPTIMA_PROFILE_MODEL_EXECUTE = 8,
  OPTIMA_PROFILE_SUBGRAPH_EXECUTE = 9
} OptimaProfileKind;

/* Device flags. */
#define OPTIMA_EXT_DEVICE_HOST_MEMORY 0x1u /* buffers are plain host memory: the host passes host
                                              pointers to execute() and never calls the buffer API */

/* Map access flags. */
#define OPTIMA_EXT_MAP_READ 0x1u
#define OPTIMA_EXT_MAP_WRITE 0x2u

/* A tensor as the host sees it. Name is borrowed: valid only during the call it is passed to. */
typedef struct OptimaExtTensorDesc {
  uint32_t StructSize;
  const char *Name;
  int32_t ElementType; /* OptimaElementType */
  uint32_t Rank;       /* 0..OPTIMA_EXT_MAX_DIMS; rank 0 is a scalar of one element */
  uint32_t Dims[OPTIMA_EXT_MAX_DIMS];
} OptimaExtTensorDesc;

/* A device an extension offers. Name and Id are owned by the extension and must stay valid
 * until release(). */
typedef struct OptimaExtDeviceDesc {
  uint32_t StructSize;
  int32_t Kind;         /* OptimaDeviceKind */
  uint32_t Index;       /* the N in "X64:N", unique per kind within the extension */
  const char *Name;     /* human-readable, e.g. "AMD EPYC (x64, 2 threads)" */
  const char *Id;       /* may be "" */
  uint32_t Flags;       /* OPTIMA_EXT_DEVICE_* */
  uint32_t Alignment;   /* byte alignment the device wants for buffers; power of two, >= 1 */
} OptimaExtDeviceDesc;

/* Opaque objects owned by the extension. */
typedef struct OptimaExtSubgraph OptimaExtSubgraph;
typedef struct OptimaExtRequestState OptimaExtRequestState;
typedef struct OptimaExtBuffer OptimaExtBuffer;

/* Function run by parallelFor on the items [Begin, End). Must not throw. */
typedef void (*OptimaParallelFn)(void *UserData, size_t Begin, size_t End);

/* Services the host offers, passed once to optimaV2ExtensionInit. The struct and HostContext
 * stay valid until the extension's release() returns; the extension may keep the pointer. */
typedef struct OptimaHostApi {
  uint32_t StructSize;
  uint32_t AbiVersion;
  void *HostContext;
  /* since 1: Message is copied by the host. Filtered by the Context's verbosity. */
  void (*log)(void *HostContext, int32_t Level, const char *Message);
  /* since 1: runs Fn over [0, Count) split into chunks of at least Grain items, on the Context's
   * thread pool; the calling thread takes part; returns when every item is done. Safe to call
   * from inside execute() and from any pool thread (never deadlocks: the caller can finish
   * all chunks alone). */
  void (*parallelFor)(void *HostContext, size_t Count, size_t Grain, OptimaParallelFn Fn,
                      void *UserData);
  /* since 1: the number of threads to plan parallel work for, the caller included: the
   * Context's threads shared out among the subgraphs executing at this moment (at least 1; all
   * of them outside execute()). Ask at the start of each execute(). */
  uint32_t (*getThreadCount)(void *HostContext);
} OptimaHostApi;

/* Passed to each execute() call; valid only during that call. */
typedef struct OptimaExecContext {
  uint32_t StructSize;
  void *Sink;
  /* Non-zero when the host records profile data; when zero, skip timing work. */
  int32_t ProfilingEnabled;
  /* since 1: record one event. Name is NOT copied on this hot path: it must stay valid until the
   * subgraph is unloaded (use the layer names stored with the loaded subgraph). */
  void (*profileEvent)(void *Sink, int32_t Kind, const char *Name, uint64_t DurationNs);
  /* since 1: non-zero when the host wants execution stopped early (request being destroyed).
   * Extensions may poll it between layers and then return OPTIMA_STATUS_CANCELLED. */
  int32_t (*isCancelled)(void *Sink);
} OptimaExecContext;

/* The table an extension returns from optimaV2ExtensionInit. Owned by the extension; valid until
 * release(Self) returns. */
typedef struct OptimaExtension {
  uint32_t StructSize; /* sizeof(OptimaExtension) the extension was built with */
  uint32_t AbiVersion; /* OPTIMA_EXT_ABI_VERSION the extension was built with */
  const char *Name;      /* e.g. "native" */
  const char *Version;   /* the extension's own version, e.g. "0.1.0" */
  const char *Framework; /* framework name as in model.meta, e.g. "Native" */
  void *Self;            /* extension state, first argument of the calls below */

  /* since 1: devices, enumerated cheaply. */
  uint32_t (*getDeviceCount)(void *Self);
  OptimaStatus (*getDevice)(void *Self, uint32_t Ordinal, OptimaExtDeviceDesc *Out,
                            OptimaExtError *Error);

  /* since 1: load a subgraph folder (absolute path, already checked by the host to lie inside
   * the model folder) for device number DeviceOrdinal (an ordinal for getDevice). Inputs and
   * Outputs are what model.meta declares; the extension checks its folder matches them. The
   * extension must open only files inside FolderPath. */
  OptimaStatus (*loadSubgraph)(void *Self, uint32_t DeviceOrdinal, const char *FolderPath,
                               const OptimaExtTensorDesc *Inputs, uint32_t InputCount,
                               const OptimaExtTensorDesc *Outputs, uint32_t OutputCount,
                               OptimaExtSubgraph **Out, OptimaExtError *Error);
  void (*unloadSubgraph)(void *Self, OptimaExtSubgraph *Subgraph);

  /* since 1: per-request state (activation memory, scratch). Many states of one subgraph run
   * concurrently; a state is used by one execute() at a time. */
  OptimaStatus (*createRequestState)(void *Self, OptimaExtSubgraph *Subgraph,
                                     OptimaExtRequestState **Out, OptimaExtError *Error);
  void (*destroyRequestState)(void *Self, OptimaExtRequestState *State);

  /* since 1: run the subgraph. Inputs/Outputs follow the subgraph's declared order. For a device
   * with OPTIMA_EXT_DEVICE_HOST_MEMORY they are host pointers (aligned to the device's
   * Alignment); otherwise they are OptimaExtBuffer* handles this extension allocated. */
  OptimaStatus (*execute)(void *Self, OptimaExtRequestState *State, void *const *Inputs,
                          void *const *Outputs, const OptimaExecContext *Exec,
                          OptimaExtError *Error);

  /* since 1: device memory (used only for devices without OPTIMA_EXT_DEVICE_HOST_MEMORY). */
  OptimaStatus (*allocBuffer)(void *Self, uint32_t DeviceOrdinal, size_t Bytes,
                              OptimaExtBuffer **Out, OptimaExtError *Error);
  void (*freeBuffer)(void *Self, OptimaExtBuffer *Buffer);
  /* Map gives host access to the whole buffer until unmap; Access is OPTIMA_EXT_MAP_*. */
  OptimaStatus (*mapBuffer)(void *Self, OptimaExtBuffer *Buffer, uint32_t Access, void **HostPtr,
                            OptimaExtError *Error);
  OptimaStatus (*unmapBuffer)(void *Self, OptimaExtBuffer *Buffer, OptimaExtError *Error);

  /* since 1: called once before the library is unloaded, after every object it made is gone. */
  void (*release)(void *Self);
} OptimaExtension;

/* The one exported entry point, looked up by name with dlsym. HostAbiVersion is the host's
 * OPTIMA_EXT_ABI_VERSION; an extension that cannot serve it returns non-OK with a message.
 * Host is valid until release(). On success *Out points to the extension's table. */
#define OPTIMA_EXT_ENTRY_POINT "optimaV2ExtensionInit"
typedef OptimaStatus (*OptimaExtInitFn)(const OptimaHostApi *Host, uint32_t HostAbiVersion,
                                        OptimaExtension **Out, OptimaExtError *Error);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OPTIMA_V2_EXTENSION_EXTENSION_H */
