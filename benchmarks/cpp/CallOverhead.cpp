// Per-call overhead of `Req.infer(); Req.wait();` on a compiled model folder whose inputs are set
// once up front (benchmarks/call_overhead.py builds a one-Add model and runs this binary).
//
// Usage: optima_v2_call_overhead MODEL_DIR [--rounds N] [--batches N] [--batch N]
//                                 [--threads N] [--profile]
// Prints one JSON object: per-call median/p90/min in microseconds over samples, where one sample
// is the mean of --batch back-to-back calls (timing each call alone would add the clock's cost).
// "handoff_*" is the same statistic for a bare condition-variable round trip to a second thread
// (what any infer-on-a-worker / sleep-in-wait design pays at least on this machine).
#include <OptimaV2/Runtime.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rt = optima_v2::runtime;

namespace {

struct Options {
  std::string ModelDir;
  int Rounds = 30;
  int Batches = 20;
  int Batch = 50;
  uint32_t Threads = 1;
  bool Profile = false;
};

int parsePositive(const char *Flag, const char *Value) {
  char *End = nullptr;
  long Parsed = std::strtol(Value, &End, 10);
  if (End == Value || *End != '\0' || Parsed <= 0 || Parsed > 10000000) {
    std::fprintf(stderr, "%s: expected a positive integer, got '%s'\n", Flag, Value);
    std::exit(2);
  }
  return static_cast<int>(Parsed);
}

Options parseArgs(int Argc, char **Argv) {
  Options O;
  for (int I = 1; I < Argc; ++I) {
    std::string Arg = Argv[I];
    bool HasValue = I + 1 < Argc;
    if (Arg == "--profile") {
      O.Profile = true;
    } else if ((Arg == "--rounds" || Arg == "--batches" || Arg == "--batch" || Arg == "--threads") &&
               HasValue) {
      int V = parsePositive(Argv[I], Argv[I + 1]);
      ++I;
      if (Arg == "--rounds")
        O.Rounds = V;
      else if (Arg == "--batches")
        O.Batches = V;
      else if (Arg == "--batch")
        O.Batch = V;
      else
        O.Threads = static_cast<uint32_t>(V);
    } else if (O.ModelDir.empty() && !Arg.empty() && Arg[0] != '-') {
      O.ModelDir = Arg;
    } else {
      std::fprintf(stderr, "unexpected argument '%s'\n", Argv[I]);
      std::exit(2);
    }
  }
  if (O.ModelDir.empty()) {
    std::fprintf(stderr,
                 "usage: %s MODEL_DIR [--rounds N] [--batches N] [--batch N] [--threads N] [--profile]\n",
                 Argv[0]);
    std::exit(2);
  }
  return O;
}

// Nearest-rank percentile of a sorted, non-empty vector.
double percentile(const std::vector<double> &Sorted, double P) {
  size_t Rank = static_cast<size_t>(P / 100.0 * static_cast<double>(Sorted.size() - 1) + 0.5);
  return Sorted[std::min(Rank, Sorted.size() - 1)];
}

using Clock = std::chrono::steady_clock;

// Runs Call Batch times per sample, Rounds * Batches samples; returns sorted µs per call.
template <class F> std::vector<double> sampleCalls(const Options &O, F &&Call) {
  for (int I = 0; I < 2000; ++I) // warm-up: page faults and pool wake-up are not measured
    Call();
  std::vector<double> Samples;
  Samples.reserve(static_cast<size_t>(O.Rounds) * static_cast<size_t>(O.Batches));
  for (int R = 0; R < O.Rounds; ++R) {
    for (int B = 0; B < O.Batches; ++B) {
      auto Start = Clock::now();
      for (int I = 0; I < O.Batch; ++I)
        Call();
      auto Ns = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - Start).count();
      Samples.push_back(static_cast<double>(Ns) / 1000.0 / O.Batch);
    }
  }
  std::sort(Samples.begin(), Samples.end());
  return Samples;
}

// A second thread that acknowledges each request through a mutex + condition variables: the
// hand-off floor of "queue work to a sleeping worker, sleep until it signals back".
class HandoffPeer {
public:
  HandoffPeer() : Worker([this] { serve(); }) {}
  ~HandoffPeer() {
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      Stop = true;
    }
    WorkReady.notify_one();
    Worker.join();
  }
  HandoffPeer(const HandoffPeer &) = delete;
  HandoffPeer &operator=(const HandoffPeer &) = delete;

  void roundTrip() {
    std::unique_lock<std::mutex> Lock(Mutex);
    uint64_t Mine = ++Sent;
    Lock.unlock();
    WorkReady.notify_one();
    Lock.lock();
    Done.wait(Lock, [&] { return Acked == Mine; });
  }

private:
  void serve() {
    std::unique_lock<std::mutex> Lock(Mutex);
    for (;;) {
      WorkReady.wait(Lock, [&] { return Stop || Sent != Acked; });
      if (Stop)
        return;
      Acked = Sent;
      Done.notify_all();
    }
  }

  std::mutex Mutex;
  std::condition_variable WorkReady, Done;
  uint64_t Sent = 0, Acked = 0;
  bool Stop = false;
  std::thread Worker; // last: started after the state above is constructed
};

// Fills every input with small values so the kernel computes on ordinary floats.
void fillInputs(rt::InferRequest &Req) {
  for (uint32_t I = 0; I < Req.getInputTensorCount(); ++I) {
    rt::Tensor T = Req.getInputTensor(I);
    auto Buffer = T.getBuffer();
    std::memset(Buffer.data(), 0, Buffer.size());
  }
}

} // namespace

int main(int Argc, char **Argv) {
  Options O = parseArgs(Argc, Argv);
  try {
    rt::ContextOptions CtxOptions;
    CtxOptions.ThreadCount = O.Threads;
    CtxOptions.EnableProfile = O.Profile;
    rt::Context Ctx(CtxOptions);
    rt::Model Model = Ctx.loadModel(O.ModelDir);
    rt::InferRequest Req = Model.createRequest();
    fillInputs(Req);

    std::vector<double> Samples = sampleCalls(O, [&] {
      Req.infer();
      Req.wait();
    });
    std::vector<double> Handoff;
    {
      HandoffPeer Peer;
      Handoff = sampleCalls(O, [&] { Peer.roundTrip(); });
    }
    std::printf("{\"median_us\": %.4f, \"p90_us\": %.4f, \"min_us\": %.4f, \"samples\": %zu, "
                "\"calls_per_sample\": %d, \"threads\": %u, \"profile\": %s, "
                "\"handoff_median_us\": %.4f, \"handoff_p90_us\": %.4f, \"handoff_min_us\": %.4f}\n",
                percentile(Samples, 50), percentile(Samples, 90), Samples.front(), Samples.size(), O.Batch,
                Ctx.getThreadCount(), O.Profile ? "true" : "false", percentile(Handoff, 50),
                percentile(Handoff, 90), Handoff.front());
  } catch (const std::exception &E) {
    std::fprintf(stderr, "error: %s\n", E.what());
    return 1;
  }
  return 0;
}
