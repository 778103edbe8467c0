// Helpers shared by the C++ tests that use the simulated accelerator (tests/cpp/api/Accelerator*,
// Split*, Fault*): contexts with the accelerator loaded, tensor I/O, oracle comparison, a watchdog
// against hangs, and a fixture that checks every device object was released after each test.
#pragma once

#include "SimAccelProbe.h"

#include <OptimaV2/Runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace optima_v2::test {

namespace rt = optima_v2::runtime;

// The native extension's device on this machine, as written in model.meta and as reported.
#if defined(__aarch64__)
inline const char *const HostDevice = "ARM64:0";
inline constexpr rt::DeviceKind HostDeviceKind = rt::DeviceKind::ARM64;
#else
inline const char *const HostDevice = "X64:0";
inline constexpr rt::DeviceKind HostDeviceKind = rt::DeviceKind::x64;
#endif
inline const char *const AccelFramework = "OpenCL";
inline const char *const AccelDevice = "NVIDIA:0";

// A Context with the default (native) extensions only: OPTIMA_V2_EXTENSION_PATH is cleared so
// the environment cannot add the accelerator behind the test's back.
inline rt::Context makeNativeContext() {
  unsetenv("OPTIMA_V2_EXTENSION_PATH");
  return rt::Context(rt::ContextOptions());
}

inline rt::Context makeAccelContext() {
  rt::Context Ctx = makeNativeContext();
  Ctx.loadExtension(simAccelPath());
  return Ctx;
}

inline void setInput(rt::InferRequest &Req, uint32_t Index, const std::vector<float> &Data) {
  Req.getInputTensor(Index).copyFrom(Data.data(), Data.size());
}

inline std::vector<float> getOutput(rt::InferRequest &Req, uint32_t Index = 0) {
  rt::Tensor T = Req.getOutputTensor(Index);
  std::vector<float> Out(T.getTensorSize() / sizeof(float));
  T.copyTo(Out.data(), Out.size());
  return Out;
}

// Element-wise |A - E| <= Atol + Rtol * |E|; the first mismatch and the largest error are reported.
inline ::testing::AssertionResult allClose(const std::vector<float> &Actual,
                                           const std::vector<float> &Expected, float Atol = 1e-5f,
                                           float Rtol = 1e-5f) {
  if (Actual.size() != Expected.size())
    return ::testing::AssertionFailure()
           << "size " << Actual.size() << " != expected " << Expected.size();
  double MaxErr = 0;
  size_t Bad = Actual.size();
  for (size_t I = 0; I < Actual.size(); ++I) {
    double Err = std::fabs(double(Actual[I]) - Expected[I]);
    if (!(Err <= Atol + Rtol * std::fabs(Expected[I])) && Bad == Actual.size())
      Bad = I;
    if (!(Err <= MaxErr)) // also catches NaN
      MaxErr = Err;
  }
  if (Bad == Actual.size())
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "element " << Bad << ": " << Actual[Bad] << " vs expected "
                                       << Expected[Bad] << " (max error " << MaxErr << ")";
}

// Kills the process when a scope takes longer than Limit: a hang must fail, not stall ctest.
class Watchdog {
public:
  Watchdog(std::chrono::milliseconds Limit, std::string What) : What(std::move(What)) {
    Thread = std::thread([this, Limit] {
      std::unique_lock<std::mutex> Lock(M);
      if (!Cv.wait_for(Lock, Limit, [this] { return Done; })) {
        std::fprintf(stderr, "WATCHDOG: %s did not finish within %lld ms\n", this->What.c_str(),
                     static_cast<long long>(Limit.count()));
        std::fflush(stderr);
        std::_Exit(3);
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> Lock(M);
      Done = true;
    }
    Cv.notify_all();
    Thread.join();
  }

private:
  std::string What;
  std::mutex M;
  std::condition_variable Cv;
  bool Done = false;
  std::thread Thread;
};

// Polls until the accelerator holds no more objects than Baseline, or Timeout passes; returns
// the last reading. Polling, because the runtime may drop its last reference to a finished request
// (and with it the model, context and extension) on a pool thread just after the owner's handle
// returned from its destructor.
inline SimAccelLive waitForRelease(const SimAccelLive &Baseline,
                                   std::chrono::milliseconds Timeout = std::chrono::seconds(2)) {
  auto Deadline = std::chrono::steady_clock::now() + Timeout;
  for (;;) {
    SimAccelLive L = simAccelLive();
    bool Released = L.Buffers <= Baseline.Buffers && L.Mapped <= Baseline.Mapped &&
                    L.Subgraphs <= Baseline.Subgraphs && L.States <= Baseline.States &&
                    L.Extensions <= Baseline.Extensions;
    if (Released || std::chrono::steady_clock::now() >= Deadline)
      return L;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

inline bool sameCounts(const SimAccelLive &A, const SimAccelLive &B) {
  return A.Buffers == B.Buffers && A.Mapped == B.Mapped && A.Subgraphs == B.Subgraphs &&
         A.States == B.States && A.Extensions == B.Extensions;
}

// Base fixture: after each test (all its Contexts, Models and Requests gone) the accelerator must
// hold no more buffers, mappings, subgraphs, request states or extension instances than before it
// (a baseline rather than zero, so one leak fails one test, not every later one).
class SimAccelTest : public ::testing::Test {
protected:
  void SetUp() override { Before = simAccelLive(); }
  void TearDown() override {
    SimAccelLive After = waitForRelease(Before);
    EXPECT_TRUE(sameCounts(After, Before))
        << "accelerator objects leaked by the test: before " << Before.toString() << ", after "
        << After.toString();
  }
  SimAccelLive Before;
};

inline size_t countKind(const std::vector<rt::ProfileData> &P, rt::ProfileKind Kind) {
  return static_cast<size_t>(
      std::count_if(P.begin(), P.end(), [Kind](const rt::ProfileData &D) { return D.Kind == Kind; }));
}

inline bool containsText(const std::string &Haystack, const std::string &Needle) {
  return Haystack.find(Needle) != std::string::npos;
}

} // namespace optima_v2::test
