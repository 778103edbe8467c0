// Transpose, Concat, Split, Slice, Pad, Tile, Expand, DepthToSpace, SpaceToDepth, Trilu,
// ReverseSequence against naive element-by-element references written here.
#include "MoveTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

using namespace native_test;

namespace {

std::vector<float> runUnary(const std::string &Op, const Shape &In, const Shape &Out,
                            const std::vector<float> &X, const std::vector<std::string> &Attrs,
                            unsigned Threads = 1) {
  GraphSpec G;
  G.tensor("x", In).tensor("y", Out).input("x").output("y");
  G.node("n", Op, {"x"}, {"y"}, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  return fromBytes<float>(run(*Graph, {toBytes(X)}, Threads)[0]);
}

} // namespace

TEST(NativeDataMovement, TransposeAllPermutationsAndTypes) {
  for (Shape In : {Shape{2, 3, 4}, Shape{3, 1, 5, 2}, Shape{7, 33}, Shape{2, 19, 40}}) {
    std::vector<int64_t> Perm(In.size());
    std::iota(Perm.begin(), Perm.end(), 0);
    do {
      Shape Out;
      for (int64_t P : Perm)
        Out.push_back(In[size_t(P)]);
      std::vector<float> X = iotaFloats(elementCount(In));
      std::vector<float> Expected(X.size());
      forEachIndex(Out, [&](const std::vector<int64_t> &O, size_t L) {
        std::vector<int64_t> I(In.size());
        for (size_t D = 0; D < Perm.size(); ++D)
          I[size_t(Perm[D])] = O[D];
        Expected[L] = X[offsetOf(In, I)];
      });
      for (unsigned Threads : {1u, 3u})
        EXPECT_EQ(runUnary("Transpose", In, Out, X, {attrInts("perm", Perm)}, Threads), Expected)
            << ::testing::PrintToString(Perm);
    } while (std::next_permutation(Perm.begin(), Perm.end()));
  }
  // Default perm reverses; other element sizes move the same bytes.
  for (std::string Type : {"I8", "F64", "I16"}) {
    GraphSpec G;
    G.tensor("x", {2, 3, 5}, Type).tensor("y", {5, 3, 2}, Type).input("x").output("y");
    G.node("n", "Transpose", {"x"}, {"y"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    size_t E = Type == "I8" ? 1 : Type == "F64" ? 8 : 2;
    Bytes X(30 * E);
    for (size_t I = 0; I < X.size(); ++I)
      X[I] = uint8_t(I * 7 + 1);
    Bytes Y = run(*Graph, {X})[0];
    forEachIndex({5, 3, 2}, [&](const std::vector<int64_t> &O, size_t L) {
      size_t Src = offsetOf({2, 3, 5}, {O[2], O[1], O[0]});
      EXPECT_EQ(0, std::memcmp(&Y[L * E], &X[Src * E], E));
    });
  }
}

TEST(NativeDataMovement, ConcatAndSplit) {
  // Concat on each axis of three inputs of different extents.
  for (int64_t Axis : {0, 1, 2, -1}) {
    size_t A = size_t(Axis < 0 ? Axis + 3 : Axis);
    std::vector<Shape> Ins;
    Shape Out{2, 3, 4};
    Out[A] = 0;
    for (int64_t Ext : {1, 3, 2}) {
      Shape S{2, 3, 4};
      S[A] = Ext;
      Ins.push_back(S);
      Out[A] += Ext;
    }
    GraphSpec G;
    std::vector<std::string> Names;
    std::vector<Bytes> Data;
    std::vector<std::vector<float>> Vals;
    for (size_t I = 0; I < Ins.size(); ++I) {
      Names.push_back("x" + std::to_string(I));
      G.tensor(Names.back(), Ins[I]).input(Names.back());
      Vals.push_back(iotaFloats(elementCount(Ins[I]), float(100 * I)));
      Data.push_back(toBytes(Vals.back()));
    }
    G.tensor("y", Out).output("y").node("c", "Concat", Names, {"y"}, {attrInt("axis", Axis)});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> Y = fromBytes<float>(run(*Graph, Data, 2)[0]);
    forEachIndex(Out, [&](const std::vector<int64_t> &O, size_t L) {
      std::vector<int64_t> I = O;
      size_t Which = 0;
      while (I[A] >= Ins[Which][A])
        I[A] -= Ins[Which++][A];
      EXPECT_EQ(Y[L], Vals[Which][offsetOf(Ins[Which], I)]);
    });
  }
  // Split: explicit sizes (input), num_outputs with a short last chunk, equal default.
  struct Case {
    std::vector<int64_t> Sizes; // expected
    std::vector<std::string> Attrs;
    bool SplitInput;
  };
  for (const Case &C : {Case{{1, 4, 2}, {attrInt("axis", 1)}, true},
                        Case{{3, 3, 1}, {attrInt("axis", 1), attrInt("num_outputs", 3)}, false},
                        Case{{7}, {attrInt("axis", -1)}, false}}) {
    Shape In{2, 7, 3};
    size_t A = C.Attrs[0] == attrInt("axis", -1) ? 2 : 1;
    if (A == 2)
      In = {2, 3, 7};
    GraphSpec G;
    G.tensor("x", In).input("x");
    std::vector<std::string> Ins{"x"}, Outs;
    if (C.SplitInput) {
      G.constantI64("s", {int64_t(C.Sizes.size())}, C.Sizes);
      Ins.push_back("s");
    }
    for (size_t I = 0; I < C.Sizes.size(); ++I) {
      Shape O = In;
      O[A] = C.Sizes[I];
      Outs.push_back("y" + std::to_string(I));
      G.tensor(Outs.back(), O).output(Outs.back());
    }
    G.node("s", "Split", Ins, Outs, C.Attrs);
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> X = randomFloats(elementCount(In), 5);
    auto Ys = run(*Graph, {toBytes(X)});
    int64_t Start = 0;
    for (size_t I = 0; I < C.Sizes.size(); ++I) {
      Shape O = In;
      O[A] = C.Sizes[I];
      std::vector<float> Y = fromBytes<float>(Ys[I]);
      forEachIndex(O, [&](const std::vector<int64_t> &Idx, size_t L) {
        std::vector<int64_t> Src = Idx;
        Src[A] += Start;
        EXPECT_EQ(Y[L], X[offsetOf(In, Src)]);
      });
      Start += C.Sizes[I];
    }
  }
  GraphSpec Bad;
  Bad.tensor("x", {2, 7}).tensor("a", {2, 3}).tensor("b", {2, 3}).input("x").output("a").output("b");
  Bad.node("s", "Split", {"x"}, {"a", "b"}, {attrInt("axis", 1)});
  expectLoadError(Bad, OPTIMA_STATUS_INVALID_MODEL, {"does not split evenly"});
}

namespace {

// CPython's slice.indices(): the oracle for ONNX Slice clamping.
void pySlice(int64_t Len, int64_t &Start, int64_t &Stop, int64_t Step) {
  auto Adjust = [&](int64_t &V, bool IsStart) {
    int64_t Lower = Step < 0 ? -1 : 0, Upper = Step < 0 ? Len - 1 : Len;
    if (V < 0) {
      V = V < -Len ? Lower : V + Len;
      if (V < Lower)
        V = Lower;
    } else if (V > Upper) {
      V = Upper;
    }
    (void)IsStart;
  };
  Adjust(Start, true);
  Adjust(Stop, false);
}

} // namespace

TEST(NativeDataMovement, SliceClampsNegativesAndSteps) {
  struct Case {
    std::vector<int64_t> Starts, Ends, Axes, Steps;
  };
  const int64_t Big = INT64_MAX, Small = INT64_MIN;
  Shape In{5, 6, 4};
  for (const Case &C : {Case{{1, 0}, {4, 6}, {0, 1}, {1, 2}}, Case{{-1}, {Small}, {1}, {-1}},
                        Case{{-100, 2}, {Big, -1}, {2, 0}, {}}, Case{{4, 5, 3}, {0, -100, 1}, {0, 1, 2}, {-2, -3, 1}},
                        Case{{3}, {3}, {-1}, {1}}, Case{{0}, {10}, {1}, {4}}}) {
    Shape Out = In;
    std::vector<int64_t> Begin(3, 0), Step(3, 1);
    for (size_t I = 0; I < C.Starts.size(); ++I) {
      size_t A = size_t(C.Axes[I] < 0 ? C.Axes[I] + 3 : C.Axes[I]);
      int64_t S = C.Starts[I], E = C.Ends[I], St = C.Steps.empty() ? 1 : C.Steps[I];
      pySlice(In[A], S, E, St);
      int64_t N = St > 0 ? (E > S ? (E - S + St - 1) / St : 0) : (S > E ? (S - E - St - 1) / -St : 0);
      Out[A] = N;
      Begin[A] = S;
      Step[A] = St;
    }
    GraphSpec G;
    auto N = int64_t(C.Starts.size());
    G.tensor("x", In).tensor("y", Out).input("x").output("y");
    G.constantI64("s", {N}, C.Starts).constantI64("e", {N}, C.Ends).constantI64("a", {N}, C.Axes);
    std::vector<std::string> Ins{"x", "s", "e", "a"};
    if (!C.Steps.empty()) {
      G.constantI64("t", {N}, C.Steps);
      Ins.push_back("t");
    }
    G.node("sl", "Slice", Ins, {"y"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> X = iotaFloats(elementCount(In));
    std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X)})[0]);
    forEachIndex(Out, [&](const std::vector<int64_t> &O, size_t L) {
      std::vector<int64_t> I(3);
      for (size_t D = 0; D < 3; ++D)
        I[D] = Begin[D] + O[D] * Step[D];
      EXPECT_EQ(Y[L], X[offsetOf(In, I)]);
    });
  }
}

namespace {

// numpy.pad index mapping, written iteratively (reflect bounces until inside).
int64_t padSource(int64_t I, int64_t N, const std::string &Mode) {
  if (I >= 0 && I < N)
    return I;
  if (Mode == "constant")
    return -1;
  if (Mode == "edge")
    return I < 0 ? 0 : N - 1;
  if (Mode == "wrap") {
    while (I < 0)
      I += N;
    while (I >= N)
      I -= N;
    return I;
  }
  if (N == 1)
    return 0;
  while (I < 0 || I >= N) {
    if (I < 0)
      I = -I;
    if (I >= N)
      I = 2 * (N - 1) - I;
  }
  return I;
}

} // namespace

TEST(NativeDataMovement, PadAllModes) {
  Shape In{3, 4, 5};
  for (std::string Mode : {"constant", "reflect", "edge", "wrap"})
    for (bool WithAxes : {false, true}) {
      std::vector<int64_t> Pads = WithAxes ? std::vector<int64_t>{2, 1, 3, 0}
                                           : std::vector<int64_t>{1, 0, 2, 2, 3, 1};
      std::vector<int64_t> Axes{2, 0};
      std::vector<int64_t> Begin(3, 0), End(3, 0);
      if (WithAxes) {
        Begin[2] = 2; Begin[0] = 1; End[2] = 3; End[0] = 0;
      } else {
        for (size_t D = 0; D < 3; ++D) {
          Begin[D] = Pads[D];
          End[D] = Pads[D + 3];
        }
      }
      Shape Out(3);
      for (size_t D = 0; D < 3; ++D)
        Out[D] = In[D] + Begin[D] + End[D];
      GraphSpec G;
      G.tensor("x", In).tensor("y", Out).input("x").output("y");
      G.constantI64("p", {int64_t(Pads.size())}, Pads).constantF32("v", {}, {-7.5f});
      std::vector<std::string> Ins{"x", "p", "v"};
      if (WithAxes) {
        G.constantI64("a", {2}, Axes);
        Ins.push_back("a");
      }
      G.node("pad", "Pad", Ins, {"y"}, {attrString("mode", Mode)});
      TempDir Dir;
      auto Graph = load(G, Dir);
      std::vector<float> X = randomFloats(elementCount(In), 9);
      std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X)}, 2)[0]);
      forEachIndex(Out, [&](const std::vector<int64_t> &O, size_t L) {
        std::vector<int64_t> I(3);
        bool Fill = false;
        for (size_t D = 0; D < 3; ++D) {
          I[D] = padSource(O[D] - Begin[D], In[D], Mode);
          Fill |= I[D] < 0;
        }
        EXPECT_EQ(Y[L], Fill ? -7.5f : X[offsetOf(In, I)]) << Mode << " at " << L;
      });
    }
  // Negative pads crop.
  std::vector<float> X = iotaFloats(12);
  GraphSpec G;
  G.tensor("x", {3, 4}).tensor("y", {2, 3}).input("x").output("y");
  G.constantI64("p", {4}, {-1, 0, 0, -1}).node("pad", "Pad", {"x", "p"}, {"y"});
  TempDir Dir;
  auto Graph = load(G, Dir);
  EXPECT_EQ(fromBytes<float>(run(*Graph, {toBytes(X)})[0]),
            (std::vector<float>{4, 5, 6, 8, 9, 10}));
}

