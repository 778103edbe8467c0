// sgemm throughput against the machine's measured fp32 peak.
//
// Usage: optima_v2_gemm_bench [--threads N] [--isa generic|avx2|avx512] [--seconds S]
//                             [--shape NAME]   (only the shapes whose name contains NAME)
// Prints one JSON object. The peak is measured, not taken from a datasheet: every thread runs 24
// independent chains of vfmadd231ps on the widest vector ISA the CPU has (zmm: 16 lanes, ymm: 8),
// GFLOP/s = 2 * lanes * FMAs / s, on 1 thread and on N threads at once. Each GEMM figure is the
// best of several timed repetitions after a warm-up (the machine may be shared: best-of reduces
// the noise of other processes), for B read as given ("unpacked") and pre-packed once ("packed").
#include "Gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace nat = optima_v2::native;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point A, Clock::time_point B) {
  return std::chrono::duration<double>(B - A).count();
}

// CPU seconds of this thread / of the whole process: unlike wall time, they exclude the time
// other processes on a shared machine hold the cores.
double cpuSeconds(clockid_t Which) {
  timespec T;
  clock_gettime(Which, &T);
  return double(T.tv_sec) + 1e-9 * double(T.tv_nsec);
}

// A minimal persistent pool behind ExecHooks::ParallelFor (the runtime's own pool lives in the
// core library; this keeps the benchmark about the kernel). Workers spin briefly, then yield.
class SpinPool {
public:
  explicit SpinPool(unsigned Threads) {
    for (unsigned I = 1; I < Threads; ++I)
      Workers.emplace_back([this] { loop(); });
  }
  ~SpinPool() {
    Stop.store(true);
    Generation.fetch_add(1);
    for (std::thread &T : Workers)
      T.join();
  }
  unsigned threads() const { return unsigned(Workers.size()) + 1; }

  static void parallelFor(void *Self, size_t Count, size_t Grain, OptimaParallelFn Fn,
                          void *User) {
    static_cast<SpinPool *>(Self)->run(Count, Grain, Fn, User);
  }

private:
  void run(size_t Count, size_t Grain, OptimaParallelFn Fn, void *User) {
    JobFn = Fn;
    JobUser = User;
    JobCount = Count;
    JobChunk = std::max(Grain, (Count + threads() * 4 - 1) / (threads() * 4));
    Next.store(0);
    Pending.store(int(Workers.size()));
    Generation.fetch_add(1, std::memory_order_release);
    work();
    for (unsigned Spins = 0; Pending.load(std::memory_order_acquire) != 0;)
      if (++Spins > 4096)
        std::this_thread::yield();
      else
        _mm_pause();
  }
  void work() {
    for (;;) {
      size_t B = Next.fetch_add(JobChunk);
      if (B >= JobCount)
        return;
      JobFn(JobUser, B, std::min(JobCount, B + JobChunk));
    }
  }
  void loop() {
    uint64_t Seen = Generation.load();
    for (;;) {
      unsigned Spins = 0;
      while (Generation.load(std::memory_order_acquire) == Seen)
        if (++Spins > 4096)
          std::this_thread::yield();
        else
          _mm_pause();
      Seen = Generation.load();
      if (Stop.load())
        return;
      work();
      Pending.fetch_sub(1, std::memory_order_release);
    }
  }

  std::vector<std::thread> Workers;
  std::atomic<uint64_t> Generation{0};
  std::atomic<size_t> Next{0};
  std::atomic<int> Pending{0};
  std::atomic<bool> Stop{false};
  OptimaParallelFn JobFn = nullptr;
  void *JobUser = nullptr;
  size_t JobCount = 0, JobChunk = 1;
};

constexpr int Chains = 24;

__attribute__((target("avx512f"))) float fmaLoopZmm(uint64_t Iters) {
  __m512 Acc[Chains];
  for (int I = 0; I < Chains; ++I)
    Acc[I] = _mm512_set1_ps(float(I));
  const __m512 X = _mm512_set1_ps(0.999f), Y = _mm512_set1_ps(0.001f);
  for (uint64_t It = 0; It < Iters; ++It)
#pragma GCC unroll 24
    for (int I = 0; I < Chains; ++I)
      Acc[I] = _mm512_fmadd_ps(Acc[I], X, Y);
  __m512 S = Acc[0];
  for (int I = 1; I < Chains; ++I)
    S = _mm512_add_ps(S, Acc[I]);
  float Out[16];
  _mm512_storeu_ps(Out, S);
  return Out[0] + Out[15];
}

