// HannWindow, HammingWindow, BlackmanWindow (opset 17). The size input must be a constant (it
// is the output shape), so the whole window is computed at load, in double, converted to
// output_datatype (default F32; integer types truncate like numpy's astype) and copied by run().
// periodic=1 (default) uses N = size, periodic=0 (symmetric) N = size - 1; a symmetric window of
// size 1 is [1] (the formulas would divide by zero).
#include "../../OpRegistry.h"
#include "SignalCommon.h"

#include <cmath>
#include <cstring>
#include <memory>

namespace optima_v2::native {

namespace {

enum class WindowKind { Hann, Hamming, Blackman };

constexpr int64_t MaxWindowSize = int64_t(1) << 28;

double windowValue(WindowKind Kind, size_t I, double N) {
  double X = 2.0 * M_PI * double(I) / N;
  switch (Kind) {
  case WindowKind::Hann: {
    double S = std::sin(M_PI * double(I) / N);
    return S * S;
  }
  case WindowKind::Hamming: {
    constexpr double Alpha = 25.0 / 46.0;
    return Alpha - (1.0 - Alpha) * std::cos(X);
  }
  case WindowKind::Blackman:
    return 0.42 - 0.5 * std::cos(X) + 0.08 * std::cos(2.0 * X);
  }
  return 0.0;
}

class ConstantOutputKernel final : public Kernel {
public:
  ConstantOutputKernel(int32_t Out, std::vector<std::byte> Values)
      : Out(Out), Values(std::move(Values)) {}
  void run(const KernelContext &Ctx) const override {
    if (!Values.empty())
      std::memcpy(Ctx.tensor<std::byte>(Out), Values.data(), Values.size());
  }

private:
  int32_t Out;
  std::vector<std::byte> Values;
};

template <WindowKind Kind> std::unique_ptr<Kernel> makeWindow(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"periodic", "output_datatype"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_I64});
  int64_t Periodic = Ctx.getInt("periodic", 1);
  if (Periodic != 0 && Periodic != 1)
    Ctx.invalidAttribute("periodic", "must be 0 or 1, got " + std::to_string(Periodic));
  int32_t Type = outputDatatype(Ctx);
  int64_t Size = constantScalar(Ctx, 0, "size");
  if (Size < 0 || Size > MaxWindowSize)
    Ctx.invalid("window size " + std::to_string(Size) + " must be in [0, " +
                std::to_string(MaxWindowSize) + "]");
  Ctx.expectOutput(0, Type, {Size});

  double N = double(Periodic ? Size : Size - 1);
  std::vector<std::byte> Values(size_t(Size) * elementSize(Type));
  dispatchType(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (!std::is_same_v<T, bool>) {
      for (size_t I = 0; I < size_t(Size); ++I) {
        T V = storeFromDouble<T>(N > 0 ? windowValue(Kind, I, N) : 1.0);
        std::memcpy(Values.data() + I * sizeof(T), &V, sizeof(T));
      }
    }
  });
  return std::make_unique<ConstantOutputKernel>(Ctx.outputId(0), std::move(Values));
}

} // namespace

void registerWindowOps(OpRegistry &R) {
  R.add("HannWindow", makeWindow<WindowKind::Hann>);
  R.add("HammingWindow", makeWindow<WindowKind::Hamming>);
  R.add("BlackmanWindow", makeWindow<WindowKind::Blackman>);
}

} // namespace optima_v2::native
