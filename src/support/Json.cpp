// Strict RFC 8259 reader. Model folders are untrusted, so the parser bounds size and depth, keeps
// integer literals exact (shapes and byte offsets must not pass through double), rejects duplicate
// keys (which value wins would otherwise be writer-dependent) and validates UTF-8.
#include "support/Json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace optima_v2::support::json {

namespace {

std::string formatPosition(const std::string &Message, size_t Line, size_t Column) {
  return "line " + std::to_string(Line) + ", column " + std::to_string(Column) + ": " + Message;
}

std::string joinPath(const std::string &Path, const std::string &Problem) {
  return Path.empty() ? Problem : Path + ": " + Problem;
}

const char *kindName(Kind K) {
  switch (K) {
  case Kind::Null:
    return "null";
  case Kind::Bool:
    return "a boolean";
  case Kind::Number:
    return "a number";
  case Kind::String:
    return "a string";
  case Kind::Array:
    return "an array";
  case Kind::Object:
    return "an object";
  }
  return "a value";
}

// Describes the character at a position for messages ("'x'", "end of input", "byte 0xC3").
std::string describeChar(std::string_view Text, size_t Pos) {
  if (Pos >= Text.size())
    return "end of input";
  unsigned char C = static_cast<unsigned char>(Text[Pos]);
  if (C >= 0x21 && C < 0x7F)
    return std::string("'") + static_cast<char>(C) + "'";
  static const char Hex[] = "0123456789ABCDEF";
  std::string S = "byte 0x";
  S += Hex[C >> 4];
  S += Hex[C & 15];
  return S;
}

// Rough base-10 exponent of a valid JSON number literal: > 0 means |x| >= 1. Used only to tell
// overflow from underflow when conversion reports out-of-range (locale-independent).
int64_t decimalMagnitude(std::string_view Lit) {
  size_t I = 0;
  if (I < Lit.size() && Lit[I] == '-')
    ++I;
  int64_t Mag = 0;
  bool SeenNonZero = false, InFraction = false;
  for (; I < Lit.size() && Lit[I] != 'e' && Lit[I] != 'E'; ++I) {
    if (Lit[I] == '.') {
      InFraction = true;
      continue;
    }
    if (!InFraction && (SeenNonZero || Lit[I] != '0'))
      ++Mag;
    if (Lit[I] != '0')
      SeenNonZero = true;
    else if (InFraction && !SeenNonZero)
      --Mag;
  }
  if (!SeenNonZero)
    return 0;
  if (I < Lit.size()) {
    ++I;
    bool Neg = Lit[I] == '-';
    if (Lit[I] == '-' || Lit[I] == '+')
      ++I;
    int64_t Exp = 0;
    for (; I < Lit.size(); ++I)
      Exp = std::min<int64_t>(Exp * 10 + (Lit[I] - '0'), int64_t(1) << 40);
    Mag += Neg ? -Exp : Exp;
  }
  return Mag;
}

class Parser {
public:
  Parser(std::string_view Text, const ParseOptions &Options) : Text(Text), Options(Options) {}

  Value parseDocument() {
    if (Text.size() > Options.MaxBytes)
      throw ParseError("document is " + std::to_string(Text.size()) +
                           " bytes, more than the limit of " + std::to_string(Options.MaxBytes),
                       1, 1);
    if (Text.size() >= 3 && static_cast<unsigned char>(Text[0]) == 0xEF &&
        static_cast<unsigned char>(Text[1]) == 0xBB && static_cast<unsigned char>(Text[2]) == 0xBF)
      fail("a byte order mark is not allowed");
    skipWhitespace();
    if (Pos >= Text.size())
      fail("expected a JSON value, found end of input");
    Value V = parseValue(0);
    skipWhitespace();
    if (Pos < Text.size())
      fail("unexpected " + describeChar(Text, Pos) + " after the JSON value");
    return V;
  }

private:
  std::string_view Text;
  const ParseOptions &Options;
  size_t Pos = 0;
  size_t Values = 0; // parsed so far, against Options.MaxValues

