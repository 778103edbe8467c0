// Helpers for the core tests: model folders for the core test extension (op.txt subgraphs).
#pragma once

#include <OptimaV2/Runtime.h>

#include <filesystem>
#include <string>
#include <vector>

namespace optima_v2::coretest {

namespace rt = optima_v2::runtime;

// Writes Text to Path (creating parent folders).
void writeFile(const std::filesystem::path &Path, const std::string &Text);

// A context with only the core test extension (framework TFLite, devices x64:0 host, NVIDIA:0).
rt::Context makeTestContext(uint32_t Threads = 2, bool EnableProfile = true);

// One subgraph of a core-test model: name, device, op.txt text, inputs, outputs.
struct TestSubgraph {
  std::string Name, Device, Op;
  std::vector<std::string> Inputs, Outputs;
};

// Writes model.meta (all tensors F32 of Shape) and Subgraph_i/op.txt.
void writeTestModel(const std::filesystem::path &Dir, const std::vector<std::string> &Inputs,
                    const std::vector<std::string> &Outputs, const std::vector<std::string> &Boundaries,
                    const std::vector<TestSubgraph> &Subgraphs, const std::vector<uint32_t> &Shape = {2, 3});

// Message of the exception F throws as E (fails the test when it throws something else).
template <class E, class F> std::string messageOf(F &&Fn) {
  try {
    Fn();
  } catch (const E &Ex) {
    return Ex.what();
  }
  return "<no exception>";
}

} // namespace optima_v2::coretest
