// Dropout: the deterministic forms (inference, or ratio 0) copy X and give an all-true mask; the
// random form (training with a non-zero ratio) is refused at load when its inputs are constants
// and fails the request with a clear message when they are graph inputs.
#include "NativeTestUtil.h"
#include "OpTestTypes.h"

#include <gtest/gtest.h>

using namespace native_test;

namespace {

void expectIdentity(const std::vector<Bytes> &Out, const Bytes &X, size_t Elements, bool Mask) {
  EXPECT_EQ(Out[0], X);
  if (Mask) {
    ASSERT_EQ(Out[1].size(), Elements);
    for (uint8_t B : Out[1])
      ASSERT_EQ(B, 1);
  }
}

} // namespace

TEST(NativeDropout, InferenceWithMaskEveryType) {
  Shape S{3, 4, 5};
  for (const char *Type : {"F32", "F64", "F16", "BF16"}) {
    SCOPED_TRACE(Type);
    GraphSpec G;
    G.tensor("x", S, Type).tensor("y", S, Type).tensor("m", S, "BOOL");
    G.input("x").output("y").output("m");
    G.node("d", "Dropout", {"x"}, {"y", "m"}, {attrInt("seed", 0)});
    TempDir Dir;
    Bytes X = encode(gridValues(60, 3), Type);
    expectIdentity(run(*load(G, Dir), {X}, 4), X, 60, true);
  }
}

TEST(NativeDropout, ConstantRatioAndTraining) {
  Shape S{7};
  Bytes X = encode(gridValues(7, 5), "F32");
  auto Spec = [&](float Ratio, bool Training) {
    GraphSpec G;
    G.tensor("x", S).tensor("y", S).tensor("m", S, "BOOL").input("x").output("y").output("m");
    G.constantF32("r", {}, {Ratio});
    G.constant("t", {}, Bytes{uint8_t(Training)}, "BOOL");
    G.node("d", "Dropout", {"x", "r", "t"}, {"y", "m"});
    return G;
  };
  for (const auto &[Ratio, Training] :
       {std::pair{0.0f, true}, std::pair{0.7f, false}, std::pair{0.0f, false}}) {
    TempDir Dir;
    expectIdentity(run(*load(Spec(Ratio, Training), Dir), {X}), X, 7, true);
  }
  expectLoadError(Spec(0.5f, true), OPTIMA_STATUS_UNSUPPORTED,
                  {"Dropout with training_mode=true and ratio 0.5 drops elements at random"});
  expectLoadError(Spec(1.5f, true), OPTIMA_STATUS_INVALID_MODEL, {"outside [0, 1)"});
}

TEST(NativeDropout, RuntimeRatioAndTraining) {
  Shape S{2, 3};
  GraphSpec G;
  G.tensor("x", S).tensor("r", {}).tensor("t", {}, "BOOL").tensor("y", S).tensor("m", S, "BOOL");
  G.input("x").input("r").input("t").output("y").output("m");
  G.node("d", "Dropout", {"x", "r", "t"}, {"y", "m"}, {attrInt("seed", 1)});
  TempDir Dir;
  auto Graph = load(G, Dir);
  Bytes X = encode(gridValues(6, 7), "F32");
  for (const auto &[Ratio, Training] : {std::pair{0.0f, true}, std::pair{0.75f, false}}) {
    auto Out = run(*Graph, {X, toBytes(std::vector<float>{Ratio}), Bytes{uint8_t(Training)}});
    expectIdentity(Out, X, 6, true);
  }
  optima_v2::native::GraphInstance Instance(Graph);
  std::vector<float> Xf = fromBytes<float>(X), Y(6), Ratio{0.75f};
  uint8_t Training = 1, Mask[6];
  void *In[] = {Xf.data(), Ratio.data(), &Training};
  void *Out[] = {Y.data(), Mask};
  EXPECT_EQ(Instance.execute(In, Out, optima_v2::native::ExecHooks{}),
            OPTIMA_STATUS_EXECUTION_FAILED);
  EXPECT_NE(std::string(Instance.failureMessage())
                .find("Dropout with training_mode=true and ratio 0.75 drops elements at random"),
            std::string::npos)
      << Instance.failureMessage();
}

TEST(NativeDropout, Validation) {
  GraphSpec G;
  G.tensor("x", {3}).tensor("y", {3}).tensor("m", {3}, "F32").input("x").output("y").output("m");
  G.node("d", "Dropout", {"x"}, {"y", "m"});
  expectLoadError(G, OPTIMA_STATUS_INVALID_MODEL, {"output \"m\""});
  GraphSpec H;
  H.tensor("x", {3}, "I32").tensor("y", {3}, "I32").input("x").output("y");
  H.node("d", "Dropout", {"x"}, {"y"});
  expectLoadError(H, OPTIMA_STATUS_UNSUPPORTED, {"I32 input \"x\""});
}
