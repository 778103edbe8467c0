// The arena planner: tensors alive at the same node never overlap; dead ones are reused.
#include "MemoryPlan.h"

#include <gtest/gtest.h>

#include <random>

using namespace optima_v2::native;

TEST(NativeMemoryPlan, ReusesDeadTensors) {
  // A chain: each tensor is produced at node i and read at node i+1.
  std::vector<LiveRange> R;
  for (size_t I = 0; I < 6; ++I)
    R.push_back({1000, I, I + 1});
  std::vector<size_t> Off;
  size_t Total = planArena(R, Off);
  EXPECT_EQ(Total, 2 * alignUp(1000, 64));
  for (size_t O : Off)
    EXPECT_EQ(O % 64, 0u);
}

TEST(NativeMemoryPlan, NeverOverlapsLiveTensors) {
  std::mt19937 Gen(7);
  for (int Trial = 0; Trial < 200; ++Trial) {
    std::vector<LiveRange> R;
    size_t N = 1 + Gen() % 30;
    for (size_t I = 0; I < N; ++I) {
      size_t First = Gen() % 20;
      R.push_back({Gen() % 5000, First, First + Gen() % 6});
    }
    std::vector<size_t> Off;
    size_t Total = planArena(R, Off);
    for (size_t A = 0; A < N; ++A) {
      ASSERT_LE(Off[A] + R[A].Bytes, Total);
      for (size_t B = A + 1; B < N; ++B) {
        bool LiveTogether = R[A].First <= R[B].Last && R[B].First <= R[A].Last;
        bool Overlap = Off[A] < Off[B] + R[B].Bytes && Off[B] < Off[A] + R[A].Bytes;
        ASSERT_FALSE(LiveTogether && Overlap && R[A].Bytes && R[B].Bytes)
            << "trial " << Trial << " tensors " << A << " and " << B;
      }
    }
  }
}
