// Shared helpers of the API tests: build-tree paths, a sample-model fixture, a watchdog that turns a
// deadlock into a failure, and text helpers for mutating model folders.
#pragma once

#include "TestModels.h"

#include <OptimaV2/Runtime.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace optima_v2::test {

namespace rt = ::optima_v2::runtime;

// The native extension as built in this build tree.
std::filesystem::path nativeExtensionPath();

// Whole text of a file / overwrite a file with text.
std::string readText(const std::filesystem::path &Path);
void writeTextFile(const std::filesystem::path &Path, const std::string &Text);
// Replaces the first occurrence of From in the file (the test fails when it is absent, so a change
// in the writer's output cannot silently turn a corruption test into a no-op).
void replaceInFile(const std::filesystem::path &Path, const std::string &From, const std::string &To);

// Aborts the process with a message when not disarmed within Limit: a hung runtime becomes a
// visible failure instead of a test that never ends.
class Watchdog {
public:
  Watchdog(std::chrono::seconds Limit, std::string What);
  ~Watchdog();
  Watchdog(const Watchdog &) = delete;
  Watchdog &operator=(const Watchdog &) = delete;

private:
  std::mutex Mutex;
  std::condition_variable Cv;
  bool Done = false;
  std::thread Thread;
};

// Deterministic inputs of the sample model (Variant picks one of many different sets) and the
// expected output computed by the naive reference.
struct SampleCase {
  std::vector<float> Input1, Input2, Expected;
};
SampleCase makeSampleCase(uint32_t Variant);

// Copies the case's inputs into the sample model's request (by name).
void setInputs(rt::InferRequest &Req, const SampleCase &Case);
// The sample model's output_1.
std::vector<float> output(rt::InferRequest &Req);
// Sets the inputs, runs to completion and checks output_1 against Case.Expected.
void expectRunMatches(rt::InferRequest &Req, const SampleCase &Case);

// Largest |A[i] - B[i]| (infinity when the sizes differ).
float maxAbsDiff(const std::vector<float> &A, const std::vector<float> &B);

// A model slow enough that an inference is still running a few milliseconds after infer():
// Layers x (Conv3x3 C->C, pad 1 + Relu) on [1, C, Size, Size] in one native subgraph.
void writeSlowModel(const std::filesystem::path &Folder, uint32_t Layers = 12, uint32_t Channels = 32,
                    uint32_t Size = 64);

// A temp folder holding the sample model, and a context (default options) that loaded it.
class SampleModelTest : public ::testing::Test {
protected:
  void SetUp() override;

  TempDir Dir{"optima_v2_api"};
  std::filesystem::path ModelPath;
  rt::Context Context;
  rt::Model Model;
};

} // namespace optima_v2::test