  [[noreturn]] void fail(const std::string &Message) const { failAt(Pos, Message); }

  // Line and column are computed only on error; column counts code points, 1-based.
  [[noreturn]] void failAt(size_t At, const std::string &Message) const {
    size_t Line = 1, Column = 1;
    for (size_t I = 0; I < At && I < Text.size(); ++I) {
      unsigned char C = static_cast<unsigned char>(Text[I]);
      if (C == '\n') {
        ++Line;
        Column = 1;
      } else if ((C & 0xC0) != 0x80) {
        ++Column;
      }
    }
    throw ParseError(Message, Line, Column);
  }

  void skipWhitespace() {
    while (Pos < Text.size()) {
      char C = Text[Pos];
      if (C != ' ' && C != '\t' && C != '\n' && C != '\r')
        break;
      ++Pos;
    }
  }

  bool consumeLiteral(std::string_view Word) {
    if (Text.substr(Pos, Word.size()) != Word)
      return false;
    Pos += Word.size();
    return true;
  }

  Value parseValue(size_t Depth) {
    if (Pos >= Text.size())
      fail("expected a JSON value, found end of input");
    if (++Values > Options.MaxValues)
      fail("more than the limit of " + std::to_string(Options.MaxValues) + " values");
    char C = Text[Pos];
    switch (C) {
    case '{':
      return parseObject(Depth + 1);
    case '[':
      return parseArray(Depth + 1);
    case '"':
      return Value::makeString(parseString());
    case 't':
      if (consumeLiteral("true"))
        return Value::makeBool(true);
      break;
    case 'f':
      if (consumeLiteral("false"))
        return Value::makeBool(false);
      break;
    case 'n':
      if (consumeLiteral("null"))
        return Value::makeNull();
      break;
    default:
      if (C == '-' || (C >= '0' && C <= '9'))
        return parseNumber();
      break;
    }
    if (C == 'N' || C == 'I')
      fail("NaN and Infinity are not valid JSON numbers");
    if (C == '\'')
      fail("strings must use double quotes");
    if (C == '/')
      fail("comments are not allowed in JSON");
    fail("expected a JSON value, found " + describeChar(Text, Pos));
  }

  void checkDepth(size_t Depth) const {
    if (Depth > Options.MaxDepth)
      fail("nesting deeper than the limit of " + std::to_string(Options.MaxDepth));
  }

  Value parseArray(size_t Depth) {
    checkDepth(Depth);
    ++Pos; // '['
    std::vector<Value> Items;
    skipWhitespace();
    if (Pos < Text.size() && Text[Pos] == ']') {
      ++Pos;
      return Value::makeArray(std::move(Items));
    }
    for (;;) {
      skipWhitespace();
      if (Pos < Text.size() && Text[Pos] == ']')
        fail("trailing comma before ']' is not allowed");
      Items.push_back(parseValue(Depth));
      skipWhitespace();
      if (Pos >= Text.size())
        fail("unterminated array: expected ',' or ']', found end of input");
      if (Text[Pos] == ',') {
        ++Pos;
        continue;
      }
      if (Text[Pos] == ']') {
        ++Pos;
        return Value::makeArray(std::move(Items));
      }
      fail("expected ',' or ']' in array, found " + describeChar(Text, Pos));
    }
  }

