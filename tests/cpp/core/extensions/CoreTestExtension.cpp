// Test-only extension for the core's tests (not installed, loaded explicitly). Framework set at
// build time (CORE_TEST_FRAMEWORK). Devices: x64:0 (host memory) and NVIDIA:0 (buffers in
// malloc'd "device" memory, reached through map/unmap).
//
// A subgraph folder holds op.txt, a list of words:
//   add C       every output element i = sum over inputs j of in_j[i % n_j] + C   (F32)
//   sleep MS    sleep before computing, polling isCancelled (-> CANCELLED)
//   layers N    report N LayerExecute events named L0..L{N-1}
//   fail        execute returns EXECUTION_FAILED "injected failure"
//   throw       execute throws std::runtime_error("boom")
//   status N    execute returns status N
//   loadfail    loadSubgraph returns INVALID_MODEL "op.txt: injected load failure"
#include <OptimaV2/Extension/Extension.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef CORE_TEST_FRAMEWORK
#define CORE_TEST_FRAMEWORK "TFLite"
#endif

namespace {

std::atomic<int> LiveObjects{0}; // instances + subgraphs + states + buffers not yet released

// One per optimaV2ExtensionInit call: several Contexts may load this library in one process.
struct Instance {
  OptimaExtension Table;
  const OptimaHostApi *Host;
};

struct Tensor {
  uint32_t Elements = 0;
};

struct Subgraph {
  uint32_t Device = 0;
  float Constant = 0;
  int SleepMs = 0;
  int Layers = 0;
  std::string Failure; // "", "fail", "throw", "status"
  int Status = 0;
  std::vector<Tensor> Inputs, Outputs;
  std::vector<std::string> LayerNames; // stable for profileEvent
};

struct State {
  Subgraph *Graph;
};

struct Buffer {
  std::vector<float> Data;
  int Maps = 0;
};

void setError(OptimaExtError *E, const std::string &Text) {
  std::snprintf(E->Message, OPTIMA_EXT_ERROR_CAPACITY, "%s", Text.c_str());
}

uint32_t elementsOf(const OptimaExtTensorDesc &D) {
  uint64_t N = 1;
  for (uint32_t I = 0; I < D.Rank; ++I)
    N *= D.Dims[I];
  return static_cast<uint32_t>(N);
}

uint32_t getDeviceCount(void *) { return 2; }

OptimaStatus getDevice(void *, uint32_t Ordinal, OptimaExtDeviceDesc *Out, OptimaExtError *E) {
  if (Ordinal > 1) {
    setError(E, "no such device");
    return OPTIMA_STATUS_INVALID_ARGUMENT;
  }
  Out->StructSize = sizeof(OptimaExtDeviceDesc);
  Out->Kind = Ordinal == 0 ? OPTIMA_DEVICE_X64 : OPTIMA_DEVICE_NVIDIA;
  Out->Index = 0;
  Out->Name = Ordinal == 0 ? "CoreTest CPU" : "CoreTest GPU";
  Out->Id = "";
  Out->Flags = Ordinal == 0 ? OPTIMA_EXT_DEVICE_HOST_MEMORY : 0u;
  Out->Alignment = Ordinal == 0 ? 64 : 256;
  return OPTIMA_STATUS_OK;
}

OptimaStatus loadSubgraph(void *, uint32_t Device, const char *Folder, const OptimaExtTensorDesc *Inputs,
                          uint32_t InputCount, const OptimaExtTensorDesc *Outputs, uint32_t OutputCount,
                          OptimaExtSubgraph **Out, OptimaExtError *E) {
  std::ifstream In(std::string(Folder) + "/op.txt");
  if (!In) {
    setError(E, "op.txt: missing");
    return OPTIMA_STATUS_INVALID_MODEL;
  }
  auto G = new Subgraph();
  G->Device = Device;
  std::string Word;
  while (In >> Word) {
    if (Word == "add") In >> G->Constant;
    else if (Word == "sleep") In >> G->SleepMs;
    else if (Word == "layers") In >> G->Layers;
    else if (Word == "fail" || Word == "throw") G->Failure = Word;
    else if (Word == "status") { G->Failure = Word; In >> G->Status; }
    else if (Word == "loadfail") {
      delete G;
      setError(E, "op.txt: injected load failure");
      return OPTIMA_STATUS_INVALID_MODEL;
    } else {
      delete G;
      setError(E, "op.txt: unknown word " + Word);
      return OPTIMA_STATUS_INVALID_MODEL;
    }
  }
  for (uint32_t I = 0; I < InputCount + OutputCount; ++I) {
    const OptimaExtTensorDesc &D = I < InputCount ? Inputs[I] : Outputs[I - InputCount];
    if (D.ElementType != OPTIMA_ELEMENT_F32) {
      delete G;
      setError(E, std::string("tensor ") + D.Name + ": only F32 is supported");
      return OPTIMA_STATUS_UNSUPPORTED;
    }
    (I < InputCount ? G->Inputs : G->Outputs).push_back(Tensor{elementsOf(D)});
  }
  for (int L = 0; L < G->Layers; ++L)
    G->LayerNames.push_back("L" + std::to_string(L));
  ++LiveObjects;
  *Out = reinterpret_cast<OptimaExtSubgraph *>(G);
  return OPTIMA_STATUS_OK;
}

void unloadSubgraph(void *, OptimaExtSubgraph *S) {
  if (!S)
    return;
  delete reinterpret_cast<Subgraph *>(S);
  --LiveObjects;
}

OptimaStatus createRequestState(void *, OptimaExtSubgraph *S, OptimaExtRequestState **Out, OptimaExtError *) {
  ++LiveObjects;
  *Out = reinterpret_cast<OptimaExtRequestState *>(new State{reinterpret_cast<Subgraph *>(S)});
  return OPTIMA_STATUS_OK;
}

void destroyRequestState(void *, OptimaExtRequestState *S) {
  if (!S)
    return;
  delete reinterpret_cast<State *>(S);
  --LiveObjects;
}

struct AddJob {
  const std::vector<const float *> *In;
  const Subgraph *G;
  float *Out;
};

void addRange(void *UserData, size_t Begin, size_t End) {
  auto &J = *static_cast<AddJob *>(UserData);
  for (size_t I = Begin; I < End; ++I) {
    float V = J.G->Constant;
    for (size_t K = 0; K < J.In->size(); ++K)
      V += (*J.In)[K][I % J.G->Inputs[K].Elements];
    J.Out[I] = V;
  }
}

OptimaStatus execute(void *Self, OptimaExtRequestState *StatePtr, void *const *Inputs, void *const *Outputs,
                     const OptimaExecContext *Exec, OptimaExtError *E) {
  const OptimaHostApi *Host = static_cast<Instance *>(Self)->Host;
  const Subgraph &G = *reinterpret_cast<State *>(StatePtr)->Graph;
  auto Deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(G.SleepMs);
  while (std::chrono::steady_clock::now() < Deadline) {
    if (Exec->isCancelled(Exec->Sink)) {
      setError(E, "cancelled");
      return OPTIMA_STATUS_CANCELLED;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (G.Failure == "fail") {
    setError(E, "injected failure");
    return OPTIMA_STATUS_EXECUTION_FAILED;
  }
  if (G.Failure == "throw")
    throw std::runtime_error("boom");
  if (G.Failure == "status") {
    setError(E, "injected status");
    return static_cast<OptimaStatus>(G.Status);
  }
  bool OnDevice = G.Device != 0;
  auto Ptr = [&](void *P) {
    return OnDevice ? reinterpret_cast<Buffer *>(P)->Data.data() : static_cast<float *>(P);
  };
  std::vector<const float *> In;
  for (size_t K = 0; K < G.Inputs.size(); ++K)
    In.push_back(Ptr(Inputs[K]));
  for (size_t K = 0; K < G.Outputs.size(); ++K) {
    AddJob Job{&In, &G, Ptr(Outputs[K])};
    Host->parallelFor(Host->HostContext, G.Outputs[K].Elements, 64, addRange, &Job);
  }
  if (Exec->ProfilingEnabled)
    for (const auto &Name : G.LayerNames)
      Exec->profileEvent(Exec->Sink, OPTIMA_PROFILE_LAYER_EXECUTE, Name.c_str(), 1000);
  return OPTIMA_STATUS_OK;
}

OptimaStatus allocBuffer(void *, uint32_t Device, size_t Bytes, OptimaExtBuffer **Out, OptimaExtError *E) {
  if (Device != 1) {
    setError(E, "allocBuffer on a host-memory device");
    return OPTIMA_STATUS_INVALID_ARGUMENT;
  }
  auto B = new Buffer();
  B->Data.assign((Bytes + 3) / 4, -1.0f); // garbage-like content: outputs must be copied back
  ++LiveObjects;
  *Out = reinterpret_cast<OptimaExtBuffer *>(B);
  return OPTIMA_STATUS_OK;
}

void freeBuffer(void *, OptimaExtBuffer *B) {
  if (!B)
    return;
  delete reinterpret_cast<Buffer *>(B);
  --LiveObjects;
}

OptimaStatus mapBuffer(void *, OptimaExtBuffer *BPtr, uint32_t, void **HostPtr, OptimaExtError *E) {
  auto *B = reinterpret_cast<Buffer *>(BPtr);
  if (B->Maps != 0) {
    setError(E, "buffer already mapped");
    return OPTIMA_STATUS_INVALID_ARGUMENT;
  }
  ++B->Maps;
  *HostPtr = B->Data.data();
  return OPTIMA_STATUS_OK;
}

OptimaStatus unmapBuffer(void *, OptimaExtBuffer *BPtr, OptimaExtError *E) {
  auto *B = reinterpret_cast<Buffer *>(BPtr);
  if (B->Maps != 1) {
    setError(E, "buffer not mapped");
    return OPTIMA_STATUS_INVALID_ARGUMENT;
  }
  --B->Maps;
  return OPTIMA_STATUS_OK;
}

void release(void *Self) {
  delete static_cast<Instance *>(Self);
  --LiveObjects;
}

const OptimaExtension TableTemplate = {
    sizeof(OptimaExtension), OPTIMA_EXT_ABI_VERSION, "coretest", "1.0", CORE_TEST_FRAMEWORK, nullptr,
    getDeviceCount, getDevice, loadSubgraph, unloadSubgraph, createRequestState, destroyRequestState,
    execute, allocBuffer, freeBuffer, mapBuffer, unmapBuffer, release};

} // namespace

extern "C" OPTIMA_EXT_EXPORT int coreTestLiveObjects(void) { return LiveObjects.load(); }

extern "C" OPTIMA_EXT_EXPORT OptimaStatus optimaV2ExtensionInit(const OptimaHostApi *HostApi, uint32_t HostAbiVersion,
                                                                OptimaExtension **Out, OptimaExtError *E) {
  if (HostAbiVersion != OPTIMA_EXT_ABI_VERSION || !HostApi) {
    setError(E, "unsupported host ABI");
    return OPTIMA_STATUS_UNSUPPORTED;
  }
  auto *I = new Instance{TableTemplate, HostApi};
  I->Table.Self = I;
  ++LiveObjects;
  *Out = &I->Table;
  return OPTIMA_STATUS_OK;
}
