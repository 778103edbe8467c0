// BitCast (opset 26): the input's bytes reinterpreted as the element type `to` of the same
// width, shape unchanged (a byte copy; storage is little-endian like the spec asks on every
// target this backend supports). Every element type of the backend including the 8-bit floats;
// the 4-/2-bit types (stored unpacked, one byte per element, so their bytes are not their bit
// pattern), complex and string are refused. A bit pattern that is not a valid bool (a byte
// other than 0 or 1) fails the run instead of producing an undefined bool.
#include "../OpRegistry.h"
#include "signal/SignalCommon.h"

#include <cstring>
#include <memory>

namespace optima_v2::native {

namespace {

// ONNX data type -> element type, with the 8-bit float types BitCast can copy; -1 otherwise.
int32_t bitCastTarget(int64_t To) {
  switch (To) {
  case 17: return OPTIMA_ELEMENT_F8E4M3FN;
  case 18: return OPTIMA_ELEMENT_F8E4M3FNUZ;
  case 19: return OPTIMA_ELEMENT_F8E5M2;
  case 20: return OPTIMA_ELEMENT_F8E5M2FNUZ;
  case 24: return OPTIMA_ELEMENT_F8E8M0;
  default: return elementTypeFromOnnx(To);
  }
}

class BitCastKernel final : public Kernel {
public:
  BitCastKernel(int32_t In, int32_t Out, size_t Bytes, bool ToBool)
      : In(In), Out(Out), Bytes(Bytes), ToBool(ToBool) {}

  void run(const KernelContext &Ctx) const override {
    const auto *X = Ctx.tensor<const uint8_t>(In);
    auto *Y = Ctx.tensor<uint8_t>(Out);
    if (ToBool)
      for (size_t I = 0; I < Bytes; ++I)
        if (X[I] > 1) {
          Ctx.fail("byte %zu (value %u) is not a valid bool (0 or 1)", I, unsigned(X[I]));
          return;
        }
    if (Bytes && X != Y)
      std::memmove(Y, X, Bytes);
  }

private:
  int32_t In, Out;
  size_t Bytes;
  bool ToBool;
};

std::unique_ptr<Kernel> makeBitCast(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"to"});
  if (!Ctx.hasAttribute("to"))
    Ctx.invalidAttribute("to", "required attribute is missing");
  int64_t To = Ctx.getInt("to", 0);
  int32_t Type = bitCastTarget(To);
  if (To == 8)
    Ctx.invalidAttribute("to", "STRING is not allowed");
  if (Type < 0) {
    if (To <= 0 || To > 26)
      Ctx.invalidAttribute("to", "unknown ONNX data type " + std::to_string(To));
    Ctx.unsupported("BitCast to ONNX data type " + std::to_string(To) +
                    " (no element type in this backend)");
  }
  const TensorInfo &X = *Ctx.input(0);
  if (isLowPrecisionInt(X.Type) || X.Type == OPTIMA_ELEMENT_F4E2M1)
    Ctx.unsupported("BitCast from " + std::string(typeName(X.Type)) +
                    " (4-/2-bit types are stored unpacked)");
  size_t InSize = elementSize(X.Type), OutSize = elementSize(Type);
  if (InSize == 0)
    Ctx.unsupported("input \"" + X.Name + "\" has an unknown element type");
  if (InSize != OutSize)
    Ctx.invalid("input \"" + X.Name + "\" (" + typeName(X.Type) + ", " +
                std::to_string(InSize * 8) + " bits) and \"to\" " + typeName(Type) + " (" +
                std::to_string(OutSize * 8) + " bits) differ in width");
  Ctx.expectOutput(0, Type, X.Shape);
  bool ToBool = Type == OPTIMA_ELEMENT_BOOL && X.Type != OPTIMA_ELEMENT_BOOL;
  return std::make_unique<BitCastKernel>(Ctx.inputId(0), Ctx.outputId(0), X.Bytes, ToBool);
}

} // namespace

void registerBitCastOps(OpRegistry &R) { R.add("BitCast", makeBitCast); }

} // namespace optima_v2::native