__attribute__((target("avx2,fma"))) float fmaLoopYmm(uint64_t Iters) {
  constexpr int C = 12; // 16 ymm registers
  __m256 Acc[C];
  for (int I = 0; I < C; ++I)
    Acc[I] = _mm256_set1_ps(float(I));
  const __m256 X = _mm256_set1_ps(0.999f), Y = _mm256_set1_ps(0.001f);
  for (uint64_t It = 0; It < Iters; ++It)
#pragma GCC unroll 12
    for (int I = 0; I < C; ++I)
      Acc[I] = _mm256_fmadd_ps(Acc[I], X, Y);
  __m256 S = Acc[0];
  for (int I = 1; I < C; ++I)
    S = _mm256_add_ps(S, Acc[I]);
  float Out[8];
  _mm256_storeu_ps(Out, S);
  return Out[0] + Out[7];
}

volatile float Sink;

// Peak GFLOP/s of Threads threads running the FMA loop at once (best of 5).
struct Rate {
  double Wall = 0.0, Cpu = 0.0; // GFLOP/s by wall clock, GFLOP per CPU second
};

Rate measurePeak(bool Zmm, unsigned Threads) {
  const uint64_t Iters = 20'000'000;
  const double Flops = double(Iters) * (Zmm ? Chains * 16 : 12 * 8) * 2.0;
  Rate Best;
  for (int Rep = 0; Rep < 5; ++Rep) {
    std::vector<Rate> Rates(Threads);
    std::vector<std::thread> Pool;
    for (unsigned T = 0; T < Threads; ++T)
      Pool.emplace_back([&, T] {
        auto A = Clock::now();
        double C = cpuSeconds(CLOCK_THREAD_CPUTIME_ID);
        Sink = Zmm ? fmaLoopZmm(Iters) : fmaLoopYmm(Iters);
        Rates[T].Wall = Flops / seconds(A, Clock::now()) / 1e9;
        Rates[T].Cpu = Flops / (cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - C) / 1e9;
      });
    for (std::thread &T : Pool)
      T.join();
    Rate Sum;
    for (const Rate &R : Rates) {
      Sum.Wall += R.Wall;
      Sum.Cpu += R.Cpu;
    }
    Best.Wall = std::max(Best.Wall, Sum.Wall);
    Best.Cpu = std::max(Best.Cpu, Sum.Cpu / Threads); // per CPU second
  }
  return Best;
}

struct Shape {
  const char *Name;
  size_t M, K, N;
};

// Best GFLOP/s over Reps repetitions of at least MinSeconds each (after one warm-up repetition).
Rate timeIt(const std::function<void()> &Call, double FlopsPerCall, double MinSeconds) {
  Rate Best;
  for (int Rep = 0; Rep < 6; ++Rep) {
    size_t Calls = 0;
    auto A = Clock::now(), B = A;
    double C = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
    do {
      Call();
      ++Calls;
      B = Clock::now();
    } while (seconds(A, B) < MinSeconds);
    double Cpu = cpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - C;
    if (Rep > 0) {
      Best.Wall = std::max(Best.Wall, FlopsPerCall * double(Calls) / seconds(A, B) / 1e9);
      Best.Cpu = std::max(Best.Cpu, FlopsPerCall * double(Calls) / Cpu / 1e9);
    }
  }
  return Best;
}

} // namespace

