// Executor behaviour: profile events per node, cancellation between nodes, arena reuse along a
// chain, and independent concurrent requests on one graph.
#include "NativeTestUtil.h"

#include <gtest/gtest.h>

#include <thread>

using namespace native_test;
using optima_v2::native::ExecHooks;
using optima_v2::native::GraphInstance;

namespace {

// x -> (Add 1) -> t0 -> (Mul 2) -> t1 -> ... alternating; N nodes, all [64, 64].
GraphSpec chain(int Nodes) {
  GraphSpec G;
  G.tensor("x", {64, 64}).input("x").constantF32("one", {}, {1.0f}).constantF32("two", {1}, {2.0f});
  std::string Prev = "x";
  for (int I = 0; I < Nodes; ++I) {
    std::string T = I + 1 == Nodes ? "y" : "t" + std::to_string(I);
    G.tensor(T, {64, 64});
    G.node("n" + std::to_string(I), I % 2 ? "Mul" : "Add", {Prev, I % 2 ? "two" : "one"}, {T});
    Prev = T;
  }
  return G.output("y");
}

float chainRef(float X, int Nodes) {
  for (int I = 0; I < Nodes; ++I)
    X = I % 2 ? X * 2.0f : X + 1.0f;
  return X;
}

struct Sink {
  std::vector<std::pair<int32_t, std::string>> Events;
  int CancelAfter = -1; // isCancelled returns true from this poll on
  int Polls = 0;
};

void profileEvent(void *S, int32_t Kind, const char *Name, uint64_t) {
  static_cast<Sink *>(S)->Events.emplace_back(Kind, Name);
}
int32_t isCancelled(void *S) {
  Sink &K = *static_cast<Sink *>(S);
  return K.CancelAfter >= 0 && K.Polls++ >= K.CancelAfter;
}

} // namespace

TEST(NativeExecutor, ChainReusesArena) {
  const int N = 9;
  TempDir Dir;
  auto Graph = load(chain(N), Dir);
  // 8 intermediates of 16 KiB each, but at most two are alive at once.
  EXPECT_LE(Graph->arenaBytes(), 2u * 64 * 64 * 4);
  std::vector<float> X = randomFloats(64 * 64, 9);
  auto Y = fromBytes<float>(run(*Graph, {toBytes(X)}, 4)[0]);
  for (size_t I = 0; I < X.size(); ++I)
    ASSERT_FLOAT_EQ(Y[I], chainRef(X[I], N));
}

TEST(NativeExecutor, ProfilesEveryNodeByName) {
  TempDir Dir;
  auto Graph = load(chain(3), Dir);
  GraphInstance Instance(Graph);
  Sink S;
  OptimaExecContext Exec{sizeof(OptimaExecContext), &S, 1, profileEvent, isCancelled};
  ExecHooks Hooks = ExecHooks::fromHost(nullptr, &Exec);
  std::vector<float> X(64 * 64, 1.0f), Y(64 * 64);
  void *In[] = {X.data()};
  void *Out[] = {Y.data()};
  ASSERT_EQ(Instance.execute(In, Out, Hooks), OPTIMA_STATUS_OK);
  ASSERT_EQ(S.Events.size(), 3u);
  for (int I = 0; I < 3; ++I) {
    EXPECT_EQ(S.Events[size_t(I)].first, OPTIMA_PROFILE_LAYER_EXECUTE);
    EXPECT_EQ(S.Events[size_t(I)].second, "n" + std::to_string(I));
  }
  S.Events.clear();
  Exec.ProfilingEnabled = 0;
  ASSERT_EQ(Instance.execute(In, Out, Hooks), OPTIMA_STATUS_OK);
  EXPECT_TRUE(S.Events.empty());
  EXPECT_FLOAT_EQ(Y[0], chainRef(1.0f, 3));
}

TEST(NativeExecutor, CancelsBetweenNodes) {
  TempDir Dir;
  auto Graph = load(chain(4), Dir);
  GraphInstance Instance(Graph);
  Sink S;
  S.CancelAfter = 2; // two nodes run, the third poll cancels
  OptimaExecContext Exec{sizeof(OptimaExecContext), &S, 1, profileEvent, isCancelled};
  ExecHooks Hooks = ExecHooks::fromHost(nullptr, &Exec);
  std::vector<float> X(64 * 64, 1.0f), Y(64 * 64);
  void *In[] = {X.data()};
  void *Out[] = {Y.data()};
  EXPECT_EQ(Instance.execute(In, Out, Hooks), OPTIMA_STATUS_CANCELLED);
  EXPECT_EQ(S.Events.size(), 2u);
  // The instance stays usable afterwards.
  S.CancelAfter = -1;
  EXPECT_EQ(Instance.execute(In, Out, Hooks), OPTIMA_STATUS_OK);
  EXPECT_FLOAT_EQ(Y[0], chainRef(1.0f, 4));
}

TEST(NativeExecutor, ConcurrentRequestsAreIndependent) {
  const int N = 6;
  TempDir Dir;
  auto Graph = load(chain(N), Dir);
  std::vector<std::thread> Threads;
  std::vector<int> Failures(4, 0);
  for (int T = 0; T < 4; ++T)
    Threads.emplace_back([&, T] {
      GraphInstance Instance(Graph);
      std::vector<float> X(64 * 64, float(T)), Y(64 * 64);
      void *In[] = {X.data()};
      void *Out[] = {Y.data()};
      for (int Rep = 0; Rep < 20; ++Rep) {
        if (Instance.execute(In, Out, ExecHooks()) != OPTIMA_STATUS_OK)
          ++Failures[size_t(T)];
        for (float V : Y)
          if (V != chainRef(float(T), N))
            ++Failures[size_t(T)];
      }
    });
  for (auto &T : Threads)
    T.join();
  EXPECT_EQ(Failures, std::vector<int>(4, 0));
}
