// Test helpers for the native backend: write a native subgraph folder (graph.json + weights.bin)
// from a small in-memory description, load it with the core, and run it serially or on threads.
#pragma once

#include "OptimaV2/Native/NativeGraph.h"
#include "Gemm.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace native_test {

using Shape = std::vector<int64_t>;
using Bytes = std::vector<uint8_t>;

// A fresh temporary folder, removed (recursively) on destruction.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string &path() const { return Path; }
  std::string file(const std::string &Name) const { return Path + "/" + Name; }
  void writeFile(const std::string &Name, const std::string &Content) const;

private:
  std::string Path;
};

// Attribute JSON members, e.g. attrInts("pads", {1, 1, 1, 1}).
std::string attrInt(const std::string &Name, int64_t V);
std::string attrFloat(const std::string &Name, double V);
std::string attrString(const std::string &Name, const std::string &V);
std::string attrInts(const std::string &Name, const std::vector<int64_t> &V);

template <typename T> Bytes toBytes(const std::vector<T> &V) {
  Bytes B(V.size() * sizeof(T));
  if (!V.empty())
    std::memcpy(B.data(), V.data(), B.size());
  return B;
}
template <typename T> std::vector<T> fromBytes(const Bytes &B) {
  std::vector<T> V(B.size() / sizeof(T));
  if (!V.empty())
    std::memcpy(V.data(), B.data(), B.size());
  return V;
}

class GraphSpec {
public:
  GraphSpec &tensor(const std::string &Name, const Shape &S, const std::string &Type = "F32");
  GraphSpec &constant(const std::string &Name, const Shape &S, const Bytes &Data,
                      const std::string &Type = "F32");
  GraphSpec &constantF32(const std::string &Name, const Shape &S, const std::vector<float> &V) {
    return constant(Name, S, toBytes(V), "F32");
  }
  GraphSpec &constantI64(const std::string &Name, const Shape &S, const std::vector<int64_t> &V) {
    return constant(Name, S, toBytes(V), "I64");
  }
  GraphSpec &input(const std::string &Name) { Inputs.push_back(Name); return *this; }
  GraphSpec &output(const std::string &Name) { Outputs.push_back(Name); return *this; }
  GraphSpec &node(const std::string &Name, const std::string &Op,
                  const std::vector<std::string> &Ins, const std::vector<std::string> &Outs,
                  const std::vector<std::string> &Attrs = {});

  std::string json() const;
  Bytes weights() const;
  void write(const TempDir &Dir) const; // graph.json + weights.bin (if any constant)

  // Descriptors as model.meta would declare them (pointers into this spec).
  std::vector<OptimaExtTensorDesc> inputDescs() const { return descs(Inputs); }
  std::vector<OptimaExtTensorDesc> outputDescs() const { return descs(Outputs); }

private:
  struct TensorSpec {
    std::string Name, Type;
    Shape Dims;
    bool IsConst = false;
    Bytes Data;
  };
  struct NodeSpec {
    std::string Name, Op;
    std::vector<std::string> Ins, Outs, Attrs;
  };
  std::vector<OptimaExtTensorDesc> descs(const std::vector<std::string> &Names) const;
  const TensorSpec &find(const std::string &Name) const;

  std::vector<TensorSpec> Tensors;
  std::vector<std::string> Inputs, Outputs;
  std::vector<NodeSpec> Nodes;
};

int32_t typeCode(const std::string &Type);

// Writes the spec to Dir and loads it (throws NativeError like the core).
std::shared_ptr<const optima_v2::native::NativeGraph> load(const GraphSpec &Spec, const TempDir &Dir);

// Runs Graph once. Threads > 1 uses a parallelFor that really splits work across threads.
std::vector<Bytes> run(const optima_v2::native::NativeGraph &Graph, const std::vector<Bytes> &Inputs,
                       unsigned Threads = 1);

// A parallelFor that splits [0, Count) over up to N std::threads (for ExecHooks).
void threadedParallelFor(void *HostContext, size_t Count, size_t Grain, OptimaParallelFn Fn,
                         void *UserData);

std::vector<float> randomFloats(size_t N, uint32_t Seed, float Lo = -1.0f, float Hi = 1.0f);
size_t elementCount(const Shape &S);

// Loads the spec expecting a NativeError with Status whose message contains every fragment.
void expectLoadError(const GraphSpec &Spec, OptimaStatus Status,
                     const std::vector<std::string> &Fragments);

// Puts the GEMM family active at construction back when the scope ends, also when an ASSERT
// leaves it early (a later test would otherwise run under the family a failed one switched to).
struct RestoreGemmIsa {
  optima_v2::native::GemmIsa Saved = optima_v2::native::activeGemmIsa();
  ~RestoreGemmIsa() { optima_v2::native::setGemmIsa(Saved); }
};

} // namespace native_test
