// Stress and soak (issue #9 item 6). OPTIMA_V2_STRESS_SCALE=long runs the numbers
// (64 requests x 1,000 chained callback inferences, 10,000 create/destroy cycles, 500 model
// load/release rounds under load); unset (or "short") runs a CI-sized slice of each.
// Every output is checked against the naive reference; figures are printed as "[ stress ]" lines.
#include "MutationSupport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <malloc.h>

namespace optima_v2::test::stress {
namespace {

using namespace std::chrono_literals;
using mutation::currentRssKiB;
using mutation::StepWatchdog;
namespace fs = std::filesystem;
namespace rt = ::optima_v2::runtime;

bool longMode() {
  const char *S = std::getenv("OPTIMA_V2_STRESS_SCALE");
  return S && std::string(S) == "long";
}

float maxAbsDiff(const std::vector<float> &A, const std::vector<float> &B) {
  if (A.size() != B.size())
    return std::numeric_limits<float>::infinity();
  float Max = 0;
  for (size_t I = 0; I < A.size(); ++I) {
    float D = std::fabs(A[I] - B[I]);
    if (!(D <= Max))
      Max = std::isnan(D) ? std::numeric_limits<float>::infinity() : D;
  }
  return Max;
}

// One model's inputs and reference outputs, several variants so a stale output cannot pass.
struct Workload {
  std::vector<std::string> InputNames;
  std::string OutputName;
  struct Variant {
    std::vector<std::vector<float>> Inputs;
    std::vector<float> Expected;
  };
  std::vector<Variant> Variants;

  void set(rt::InferRequest &Req, size_t V) const {
    const Variant &X = Variants[V % Variants.size()];
    for (size_t I = 0; I < InputNames.size(); ++I)
      Req.getInputTensor(InputNames[I]).copyFrom(X.Inputs[I].data(), X.Inputs[I].size());
  }
  bool matches(rt::InferRequest &Req, size_t V) const {
    const Variant &X = Variants[V % Variants.size()];
    std::vector<float> Out(X.Expected.size());
    Req.getOutputTensor(OutputName).copyTo(Out.data(), Out.size());
    return maxAbsDiff(Out, X.Expected) <= 1e-4f;
  }
};

Workload sampleWorkload() {
  Workload W{{"input_1", "input_2"}, "output_1", {}};
  for (uint32_t V = 0; V < 6; ++V) {
    auto A = randomFloats(3 * 32 * 32, 300 + 2 * V), B = randomFloats(32 * 32, 301 + 2 * V);
    W.Variants.push_back({{A, B}, referenceSampleModel(A, B)});
  }
  return W;
}

constexpr size_t ChainStages = 2;
Workload chainWorkload() {
  Workload W{{"x"}, "y", {}};
  for (uint32_t V = 0; V < 6; ++V) {
    auto X = randomFloats(4 * 8 * 8, 400 + V);
    W.Variants.push_back({{X}, referenceChainModel(X, ChainStages)});
  }
  return W;
}

class Stress : public ::testing::Test {
protected:
  void SetUp() override {
    writeSampleModel(Dir.path() / "sample");
    writeChainModel(Dir.path() / "chain", std::vector<std::pair<std::string, std::string>>(ChainStages, {"Native", "X64:0"}));
  }
  TempDir Dir{"optima_v2_stress"};
  Workload Sample = sampleWorkload(), Chain = chainWorkload();
};

// Requests that re-run themselves from their callback Rounds times, checking every output.
struct Chains {
  std::atomic<size_t> Completed{0}, Mismatches{0}, Errors{0}, Finished{0};
  std::atomic<bool> Stop{false};
  std::mutex Mutex;
  std::condition_variable Cv;
  std::string FirstProblem;

