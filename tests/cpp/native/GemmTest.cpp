// The packed sgemm (every microkernel this CPU supports) vs a naive double-accumulating
// reference written here: odd sizes and tails, all transpose combinations, padded leading dims,
// alpha/beta, K = 0, fused epilogues, pre-packed B, pre-packed A (with B raw, produced by a
// BPanelSource panel by panel, or read through a row-offset table), and a real multi-threaded
// parallelFor.
#include "NativeTestUtil.h"

#include "Gemm.h"
#include "ops/Epilogue.h"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <vector>

using namespace native_test;
namespace nat = optima_v2::native;

namespace {

struct Case {
  size_t M, N, K;
  bool TransA, TransB;
  size_t PadA = 0, PadB = 0, PadC = 0; // extra leading-dimension elements
  float Alpha = 1.0f, Beta = 0.0f;
};

struct Operands {
  nat::GemmShape S;
  std::vector<float> A, B, C0; // C0: C before the call
};

Operands makeOperands(const Case &T, uint32_t Seed) {
  Operands O;
  nat::GemmShape &S = O.S;
  S.M = T.M;
  S.N = T.N;
  S.K = T.K;
  S.TransA = T.TransA;
  S.TransB = T.TransB;
  S.Lda = (T.TransA ? T.M : T.K) + T.PadA;
  S.Ldb = (T.TransB ? T.K : T.N) + T.PadB;
  S.Ldc = T.N + T.PadC;
  size_t RowsA = T.TransA ? T.K : T.M, RowsB = T.TransB ? T.N : T.K;
  O.A = randomFloats(std::max<size_t>(1, RowsA * S.Lda), Seed);
  O.B = randomFloats(std::max<size_t>(1, RowsB * S.Ldb), Seed + 1);
  O.C0 = randomFloats(std::max<size_t>(1, T.M * S.Ldc), Seed + 2);
  if (T.Beta == 0.0f) // must be overwritten, never read
    std::fill(O.C0.begin(), O.C0.end(), std::numeric_limits<float>::quiet_NaN());
  return O;
}

// Checks Got against the reference; padding columns of C must be untouched.
void expectMatches(const Case &T, const Operands &O, const std::vector<float> &Got,
                   const nat::Epilogue *Ep, const char *What) {
  const nat::GemmShape &S = O.S;
  for (size_t I = 0; I < T.M; ++I) {
    for (size_t J = 0; J < S.Ldc; ++J) {
      float G = Got[I * S.Ldc + J], C = O.C0[I * S.Ldc + J];
      if (J >= T.N) {
        ASSERT_TRUE(G == C || (std::isnan(G) && std::isnan(C)))
            << What << ": padding of C written at " << I << "," << J;
        continue;
      }
      double Sum = 0.0, Abs = 0.0;
      for (size_t K = 0; K < T.K; ++K) {
        double A = T.TransA ? O.A[K * S.Lda + I] : O.A[I * S.Lda + K];
        double B = T.TransB ? O.B[J * S.Ldb + K] : O.B[K * S.Ldb + J];
        Sum += A * B;
        Abs += std::fabs(A * B);
      }
      double Ref = double(T.Alpha) * Sum + (T.Beta == 0.0f ? 0.0 : double(T.Beta) * C);
      double Tol = double(T.K + 4) * FLT_EPSILON *
                       (std::fabs(T.Alpha) * Abs + std::fabs(double(T.Beta) * (T.Beta ? C : 0.0))) +
                   1e-30;
      if (Ep) {
        float R = float(Ref);
        Ep->apply(&R, 1);
        Ref = R;
        Tol = Tol + 4 * FLT_EPSILON * std::fabs(Ref); // activations are 1-Lipschitz here
      }
      ASSERT_FALSE(std::isnan(G)) << What << " at " << I << "," << J;
      ASSERT_NEAR(G, Ref, Tol) << What << " M=" << T.M << " N=" << T.N << " K=" << T.K
                               << " tA=" << T.TransA << " tB=" << T.TransB << " at " << I << ","
                               << J;
    }
  }
}

// A KernelContext whose parallelFor really runs on Threads std::threads.
struct ThreadedContext {
  explicit ThreadedContext(unsigned N) : Threads(N) {
    Hooks.HostContext = &Threads;
    Hooks.ParallelFor = threadedParallelFor;
    Hooks.ThreadCount = N;
    Ctx.Hooks = &Hooks;
  }
  unsigned Threads;
  nat::ExecHooks Hooks;
  nat::KernelContext Ctx;
};

enum class Mode { Serial, Threaded, Packed, PackedThreaded, PackedA, PackedASource };

// A BPanelSource that builds each panel element by element from op(B) (the layout documented in
// Gemm.h, written independently of the driver's packB).
struct RefPanels {
  const Operands *O;
  static void pack(const void *Self, size_t K0, size_t Kc, size_t N0, size_t N1, size_t NR,
                   float *Dst) {
    const Operands &Op = *static_cast<const RefPanels *>(Self)->O;
    const nat::GemmShape &S = Op.S;
    size_t Slivers = (N1 - N0 + NR - 1) / NR;
    for (size_t J = 0; J < Slivers * NR; ++J)
      for (size_t K = 0; K < Kc; ++K) {
        size_t Col = N0 + J, Row = K0 + K;
        float V = 0.0f;
        if (Col < N1)
          V = S.TransB ? Op.B[Col * S.Ldb + Row] : Op.B[Row * S.Ldb + Col];
        Dst[(J / NR) * NR * Kc + K * NR + J % NR] = V;
      }
  }
};

void runCase(const Case &T, Mode How, const nat::Epilogue *Ep, uint32_t Seed) {
  Operands O = makeOperands(T, Seed);
  std::vector<float> C = O.C0;
  ThreadedContext Threaded(3);
  const nat::KernelContext *Ctx =
      How == Mode::Threaded || How == Mode::PackedThreaded ? &Threaded.Ctx : nullptr;
  if (How == Mode::PackedA || How == Mode::PackedASource) {
    nat::PackedA P;
    P.pack(T.M, T.K, T.TransA, O.A.data(), O.S.Lda);
    RefPanels Ref{&O};
    nat::BPanelSource Src{&RefPanels::pack, &Ref};
    nat::sgemmPackedA(O.S, T.Alpha, P, O.B.data(), T.Beta, C.data(), &Threaded.Ctx, Ep,
                      How == Mode::PackedASource ? &Src : nullptr);
  } else if (How == Mode::Packed || How == Mode::PackedThreaded) {
    nat::PackedB P;
    P.pack(T.K, T.N, T.TransB, O.B.data(), O.S.Ldb);
    nat::sgemmPacked(O.S, T.Alpha, O.A.data(), P, T.Beta, C.data(), Ctx, Ep);
  } else {
    nat::sgemm(O.S, T.Alpha, O.A.data(), O.B.data(), T.Beta, C.data(), Ctx, Ep);
  }
  static const char *Names[] = {"serial",          "threaded", "packed",
                                "packed+threaded", "packed A", "packed A + B source"};
  expectMatches(T, O, C, Ep, Names[int(How)]);
}

std::vector<nat::GemmIsa> supportedIsas() {
  std::vector<nat::GemmIsa> Out;
  for (nat::GemmIsa I : nat::AllGemmIsas)
    if (nat::gemmIsaSupported(I))
      Out.push_back(I);
  return Out;
}

// Runs Body once per supported ISA, restoring the active one afterwards.
template <typename Fn> void forEachIsa(const Fn &Body) {
  RestoreGemmIsa Restore;
  for (nat::GemmIsa I : supportedIsas()) {
    ASSERT_TRUE(nat::setGemmIsa(I));
    ASSERT_EQ(nat::activeGemmIsa(), I);
    SCOPED_TRACE(nat::gemmIsaName(I));
    Body();
  }
}

} // namespace