TEST(NativeDataMovement, TileAndExpand) {
  Shape In{2, 1, 3};
  std::vector<float> X = iotaFloats(6, 1);
  {
    GraphSpec G;
    G.tensor("x", In).tensor("y", {4, 3, 3}).input("x").output("y");
    G.constantI64("r", {3}, {2, 3, 1}).node("t", "Tile", {"x", "r"}, {"y"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X)})[0]);
    forEachIndex({4, 3, 3}, [&](const std::vector<int64_t> &O, size_t L) {
      EXPECT_EQ(Y[L], X[offsetOf(In, {O[0] % 2, O[1] % 1, O[2] % 3})]);
    });
  }
  {
    GraphSpec G; // rank grows, 1-dims broadcast both ways
    G.tensor("x", In).tensor("y", {2, 2, 4, 3}).input("x").output("y");
    G.constantI64("s", {4}, {2, 1, 4, 1}).node("e", "Expand", {"x", "s"}, {"y"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X)})[0]);
    forEachIndex({2, 2, 4, 3}, [&](const std::vector<int64_t> &O, size_t L) {
      EXPECT_EQ(Y[L], X[offsetOf(In, {O[1], 0, O[3]})]);
    });
  }
  GraphSpec Bad;
  Bad.tensor("x", {2, 3}).tensor("y", {2, 4}).input("x").output("y");
  Bad.constantI64("s", {2}, {2, 4}).node("e", "Expand", {"x", "s"}, {"y"});
  expectLoadError(Bad, OPTIMA_STATUS_INVALID_MODEL, {"cannot broadcast"});
}

