// Helpers for the data-movement op tests: N-D index walking for the naive references, and a
// run that expects a run-time failure (bad index data).
#pragma once

#include "NativeTestUtil.h"

#include <gtest/gtest.h>

#include <functional>

namespace native_test {

inline std::vector<int64_t> rowStrides(const Shape &S) {
  std::vector<int64_t> R(S.size());
  int64_t Acc = 1;
  for (size_t I = S.size(); I-- > 0;) {
    R[I] = Acc;
    Acc *= S[I];
  }
  return R;
}

// Calls F(index, linear) for every element of S in row-major order.
inline void forEachIndex(const Shape &S,
                         const std::function<void(const std::vector<int64_t> &, size_t)> &F) {
  size_t N = elementCount(S);
  std::vector<int64_t> Idx(S.size(), 0);
  for (size_t L = 0; L < N; ++L) {
    F(Idx, L);
    for (size_t D = S.size(); D-- > 0;) {
      if (++Idx[D] < S[D])
        break;
      Idx[D] = 0;
    }
  }
}

inline size_t offsetOf(const Shape &S, const std::vector<int64_t> &Idx) {
  auto St = rowStrides(S);
  size_t O = 0;
  for (size_t I = 0; I < S.size(); ++I)
    O += size_t(Idx[I] * St[I]);
  return O;
}

inline std::vector<float> iotaFloats(size_t N, float Start = 0) {
  std::vector<float> V(N);
  for (size_t I = 0; I < N; ++I)
    V[I] = Start + float(I);
  return V;
}

// Loads Spec, runs it once expecting OPTIMA_STATUS_EXECUTION_FAILED; returns the message.
inline std::string runExpectingFailure(const GraphSpec &Spec, const std::vector<Bytes> &Inputs) {
  TempDir Dir;
  auto Graph = load(Spec, Dir);
  optima_v2::native::GraphInstance Instance(Graph);
  std::vector<Bytes> In = Inputs, Out(Graph->outputCount());
  std::vector<void *> InP, OutP;
  for (auto &B : In)
    InP.push_back(B.data());
  for (size_t I = 0; I < Out.size(); ++I) {
    Out[I].assign(Graph->outputBytes(uint32_t(I)), 0);
    OutP.push_back(Out[I].data());
  }
  optima_v2::native::ExecHooks Hooks;
  EXPECT_EQ(Instance.execute(InP.data(), OutP.data(), Hooks), OPTIMA_STATUS_EXECUTION_FAILED);
  return Instance.failureMessage();
}

} // namespace native_test