TEST(NativeSgemm, IsaSelection) {
  EXPECT_TRUE(nat::gemmIsaSupported(nat::GemmIsa::Generic));
  EXPECT_TRUE(nat::gemmIsaSupported(nat::activeGemmIsa()));
  EXPECT_FALSE(nat::setGemmIsa(nat::GemmIsa(42))); // unknown: refused, nothing changes
  EXPECT_TRUE(nat::gemmIsaSupported(nat::activeGemmIsa()));
  EXPECT_STREQ(nat::gemmIsaName(nat::GemmIsa::Avx512), "avx512");
  EXPECT_STREQ(nat::gemmIsaName(nat::GemmIsa::Neon), "neon");
#if defined(__x86_64__)
  EXPECT_EQ(nat::gemmIsaSupported(nat::GemmIsa::Avx2),
            __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
  EXPECT_FALSE(nat::gemmIsaSupported(nat::GemmIsa::Neon));
#elif defined(__aarch64__)
  // NEON is part of every AArch64 CPU: its kernel is the default unless the environment picks.
  EXPECT_TRUE(nat::gemmIsaSupported(nat::GemmIsa::Neon));
  EXPECT_FALSE(nat::gemmIsaSupported(nat::GemmIsa::Avx2));
  if (!std::getenv("OPTIMA_V2_NATIVE_ISA")) {
    EXPECT_EQ(nat::activeGemmIsa(), nat::GemmIsa::Neon);
  }
#endif
}

TEST(NativeSgemm, OddSizesAllTransposes) {
  const size_t Ms[] = {1, 2, 3, 5, 7, 12, 13, 17, 31, 33};
  const size_t Ns[] = {1, 2, 3, 7, 15, 16, 17, 31, 33, 63, 65};
  const size_t Ks[] = {1, 2, 7, 33};
  forEachIsa([&] {
    uint32_t Seed = 1;
    for (size_t M : Ms)
      for (size_t N : Ns)
        for (size_t K : Ks)
          for (int Tr = 0; Tr < 4; ++Tr) {
            Case T{M, N, K, bool(Tr & 1), bool(Tr & 2)};
            T.PadA = Seed % 3;
            T.PadB = (Seed / 3) % 4;
            T.PadC = Seed % 2 ? 5 : 0;
            runCase(T, Mode::Serial, nullptr, Seed);
            runCase(T, Tr & 1 ? Mode::PackedASource : Mode::PackedA, nullptr, Seed++);
            if (::testing::Test::HasFatalFailure())
              return;
          }
  });
}

// Floats placed so that the last one ends a readable page and the next page is unmapped: a
// kernel or packer that reads past the operand (a vector load over a tail) faults.
class PageEndFloats {
public:
  explicit PageEndFloats(const std::vector<float> &Values) {
    const size_t Page = size_t(sysconf(_SC_PAGESIZE));
    const size_t Bytes = Values.size() * sizeof(float);
    Size = (Bytes + Page - 1) / Page * Page + Page;
    void *P = mmap(nullptr, Size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (P == MAP_FAILED)
      return;
    Base = static_cast<char *>(P);
    mprotect(Base + Size - Page, Page, PROT_NONE);
    Data = reinterpret_cast<float *>(Base + Size - Page - Bytes);
    std::copy(Values.begin(), Values.end(), Data);
  }
  ~PageEndFloats() {
    if (Base)
      munmap(Base, Size);
  }
  PageEndFloats(const PageEndFloats &) = delete;
  PageEndFloats &operator=(const PageEndFloats &) = delete;
  const float *data() const { return Data; }

private:
  char *Base = nullptr;
  size_t Size = 0;
  float *Data = nullptr;
};

TEST(NativeSgemm, OperandsAreNotReadPastTheirEnd) {
  // Depths that leave a tail of every width against the 16-step A packing, rows short of MR.
  const Case Cases[] = {{13, 17, 19, false, false}, {12, 33, 1, false, false},
                        {25, 40, 257, false, false}, {7, 5, 31, true, true},
                        {1, 70, 45, false, false},   {40, 1, 23, false, true}};
  forEachIsa([&] {
    uint32_t Seed = 7;
    for (const Case &T : Cases) {
      Operands O = makeOperands(T, Seed++);
      PageEndFloats A(O.A), B(O.B);
      ASSERT_NE(A.data(), nullptr);
      ASSERT_NE(B.data(), nullptr);
      for (int How = 0; How < 3; ++How) {
        std::vector<float> C = O.C0;
        if (How == 0) {
          nat::sgemm(O.S, T.Alpha, A.data(), B.data(), T.Beta, C.data(), nullptr);
        } else if (How == 1) {
          nat::PackedB P;
          P.pack(T.K, T.N, T.TransB, B.data(), O.S.Ldb);
          nat::sgemmPacked(O.S, T.Alpha, A.data(), P, T.Beta, C.data(), nullptr);
        } else {
          nat::PackedA P;
          P.pack(T.M, T.K, T.TransA, A.data(), O.S.Lda);
          nat::sgemmPackedA(O.S, T.Alpha, P, B.data(), T.Beta, C.data(), nullptr);
        }
        expectMatches(T, O, C, nullptr, How == 0 ? "raw" : How == 1 ? "packed B" : "packed A");
        if (::testing::Test::HasFatalFailure())
          return;
      }
    }
  });
}

TEST(NativeSgemm, AlphaBetaAndZeroDepth) {
  forEachIsa([&] {
    uint32_t Seed = 100;
    for (float Alpha : {1.0f, -0.5f, 2.0f})
      for (float Beta : {0.0f, 1.0f, 0.75f})
        for (size_t K : {size_t(0), size_t(5), size_t(300)})
          for (int Tr = 0; Tr < 4; ++Tr) {
            Case T{19, 37, K, bool(Tr & 1), bool(Tr & 2), 3, 1, 2, Alpha, Beta};
            runCase(T, Mode::Serial, nullptr, Seed++);
            runCase(T, Mode::Packed, nullptr, Seed++);
            runCase(T, Mode::PackedA, nullptr, Seed++);
            runCase(T, Mode::PackedASource, nullptr, Seed++);
            if (::testing::Test::HasFatalFailure())
              return;
          }
  });
}

TEST(NativeSgemm, LargeBlockedThreadedAndPacked) {
  // Past one K panel (256), one N chunk (512) and many row blocks; GEMV-like and N == 1 shapes.
  const Case Cases[] = {
      {100, 257, 300, false, false, 1, 2, 3, 1.0f, 0.0f},
      {65, 63, 513, true, false, 0, 0, 0, 1.5f, 1.0f},
      {257, 1100, 65, false, true, 2, 0, 1, 1.0f, 0.5f},
      {33, 700, 257, true, true, 0, 3, 0, -1.0f, 0.0f},
      {1, 784, 512, false, false, 0, 0, 0, 1.0f, 0.0f},
      {1, 1000, 64, false, true, 0, 0, 0, 1.0f, 1.0f},
      {3, 517, 100, false, false, 0, 1, 0, 1.0f, 0.0f},
      {300, 1, 200, false, false, 0, 0, 0, 1.0f, 0.0f},  // matrix x vector (Ldc == 1)
      {300, 1, 200, true, true, 1, 1, 0, 2.0f, 0.25f},
      {70, 1, 50, false, false, 0, 0, 3, 1.0f, 1.0f},    // N == 1 with Ldc > 1
      {1, 1, 1, false, false},
  };
  forEachIsa([&] {
    uint32_t Seed = 500;
    for (const Case &T : Cases)
      for (Mode How : {Mode::Serial, Mode::Threaded, Mode::Packed, Mode::PackedThreaded,
                       Mode::PackedA, Mode::PackedASource}) {
        runCase(T, How, nullptr, Seed);
        if (::testing::Test::HasFatalFailure())
          return;
      }
  });
}

TEST(NativeSgemm, FusedEpilogue) {
  namespace D = nat::epilogue_detail;
  const nat::Epilogue Relu = D::make<D::Relu>();
  const nat::Epilogue Clip = D::make<D::Clip>(-0.25, 0.5);
  const Case Cases[] = {{37, 45, 300, false, false, 1, 0, 2, 1.0f, 0.0f},
                        {13, 1030, 20, true, true, 0, 0, 0, 0.5f, 1.0f},
                        {1, 90, 33, false, false},
                        {0, 5, 5, false, false},
                        {6, 7, 0, false, false, 0, 0, 0, 1.0f, 0.5f}};
  forEachIsa([&] {
    uint32_t Seed = 900;
    for (const Case &T : Cases)
      for (const nat::Epilogue *Ep : {&Relu, &Clip})
        for (Mode How : {Mode::Serial, Mode::Threaded, Mode::PackedThreaded, Mode::PackedA,
                         Mode::PackedASource}) {
          runCase(T, How, Ep, Seed++);
          if (::testing::Test::HasFatalFailure())
            return;
        }
  });
}

// Pre-packed A times B given as a table of row offsets (the implicit-GEMM view a stride-1 conv
// reads in place): rows scattered in reverse order through a buffer whose gaps hold NaN, so a
// read past a row's N columns shows up in C; with a row bias and a Relu, serial and threaded.
TEST(NativeSgemm, PackedAWithBRowTable) {
  namespace D = nat::epilogue_detail;
  const nat::Epilogue Relu = D::make<D::Relu>();
  forEachIsa([&] {
    uint32_t Seed = 1200;
    for (size_t M : {1, 5, 12, 13, 37})
      for (size_t N : {1, 16, 17, 33, 70, 600})
        for (size_t K : {1, 9, 300})
          for (int Variant = 0; Variant < 2; ++Variant) {
            Case T{M, N, K, Variant == 1, false};
            Operands O = makeOperands(T, Seed++);
            const size_t Stride = N + 5;
            std::vector<float> Buf(K * Stride + 3, std::numeric_limits<float>::quiet_NaN());
            std::vector<size_t> Offsets(K);
            for (size_t Kk = 0; Kk < K; ++Kk) {
              Offsets[Kk] = (K - 1 - Kk) * Stride + 2;
              std::copy_n(O.B.data() + Kk * O.S.Ldb, N, Buf.data() + Offsets[Kk]);
            }
            std::vector<float> Bias = randomFloats(M, Seed++);
            const bool Extras = Variant == 1;
            nat::PackedA P;
            P.pack(M, K, T.TransA, O.A.data(), O.S.Lda);
            ThreadedContext Threaded(3);
            std::vector<float> C(M * O.S.Ldc, std::numeric_limits<float>::quiet_NaN());
            nat::sgemmPackedARows(O.S, P, nat::BRowTable{Buf.data(), Offsets.data()}, C.data(),
                                  Extras ? &Threaded.Ctx : nullptr, Extras ? &Relu : nullptr,
                                  Extras ? Bias.data() : nullptr);
            for (size_t I = 0; I < M; ++I)
              for (size_t J = 0; J < N; ++J) {
                double Sum = Extras ? Bias[I] : 0.0, Abs = std::fabs(Sum);
                for (size_t Kk = 0; Kk < K; ++Kk) {
                  double A = T.TransA ? O.A[Kk * O.S.Lda + I] : O.A[I * O.S.Lda + Kk];
                  Sum += A * O.B[Kk * O.S.Ldb + J];
                  Abs += std::fabs(A * O.B[Kk * O.S.Ldb + J]);
                }
                const double Ref = Extras ? std::max(0.0, Sum) : Sum;
                ASSERT_NEAR(C[I * O.S.Ldc + J], Ref, double(K + 4) * FLT_EPSILON * Abs + 1e-30)
                    << "M=" << M << " N=" << N << " K=" << K << " variant " << Variant << " at "
                    << I << "," << J;
              }
          }
  });
}

TEST(NativeSgemm, PackedBytesAreCounted) {
  size_t Before = nat::packedGemmBytes();
  std::vector<float> B = randomFloats(70 * 50, 7);
  {
    nat::PackedB P;
    P.pack(70, 50, false, B.data(), 50);
    EXPECT_GE(P.bytes(), 70 * 50 * sizeof(float));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(P.data()) % 64, 0u);
    EXPECT_EQ(nat::packedGemmBytes(), Before + P.bytes());
    nat::PackedB Moved = std::move(P);
    EXPECT_EQ(P.data(), nullptr);
    EXPECT_EQ(nat::packedGemmBytes(), Before + Moved.bytes());
  }
  EXPECT_EQ(nat::packedGemmBytes(), Before);
}

TEST(NativeSgemm, PackedABytesAreCounted) {
  size_t Before = nat::packedGemmBytes();
  std::vector<float> A = randomFloats(37 * 300, 8);
  {
    nat::PackedA P;
    P.pack(37, 300, false, A.data(), 300);
    EXPECT_GE(P.bytes(), 37 * 300 * sizeof(float));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(P.data()) % 64, 0u);
    EXPECT_EQ(nat::packedGemmBytes(), Before + P.bytes());
    nat::PackedA Moved = std::move(P);
    EXPECT_EQ(P.data(), nullptr);
    EXPECT_EQ(nat::packedGemmBytes(), Before + Moved.bytes());
  }
  EXPECT_EQ(nat::packedGemmBytes(), Before);
}