  void problem(const std::string &P) {
    std::lock_guard<std::mutex> Lock(Mutex);
    if (FirstProblem.empty())
      FirstProblem = P;
  }
  void finish() {
    std::lock_guard<std::mutex> Lock(Mutex);
    ++Finished;
    Cv.notify_all();
  }
  // Rounds = 0: run until Stop.
  void start(rt::InferRequest &Req, const Workload &W, size_t Id, size_t Rounds) {
    auto Round = std::make_shared<size_t>(0);
    Req.setCallback([this, &W, Id, Rounds, Round](rt::InferRequest &R, std::exception_ptr Error) {
      try {
        if (Error) {
          ++Errors;
          problem("request " + std::to_string(Id) + ": " + std::string(rt::getCause(Error)));
          finish();
          return;
        }
        if (!W.matches(R, Id + *Round))
          ++Mismatches;
        ++Completed;
        ++*Round;
        if ((Rounds && *Round == Rounds) || (!Rounds && Stop.load())) {
          finish();
          return;
        }
        W.set(R, Id + *Round);
        R.infer();
      } catch (const std::exception &E) {
        ++Errors;
        problem("request " + std::to_string(Id) + " callback threw: " + E.what());
        finish();
      }
    });
    W.set(Req, Id);
    Req.infer();
  }
  bool waitFor(size_t Count, std::chrono::seconds Limit) {
    std::unique_lock<std::mutex> Lock(Mutex);
    return Cv.wait_for(Lock, Limit, [&] { return Finished.load() == Count; });
  }
};

TEST_F(Stress, SixtyFourRequestsChainingOverTwoModelsOnOneContext) {
  const size_t Requests = 64, Rounds = longMode() ? 1000 : 25;
  StepWatchdog Dog(longMode() ? 3600s : 300s);
  Dog.step("64 chained requests");
  rt::Context Context;
  rt::Model A = Context.loadModel(Dir.path() / "sample"), B = Context.loadModel(Dir.path() / "chain");
  Chains C; // outlives the requests whose callbacks use it
  std::vector<rt::InferRequest> Reqs;
  for (size_t R = 0; R < Requests; ++R)
    Reqs.push_back((R % 2 ? B : A).createRequest());
  auto Start = std::chrono::steady_clock::now();
  for (size_t R = 0; R < Requests; ++R)
    C.start(Reqs[R], R % 2 ? Chain : Sample, R, Rounds);
  ASSERT_TRUE(C.waitFor(Requests, longMode() ? 3000s : 240s))
      << C.Completed.load() << " of " << Requests * Rounds << " inferences completed";
  double Seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();
  for (auto &Req : Reqs)
    EXPECT_FALSE(Req.wait());
  EXPECT_EQ(C.FirstProblem, "");
  EXPECT_EQ(C.Completed.load(), Requests * Rounds);
  EXPECT_EQ(C.Mismatches.load(), 0u);
  EXPECT_EQ(C.Errors.load(), 0u);
  std::printf("[ stress ] chained: %zu requests x %zu rounds = %zu inferences checked in %.1f s, %zu mismatches, "
              "%zu errors\n",
              Requests, Rounds, C.Completed.load(), Seconds, C.Mismatches.load(), C.Errors.load());
  RecordProperty("inferences", int(C.Completed.load()));
}

TEST_F(Stress, CreateDestroyCyclesDoNotGrowMemory) {
  const size_t Cycles = longMode() ? 10000 : 400, Warmup = Cycles / 10;
  StepWatchdog Dog(longMode() ? 3600s : 300s);
  Dog.step("create/destroy cycles");
  long Baseline = 0;
  size_t Mismatches = 0;
  auto Start = std::chrono::steady_clock::now();
  for (size_t I = 0; I < Cycles; ++I) {
    if (I == Warmup) {
      ::malloc_trim(0);
      Baseline = currentRssKiB();
    }
    rt::Context Context;
    rt::Model M = Context.loadModel(Dir.path() / (I % 2 ? "chain" : "sample"));
    rt::InferRequest Req = M.createRequest();
    const Workload &W = I % 2 ? Chain : Sample;
    W.set(Req, I);
    Req.infer();
    ASSERT_FALSE(Req.wait(30s)) << "cycle " << I << " timed out";
    if (!W.matches(Req, I))
      ++Mismatches;
  }
  ::malloc_trim(0);
  long Growth = currentRssKiB() - Baseline;
  double Seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();
  EXPECT_EQ(Mismatches, 0u);
  if (!mutation::UnderSanitizer) { // LeakSanitizer covers leaks there; its quarantine inflates RSS
    EXPECT_LE(Growth, 5 * 1024) << "RSS grew by " << Growth << " KiB over " << Cycles - Warmup << " cycles";
  }
  std::printf("[ stress ] create/destroy: %zu cycles of Context+Model+InferRequest+infer in %.1f s, RSS growth "
              "after warm-up %ld KiB (baseline %ld KiB), %zu mismatches\n",
              Cycles, Seconds, Growth, Baseline, Mismatches);
  RecordProperty("rss_growth_kib", int(Growth));
}

TEST_F(Stress, ModelsLoadedAndReleasedWhileOtherRequestsInfer) {
  const size_t Requests = 8, Loads = longMode() ? 500 : 30;
  StepWatchdog Dog(longMode() ? 3600s : 300s);
  Dog.step("load/release under load");
  rt::Context Context;
  rt::Model Busy = Context.loadModel(Dir.path() / "chain");
  Chains C; // outlives the requests whose callbacks use it
  std::vector<rt::InferRequest> Reqs;
  for (size_t R = 0; R < Requests; ++R)
    Reqs.push_back(Busy.createRequest());
  for (size_t R = 0; R < Requests; ++R)
    C.start(Reqs[R], Chain, R, 0);
  size_t Mismatches = 0;
  for (size_t I = 0; I < Loads; ++I) {
    // A second model comes and goes, and runs, while the chains keep going.
    rt::Model M = Context.loadModel(Dir.path() / (I % 2 ? "sample" : "chain"));
    rt::InferRequest Req = M.createRequest();
    const Workload &W = I % 2 ? Sample : Chain;
    W.set(Req, I);
    Req.infer();
    ASSERT_FALSE(Req.wait(30s));
    if (!W.matches(Req, I))
      ++Mismatches;
  }
  size_t DuringLoads = C.Completed.load();
  C.Stop = true;
  ASSERT_TRUE(C.waitFor(Requests, 120s));
  EXPECT_EQ(C.FirstProblem, "");
  EXPECT_EQ(C.Mismatches.load(), 0u);
  EXPECT_EQ(C.Errors.load(), 0u);
  EXPECT_EQ(Mismatches, 0u);
  EXPECT_GT(DuringLoads, 0u) << "the chains made no progress while models were loaded and released";
  std::printf("[ stress ] load/release: %zu models loaded, run and released while %zu requests chained "
              "(%zu inferences checked), %zu mismatches\n",
              Loads, Requests, C.Completed.load(), Mismatches + C.Mismatches.load());
}

} // namespace
} // namespace optima_v2::test::stress
