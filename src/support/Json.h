// Strict JSON reader shared by the runtime core and the bundled extensions (support library:
// neither core nor backend). Parsing is bounded (depth, size) because model folders are untrusted.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace optima_v2::support::json {

enum class Kind { Null, Bool, Number, String, Array, Object };

// Syntax error: message says what and where ("line 3, column 14: expected ':'").
class ParseError : public std::runtime_error {
public:
  ParseError(const std::string &Message, size_t Line, size_t Column);
  size_t line() const noexcept { return Line; }
  size_t column() const noexcept { return Column; }

private:
  size_t Line, Column;
};

// Schema error: Path is the field in JSON-pointer-like dotted form, e.g. "subgraphs[1].inputs[0]".
class SchemaError : public std::runtime_error {
public:
  SchemaError(std::string Path, const std::string &Problem);
  const std::string &path() const noexcept { return FieldPath; }
  const std::string &problem() const noexcept { return Problem; }

private:
  std::string FieldPath, Problem;
};

class Value {
public:
  Value() = default; // null

  Kind kind() const noexcept { return K; }
  bool isNull() const noexcept { return K == Kind::Null; }
  bool isBool() const noexcept { return K == Kind::Bool; }
  bool isNumber() const noexcept { return K == Kind::Number; }
  // True for a number written without fraction/exponent that fits int64.
  bool isInteger() const noexcept { return K == Kind::Number && IsInt; }
  bool isString() const noexcept { return K == Kind::String; }
  bool isArray() const noexcept { return K == Kind::Array; }
  bool isObject() const noexcept { return K == Kind::Object; }

  // Accessors throw std::logic_error when the kind is wrong (callers check first or use Cursor).
  bool asBool() const;
  double asNumber() const;
  int64_t asInt() const;
  const std::string &asString() const;
  const std::vector<Value> &asArray() const;
  const std::vector<std::pair<std::string, Value>> &asObject() const;
  // Object member lookup (first match), nullptr when absent or not an object.
  const Value *find(std::string_view Key) const noexcept;

  static Value makeNull();
  static Value makeBool(bool B);
  static Value makeNumber(double D, bool IsInteger, int64_t I);
  static Value makeString(std::string S);
  static Value makeArray(std::vector<Value> Items);
  static Value makeObject(std::vector<std::pair<std::string, Value>> Members);

private:
  Kind K = Kind::Null;
  bool B = false;
  bool IsInt = false;
  double Num = 0;
  int64_t Int = 0;
  std::string Str;
  std::vector<Value> Arr;
  std::vector<std::pair<std::string, Value>> Obj;
};

struct ParseOptions {
  size_t MaxDepth = 64;
  size_t MaxBytes = size_t(64) << 20;
  // Values of any kind in the document. A parsed value takes ~100 bytes against 2 bytes of text
  // ("0,"), so this, not MaxBytes, is what bounds the parser's memory on hostile input.
  size_t MaxValues = SIZE_MAX;
};

// Parses exactly one JSON value (RFC 8259; no comments, no trailing commas, no NaN); throws
// ParseError. Duplicate object keys are rejected. Strings must be valid UTF-8; \u escapes incl.
// surrogate pairs are decoded.
Value parse(std::string_view Text, const ParseOptions &Options = {});

// Typed, path-tracking view used to validate documents. Every failing getter throws SchemaError
// whose path names the field, e.g. `subgraphs[2].shape[9]: expected an integer in [0, 2147483647]`.
class Cursor {
public:
  Cursor(const Value &V, std::string Path = "") : V(&V), FieldPath(std::move(Path)) {}

  const Value &value() const noexcept { return *V; }
  const std::string &path() const noexcept { return FieldPath; }

  bool has(std::string_view Key) const noexcept;   // object has key (throws nothing)
  Cursor field(std::string_view Key) const;        // required member of an object
  Cursor at(size_t Index) const;                   // array element
  size_t size() const;                             // array length (must be an array)

  const std::string &getString() const;
  std::string getString(std::string_view Key, std::string Default) const; // optional member
  bool getBool() const;
  int64_t getInt(int64_t Min, int64_t Max) const;  // integer in [Min, Max]
  uint64_t getUInt(uint64_t Max) const;            // integer in [0, Max]
  double getNumber() const;
  const std::vector<Value> &getArray(size_t MaxSize = SIZE_MAX) const;
  const std::vector<std::pair<std::string, Value>> &getObject() const;

  [[noreturn]] void fail(const std::string &Problem) const;

private:
  const Value *V;
  std::string FieldPath;
};

} // namespace optima_v2::support::json