// A Relu or Clip applied by the microkernel at the last K panel keeps the standalone formulas
// bit for bit (x < lo ? lo : x > hi ? hi : x, signs of zeros included) after the row bias, and
// NaN passes: A's row 1 holds a NaN, its row 2 is zero.
TEST(NativeSgemm, FusedClampKeepsNaN) {
  namespace D = nat::epilogue_detail;
  const nat::Epilogue Relu = D::make<D::Relu>();
  const nat::Epilogue Clip = D::make<D::Clip>(-0.25, 0.5);
  const size_t M = 14, N = 40, K = 300; // two row tiles, two K panels, a ragged sliver
  std::vector<float> A = randomFloats(M * K, 31), B = randomFloats(K * N, 32);
  std::vector<float> Bias = randomFloats(M, 33);
  A[1 * K + 7] = std::numeric_limits<float>::quiet_NaN();
  std::fill(A.begin() + 2 * K, A.begin() + 3 * K, 0.0f);
  Bias[2] = -0.0f;
  forEachIsa([&] {
    nat::PackedA P;
    P.pack(M, K, false, A.data(), K);
    for (const nat::Epilogue *Ep : {&Relu, &Clip}) {
      nat::GemmShape S;
      S.M = M;
      S.N = N;
      S.K = K;
      S.Lda = K;
      S.Ldb = N;
      S.Ldc = N;
      std::vector<float> C(M * N, 7.0f), Plain(M * N, 7.0f);
      nat::sgemmPackedA(S, 1.0f, P, B.data(), 0.0f, C.data(), nullptr, Ep, nullptr, Bias.data());
      nat::sgemmPackedA(S, 1.0f, P, B.data(), 0.0f, Plain.data(), nullptr, nullptr, nullptr, nullptr);
      for (size_t I = 0; I < M; ++I)
        for (size_t J = 0; J < N; ++J) {
          const float X = Plain[I * N + J] + Bias[I];
          const float Want = Ep == &Relu ? D::Relu::f(X, *Ep) : D::Clip::f(X, *Ep);
          const float Got = C[I * N + J];
          SCOPED_TRACE("row " + std::to_string(I) + " col " + std::to_string(J));
          if (I == 1) {
            ASSERT_TRUE(std::isnan(Got));
            continue;
          }
          ASSERT_EQ(std::signbit(Got), std::signbit(Want));
          ASSERT_FLOAT_EQ(Got, Want);
        }
    }
  });
}
