// C++ API of the native graph core (static library `optima_v2_native_core`): loads a native
// subgraph folder (graph.json + weights) and runs it on the CPU. Used by the `native` extension
// and by any other extension that adopts the native graph format (the test accelerator).
// Depends only on the extension ABI header: no runtime-core types appear here.
#pragma once

#include "OptimaV2/Extension/Extension.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace optima_v2::native {

// Every failure of the core: a status for the ABI and a message that names the file and field,
// relative to the subgraph folder (e.g. `graph.json: nodes[3].attributes.pads: expected ints`).
class NativeError : public std::runtime_error {
public:
  NativeError(OptimaStatus Status, const std::string &Message)
      : std::runtime_error(Message), Status(Status) {}
  OptimaStatus status() const noexcept { return Status; }

private:
  OptimaStatus Status;
};

// Host services used while executing. All members may be null: then work runs serially, nothing
// is profiled and nothing cancels.
struct ExecHooks {
  void *HostContext = nullptr;
  void (*ParallelFor)(void *HostContext, size_t Count, size_t Grain, OptimaParallelFn Fn,
                      void *UserData) = nullptr;
  uint32_t ThreadCount = 1;
  const OptimaExecContext *Exec = nullptr; // profiling and cancellation

  static ExecHooks fromHost(const OptimaHostApi *Host, const OptimaExecContext *Exec);
};

struct GraphData; // internal: tensors, kernels, memory plan, mapped weights

// A loaded subgraph: immutable, shared by every request (weights are mapped once).
class NativeGraph {
public:
  // Loads FolderPath/graph.json and checks that the graph's declared inputs and outputs equal the
  // descriptors (what model.meta declares), in order, type and shape. Throws NativeError:
  // INVALID_MODEL for a corrupt or inconsistent folder, UNSUPPORTED listing every node whose op,
  // type or attribute the backend cannot run, OUT_OF_RESOURCE when memory or mapping fails.
  static std::shared_ptr<const NativeGraph>
  load(const std::string &FolderPath, const OptimaExtTensorDesc *Inputs, uint32_t InputCount,
       const OptimaExtTensorDesc *Outputs, uint32_t OutputCount);

  ~NativeGraph();
  NativeGraph(const NativeGraph &) = delete;
  NativeGraph &operator=(const NativeGraph &) = delete;

  uint32_t inputCount() const noexcept;
  uint32_t outputCount() const noexcept;
  size_t inputBytes(uint32_t Index) const noexcept;
  size_t outputBytes(uint32_t Index) const noexcept;
  // Bytes of the per-request arena (intermediate tensors + kernel scratch).
  size_t arenaBytes() const noexcept;
  size_t nodeCount() const noexcept;
  // Node (layer) name; the pointer stays valid as long as the graph lives.
  const char *nodeName(size_t Index) const noexcept;

  const GraphData &data() const noexcept { return *Data; }

private:
  explicit NativeGraph(std::unique_ptr<GraphData> Data);
  std::unique_ptr<GraphData> Data;
};

// Per-request state: the activation arena, allocated once here and never grown. One execute() at
// a time per instance; many instances of one graph may run concurrently.
class GraphInstance {
public:
  // Throws NativeError(OUT_OF_RESOURCE) when the arena cannot be allocated.
  explicit GraphInstance(std::shared_ptr<const NativeGraph> Graph);
  ~GraphInstance();
  GraphInstance(const GraphInstance &) = delete;
  GraphInstance &operator=(const GraphInstance &) = delete;

  const NativeGraph &graph() const noexcept { return *Graph; }

  // Runs every node in order. Inputs/Outputs are host pointers in the graph's declared order,
  // each at least inputBytes/outputBytes long. Returns OPTIMA_STATUS_OK, or
  // OPTIMA_STATUS_CANCELLED when Hooks.Exec->isCancelled reported true between two nodes, or
  // OPTIMA_STATUS_EXECUTION_FAILED when a kernel rejected run-time data (failureMessage()).
  // Allocates nothing.
  OptimaStatus execute(void *const *Inputs, void *const *Outputs, const ExecHooks &Hooks);
  // After EXECUTION_FAILED: "node \"<name>\" (<op>): <problem>"; empty otherwise.
  const char *failureMessage() const noexcept;

private:
  std::shared_ptr<const NativeGraph> Graph;
  struct State;
  std::unique_ptr<State> S;
};

} // namespace optima_v2::native