  Value parseObject(size_t Depth) {
    checkDepth(Depth);
    ++Pos; // '{'
    std::vector<std::pair<std::string, Value>> Members;
    std::unordered_set<std::string> Keys; // used only once the object gets large
    skipWhitespace();
    if (Pos < Text.size() && Text[Pos] == '}') {
      ++Pos;
      return Value::makeObject(std::move(Members));
    }
    for (;;) {
      skipWhitespace();
      if (Pos >= Text.size())
        fail("unterminated object: expected a key, found end of input");
      if (Text[Pos] == '}')
        fail("trailing comma before '}' is not allowed");
      if (Text[Pos] != '"')
        fail("expected a string key in object, found " + describeChar(Text, Pos));
      size_t KeyPos = Pos;
      std::string Key = parseString();
      if (isDuplicate(Members, Keys, Key))
        failAt(KeyPos, "duplicate object key \"" + Key + "\"");
      skipWhitespace();
      if (Pos >= Text.size() || Text[Pos] != ':')
        fail("expected ':' after object key, found " + describeChar(Text, Pos));
      ++Pos;
      skipWhitespace();
      Value V = parseValue(Depth);
      Members.emplace_back(std::move(Key), std::move(V));
      skipWhitespace();
      if (Pos >= Text.size())
        fail("unterminated object: expected ',' or '}', found end of input");
      if (Text[Pos] == ',') {
        ++Pos;
        continue;
      }
      if (Text[Pos] == '}') {
        ++Pos;
        return Value::makeObject(std::move(Members));
      }
      fail("expected ',' or '}' in object, found " + describeChar(Text, Pos));
    }
  }

  static bool isDuplicate(const std::vector<std::pair<std::string, Value>> &Members,
                          std::unordered_set<std::string> &Keys, const std::string &Key) {
    constexpr size_t LinearLimit = 16; // small objects: a scan beats hashing
    if (Members.size() < LinearLimit) {
      for (const auto &M : Members)
        if (M.first == Key)
          return true;
      return false;
    }
    if (Keys.empty())
      for (const auto &M : Members)
        Keys.insert(M.first);
    return !Keys.insert(Key).second;
  }

  unsigned parseHex4() {
    unsigned V = 0;
    for (int I = 0; I < 4; ++I) {
      char C = Pos < Text.size() ? Text[Pos] : '\0';
      unsigned D;
      if (C >= '0' && C <= '9')
        D = unsigned(C - '0');
      else if (C >= 'a' && C <= 'f')
        D = unsigned(C - 'a' + 10);
      else if (C >= 'A' && C <= 'F')
        D = unsigned(C - 'A' + 10);
      else
        fail("invalid \\u escape: expected a hex digit, found " + describeChar(Text, Pos));
      V = V * 16 + D;
      ++Pos;
    }
    return V;
  }

  static void appendUtf8(std::string &Out, uint32_t CP) {
    if (CP < 0x80) {
      Out += static_cast<char>(CP);
    } else if (CP < 0x800) {
      Out += static_cast<char>(0xC0 | (CP >> 6));
      Out += static_cast<char>(0x80 | (CP & 0x3F));
    } else if (CP < 0x10000) {
      Out += static_cast<char>(0xE0 | (CP >> 12));
      Out += static_cast<char>(0x80 | ((CP >> 6) & 0x3F));
      Out += static_cast<char>(0x80 | (CP & 0x3F));
    } else {
      Out += static_cast<char>(0xF0 | (CP >> 18));
      Out += static_cast<char>(0x80 | ((CP >> 12) & 0x3F));
      Out += static_cast<char>(0x80 | ((CP >> 6) & 0x3F));
      Out += static_cast<char>(0x80 | (CP & 0x3F));
    }
  }

