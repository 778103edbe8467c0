// Parser tests: valid documents, each class of syntax error (with its position), limits, numbers,
// strings and UTF-8.
#include "support/Json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace optima_v2::support::json;

namespace {

// Parses Text expecting a ParseError; checks that the message contains Fragment and the position.
void expectParseError(std::string_view Text, const std::string &Fragment, size_t Line,
                      size_t Column, const ParseOptions &Options = {}) {
  try {
    parse(Text, Options);
    ADD_FAILURE() << "no error for: " << Text;
  } catch (const ParseError &E) {
    EXPECT_NE(std::string(E.what()).find(Fragment), std::string::npos)
        << "message: " << E.what() << "\nexpected fragment: " << Fragment;
    EXPECT_EQ(E.line(), Line) << E.what();
    EXPECT_EQ(E.column(), Column) << E.what();
    std::string Prefix = "line " + std::to_string(Line) + ", column " + std::to_string(Column) + ": ";
    EXPECT_EQ(std::string(E.what()).rfind(Prefix, 0), 0u) << E.what();
  }
}

void expectParseErrorAnywhere(std::string_view Text, const std::string &Fragment) {
  try {
    parse(Text);
    ADD_FAILURE() << "no error for: " << Text;
  } catch (const ParseError &E) {
    EXPECT_NE(std::string(E.what()).find(Fragment), std::string::npos)
        << "message: " << E.what() << "\nexpected fragment: " << Fragment;
  }
}

} // namespace

TEST(JsonParse, Scalars) {
  EXPECT_TRUE(parse("null").isNull());
  EXPECT_TRUE(parse("true").asBool());
  EXPECT_FALSE(parse(" false ").asBool());
  EXPECT_EQ(parse("\"hi\"").asString(), "hi");
  EXPECT_EQ(parse("42").asInt(), 42);
  EXPECT_DOUBLE_EQ(parse("2.5").asNumber(), 2.5);
}

TEST(JsonParse, NestedDocument) {
  Value V = parse(R"({"a": [1, {"b": null}, "x"], "c": {"d": true}, "e": []})");
  ASSERT_TRUE(V.isObject());
  ASSERT_EQ(V.asObject().size(), 3u);
  EXPECT_EQ(V.asObject()[0].first, "a"); // insertion order kept
  EXPECT_EQ(V.asObject()[2].first, "e");
  const Value *A = V.find("a");
  ASSERT_NE(A, nullptr);
  ASSERT_EQ(A->asArray().size(), 3u);
  EXPECT_EQ(A->asArray()[0].asInt(), 1);
  EXPECT_TRUE(A->asArray()[1].find("b")->isNull());
  EXPECT_EQ(A->asArray()[2].asString(), "x");
  EXPECT_TRUE(V.find("c")->find("d")->asBool());
  EXPECT_TRUE(V.find("e")->asArray().empty());
  EXPECT_EQ(V.find("zz"), nullptr);
  EXPECT_EQ(A->find("a"), nullptr); // find on a non-object
}

TEST(JsonParse, WhitespaceKinds) {
  Value V = parse(" \t\r\n{ \"k\" \n:\r\n 1 \t}\n ");
  EXPECT_EQ(V.find("k")->asInt(), 1);
  expectParseError("\f1", "expected a JSON value", 1, 1); // form feed is not JSON whitespace
  expectParseError("1\v", "after the JSON value", 1, 2);
}

TEST(JsonParse, AccessorKindMismatchIsLogicError) {
  Value V = parse("\"s\"");
  EXPECT_THROW(V.asInt(), std::logic_error);
  EXPECT_THROW(V.asArray(), std::logic_error);
  EXPECT_THROW(V.asBool(), std::logic_error);
  EXPECT_THROW(V.asNumber(), std::logic_error);
  EXPECT_THROW(V.asObject(), std::logic_error);
  EXPECT_THROW(parse("1.5").asInt(), std::logic_error);
  EXPECT_THROW(parse("1").asString(), std::logic_error);
}

