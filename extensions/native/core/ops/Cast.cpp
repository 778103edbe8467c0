// Cast and CastLike between every pair of F16, BF16, F32, F64, I8..I64, U8..U64, BOOL and the
// ONNX low-precision types (float8 E4M3FN/E4M3FNUZ/E5M2/E5M2FNUZ/E8M0, float4 E2M1, int4/uint4,
// int2/uint2). Rules for the classic types: to BOOL is x != 0 (NaN is true); from BOOL gives 0/1
// (any non-zero byte is true); float -> integer truncates toward zero, NaN -> 0, out-of-range
// values saturate (negative values into unsigned types wrap through int64, as C/numpy do on
// x86-64); integer -> integer wraps modulo 2^bits; to F16/BF16 rounds to nearest even (F64 goes
// through F32). Low-precision types follow the ONNX reference (ml_dtypes), see LowPrecision.h:
// float8 rounds to nearest even and `saturate` picks clamping vs Inf/NaN on overflow; float4
// always clamps; E8M0 follows `round_mode` (and `saturate`); int4/uint4/int2/uint2 truncate
// floats toward zero and wrap. Low-precision floats read as their exact float value.
// STRING, complex and float6 types are refused as unsupported.
#include "elementwise/Common.h"

#include <cstring>

namespace optima_v2::native {

namespace {

using namespace ew;

template <typename TO, typename TI> TO convertClassic(TI V) {
  if constexpr (std::is_same_v<TO, TI>) {
    return V;
  } else if constexpr (std::is_same_v<TO, bool>) {
    if constexpr (isHalfLike<TI>)
      return toFloat(V) != 0.0f;
    else
      return V != TI(0);
  } else if constexpr (isHalfLike<TO>) {
    if constexpr (isHalfLike<TI>)
      return store<TO>(toFloat(V));
    else
      return store<TO>(float(V));
  } else if constexpr (std::is_floating_point_v<TO>) {
    return TO(load(V));
  } else if constexpr (std::is_integral_v<TI>) {
    return TO(V);
  } else {
    return floatToInt<TO>(load(V));
  }
}

// Options of the conversions to low-precision types (fixed at load).
struct CastOptions {
  bool Saturate = true;
  lowp::E8M0Round Round = lowp::E8M0Round::Up;
};

template <typename T> constexpr bool isLowpFloat = lowp::isMiniFloat<T> || std::is_same_v<T, Float8E8M0>;

// The value of any element as double (exact for all but 64-bit integers beyond 2^53).
template <typename TI> double toDouble(TI V) {
  if constexpr (isLowpFloat<TI>)
    return double(lowpToFloat(V));
  else if constexpr (lowp::isSmallInt<TI>)
    return double(lowp::smallIntValue(V));
  else if constexpr (isHalfLike<TI>)
    return double(toFloat(V));
  else
    return double(V);
}

template <typename TO, typename TI> TO convertValue(TI V, const CastOptions &O) {
  if constexpr (std::is_same_v<TO, TI>) {
    return V;
  } else if constexpr (lowp::isMiniFloat<TO>) {
    return lowpFromDouble<TO>(toDouble(V), O.Saturate);
  } else if constexpr (std::is_same_v<TO, Float8E8M0>) {
    // The reference converts the input to float32 first (integers and F64 directly).
    if constexpr (std::is_integral_v<TI> || std::is_same_v<TI, double>)
      return TO{lowp::encodeE8M0(float(V), O.Saturate, O.Round)};
    else
      return TO{lowp::encodeE8M0(float(toDouble(V)), O.Saturate, O.Round)};
  } else if constexpr (lowp::isSmallInt<TO>) {
    if constexpr (lowp::isSmallInt<TI>)
      return lowp::smallIntWrap<TO>(lowp::smallIntValue(V));
    else if constexpr (std::is_integral_v<TI>)
      return lowp::smallIntWrap<TO>(int64_t(V));
    else
      return lowp::smallIntFromFloat<TO>(toDouble(V));
  } else if constexpr (isLowpFloat<TI>) {
    return convertClassic<TO>(lowpToFloat(V));
  } else if constexpr (lowp::isSmallInt<TI>) {
    return convertClassic<TO>(lowp::smallIntValue(V));
  } else {
    return convertClassic<TO>(V);
  }
}

// InBool: the input is BOOL, read as bytes and normalised to 0/1 first.
template <typename TI, typename TO, bool InBool> class CastKernel final : public Kernel {
public:
  CastKernel(int32_t In, int32_t Out, size_t Count, CastOptions Options)
      : In(In), Out(Out), Count(Count), Options(Options) {}
  void run(const KernelContext &Ctx) const override {
    const TI *X = Ctx.tensor<const TI>(In);
    TO *Y = Ctx.tensor<TO>(Out);
    Ctx.parallelFor(Count, ElementGrain, [&](size_t Begin, size_t End) {
      if constexpr (std::is_same_v<TI, TO> && !InBool) {
        std::memcpy(Y + Begin, X + Begin, (End - Begin) * sizeof(TO));
      } else {
        for (size_t I = Begin; I < End; ++I) {
          if constexpr (InBool)
            Y[I] = convertValue<TO>(uint8_t(X[I] != 0), Options);
          else
            Y[I] = convertValue<TO>(X[I], Options);
        }
      }
    });
  }

private:
  int32_t In, Out;
  size_t Count;
  CastOptions Options;
};

bool castable(int32_t Type) { return typeSetOfCode(Type) != 0 || isLowPrecisionType(Type); }

std::unique_ptr<Kernel> makeCastKernel(const NodeContext &Ctx, int32_t OutType, CastOptions Options) {
  const TensorInfo &X = *Ctx.input(0);
  if (!castable(X.Type))
    Ctx.unsupported(std::string(typeName(X.Type)) + " input \"" + X.Name + "\"");
  if (!castable(OutType))
    Ctx.unsupported(std::string("cast to ") + typeName(OutType));
  Ctx.expectOutput(0, OutType, X.Shape);
  std::unique_ptr<Kernel> K;
  int32_t In = Ctx.inputId(0), Out = Ctx.outputId(0);
  auto WithOut = [&](auto OutTag) {
    using TO = typename decltype(OutTag)::type;
    if (X.Type == OPTIMA_ELEMENT_BOOL) {
      K = std::make_unique<CastKernel<uint8_t, TO, true>>(In, Out, X.Elements, Options);
      return;
    }
    auto WithIn = [&](auto InTag) {
      using TI = typename decltype(InTag)::type;
      K = std::make_unique<CastKernel<TI, TO, false>>(In, Out, X.Elements, Options);
    };
    if (!dispatchLowPrecision(X.Type, WithIn))
      dispatchSet<NumericTypes>(X.Type, WithIn);
  };
  if (!dispatchLowPrecision(OutType, WithOut))
    dispatchSet<AllTypes>(OutType, WithOut);
  return K;
}

// ONNX TensorProto.DataType -> element type; -1 for types the native backend has no kernel for.
int32_t fromOnnxType(int64_t T) {
  switch (T) {
  case 1: return OPTIMA_ELEMENT_F32;
  case 2: return OPTIMA_ELEMENT_U8;
  case 3: return OPTIMA_ELEMENT_I8;
  case 4: return OPTIMA_ELEMENT_U16;
  case 5: return OPTIMA_ELEMENT_I16;
  case 6: return OPTIMA_ELEMENT_I32;
  case 7: return OPTIMA_ELEMENT_I64;
  case 9: return OPTIMA_ELEMENT_BOOL;
  case 10: return OPTIMA_ELEMENT_F16;
  case 11: return OPTIMA_ELEMENT_F64;
  case 12: return OPTIMA_ELEMENT_U32;
  case 13: return OPTIMA_ELEMENT_U64;
  case 16: return OPTIMA_ELEMENT_BF16;
  case 17: return OPTIMA_ELEMENT_F8E4M3FN;
  case 18: return OPTIMA_ELEMENT_F8E4M3FNUZ;
  case 19: return OPTIMA_ELEMENT_F8E5M2;
  case 20: return OPTIMA_ELEMENT_F8E5M2FNUZ;
  case 21: return OPTIMA_ELEMENT_U4;
  case 22: return OPTIMA_ELEMENT_I4;
  case 23: return OPTIMA_ELEMENT_F4E2M1;
  case 24: return OPTIMA_ELEMENT_F8E8M0;
  case 25: return OPTIMA_ELEMENT_U2;
  case 26: return OPTIMA_ELEMENT_I2;
  default: return -1;
  }
}

const char *onnxTypeName(int64_t T) {
  switch (T) {
  case 8: return "STRING";
  case 14: return "COMPLEX64";
  case 15: return "COMPLEX128";
  case 27: return "FLOAT6E2M3";
  case 28: return "FLOAT6E3M2";
  default: return nullptr;
  }
}

CastOptions castOptions(const NodeContext &Ctx) {
  CastOptions O;
  int64_t S = Ctx.getInt("saturate", 1);
  if (S != 0 && S != 1)
    Ctx.invalidAttribute("saturate", "must be 0 or 1, got " + std::to_string(S));
  O.Saturate = S == 1;
  std::string Mode = Ctx.getString("round_mode", "up");
  if (Mode == "up")
    O.Round = lowp::E8M0Round::Up;
  else if (Mode == "nearest")
    O.Round = lowp::E8M0Round::Nearest;
  else if (Mode == "down")
    O.Round = lowp::E8M0Round::Down;
  else
    Ctx.invalidAttribute("round_mode", "must be \"up\", \"nearest\" or \"down\", got \"" + Mode + "\"");
  return O;
}

std::unique_ptr<Kernel> makeCast(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"to", "saturate", "round_mode"});
  CastOptions Options = castOptions(Ctx);
  if (!Ctx.hasAttribute("to"))
    Ctx.invalidAttribute("to", "required attribute is missing");
  int64_t To = Ctx.getInt("to", 0);
  int32_t OutType = fromOnnxType(To);
  if (OutType < 0) {
    if (const char *Name = onnxTypeName(To))
      Ctx.unsupported(std::string("cast to ") + Name);
    Ctx.invalidAttribute("to", "unknown ONNX data type " + std::to_string(To));
  }
  return makeCastKernel(Ctx, OutType, Options);
}

std::unique_ptr<Kernel> makeCastLike(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"saturate", "round_mode"});
  return makeCastKernel(Ctx, Ctx.input(1)->Type, castOptions(Ctx));
}

} // namespace

void registerCastOps(OpRegistry &R) {
  R.add("Cast", makeCast);
  R.add("CastLike", makeCastLike);
}

} // namespace optima_v2::native