  void parseEscape(std::string &Out) {
    size_t EscPos = Pos;
    ++Pos; // '\'
    if (Pos >= Text.size())
      fail("unterminated string: input ends inside an escape");
    char C = Text[Pos++];
    switch (C) {
    case '"':
      Out += '"';
      return;
    case '\\':
      Out += '\\';
      return;
    case '/':
      Out += '/';
      return;
    case 'b':
      Out += '\b';
      return;
    case 'f':
      Out += '\f';
      return;
    case 'n':
      Out += '\n';
      return;
    case 'r':
      Out += '\r';
      return;
    case 't':
      Out += '\t';
      return;
    case 'u':
      break;
    default:
      failAt(EscPos, "invalid escape sequence '\\" + std::string(1, C) + "'");
    }
    uint32_t CP = parseHex4();
    if (CP >= 0xDC00 && CP <= 0xDFFF)
      failAt(EscPos, "invalid \\u escape: unpaired low surrogate");
    if (CP >= 0xD800 && CP <= 0xDBFF) {
      if (Text.size() - Pos < 2 || Text[Pos] != '\\' || Text[Pos + 1] != 'u')
        failAt(EscPos, "invalid \\u escape: high surrogate not followed by a low surrogate");
      Pos += 2;
      uint32_t Low = parseHex4();
      if (Low < 0xDC00 || Low > 0xDFFF)
        failAt(EscPos, "invalid \\u escape: high surrogate not followed by a low surrogate");
      CP = 0x10000 + ((CP - 0xD800) << 10) + (Low - 0xDC00);
    }
    appendUtf8(Out, CP);
  }

  // Validates one raw UTF-8 sequence starting at Pos (first byte >= 0x80) and copies it.
  void copyUtf8Sequence(std::string &Out) {
    auto Byte = [&](size_t I) { return static_cast<unsigned char>(Text[I]); };
    unsigned char B0 = Byte(Pos);
    size_t Len;
    uint32_t CP;
    if (B0 >= 0xC2 && B0 <= 0xDF) {
      Len = 2;
      CP = B0 & 0x1F;
    } else if (B0 >= 0xE0 && B0 <= 0xEF) {
      Len = 3;
      CP = B0 & 0x0F;
    } else if (B0 >= 0xF0 && B0 <= 0xF4) {
      Len = 4;
      CP = B0 & 0x07;
    } else {
      fail("invalid UTF-8 in string: unexpected " + describeChar(Text, Pos));
    }
    if (Text.size() - Pos < Len)
      fail("invalid UTF-8 in string: truncated sequence");
    for (size_t I = 1; I < Len; ++I) {
      unsigned char B = Byte(Pos + I);
      if ((B & 0xC0) != 0x80)
        fail("invalid UTF-8 in string: bad continuation byte");
      CP = (CP << 6) | (B & 0x3F);
    }
    if ((Len == 3 && CP < 0x800) || (Len == 4 && CP < 0x10000))
      fail("invalid UTF-8 in string: overlong encoding");
    if (CP >= 0xD800 && CP <= 0xDFFF)
      fail("invalid UTF-8 in string: encoded surrogate");
    if (CP > 0x10FFFF)
      fail("invalid UTF-8 in string: code point above U+10FFFF");
    Out.append(Text.data() + Pos, Len);
    Pos += Len;
  }

  std::string parseString() {
    size_t Start = Pos;
    ++Pos; // '"'
    std::string Out;
    for (;;) {
      if (Pos >= Text.size())
        failAt(Start, "unterminated string");
      unsigned char C = static_cast<unsigned char>(Text[Pos]);
      if (C == '"') {
        ++Pos;
        return Out;
      }
      if (C == '\\') {
        parseEscape(Out);
      } else if (C < 0x20) {
        fail("control character " + describeChar(Text, Pos) + " in string must be escaped");
      } else if (C < 0x80) {
        Out += static_cast<char>(C);
        ++Pos;
      } else {
        copyUtf8Sequence(Out);
      }
    }
  }

