// BitCast vs the oracle std::memcpy of the input's bytes into the target type, for every pair
// of same-width element types (8-bit floats included); width mismatches, STRING, sub-byte
// types and types without storage are refused;
// non-0/1 bytes cast to bool fail the run.
#include "NativeTestUtil.h"

#include <gtest/gtest.h>

using namespace native_test;

namespace {

struct TypeInfo {
  const char *Name;
  int64_t Onnx;
  size_t Bytes;
};

const std::vector<TypeInfo> Types = {
    {"U8", 2, 1},   {"I8", 3, 1},   {"U16", 4, 2},  {"I16", 5, 2},  {"I32", 6, 4},
    {"I64", 7, 8},  {"F16", 10, 2}, {"F64", 11, 8}, {"U32", 12, 4}, {"U64", 13, 8},
    {"BF16", 16, 2}, {"F32", 1, 4}, {"F8E4M3FN", 17, 1}, {"F8E4M3FNUZ", 18, 1},
    {"F8E5M2", 19, 1}, {"F8E5M2FNUZ", 20, 1}, {"F8E8M0", 24, 1}};

Bytes randomBytes(size_t N, uint32_t Seed) {
  std::mt19937 Gen(Seed);
  Bytes B(N);
  for (uint8_t &X : B)
    X = uint8_t(Gen());
  return B;
}

} // namespace

TEST(NativeBitCast, EverySameWidthPairCopiesTheBits) {
  for (const TypeInfo &From : Types)
    for (const TypeInfo &To : Types) {
      if (From.Bytes != To.Bytes)
        continue;
      SCOPED_TRACE(std::string(From.Name) + " -> " + To.Name);
      for (const Shape &S : {Shape{}, Shape{7}, Shape{3, 5}}) {
        GraphSpec G;
        G.tensor("x", S, From.Name).tensor("y", S, To.Name).input("x").output("y");
        G.node("b", "BitCast", {"x"}, {"y"}, {attrInt("to", To.Onnx)});
        TempDir Dir;
        Bytes X = randomBytes(elementCount(S) * From.Bytes, uint32_t(From.Onnx * 31 + To.Onnx));
        Bytes Expected(X.size());
        std::memcpy(Expected.data(), X.data(), X.size());
        EXPECT_EQ(run(*load(G, Dir), {X})[0], Expected);
      }
    }
}

TEST(NativeBitCast, ValueExamples) {
  GraphSpec G;
  G.tensor("x", {3}).tensor("y", {3}, "I32").input("x").output("y");
  G.node("b", "BitCast", {"x"}, {"y"}, {attrInt("to", 6)});
  TempDir Dir;
  std::vector<float> X{1.0f, -2.5f, 3.75f};
  std::vector<int32_t> Expected(3);
  std::memcpy(Expected.data(), X.data(), 12);
  EXPECT_EQ(Expected[0], 0x3F800000);
  EXPECT_EQ(fromBytes<int32_t>(run(*load(G, Dir), {toBytes(X)})[0]), Expected);
}

TEST(NativeBitCast, BoolBothWays) {
  GraphSpec G;
  G.tensor("x", {4}, "BOOL").tensor("y", {4}, "U8").input("x").output("y");
  G.node("b", "BitCast", {"x"}, {"y"}, {attrInt("to", 2)});
  TempDir Dir;
  EXPECT_EQ(run(*load(G, Dir), {Bytes{1, 0, 1, 0}})[0], (Bytes{1, 0, 1, 0}));

  GraphSpec Back;
  Back.tensor("x", {4}, "I8").tensor("y", {4}, "BOOL").input("x").output("y");
  Back.node("b", "BitCast", {"x"}, {"y"}, {attrInt("to", 9)});
  TempDir Dir2;
  auto Graph = load(Back, Dir2);
  EXPECT_EQ(run(*Graph, {Bytes{0, 1, 1, 0}})[0], (Bytes{0, 1, 1, 0}));
  optima_v2::native::GraphInstance Instance(Graph);
  int8_t In[4] = {0, 1, 2, 0};
  uint8_t Out[4];
  void *Ins[] = {In};
  void *Outs[] = {Out};
  EXPECT_EQ(Instance.execute(Ins, Outs, optima_v2::native::ExecHooks{}),
            OPTIMA_STATUS_EXECUTION_FAILED);
}

TEST(NativeBitCast, RejectsBadTargets) {
  auto Spec = [](const char *In, const char *Out, std::vector<std::string> Attrs) {
    GraphSpec G;
    G.tensor("x", {2}, In).tensor("y", {2}, Out).input("x").output("y");
    G.node("b", "BitCast", {"x"}, {"y"}, Attrs);
    return G;
  };
  expectLoadError(Spec("F32", "I64", {attrInt("to", 7)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"32 bits", "64 bits", "differ in width"});
  expectLoadError(Spec("F32", "I32", {}), OPTIMA_STATUS_INVALID_MODEL, {"to", "missing"});
  expectLoadError(Spec("U8", "U8", {attrInt("to", 8)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"STRING"});
  expectLoadError(Spec("U8", "U8", {attrInt("to", 21)}), OPTIMA_STATUS_UNSUPPORTED,
                  {"data type 21"});
  expectLoadError(Spec("I4", "U8", {attrInt("to", 2)}), OPTIMA_STATUS_UNSUPPORTED,
                  {"BitCast from I4"});
  expectLoadError(Spec("U8", "U8", {attrInt("to", 99)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"unknown ONNX data type 99"});
  expectLoadError(Spec("F32", "F32", {attrInt("to", 6)}), OPTIMA_STATUS_INVALID_MODEL, {"y"});
}
