// Cast and CastLike between every pair of F16, BF16, F32, F64, I8..I64, U8..U64 and BOOL.
// Rules: to BOOL is x != 0 (NaN is true); from BOOL gives 0/1 (any non-zero byte is true);
// float -> integer truncates toward zero, NaN -> 0, out-of-range values saturate (negative
// values into unsigned types wrap through int64, as C/numpy do on x86-64); integer -> integer
// wraps modulo 2^bits; to F16/BF16 rounds to nearest even (F64 goes through F32).
// STRING, complex, float8 and 4-bit types are refused as unsupported (the `saturate` and
// `round_mode` attributes only concern float8 and are accepted but have nothing to act on).
#include "elementwise/Common.h"

#include <cstring>

namespace optima_v2::native {

namespace {

using namespace ew;

template <typename TO, typename TI> TO convertValue(TI V) {
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

// InBool: the input is BOOL, read as bytes and normalised to 0/1 first.
template <typename TI, typename TO, bool InBool> class CastKernel final : public Kernel {
public:
  CastKernel(int32_t In, int32_t Out, size_t Count) : In(In), Out(Out), Count(Count) {}
  void run(const KernelContext &Ctx) const override {
    const TI *X = Ctx.tensor<const TI>(In);
    TO *Y = Ctx.tensor<TO>(Out);
    Ctx.parallelFor(Count, ElementGrain, [&](size_t Begin, size_t End) {
      if constexpr (std::is_same_v<TI, TO> && !InBool) {
        std::memcpy(Y + Begin, X + Begin, (End - Begin) * sizeof(TO));
      } else {
        for (size_t I = Begin; I < End; ++I) {
          if constexpr (InBool)
            Y[I] = convertValue<TO>(uint8_t(X[I] != 0));
          else
            Y[I] = convertValue<TO>(X[I]);
        }
      }
    });
  }

private:
  int32_t In, Out;
  size_t Count;
};

std::unique_ptr<Kernel> makeCastKernel(const NodeContext &Ctx, int32_t OutType) {
  const TensorInfo &X = *Ctx.input(0);
  requireSet(Ctx, 0, AllTypes);
  if (!typeSetOfCode(OutType))
    Ctx.unsupported(std::string("cast to ") + typeName(OutType));
  Ctx.expectOutput(0, OutType, X.Shape);
  std::unique_ptr<Kernel> K;
  int32_t In = Ctx.inputId(0), Out = Ctx.outputId(0);
  dispatchSet<AllTypes>(OutType, [&](auto OutTag) {
    using TO = typename decltype(OutTag)::type;
    if (X.Type == OPTIMA_ELEMENT_BOOL) {
      K = std::make_unique<CastKernel<uint8_t, TO, true>>(In, Out, X.Elements);
      return;
    }
    dispatchSet<NumericTypes>(X.Type, [&](auto InTag) {
      using TI = typename decltype(InTag)::type;
      K = std::make_unique<CastKernel<TI, TO, false>>(In, Out, X.Elements);
    });
  });
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
  default: return -1;
  }
}

const char *onnxTypeName(int64_t T) {
  switch (T) {
  case 8: return "STRING";
  case 14: return "COMPLEX64";
  case 15: return "COMPLEX128";
  case 17: return "FLOAT8E4M3FN";
  case 18: return "FLOAT8E4M3FNUZ";
  case 19: return "FLOAT8E5M2";
  case 20: return "FLOAT8E5M2FNUZ";
  case 21: return "UINT4";
  case 22: return "INT4";
  case 23: return "FLOAT4E2M1";
  default: return nullptr;
  }
}

void checkSaturate(const NodeContext &Ctx) {
  int64_t S = Ctx.getInt("saturate", 1);
  if (S != 0 && S != 1)
    Ctx.invalidAttribute("saturate", "must be 0 or 1, got " + std::to_string(S));
}

std::unique_ptr<Kernel> makeCast(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"to", "saturate", "round_mode"});
  checkSaturate(Ctx);
  if (!Ctx.hasAttribute("to"))
    Ctx.invalidAttribute("to", "required attribute is missing");
  int64_t To = Ctx.getInt("to", 0);
  int32_t OutType = fromOnnxType(To);
  if (OutType < 0) {
    if (const char *Name = onnxTypeName(To))
      Ctx.unsupported(std::string("cast to ") + Name);
    Ctx.invalidAttribute("to", "unknown ONNX data type " + std::to_string(To));
  }
  return makeCastKernel(Ctx, OutType);
}

std::unique_ptr<Kernel> makeCastLike(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"saturate", "round_mode"});
  checkSaturate(Ctx);
  return makeCastKernel(Ctx, Ctx.input(1)->Type);
}

} // namespace

void registerCastOps(OpRegistry &R) {
  R.add("Cast", makeCast);
  R.add("CastLike", makeCastLike);
}

} // namespace optima_v2::native