  Value parseNumber() {
    size_t Start = Pos;
    auto IsDigit = [&](size_t I) { return I < Text.size() && Text[I] >= '0' && Text[I] <= '9'; };
    if (Text[Pos] == '-')
      ++Pos;
    if (!IsDigit(Pos))
      fail("invalid number: expected a digit after '-'");
    if (Text[Pos] == '0') {
      ++Pos;
      if (IsDigit(Pos))
        failAt(Start, "invalid number: leading zeros are not allowed");
    } else {
      while (IsDigit(Pos))
        ++Pos;
    }
    bool IsInteger = true;
    if (Pos < Text.size() && Text[Pos] == '.') {
      IsInteger = false;
      ++Pos;
      if (!IsDigit(Pos))
        fail("invalid number: expected a digit after '.'");
      while (IsDigit(Pos))
        ++Pos;
    }
    if (Pos < Text.size() && (Text[Pos] == 'e' || Text[Pos] == 'E')) {
      IsInteger = false;
      ++Pos;
      if (Pos < Text.size() && (Text[Pos] == '+' || Text[Pos] == '-'))
        ++Pos;
      if (!IsDigit(Pos))
        fail("invalid number: expected a digit in the exponent");
      while (IsDigit(Pos))
        ++Pos;
    }
    const char *First = Text.data() + Start;
    const char *Last = Text.data() + Pos;
    int64_t Int = 0;
    bool FitsInt = false;
    if (IsInteger) {
      auto R = std::from_chars(First, Last, Int);
      FitsInt = R.ec == std::errc() && R.ptr == Last;
    }
    double D = 0;
    auto R = std::from_chars(First, Last, D);
    if (R.ec == std::errc::result_out_of_range) {
      // Underflow is harmless (the value is ~0); overflow to infinity is not representable.
      if (decimalMagnitude(std::string_view(First, size_t(Last - First))) > 0)
        failAt(Start, "number out of range: " + std::string(First, Last));
      D = 0;
    } else if (R.ec != std::errc() || R.ptr != Last) {
      failAt(Start, "invalid number: " + std::string(First, Last));
    }
    if (FitsInt)
      D = static_cast<double>(Int);
    return Value::makeNumber(D, FitsInt, FitsInt ? Int : 0);
  }
};

// Dotted path for messages; keys that are not plain identifiers are quoted: a["odd key"].
std::string childPath(const std::string &Path, std::string_view Key) {
  bool Plain = !Key.empty();
  for (char C : Key)
    if (!((C >= 'a' && C <= 'z') || (C >= 'A' && C <= 'Z') || (C >= '0' && C <= '9') || C == '_' ||
          C == '-'))
      Plain = false;
  if (Plain)
    return Path.empty() ? std::string(Key) : Path + "." + std::string(Key);
  std::string Quoted = "[\"";
  for (char C : Key) {
    if (C == '"' || C == '\\')
      Quoted += '\\';
    Quoted += C;
  }
  return Path + Quoted + "\"]";
}

} // namespace

ParseError::ParseError(const std::string &Message, size_t Line, size_t Column)
    : std::runtime_error(formatPosition(Message, Line, Column)), Line(Line), Column(Column) {}

SchemaError::SchemaError(std::string Path, const std::string &Problem)
    : std::runtime_error(joinPath(Path, Problem)), FieldPath(std::move(Path)), Problem(Problem) {}

// --- Value ---------------------------------------------------------------------------------

bool Value::asBool() const {
  if (K != Kind::Bool)
    throw std::logic_error("json::Value: not a boolean");
  return B;
}

double Value::asNumber() const {
  if (K != Kind::Number)
    throw std::logic_error("json::Value: not a number");
  return Num;
}

int64_t Value::asInt() const {
  if (!isInteger())
    throw std::logic_error("json::Value: not an integer");
  return Int;
}

const std::string &Value::asString() const {
  if (K != Kind::String)
    throw std::logic_error("json::Value: not a string");
  return Str;
}

const std::vector<Value> &Value::asArray() const {
  if (K != Kind::Array)
    throw std::logic_error("json::Value: not an array");
  return Arr;
}

const std::vector<std::pair<std::string, Value>> &Value::asObject() const {
  if (K != Kind::Object)
    throw std::logic_error("json::Value: not an object");
  return Obj;
}

const Value *Value::find(std::string_view Key) const noexcept {
  if (K != Kind::Object)
    return nullptr;
  for (const auto &M : Obj)
    if (M.first == Key)
      return &M.second;
  return nullptr;
}

Value Value::makeNull() { return Value(); }

Value Value::makeBool(bool B) {
  Value V;
  V.K = Kind::Bool;
  V.B = B;
  return V;
}

