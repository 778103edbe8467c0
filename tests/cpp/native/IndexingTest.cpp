// Gather, GatherElements, GatherND, ScatterElements, ScatterND, OneHot, Compress against naive
// references; out-of-range indices fail the run with a message naming the node.
#include "MoveTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace native_test;

TEST(NativeIndexing, GatherEveryAxisAndIndexType) {
  Shape In{3, 4, 5};
  std::vector<float> X = iotaFloats(60);
  std::vector<int64_t> Idx{2, -1, 0, 1, 1, -3};
  for (int64_t Axis : {0, 1, 2, -1})
    for (std::string IType : {"I64", "I32"}) {
      size_t A = size_t(Axis < 0 ? Axis + 3 : Axis);
      Shape IShape{2, 3};
      Shape Out(In.begin(), In.begin() + int64_t(A));
      Out.insert(Out.end(), IShape.begin(), IShape.end());
      Out.insert(Out.end(), In.begin() + int64_t(A) + 1, In.end());
      GraphSpec G;
      G.tensor("x", In).tensor("i", IShape, IType).tensor("y", Out);
      G.input("x").input("i").output("y").node("g", "Gather", {"x", "i"}, {"y"}, {attrInt("axis", Axis)});
      TempDir Dir;
      auto Graph = load(G, Dir);
      Bytes IB = IType == "I64" ? toBytes(Idx)
                                : toBytes(std::vector<int32_t>(Idx.begin(), Idx.end()));
      std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X), IB}, 2)[0]);
      forEachIndex(Out, [&](const std::vector<int64_t> &O, size_t L) {
        int64_t K = Idx[size_t(O[A] * 3 + O[A + 1])];
        if (K < 0)
          K += In[A];
        std::vector<int64_t> I(O.begin(), O.begin() + int64_t(A));
        I.push_back(K);
        I.insert(I.end(), O.begin() + int64_t(A) + 2, O.end());
        EXPECT_EQ(Y[L], X[offsetOf(In, I)]);
      });
      std::vector<int64_t> BadIdx = Idx;
      BadIdx[4] = In[A];
      Bytes BB = IType == "I64" ? toBytes(BadIdx)
                                : toBytes(std::vector<int32_t>(BadIdx.begin(), BadIdx.end()));
      std::string Msg = runExpectingFailure(G, {toBytes(X), BB});
      EXPECT_NE(Msg.find("node \"g\" (Gather): indices[4] = " + std::to_string(In[A]) +
                         " is out of range"),
                std::string::npos)
          << Msg;
    }
}

