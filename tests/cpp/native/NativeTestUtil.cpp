#include "NativeTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace fs = std::filesystem;
using optima_v2::native::NativeError;
using optima_v2::native::NativeGraph;

namespace native_test {

TempDir::TempDir() {
  std::string Templ = (fs::temp_directory_path() / "optima_native_XXXXXX").string();
  if (!::mkdtemp(Templ.data()))
    throw std::runtime_error("mkdtemp failed");
  Path = Templ;
}

TempDir::~TempDir() {
  std::error_code Ec;
  fs::remove_all(Path, Ec);
}

void TempDir::writeFile(const std::string &Name, const std::string &Content) const {
  std::ofstream Out(file(Name), std::ios::binary);
  Out.write(Content.data(), std::streamsize(Content.size()));
}

namespace {
std::string quote(const std::string &S) { return "\"" + S + "\""; }
std::string attr(const std::string &Name, const std::string &Type, const std::string &Value) {
  return quote(Name) + ": {\"type\": " + quote(Type) + ", \"value\": " + Value + "}";
}
std::string shapeJson(const Shape &S) {
  std::string J = "[";
  for (size_t I = 0; I < S.size(); ++I)
    J += (I ? ", " : "") + std::to_string(S[I]);
  return J + "]";
}
std::string list(const std::vector<std::string> &Names) {
  std::string J = "[";
  for (size_t I = 0; I < Names.size(); ++I)
    J += (I ? ", " : "") + quote(Names[I]);
  return J + "]";
}
} // namespace

std::string attrInt(const std::string &Name, int64_t V) { return attr(Name, "int", std::to_string(V)); }
std::string attrFloat(const std::string &Name, double V) {
  char Buf[64];
  std::snprintf(Buf, sizeof Buf, "%.17g", V);
  std::string S = Buf;
  if (S.find_first_of(".eE") == std::string::npos)
    S += ".0";
  return attr(Name, "float", S);
}
std::string attrString(const std::string &Name, const std::string &V) {
  return attr(Name, "string", quote(V));
}
std::string attrInts(const std::string &Name, const std::vector<int64_t> &V) {
  return attr(Name, "ints", shapeJson(V));
}

GraphSpec &GraphSpec::tensor(const std::string &Name, const Shape &S, const std::string &Type) {
  Tensors.push_back({Name, Type, S, false, {}});
  return *this;
}

GraphSpec &GraphSpec::constant(const std::string &Name, const Shape &S, const Bytes &Data,
                               const std::string &Type) {
  Tensors.push_back({Name, Type, S, true, Data});
  return *this;
}

GraphSpec &GraphSpec::node(const std::string &Name, const std::string &Op,
                           const std::vector<std::string> &Ins,
                           const std::vector<std::string> &Outs,
                           const std::vector<std::string> &Attrs) {
  Nodes.push_back({Name, Op, Ins, Outs, Attrs});
  return *this;
}

std::string GraphSpec::json() const {
  std::string J = "{\n  \"format\": \"optima-v2-native-graph\",\n  \"format_version\": 1,\n";
  J += "  \"tensors\": [\n";
  size_t Offset = 0;
  for (size_t I = 0; I < Tensors.size(); ++I) {
    const TensorSpec &T = Tensors[I];
    J += "    {\"name\": " + quote(T.Name) + ", \"type\": " + quote(T.Type) +
         ", \"shape\": " + shapeJson(T.Dims);
    if (T.IsConst) {
      J += ", \"data\": {\"offset\": " + std::to_string(Offset) +
           ", \"size\": " + std::to_string(T.Data.size()) + "}";
      Offset += (T.Data.size() + 63) / 64 * 64;
    }
    J += I + 1 < Tensors.size() ? "},\n" : "}\n";
  }
  J += "  ],\n  \"inputs\": " + list(Inputs) + ",\n  \"outputs\": " + list(Outputs) +
       ",\n  \"nodes\": [\n";
  for (size_t I = 0; I < Nodes.size(); ++I) {
    const NodeSpec &N = Nodes[I];
    J += "    {\"name\": " + quote(N.Name) + ", \"op\": " + quote(N.Op) +
         ", \"inputs\": " + list(N.Ins) + ", \"outputs\": " + list(N.Outs);
    if (!N.Attrs.empty()) {
      J += ", \"attributes\": {";
      for (size_t A = 0; A < N.Attrs.size(); ++A)
        J += (A ? ", " : "") + N.Attrs[A];
      J += "}";
    }
    J += I + 1 < Nodes.size() ? "},\n" : "}\n";
  }
  return J + "  ]\n}\n";
}

Bytes GraphSpec::weights() const {
  Bytes W;
  for (const TensorSpec &T : Tensors) {
    if (!T.IsConst)
      continue;
    W.insert(W.end(), T.Data.begin(), T.Data.end());
    W.resize((W.size() + 63) / 64 * 64, 0);
  }
  return W;
}

void GraphSpec::write(const TempDir &Dir) const {
  Dir.writeFile("graph.json", json());
  bool AnyConst = std::any_of(Tensors.begin(), Tensors.end(),
                              [](const TensorSpec &T) { return T.IsConst; });
  if (AnyConst) {
    Bytes W = weights();
    Dir.writeFile("weights.bin", std::string(W.begin(), W.end()));
  }
}

int32_t typeCode(const std::string &Type) {
  static const char *Names[] = {"I8",       "U8",         "I16",    "U16",        "I32",
                                "U32",      "I64",        "U64",    "F16",        "F32",
                                "F64",      "Q8",         "Q16",    "BF16",       "BOOL",
                                "F8E4M3FN", "F8E4M3FNUZ", "F8E5M2", "F8E5M2FNUZ", "F8E8M0",
                                "I4",       "U4",         "F4E2M1", "I2",         "U2"};
  for (int32_t I = 0; I < int32_t(sizeof(Names) / sizeof(Names[0])); ++I)
    if (Type == Names[I])
      return I;
  return -1;
}

const GraphSpec::TensorSpec &GraphSpec::find(const std::string &Name) const {
  for (const TensorSpec &T : Tensors)
    if (T.Name == Name)
      return T;
  throw std::runtime_error("test spec: unknown tensor " + Name);
}

std::vector<OptimaExtTensorDesc> GraphSpec::descs(const std::vector<std::string> &Names) const {
  std::vector<OptimaExtTensorDesc> D;
  for (const std::string &N : Names) {
    OptimaExtTensorDesc E{};
    E.StructSize = sizeof E;
    const TensorSpec *T = nullptr;
    for (const TensorSpec &C : Tensors)
      if (C.Name == N)
        T = &C;
    E.Name = T ? T->Name.c_str() : N.c_str();
    E.ElementType = T ? typeCode(T->Type) : OPTIMA_ELEMENT_F32;
    if (T) {
      E.Rank = uint32_t(std::min<size_t>(T->Dims.size(), OPTIMA_EXT_MAX_DIMS));
      for (uint32_t I = 0; I < E.Rank; ++I)
        E.Dims[I] = uint32_t(T->Dims[I]);
    }
    D.push_back(E);
  }
  return D;
}

std::shared_ptr<const NativeGraph> load(const GraphSpec &Spec, const TempDir &Dir) {
  Spec.write(Dir);
  auto In = Spec.inputDescs();
  auto Out = Spec.outputDescs();
  return NativeGraph::load(Dir.path(), In.data(), uint32_t(In.size()), Out.data(),
                           uint32_t(Out.size()));
}

void threadedParallelFor(void *HostContext, size_t Count, size_t Grain, OptimaParallelFn Fn,
                         void *UserData) {
  unsigned Threads = *static_cast<unsigned *>(HostContext);
  size_t Chunks = std::max<size_t>(1, std::min<size_t>(Threads * 3, Count / std::max<size_t>(Grain, 1)));
  size_t Per = (Count + Chunks - 1) / Chunks;
  std::vector<std::thread> Pool;
  for (size_t C = 1; C < Chunks; ++C) {
    size_t B = C * Per, E = std::min(Count, B + Per);
    if (B < E)
      Pool.emplace_back([=] { Fn(UserData, B, E); });
  }
  Fn(UserData, 0, std::min(Count, Per)); // the caller takes part
  for (std::thread &T : Pool)
    T.join();
}

std::vector<Bytes> run(const NativeGraph &Graph, const std::vector<Bytes> &Inputs, unsigned Threads) {
  // A non-owning shared_ptr: the test keeps the graph alive.
  std::shared_ptr<const NativeGraph> Ref(&Graph, [](const NativeGraph *) {});
  optima_v2::native::GraphInstance Instance(Ref);
  std::vector<void *> In, Out;
  std::vector<Bytes> InCopies = Inputs, Outputs(Graph.outputCount());
  for (size_t I = 0; I < InCopies.size(); ++I) {
    EXPECT_EQ(InCopies[I].size(), Graph.inputBytes(uint32_t(I))) << "input " << I;
    InCopies[I].resize(Graph.inputBytes(uint32_t(I)));
    In.push_back(InCopies[I].data());
  }
  for (size_t I = 0; I < Outputs.size(); ++I) {
    Outputs[I].assign(Graph.outputBytes(uint32_t(I)), 0xCD); // garbage: kernels must overwrite
    Out.push_back(Outputs[I].data());
  }
  optima_v2::native::ExecHooks Hooks;
  if (Threads > 1) {
    Hooks.HostContext = &Threads;
    Hooks.ParallelFor = threadedParallelFor;
    Hooks.ThreadCount = Threads;
  }
  EXPECT_EQ(Instance.execute(In.data(), Out.data(), Hooks), OPTIMA_STATUS_OK);
  return Outputs;
}

std::vector<float> randomFloats(size_t N, uint32_t Seed, float Lo, float Hi) {
  std::mt19937 Gen(Seed);
  std::uniform_real_distribution<float> Dist(Lo, Hi);
  std::vector<float> V(N);
  for (float &X : V)
    X = Dist(Gen);
  return V;
}

size_t elementCount(const Shape &S) {
  size_t N = 1;
  for (int64_t D : S)
    N *= size_t(D);
  return N;
}

void expectLoadError(const GraphSpec &Spec, OptimaStatus Status,
                     const std::vector<std::string> &Fragments) {
  TempDir Dir;
  try {
    load(Spec, Dir);
    ADD_FAILURE() << "load succeeded; expected status " << Status;
  } catch (const NativeError &E) {
    EXPECT_EQ(E.status(), Status) << E.what();
    for (const std::string &F : Fragments)
      EXPECT_NE(std::string(E.what()).find(F), std::string::npos)
          << "message: " << E.what() << "\nmissing: " << F;
  }
}

} // namespace native_test
