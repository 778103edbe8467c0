// Cursor tests: typed getters, error messages and field paths.
#include "support/Json.h"

#include <gtest/gtest.h>

using namespace optima_v2::support::json;

namespace {

template <typename Fn> void expectSchemaError(Fn &&F, const std::string &Path, const std::string &What) {
  try {
    F();
    ADD_FAILURE() << "no SchemaError, expected: " << What;
  } catch (const SchemaError &E) {
    EXPECT_EQ(E.path(), Path);
    EXPECT_EQ(std::string(E.what()), What);
  }
}

const char *Doc = R"({
  "format": "optima-v2-model",
  "format_version": 1,
  "big": 9223372036854775807,
  "neg": -5,
  "ratio": 0.5,
  "flag": true,
  "nothing": null,
  "subgraphs": [
    {"name": "a", "inputs": ["x"]},
    {"name": "b", "inputs": [7, "y"], "shape": [1, 2, 3]}
  ],
  "a": {"b": {"c": "deep"}},
  "odd key": {"x y": 1}
})";

} // namespace

TEST(JsonCursor, ReadsTypedValues) {
  Value V = parse(Doc);
  Cursor C(V);
  EXPECT_EQ(C.path(), "");
  EXPECT_EQ(C.field("format").getString(), "optima-v2-model");
  EXPECT_EQ(C.field("format_version").getInt(1, 1), 1);
  EXPECT_EQ(C.field("big").getUInt(UINT64_MAX), 9223372036854775807ULL);
  EXPECT_EQ(C.field("neg").getInt(-10, 10), -5);
  EXPECT_DOUBLE_EQ(C.field("ratio").getNumber(), 0.5);
  EXPECT_DOUBLE_EQ(C.field("neg").getNumber(), -5.0); // integers are numbers too
  EXPECT_TRUE(C.field("flag").getBool());
  EXPECT_TRUE(C.field("nothing").value().isNull());
  EXPECT_EQ(C.field("subgraphs").size(), 2u);
  EXPECT_EQ(C.field("subgraphs").getArray().size(), 2u);
  EXPECT_EQ(C.field("a").getObject().size(), 1u);
  EXPECT_EQ(C.field("a").field("b").field("c").getString(), "deep");
  EXPECT_EQ(C.getString("name", "default"), "default");
  EXPECT_EQ(C.getString("format", "default"), "optima-v2-model");
  EXPECT_TRUE(C.has("flag"));
  EXPECT_FALSE(C.has("missing"));
  EXPECT_FALSE(C.field("flag").has("x")); // has() on a non-object is just false
}

TEST(JsonCursor, PathsOfNestedFields) {
  Value V = parse(Doc);
  Cursor C(V);
  EXPECT_EQ(C.field("subgraphs").at(1).field("inputs").at(0).path(), "subgraphs[1].inputs[0]");
  EXPECT_EQ(C.field("a").field("b").path(), "a.b");
  EXPECT_EQ(C.field("odd key").path(), "[\"odd key\"]");
  EXPECT_EQ(C.field("odd key").field("x y").path(), "[\"odd key\"][\"x y\"]");
  Cursor Prefixed(V, "model");
  EXPECT_EQ(Prefixed.field("a").path(), "model.a");
  EXPECT_EQ(Prefixed.field("subgraphs").at(0).path(), "model.subgraphs[0]");
}

TEST(JsonCursor, WrongTypeErrorsNameTheField) {
  Value V = parse(Doc);
  Cursor C(V);
  Cursor In0 = C.field("subgraphs").at(1).field("inputs").at(0);
  expectSchemaError([&] { In0.getString(); }, "subgraphs[1].inputs[0]",
                    "subgraphs[1].inputs[0]: expected a string, got a number");
  expectSchemaError([&] { C.field("a").field("b").getString(); }, "a.b",
                    "a.b: expected a string, got an object");
  expectSchemaError([&] { C.field("format").getBool(); }, "format",
                    "format: expected a boolean, got a string");
  expectSchemaError([&] { C.field("flag").getNumber(); }, "flag",
                    "flag: expected a number, got a boolean");
  expectSchemaError([&] { C.field("nothing").getArray(); }, "nothing",
                    "nothing: expected an array, got null");
  expectSchemaError([&] { C.field("subgraphs").getObject(); }, "subgraphs",
                    "subgraphs: expected an object, got an array");
  expectSchemaError([&] { C.field("format").size(); }, "format",
                    "format: expected an array, got a string");
}