Value Value::makeNumber(double D, bool IsInteger, int64_t I) {
  Value V;
  V.K = Kind::Number;
  V.Num = D;
  V.IsInt = IsInteger;
  V.Int = IsInteger ? I : 0;
  return V;
}

Value Value::makeString(std::string S) {
  Value V;
  V.K = Kind::String;
  V.Str = std::move(S);
  return V;
}

Value Value::makeArray(std::vector<Value> Items) {
  Value V;
  V.K = Kind::Array;
  V.Arr = std::move(Items);
  return V;
}

Value Value::makeObject(std::vector<std::pair<std::string, Value>> Members) {
  Value V;
  V.K = Kind::Object;
  V.Obj = std::move(Members);
  return V;
}

Value parse(std::string_view Text, const ParseOptions &Options) {
  return Parser(Text, Options).parseDocument();
}

// --- Cursor --------------------------------------------------------------------------------

void Cursor::fail(const std::string &Problem) const { throw SchemaError(FieldPath, Problem); }

bool Cursor::has(std::string_view Key) const noexcept { return V->find(Key) != nullptr; }

Cursor Cursor::field(std::string_view Key) const {
  if (!V->isObject())
    fail(std::string("expected an object, got ") + kindName(V->kind()));
  const Value *Member = V->find(Key);
  if (!Member)
    throw SchemaError(childPath(FieldPath, Key), "required field is missing");
  return Cursor(*Member, childPath(FieldPath, Key));
}

Cursor Cursor::at(size_t Index) const {
  if (!V->isArray())
    fail(std::string("expected an array, got ") + kindName(V->kind()));
  std::string Child = FieldPath + "[" + std::to_string(Index) + "]";
  if (Index >= V->asArray().size())
    throw SchemaError(Child, "index out of range (array has " +
                                 std::to_string(V->asArray().size()) + " elements)");
  return Cursor(V->asArray()[Index], std::move(Child));
}

size_t Cursor::size() const { return getArray().size(); }

const std::string &Cursor::getString() const {
  if (!V->isString())
    fail(std::string("expected a string, got ") + kindName(V->kind()));
  return V->asString();
}

std::string Cursor::getString(std::string_view Key, std::string Default) const {
  if (!V->isObject())
    fail(std::string("expected an object, got ") + kindName(V->kind()));
  if (!has(Key))
    return Default;
  return field(Key).getString();
}

bool Cursor::getBool() const {
  if (!V->isBool())
    fail(std::string("expected a boolean, got ") + kindName(V->kind()));
  return V->asBool();
}

int64_t Cursor::getInt(int64_t Min, int64_t Max) const {
  if (!V->isInteger() || V->asInt() < Min || V->asInt() > Max)
    fail("expected an integer in [" + std::to_string(Min) + ", " + std::to_string(Max) + "]");
  return V->asInt();
}

uint64_t Cursor::getUInt(uint64_t Max) const {
  if (!V->isInteger() || V->asInt() < 0 || static_cast<uint64_t>(V->asInt()) > Max)
    fail("expected an integer in [0, " + std::to_string(Max) + "]");
  return static_cast<uint64_t>(V->asInt());
}

double Cursor::getNumber() const {
  if (!V->isNumber())
    fail(std::string("expected a number, got ") + kindName(V->kind()));
  return V->asNumber();
}

const std::vector<Value> &Cursor::getArray(size_t MaxSize) const {
  if (!V->isArray())
    fail(std::string("expected an array, got ") + kindName(V->kind()));
  if (V->asArray().size() > MaxSize)
    fail("array has " + std::to_string(V->asArray().size()) + " elements, at most " +
         std::to_string(MaxSize) + " allowed");
  return V->asArray();
}

const std::vector<std::pair<std::string, Value>> &Cursor::getObject() const {
  if (!V->isObject())
    fail(std::string("expected an object, got ") + kindName(V->kind()));
  return V->asObject();
}

} // namespace optima_v2::support::json
