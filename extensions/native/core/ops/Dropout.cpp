// Op family: Dropout, in its deterministic forms only (X: F32, F16, BF16, F64).
//
// Dropout is the identity with an all-true mask when training_mode is false (or absent) or the
// ratio is 0. With training_mode true and a non-zero ratio it drops elements at random; this
// backend has no reproducible random source, so that form is refused at load when both inputs
// are constants, and reported as a run-time failure naming the values when they are graph
// inputs (their values are only known then). Plain inference Dropout without a mask output is
// usually removed by the compiler already.
#include "../OpRegistry.h"
#include "../TypeDispatch.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace optima_v2::native {

namespace {

double loadRatio(const void *P, int32_t Type) {
  switch (Type) {
  case OPTIMA_ELEMENT_F16: return toFloat(*static_cast<const Half *>(P));
  case OPTIMA_ELEMENT_BF16: return toFloat(*static_cast<const BFloat16 *>(P));
  case OPTIMA_ELEMENT_F64: return *static_cast<const double *>(P);
  default: return *static_cast<const float *>(P);
  }
}

constexpr char RandomReason[] =
    "Dropout with training_mode=true and ratio %g drops elements at random; the native "
    "backend has no reproducible random generator, so only ratio 0 or inference mode run";

struct DropoutPlan {
  int32_t XId = -1, YId = -1, MaskId = -1;
  bool CheckAtRun = false; // training_mode and/or ratio are graph inputs that may drop elements
  int32_t TrainingId = -1; // graph input, or -1: ConstTraining
  bool ConstTraining = false;
  int32_t RatioId = -1, RatioType = OPTIMA_ELEMENT_F32; // graph input, or -1: ConstRatio
  double ConstRatio = 0.5;
  size_t Bytes = 0, Elements = 0;
};

class DropoutKernel final : public Kernel {
public:
  explicit DropoutKernel(const DropoutPlan &P) : P(P) {}

  void run(const KernelContext &Ctx) const override {
    if (P.CheckAtRun) {
      bool Training =
          P.TrainingId >= 0 ? *Ctx.tensor<const uint8_t>(P.TrainingId) != 0 : P.ConstTraining;
      double Ratio = P.RatioId >= 0 ? loadRatio(Ctx.tensor<const void>(P.RatioId), P.RatioType)
                                    : P.ConstRatio;
      if (Training && Ratio != 0) {
        Ctx.fail(RandomReason, Ratio);
        return;
      }
    }
    const std::byte *X = Ctx.tensor<const std::byte>(P.XId);
    std::byte *Y = Ctx.tensor<std::byte>(P.YId);
    bool *Mask = P.MaskId >= 0 ? Ctx.tensor<bool>(P.MaskId) : nullptr;
    constexpr size_t Block = size_t(1) << 18;
    Ctx.parallelFor((P.Bytes + Block - 1) / Block, 1, [&](size_t Begin, size_t End) {
      size_t From = Begin * Block, To = std::min(P.Bytes, End * Block);
      if (X != Y)
        std::memcpy(Y + From, X + From, To - From);
    });
    if (Mask)
      std::fill(Mask, Mask + P.Elements, true);
  }

private:
  DropoutPlan P;
};

std::unique_ptr<Kernel> makeDropout(const NodeContext &Ctx) {
  if (Ctx.outputCount() < 1 || Ctx.outputCount() > 2)
    Ctx.invalid("expected 1 or 2 outputs, got " + std::to_string(Ctx.outputCount()));
  Ctx.expectArity(1, 3, Ctx.outputCount());
  Ctx.allowAttributes({"seed", "ratio", "is_test"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_F64});
  const TensorInfo &X = *Ctx.input(0);
  DropoutPlan P;
  P.XId = Ctx.inputId(0);
  P.YId = Ctx.outputId(0);
  P.Bytes = X.Bytes;
  P.Elements = X.Elements;
  Ctx.expectOutput(0, X.Type, X.Shape);
  if (Ctx.outputCount() == 2) {
    Ctx.expectOutput(1, OPTIMA_ELEMENT_BOOL, X.Shape);
    P.MaskId = Ctx.outputId(1);
  }
  // Ratio: input 1 (opset 12+) or the attribute of opsets 7-10 (default 0.5).
  double Ratio = Ctx.getFloat("ratio", 0.5);
  bool RatioKnown = true;
  if (const TensorInfo *R = Ctx.input(1)) {
    Ctx.requireType(1, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                        OPTIMA_ELEMENT_F64});
    if (R->Elements != 1 || R->Shape.size() > 1)
      Ctx.invalid("ratio input \"" + R->Name + "\" must be a scalar, got " +
                  describe(R->Type, R->Shape));
    if (R->Where == Storage::Constant) {
      Ratio = loadRatio(R->Data, R->Type);
    } else {
      RatioKnown = false;
      P.RatioId = Ctx.inputId(1);
      P.RatioType = R->Type;
    }
  }
  // Training: input 2 (opset 12+); opset 6's is_test=0 meant training too.
  bool Training = Ctx.hasAttribute("is_test") && Ctx.getInt("is_test", 1) == 0;
  bool TrainingKnown = true;
  if (const TensorInfo *T = Ctx.input(2)) {
    Ctx.requireType(2, {OPTIMA_ELEMENT_BOOL});
    if (T->Elements != 1 || T->Shape.size() > 1)
      Ctx.invalid("training_mode input \"" + T->Name + "\" must be a scalar, got " +
                  describe(T->Type, T->Shape));
    if (T->Where == Storage::Constant) {
      Training = *static_cast<const uint8_t *>(T->Data) != 0;
    } else {
      TrainingKnown = false;
      P.TrainingId = Ctx.inputId(2);
    }
  }
  if (RatioKnown && (Ratio < 0 || Ratio >= 1) && (Training || !TrainingKnown))
    Ctx.invalid("ratio " + std::to_string(Ratio) + " is outside [0, 1)");
  bool Identity = (TrainingKnown && !Training) || (RatioKnown && Ratio == 0);
  if (!Identity && TrainingKnown && RatioKnown) {
    char Buf[256];
    std::snprintf(Buf, sizeof Buf, RandomReason, Ratio);
    Ctx.unsupported(Buf);
  }
  P.CheckAtRun = !Identity;
  P.ConstTraining = Training;
  P.ConstRatio = Ratio;
  return std::make_unique<DropoutKernel>(P);
}

} // namespace

void registerDropoutOps(OpRegistry &R) { R.add("Dropout", makeDropout); }

} // namespace optima_v2::native