TEST(JsonParse, SyntaxErrorsWithPositions) {
  expectParseError("", "expected a JSON value, found end of input", 1, 1);
  expectParseError("   ", "expected a JSON value, found end of input", 1, 4);
  expectParseError("{\n  \"a\": 1,\n  \"b\" 2\n}", "expected ':' after object key, found '2'", 3, 7);
  expectParseError("{\"a\":1,}", "trailing comma before '}'", 1, 8);
  expectParseError("[1,2,]", "trailing comma before ']'", 1, 6);
  expectParseError("[1 2]", "expected ',' or ']' in array, found '2'", 1, 4);
  expectParseError("{\"a\":1 \"b\":2}", "expected ',' or '}' in object, found '\"'", 1, 8);
  expectParseError("{a:1}", "expected a string key in object, found 'a'", 1, 2);
  expectParseError("{'a':1}", "expected a string key", 1, 2);
  expectParseError("['a']", "strings must use double quotes", 1, 2);
  expectParseError("[1", "unterminated array", 1, 3);
  expectParseError("{\"a\":1", "unterminated object", 1, 7);
  expectParseError("{", "unterminated object", 1, 2);
  expectParseError("{\"a\":}", "expected a JSON value, found '}'", 1, 6);
  expectParseError("\"abc", "unterminated string", 1, 1);
  expectParseError("tru", "expected a JSON value", 1, 1);
  expectParseError("nul", "expected a JSON value", 1, 1);
  expectParseError("True", "expected a JSON value, found 'T'", 1, 1);
  expectParseError("1 2", "unexpected '2' after the JSON value", 1, 3);
  expectParseError("{} {}", "after the JSON value", 1, 4);
  expectParseError("// c\n1", "comments are not allowed", 1, 1);
  expectParseError("[1, /* c */ 2]", "comments are not allowed", 1, 5);
  expectParseError("NaN", "NaN and Infinity", 1, 1);
  expectParseError("[Infinity]", "NaN and Infinity", 1, 2);
  expectParseError("-Infinity", "expected a digit after '-'", 1, 2);
  expectParseError("\xEF\xBB\xBF{}", "byte order mark", 1, 1);
  expectParseError(std::string_view("[1,\0]", 5), "found byte 0x00", 1, 4);
}

TEST(JsonParse, ColumnsCountCodePoints) {
  // "é" is two bytes but one column.
  expectParseError("[\"\xC3\xA9\" x]", "expected ',' or ']'", 1, 6);
}

TEST(JsonParse, DuplicateKeysRejected) {
  expectParseError("{\"a\":1,\"a\":2}", "duplicate object key \"a\"", 1, 8);
  expectParseError("{\"x\":{\"a\":1},\"y\":{\"b\":1,\"b\":1}}", "duplicate object key \"b\"", 1, 25);
  // Same key in different objects is fine.
  EXPECT_NO_THROW(parse("[{\"a\":1},{\"a\":2}]"));
  // Large objects switch to a hash set: still detected, including against early keys.
  std::string Big = "{";
  for (int I = 0; I < 100; ++I)
    Big += "\"k" + std::to_string(I) + "\":" + std::to_string(I) + ",";
  EXPECT_NO_THROW(parse(Big + "\"last\":0}"));
  expectParseErrorAnywhere(Big + "\"k3\":0}", "duplicate object key \"k3\"");
  expectParseErrorAnywhere(Big + "\"k99\":0}", "duplicate object key \"k99\"");
}

TEST(JsonParse, DepthLimit) {
  ParseOptions Options;
  Options.MaxDepth = 4;
  EXPECT_NO_THROW(parse("[[[[1]]]]", Options));
  EXPECT_NO_THROW(parse("{\"a\":{\"b\":[{\"c\":1}]}}", Options));
  expectParseError("[[[[[1]]]]]", "nesting deeper than the limit of 4", 1, 5, Options);
  expectParseError("[{\"a\":[{\"b\":[]}]}]", "nesting deeper than the limit of 4", 1, 13, Options);
  // Default limit guards the stack against hostile input.
  std::string Deep(100000, '[');
  expectParseErrorAnywhere(Deep, "nesting deeper than the limit of 64");
}

TEST(JsonParse, SizeLimit) {
  ParseOptions Options;
  Options.MaxBytes = 10;
  EXPECT_NO_THROW(parse("[1,2,3,4]", Options)); // 9 bytes
  EXPECT_NO_THROW(parse("[1,2,3,45]", Options)); // exactly 10
  expectParseError("[1,2,3,456]", "document is 11 bytes, more than the limit of 10", 1, 1,
                   Options);
}

TEST(JsonParse, IntegersAreExact) {
  EXPECT_EQ(parse("0").asInt(), 0);
  EXPECT_EQ(parse("-0").asInt(), 0);
  EXPECT_EQ(parse("9007199254740993").asInt(), 9007199254740993LL); // not representable in double
  EXPECT_EQ(parse("9223372036854775807").asInt(), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse("-9223372036854775808").asInt(), std::numeric_limits<int64_t>::min());
  // One past int64: still a valid JSON number, but not an integer.
  Value Big = parse("9223372036854775808");
  EXPECT_TRUE(Big.isNumber());
  EXPECT_FALSE(Big.isInteger());
  EXPECT_DOUBLE_EQ(Big.asNumber(), 9223372036854775808.0);
  Value Neg = parse("-9223372036854775809");
  EXPECT_FALSE(Neg.isInteger());
  EXPECT_TRUE(parse("123").isInteger());
  EXPECT_DOUBLE_EQ(parse("123").asNumber(), 123.0);
}

TEST(JsonParse, FractionsAndExponentsAreNotIntegers) {
  for (const char *Text : {"1.0", "1e2", "1E2", "1e+2", "10e-1", "-0.0"}) {
    Value V = parse(Text);
    EXPECT_TRUE(V.isNumber()) << Text;
    EXPECT_FALSE(V.isInteger()) << Text;
  }
  EXPECT_DOUBLE_EQ(parse("1e2").asNumber(), 100.0);
  EXPECT_DOUBLE_EQ(parse("-1.25E-2").asNumber(), -0.0125);
  EXPECT_DOUBLE_EQ(parse("0.1").asNumber(), 0.1);
  EXPECT_DOUBLE_EQ(parse("1.7976931348623157e308").asNumber(), 1.7976931348623157e308);
  EXPECT_EQ(parse("1e-400").asNumber(), 0.0); // underflow rounds to zero
  EXPECT_EQ(parse("0.0000001e-400").asNumber(), 0.0);
}