int main(int Argc, char **Argv) {
  unsigned Threads = std::max(1u, std::thread::hardware_concurrency());
  double MinSeconds = 0.15;
  const char *Only = "";
  for (int I = 1; I + 1 < Argc; I += 2) {
    if (!std::strcmp(Argv[I], "--threads")) {
      Threads = unsigned(std::max(1, std::atoi(Argv[I + 1])));
    } else if (!std::strcmp(Argv[I], "--shape")) {
      Only = Argv[I + 1];
    } else if (!std::strcmp(Argv[I], "--seconds")) {
      MinSeconds = std::atof(Argv[I + 1]);
    } else if (!std::strcmp(Argv[I], "--isa")) {
      bool Ok = false;
      for (nat::GemmIsa Isa : nat::AllGemmIsas)
        if (!std::strcmp(Argv[I + 1], nat::gemmIsaName(Isa)))
          Ok = nat::setGemmIsa(Isa);
      if (!Ok) {
        std::fprintf(stderr, "unsupported --isa %s\n", Argv[I + 1]);
        return 2;
      }
    } else {
      std::fprintf(stderr, "unknown option %s\n", Argv[I]);
      return 2;
    }
  }
  const bool Zmm = __builtin_cpu_supports("avx512f");
  const bool Ymm = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  Rate Peak1, PeakN;
  if (Zmm || Ymm) {
    Peak1 = measurePeak(Zmm, 1);
    PeakN = measurePeak(Zmm, Threads);
  }

  SpinPool Pool(Threads);
  nat::ExecHooks Hooks;
  Hooks.HostContext = &Pool;
  Hooks.ParallelFor = SpinPool::parallelFor;
  Hooks.ThreadCount = Threads;
  nat::KernelContext Serial, Parallel;
  Parallel.Hooks = &Hooks;

  const Shape Shapes[] = {{"1024^3", 1024, 1024, 1024},
                          {"mlp_1x784x512", 1, 784, 512},
                          {"bert_128x384x384", 128, 384, 384},
                          {"bert_ffn_128x384x1536", 128, 384, 1536},
                          {"conv_64x576x3136", 64, 576, 3136}};
  std::printf("{\n  \"isa\": \"%s\",\n  \"threads\": %u,\n",
              nat::gemmIsaName(nat::activeGemmIsa()), Threads);
  std::printf("  \"note\": \"best of 5 repetitions; gflops: by wall clock; "
              "gflops_per_cpu_s: flops / process CPU seconds, which excludes time other "
              "processes hold the cores (pct_peak_cpu compares it with the per-thread peak)\",\n");
  std::printf("  \"peak\": {\"method\": \"%s\", \"gflops_1t\": %.1f, \"gflops_nt\": %.1f, "
              "\"gflops_per_cpu_s\": %.1f},\n",
              Zmm   ? "24 independent zmm vfmadd231ps chains per thread, 32 flop each"
              : Ymm ? "12 independent ymm vfmadd231ps chains per thread, 16 flop each"
                    : "none (no FMA ISA)",
              Peak1.Wall, PeakN.Wall, Peak1.Cpu);
  std::printf("  \"gemm\": [\n");
  std::mt19937 Gen(42);
  std::uniform_real_distribution<float> Dist(-1.0f, 1.0f);
  std::vector<Shape> Chosen;
  for (const Shape &Sh : Shapes)
    if (std::strstr(Sh.Name, Only))
      Chosen.push_back(Sh);
  const size_t Count = Chosen.size();
  for (size_t SI = 0; SI < Count; ++SI) {
    const Shape &Sh = Chosen[SI];
    std::vector<float> A(Sh.M * Sh.K), B(Sh.K * Sh.N), C(Sh.M * Sh.N);
    for (float &V : A)
      V = Dist(Gen);
    for (float &V : B)
      V = Dist(Gen);
    nat::GemmShape S;
    S.M = Sh.M;
    S.N = Sh.N;
    S.K = Sh.K;
    S.Lda = Sh.K;
    S.Ldb = Sh.N;
    S.Ldc = Sh.N;
    nat::PackedB Packed;
    Packed.pack(Sh.K, Sh.N, false, B.data(), Sh.N);
    const double Flops = 2.0 * double(Sh.M) * double(Sh.N) * double(Sh.K);
    auto Pct = [](double G, double Peak) { return Peak > 0.0 ? 100.0 * G / Peak : 0.0; };
    std::printf("    {\"name\": \"%s\", \"m\": %zu, \"k\": %zu, \"n\": %zu", Sh.Name, Sh.M,
                Sh.K, Sh.N);
    for (int P = 0; P < 2; ++P)
      for (int T = 0; T < 2; ++T) {
        const nat::KernelContext *Ctx = T ? &Parallel : &Serial;
        Rate R = P ? timeIt([&] {
                       nat::sgemmPacked(S, 1.0f, A.data(), Packed, 0.0f, C.data(), Ctx);
                     }, Flops, MinSeconds)
                   : timeIt([&] {
                       nat::sgemm(S, 1.0f, A.data(), B.data(), 0.0f, C.data(), Ctx);
                     }, Flops, MinSeconds);
        const char *Tag = P ? "packed" : "unpacked";
        const char *Th = T ? "nt" : "1t";
        std::printf(",\n     \"%s_%s\": {\"gflops\": %.1f, \"pct_peak\": %.1f, "
                    "\"gflops_per_cpu_s\": %.1f, \"pct_peak_cpu\": %.1f}",
                    Tag, Th, R.Wall, Pct(R.Wall, T ? PeakN.Wall : Peak1.Wall), R.Cpu,
                    Pct(R.Cpu, Peak1.Cpu));
      }
    std::printf("}%s\n", SI + 1 < Count ? "," : "");
  }
  std::printf("  ]\n}\n");
  return 0;
}