TEST(JsonCursor, IntegerRangeErrors) {
  Value V = parse(Doc);
  Cursor C(V);
  Cursor Shape2 = C.field("subgraphs").at(1).field("shape").at(2);
  EXPECT_EQ(Shape2.getInt(0, 2147483647), 3);
  expectSchemaError([&] { Shape2.getInt(0, 2); }, "subgraphs[1].shape[2]",
                    "subgraphs[1].shape[2]: expected an integer in [0, 2]");
  expectSchemaError([&] { C.field("neg").getUInt(100); }, "neg",
                    "neg: expected an integer in [0, 100]");
  expectSchemaError([&] { C.field("neg").getInt(-4, 4); }, "neg",
                    "neg: expected an integer in [-4, 4]");
  expectSchemaError([&] { C.field("ratio").getInt(0, 10); }, "ratio",
                    "ratio: expected an integer in [0, 10]");
  expectSchemaError([&] { C.field("format").getInt(0, 10); }, "format",
                    "format: expected an integer in [0, 10]");
  expectSchemaError([&] { C.field("big").getUInt(1000); }, "big",
                    "big: expected an integer in [0, 1000]");
  // 1.0 is written as a fraction: not an integer.
  Value One = parse("1.0");
  expectSchemaError([&] { Cursor(One, "v").getInt(0, 5); }, "v", "v: expected an integer in [0, 5]");
}

TEST(JsonCursor, MissingFieldsAndIndices) {
  Value V = parse(Doc);
  Cursor C(V);
  expectSchemaError([&] { C.field("subgraphs").at(0).field("outputs"); }, "subgraphs[0].outputs",
                    "subgraphs[0].outputs: required field is missing");
  expectSchemaError([&] { C.field("subgraphs").at(5); }, "subgraphs[5]",
                    "subgraphs[5]: index out of range (array has 2 elements)");
  expectSchemaError([&] { C.field("format").field("x"); }, "format",
                    "format: expected an object, got a string");
  expectSchemaError([&] { C.field("format").at(0); }, "format",
                    "format: expected an array, got a string");
  expectSchemaError([&] { C.field("format").getString("k", "d"); }, "format",
                    "format: expected an object, got a string");
  // Optional string present with the wrong type is still an error.
  expectSchemaError([&] { C.getString("flag", "d"); }, "flag",
                    "flag: expected a string, got a boolean");
}

TEST(JsonCursor, ArraySizeLimit) {
  Value V = parse("{\"xs\": [1, 2, 3]}");
  Cursor C(V);
  EXPECT_EQ(C.field("xs").getArray(3).size(), 3u);
  expectSchemaError([&] { C.field("xs").getArray(2); }, "xs",
                    "xs: array has 3 elements, at most 2 allowed");
}

TEST(JsonCursor, FailAndRootPath) {
  Value V = parse("[]");
  expectSchemaError([&] { Cursor(V).fail("custom problem"); }, "", "custom problem");
  expectSchemaError([&] { Cursor(V, "graph").fail("bad"); }, "graph", "graph: bad");
  expectSchemaError([&] { Cursor(V).field("k"); }, "", "expected an object, got an array");
  SchemaError E("a.b", "oops");
  EXPECT_EQ(E.problem(), "oops");
  EXPECT_EQ(E.path(), "a.b");
  EXPECT_STREQ(E.what(), "a.b: oops");
}
