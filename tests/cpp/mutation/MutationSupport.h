// Shared pieces of the mutation and bounded-resource tests: base models with their oracle, file
// helpers, a JSON value locator for value swaps, and a watchdog that turns a hang into a failure.
#pragma once

#include "TestModels.h"

#include <OptimaV2/Runtime.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace optima_v2::test::mutation {

namespace rt = ::optima_v2::runtime;
namespace fs = std::filesystem;

std::string readBytes(const fs::path &Path);
void writeBytes(const fs::path &Path, const std::string &Bytes);

// One JSON value in a document: its byte range, kind ('o' object, 'a' array, 's' string, 'n'
// number, 'l' true/false/null) and its path ("subgraphs[0].path"). Keys are not values.
struct JsonSpan {
  size_t Begin = 0, End = 0;
  char Kind = 'l';
  std::string Path;
};
// Every value of a (valid) JSON text, in document order.
std::vector<JsonSpan> locateJsonValues(const std::string &Text);

// A model the suite mutates: written once into a folder, with an oracle that computes the
// expected outputs from the (possibly mutated) weights files of a folder with the naive reference.
struct BaseModel {
  std::string Name;
  fs::path Folder;                     // the pristine copy
  std::vector<std::string> Files;      // relative paths of every file
  std::vector<std::string> Subfolders; // relative paths of the subgraph folders
  // Runs one inference on a loaded model of folder Dir; returns "" when every output matches the
  // oracle computed from Dir's weights, else what differs. CheckValues=false only runs it.
  std::function<std::string(rt::Model &, const fs::path &Dir, bool CheckValues)> Run;
};

BaseModel makeSampleBase(const fs::path &Work); // examples/sample_model
BaseModel makeChainBase(const fs::path &Work);  // writeChainModel, 3 native subgraphs

// Sanitizer builds inflate memory (shadow, redzones, quarantine): RSS bounds are only reported there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool UnderSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
inline constexpr bool UnderSanitizer = true;
#else
inline constexpr bool UnderSanitizer = false;
#endif
#else
inline constexpr bool UnderSanitizer = false;
#endif

// Process-resident RSS high-water mark in KiB (getrusage).
long maxRssKiB();
// Current resident set in KiB (/proc/self/statm).
long currentRssKiB();

// Aborts the process naming the current step when one step runs longer than Limit.
class StepWatchdog {
public:
  explicit StepWatchdog(std::chrono::seconds Limit);
  ~StepWatchdog();
  void step(const std::string &Name); // a new step starts now

private:
  std::chrono::seconds Limit;
  std::mutex Mutex;
  std::condition_variable Cv;
  bool Done = false;
  std::string Current;
  std::chrono::steady_clock::time_point Started;
  std::thread Thread;
};

} // namespace optima_v2::test::mutation