TEST(NativeIndexing, GatherElementsAndScatterElements) {
  Shape In{3, 4};
  std::vector<float> X = iotaFloats(12, 1);
  Shape IShape{2, 3}; // smaller than data outside the axis: allowed
  std::vector<int64_t> Idx{1, -1, 0, 2, 2, 3};
  for (int64_t Axis : {0, 1}) {
    std::vector<int64_t> I = Idx;
    if (Axis == 0)
      for (int64_t &V : I)
        V = V % 3;
    GraphSpec G;
    G.tensor("x", In).tensor("i", IShape, "I64").tensor("y", IShape);
    G.input("x").input("i").output("y").node("g", "GatherElements", {"x", "i"}, {"y"},
                                             {attrInt("axis", Axis)});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X), toBytes(I)})[0]);
    forEachIndex(IShape, [&](const std::vector<int64_t> &O, size_t L) {
      std::vector<int64_t> S = O;
      int64_t K = I[L];
      S[size_t(Axis)] = K < 0 ? K + In[size_t(Axis)] : K;
      EXPECT_EQ(Y[L], X[offsetOf(In, S)]);
    });
    std::vector<int64_t> Bad = I;
    Bad[5] = 7;
    EXPECT_NE(runExpectingFailure(G, {toBytes(X), toBytes(Bad)}).find("indices[5] = 7"),
              std::string::npos);

    for (std::string Red : {"none", "add", "mul", "max", "min"}) {
      std::vector<int64_t> SI = Axis == 0 ? std::vector<int64_t>{1, 1, 0, 1, 2, 0}
                                          : std::vector<int64_t>{1, 1, 3, 0, -4, 2};
      std::vector<float> U = randomFloats(6, 11, -3, 3);
      GraphSpec S;
      S.tensor("x", In).tensor("i", IShape, "I64").tensor("u", IShape).tensor("y", In);
      S.input("x").input("i").input("u").output("y");
      S.node("s", "ScatterElements", {"x", "i", "u"}, {"y"},
             {attrInt("axis", Axis), attrString("reduction", Red)});
      TempDir D2;
      auto SG = load(S, D2);
      std::vector<float> Y2 = fromBytes<float>(run(*SG, {toBytes(X), toBytes(SI), toBytes(U)})[0]);
      std::vector<float> Ref = X;
      forEachIndex(IShape, [&](const std::vector<int64_t> &O, size_t L) {
        std::vector<int64_t> T = O;
        int64_t K = SI[L];
        T[size_t(Axis)] = K < 0 ? K + In[size_t(Axis)] : K;
        float &R = Ref[offsetOf(In, T)];
        R = Red == "none" ? U[L] : Red == "add" ? R + U[L] : Red == "mul" ? R * U[L]
            : Red == "max" ? std::max(R, U[L]) : std::min(R, U[L]);
      });
      EXPECT_EQ(Y2, Ref) << Red << " axis " << Axis;
    }
  }
}

TEST(NativeIndexing, GatherNDWithBatchDims) {
  // batch_dims 0: data [2, 3, 4], indices [2, 2] -> slices [4].
  Shape In{2, 3, 4};
  std::vector<float> X = iotaFloats(24);
  {
    GraphSpec G;
    G.tensor("x", In).tensor("i", {3, 2}, "I64").tensor("y", {3, 4});
    G.input("x").input("i").output("y").node("g", "GatherND", {"x", "i"}, {"y"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<int64_t> I{1, 2, 0, -1, -2, 0};
    std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X), toBytes(I)})[0]);
    for (int64_t T = 0; T < 3; ++T)
      for (int64_t K = 0; K < 4; ++K) {
        int64_t A = I[size_t(2 * T)], B = I[size_t(2 * T + 1)];
        A = A < 0 ? A + 2 : A;
        B = B < 0 ? B + 3 : B;
        EXPECT_EQ(Y[size_t(T * 4 + K)], X[offsetOf(In, {A, B, K})]);
      }
    std::vector<int64_t> Bad{1, 2, 0, 3, 0, 0};
    EXPECT_NE(runExpectingFailure(G, {toBytes(X), toBytes(Bad)}).find("component 1 = 3"),
              std::string::npos);
  }
  {
    // batch_dims 1: indices [2, 2, 1] pick rows per batch -> [2, 2, 4].
    GraphSpec G;
    G.tensor("x", In).tensor("i", {2, 2, 1}, "I64").tensor("y", {2, 2, 4});
    G.input("x").input("i").output("y").node("g", "GatherND", {"x", "i"}, {"y"},
                                             {attrInt("batch_dims", 1)});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<int64_t> I{2, 0, 1, 1};
    std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X), toBytes(I)})[0]);
    forEachIndex({2, 2, 4}, [&](const std::vector<int64_t> &O, size_t L) {
      EXPECT_EQ(Y[L], X[offsetOf(In, {O[0], I[size_t(O[0] * 2 + O[1])], O[2]})]);
    });
  }
}