TEST(NativeDataMovement, DepthToSpaceAndSpaceToDepth) {
  const int64_t N = 2, C = 8, H = 3, W = 2, B = 2, Co = C / (B * B);
  std::vector<float> X = iotaFloats(size_t(N * C * H * W));
  for (std::string Mode : {"DCR", "CRD"}) {
    std::vector<float> Y = runUnary("DepthToSpace", {N, C, H, W}, {N, Co, H * B, W * B}, X,
                                    {attrInt("blocksize", B), attrString("mode", Mode)});
    forEachIndex({N, Co, H * B, W * B}, [&](const std::vector<int64_t> &O, size_t L) {
      int64_t Bh = O[2] % B, Bw = O[3] % B;
      int64_t Ch = Mode == "DCR" ? (Bh * B + Bw) * Co + O[1] : O[1] * B * B + Bh * B + Bw;
      EXPECT_EQ(Y[L], X[offsetOf({N, C, H, W}, {O[0], Ch, O[2] / B, O[3] / B})]) << Mode;
    });
  }
  std::vector<float> Z = iotaFloats(size_t(N * 3 * 4 * 6));
  std::vector<float> Y =
      runUnary("SpaceToDepth", {N, 3, 4, 6}, {N, 3 * B * B, 2, 3}, Z, {attrInt("blocksize", B)});
  forEachIndex({N, 12, 2, 3}, [&](const std::vector<int64_t> &O, size_t L) {
    int64_t Bh = O[1] / (3 * B), Bw = (O[1] / 3) % B, Ch = O[1] % 3;
    EXPECT_EQ(Y[L], Z[offsetOf({N, 3, 4, 6}, {O[0], Ch, O[2] * B + Bh, O[3] * B + Bw})]);
  });
}