TEST(JsonParse, NumberSyntaxErrors) {
  expectParseError("01", "leading zeros are not allowed", 1, 1);
  expectParseError("-01", "leading zeros are not allowed", 1, 1);
  expectParseError("1.", "expected a digit after '.'", 1, 3);
  expectParseError(".5", "expected a JSON value, found '.'", 1, 1);
  expectParseError("1e", "expected a digit in the exponent", 1, 3);
  expectParseError("1e+", "expected a digit in the exponent", 1, 4);
  expectParseError("-", "expected a digit after '-'", 1, 2);
  expectParseError("+1", "expected a JSON value, found '+'", 1, 1);
  expectParseError("0x10", "unexpected 'x' after the JSON value", 1, 2);
  expectParseError("[1e400]", "number out of range: 1e400", 1, 2);
  expectParseError("-1e99999999999999999999", "number out of range", 1, 1);
  expectParseError("123456789e301", "number out of range", 1, 1);
}

TEST(JsonParse, StringEscapes) {
  EXPECT_EQ(parse(R"("a\"b\\c\/d\b\f\n\r\t")").asString(), "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(parse(R"("\u0041\u00e9\u20AC")").asString(), "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(parse(R"("\ud83d\ude00")").asString(), "\xF0\x9F\x98\x80"); // U+1F600
  EXPECT_EQ(parse(R"("\uDBFF\uDFFF")").asString(), "\xF4\x8F\xBF\xBF"); // U+10FFFF
  EXPECT_EQ(parse(R"("\u0000")").asString(), std::string(1, '\0'));
  expectParseError(R"("\x")", "invalid escape sequence '\\x'", 1, 2);
  expectParseError(R"("\u12")", "expected a hex digit", 1, 6);
  expectParseError(R"("\u12G4")", "expected a hex digit, found 'G'", 1, 6);
  expectParseError(R"(["\ude00"])", "unpaired low surrogate", 1, 3);
  expectParseError(R"("\ud83d")", "high surrogate not followed by a low surrogate", 1, 2);
  expectParseError(R"("\ud83dx")", "high surrogate not followed by a low surrogate", 1, 2);
  expectParseError(R"("\ud83d\u0041")", "high surrogate not followed by a low surrogate", 1, 2);
  expectParseError("\"\\", "input ends inside an escape", 1, 3);
}

TEST(JsonParse, ControlCharactersMustBeEscaped) {
  expectParseError("\"a\nb\"", "control character", 1, 3);
  expectParseError("\"a\tb\"", "control character byte 0x09", 1, 3);
  EXPECT_EQ(parse("\"\x7F\"").asString(), "\x7F"); // DEL is allowed by RFC 8259
}

TEST(JsonParse, Utf8Validation) {
  EXPECT_EQ(parse("\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"").asString(),
            "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
  expectParseError("\"\x80\"", "invalid UTF-8 in string: unexpected byte 0x80", 1, 2);
  expectParseError("\"\xC0\xAF\"", "invalid UTF-8", 1, 2);           // overlong '/'
  expectParseError("\"\xE0\x80\xAF\"", "overlong encoding", 1, 2);
  expectParseError("\"\xF0\x82\x82\xAC\"", "overlong encoding", 1, 2);
  expectParseError("\"\xED\xA0\x80\"", "encoded surrogate", 1, 2);    // U+D800
  expectParseError("\"\xF4\x90\x80\x80\"", "above U+10FFFF", 1, 2);
  expectParseError("\"\xF5\x80\x80\x80\"", "invalid UTF-8", 1, 2);
  expectParseError("\"\xC3\x28\"", "bad continuation byte", 1, 2);
  expectParseError("\"\xE2\x82", "truncated sequence", 1, 2);
  expectParseError("\"\xFF\"", "invalid UTF-8", 1, 2);
}

TEST(JsonParse, ParseErrorAccessors) {
  ParseError E("boom", 3, 14);
  EXPECT_STREQ(E.what(), "line 3, column 14: boom");
  EXPECT_EQ(E.line(), 3u);
  EXPECT_EQ(E.column(), 14u);
}

TEST(JsonParse, ValueFactories) {
  Value N = Value::makeNumber(3.0, true, 3);
  EXPECT_TRUE(N.isInteger());
  EXPECT_EQ(N.asInt(), 3);
  Value F = Value::makeNumber(3.5, false, 99);
  EXPECT_FALSE(F.isInteger());
  Value O = Value::makeObject({{"k", Value::makeString("v")}});
  EXPECT_EQ(O.find("k")->asString(), "v");
  Value A = Value::makeArray({Value::makeBool(true), Value::makeNull()});
  EXPECT_EQ(A.asArray().size(), 2u);
  EXPECT_EQ(Value().kind(), Kind::Null);
}