TEST(NativeIndexing, ScatterNDReductions) {
  Shape In{4, 3};
  std::vector<float> X = randomFloats(12, 4);
  std::vector<int64_t> I{2, 0, 2}; // [3, 1]: rows, with a duplicate
  std::vector<float> U = randomFloats(9, 5);
  for (std::string Red : {"none", "add", "mul", "max", "min"}) {
    GraphSpec G;
    G.tensor("x", In).tensor("i", {3, 1}, "I64").tensor("u", {3, 3}).tensor("y", In);
    G.input("x").input("i").input("u").output("y");
    G.node("s", "ScatterND", {"x", "i", "u"}, {"y"}, {attrString("reduction", Red)});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> Y = fromBytes<float>(run(*Graph, {toBytes(X), toBytes(I), toBytes(U)})[0]);
    std::vector<float> Ref = X;
    for (size_t T = 0; T < 3; ++T)
      for (size_t K = 0; K < 3; ++K) {
        float &R = Ref[size_t(I[T]) * 3 + K];
        float V = U[T * 3 + K];
        R = Red == "none" ? V : Red == "add" ? R + V : Red == "mul" ? R * V
            : Red == "max" ? std::max(R, V) : std::min(R, V);
      }
    EXPECT_EQ(Y, Ref) << Red;
    EXPECT_NE(runExpectingFailure(G, {toBytes(X), toBytes(std::vector<int64_t>{0, 4, 1}), toBytes(U)})
                  .find("node \"s\" (ScatterND)"),
              std::string::npos);
  }
}

TEST(NativeIndexing, OneHotAndCompress) {
  std::vector<int64_t> Idx{0, 3, -1, 7, 2, -5};
  for (int64_t Axis : {-1, 0, 1}) {
    Shape Out = Axis == 0 ? Shape{4, 2, 3} : Axis == 1 ? Shape{2, 4, 3} : Shape{2, 3, 4};
    GraphSpec G;
    G.tensor("i", {2, 3}, "I64").constantI64("d", {}, {4}).tensor("v", {2}).tensor("y", Out);
    G.input("i").input("v").output("y").node("o", "OneHot", {"i", "d", "v"}, {"y"},
                                             {attrInt("axis", Axis)});
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<float> Y =
        fromBytes<float>(run(*Graph, {toBytes(Idx), toBytes(std::vector<float>{-2, 5})})[0]);
    forEachIndex(Out, [&](const std::vector<int64_t> &O, size_t L) {
      size_t A = size_t(Axis < 0 ? 2 : Axis);
      std::vector<int64_t> P;
      for (size_t D = 0; D < 3; ++D)
        if (D != A)
          P.push_back(O[D]);
      int64_t K = Idx[size_t(P[0] * 3 + P[1])];
      bool On = K >= -4 && K < 4 && (K < 0 ? K + 4 : K) == O[A];
      EXPECT_EQ(Y[L], On ? 5.0f : -2.0f);
    });
  }
  std::vector<float> X = iotaFloats(12);
  {
    GraphSpec G;
    G.tensor("x", {3, 4}).constant("c", {3}, {1, 0, 1}, "BOOL").tensor("y", {2, 4});
    G.input("x").output("y").node("c", "Compress", {"x", "c"}, {"y"}, {attrInt("axis", 0)});
    TempDir Dir;
    auto Graph = load(G, Dir);
    EXPECT_EQ(fromBytes<float>(run(*Graph, {toBytes(X)})[0]),
              (std::vector<float>{0, 1, 2, 3, 8, 9, 10, 11}));
  }
  {
    GraphSpec G; // no axis: flattened
    G.tensor("x", {3, 4}).constant("c", {5}, {0, 1, 0, 0, 1}, "BOOL").tensor("y", {2});
    G.input("x").output("y").node("c", "Compress", {"x", "c"}, {"y"});
    TempDir Dir;
    auto Graph = load(G, Dir);
    EXPECT_EQ(fromBytes<float>(run(*Graph, {toBytes(X)})[0]), (std::vector<float>{1, 4}));
  }
  GraphSpec Dyn;
  Dyn.tensor("x", {3, 4}).tensor("c", {3}, "BOOL").tensor("y", {2, 4});
  Dyn.input("x").input("c").output("y").node("c", "Compress", {"x", "c"}, {"y"}, {attrInt("axis", 0)});
  expectLoadError(Dyn, OPTIMA_STATUS_UNSUPPORTED, {"must be a constant: output shape depends on its values"});
}