TEST(NativeDataMovement, Trilu) {
  Shape In{2, 4, 5};
  std::vector<float> X = iotaFloats(40, 1);
  for (bool Upper : {true, false})
    for (int64_t K : {-7, -1, 0, 2, 9}) {
      GraphSpec G;
      G.tensor("x", In).tensor("k", {}, "I64").tensor("y", In).input("x").input("k").output("y");
      G.node("t", "Trilu", {"x", "k"}, {"y"}, {attrInt("upper", Upper)});
      TempDir Dir;
      auto Graph = load(G, Dir);
      std::vector<float> Y =
          fromBytes<float>(run(*Graph, {toBytes(X), toBytes(std::vector<int64_t>{K})})[0]);
      forEachIndex(In, [&](const std::vector<int64_t> &O, size_t L) {
        bool Keep = Upper ? O[2] - O[1] >= K : O[2] - O[1] <= K;
        EXPECT_EQ(Y[L], Keep ? X[L] : 0.0f) << Upper << " k=" << K;
      });
    }
}

TEST(NativeDataMovement, ReverseSequence) {
  for (int64_t BatchAxis : {0, 1}) {
    Shape In = BatchAxis == 0 ? Shape{3, 4, 2} : Shape{4, 3, 2};
    std::vector<int64_t> Lens{4, 0, 2};
    GraphSpec G;
    G.tensor("x", In).tensor("l", {3}, "I64").tensor("y", In);
    G.input("x").input("l").output("y");
    G.node("r", "ReverseSequence", {"x", "l"}, {"y"},
           {attrInt("batch_axis", BatchAxis), attrInt("time_axis", 1 - BatchAxis)});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> X = iotaFloats(24);
    std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X), toBytes(Lens)})[0]);
    forEachIndex(In, [&](const std::vector<int64_t> &O, size_t L) {
      int64_t B = O[size_t(BatchAxis)], T = O[size_t(1 - BatchAxis)];
      std::vector<int64_t> I = O;
      if (T < Lens[size_t(B)])
        I[size_t(1 - BatchAxis)] = Lens[size_t(B)] - 1 - T;
      EXPECT_EQ(Y[L], X[offsetOf(In, I)]);
    });
    std::string Msg = runExpectingFailure(G, {toBytes(X), toBytes(std::vector<int64_t>{1, 5, 0})});
    EXPECT_NE(Msg.find("node \"r\" (ReverseSequence): sequence_lens[1] = 5 is outside [0, 4]"),
              std::string::npos)
        << Msg;
  }
}

TEST(NativeDataMovement, PadOpset2ValueAttribute) {
  GraphSpec G;
  G.tensor("x", {2, 2}).tensor("y", {3, 4}).input("x").output("y");
  G.node("p", "Pad", {"x"}, {"y"},
         {attrInts("pads", {0, 1, 1, 1}), attrFloat("value", 1.5), attrString("mode", "constant")});
  TempDir Dir;
  auto Graph = load(G, Dir);
  EXPECT_EQ(fromBytes<float>(run(*Graph, {toBytes(std::vector<float>{1, 2, 3, 4})})[0]),
            (std::vector<float>{1.5f, 1, 2, 1.5f, 1.5f, 3, 4, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f}));
}
