// MelWeightMatrix (opset 17): [dft_length / 2 + 1, num_mel_bins] triangular filters on the mel
// scale mel(f) = 2595 log10(1 + f / 700), following the ONNX reference step by step (band
// edges spaced by (high - low) / (num_mel_bins + 2) mel, floored to DFT bins, peak 1).
// num_mel_bins and dft_length must be constants (the output shape); sample_rate and the edge
// frequencies are runtime inputs. A band edge outside [0, bins) fails the run with a message.
#include "../../OpRegistry.h"
#include "SignalCommon.h"

#include <cmath>
#include <memory>

namespace optima_v2::native {

namespace {

constexpr int64_t MaxMelElements = int64_t(1) << 28;

// Edge frequency -> mel; log1p in the edge's own precision as the reference does, the rest in
// double.
template <typename E> double melOf(E Hz) {
  using C = ComputeType<E>;
  C V = std::log1p(load(Hz) / C(700));
  return 2595.0 * double(V) / std::log(10.0);
}

template <typename O, typename SR, typename E> class MelKernel final : public Kernel {
public:
  MelKernel(int32_t Rate, int32_t Low, int32_t High, int32_t Out, size_t MelBins, int64_t DftLength)
      : RateId(Rate), LowId(Low), HighId(High), OutId(Out), MelBins(MelBins),
        DftLength(DftLength), SpecBins(size_t(DftLength / 2 + 1)) {}

  size_t scratchBytes() const override { return (MelBins + 2) * sizeof(int64_t); }

  void run(const KernelContext &Ctx) const override {
    O *Y = Ctx.tensor<O>(OutId);
    for (size_t I = 0; I < SpecBins * MelBins; ++I)
      Y[I] = storeFromDouble<O>(0.0);
    int64_t Rate = int64_t(*Ctx.tensor<const SR>(RateId));
    if (Rate <= 0) {
      Ctx.fail("sample_rate must be positive, got %lld", static_cast<long long>(Rate));
      return;
    }
    double LowMel = melOf(*Ctx.tensor<const E>(LowId));
    double HighMel = melOf(*Ctx.tensor<const E>(HighId));
    double Step = (HighMel - LowMel) / double(MelBins + 2);
    int64_t *Edge = reinterpret_cast<int64_t *>(Ctx.Scratch);
    for (size_t I = 0; I < MelBins + 2; ++I) {
      double Hz = 700.0 * std::expm1((double(I) * Step + LowMel) / 2595.0 * std::log(10.0));
      double Bin = std::floor(double(DftLength + 1) * Hz / double(Rate));
      if (!(Bin >= 0 && Bin < double(SpecBins))) {
        Ctx.fail("mel band edge %zu falls on DFT bin %g, outside [0, %zu): check sample_rate "
                 "and the edge frequencies", I, Bin, SpecBins);
        return;
      }
      Edge[I] = int64_t(Bin);
    }
    auto Set = [&](int64_t Row, size_t Col, double V) {
      Y[size_t(Row) * MelBins + Col] = storeFromDouble<O>(V);
    };
    for (size_t I = 0; I < MelBins; ++I) {
      int64_t Lo = Edge[I], Center = Edge[I + 1], Hi = Edge[I + 2];
      if (Center == Lo)
        Set(Center, I, 1.0);
      else
        for (int64_t J = Lo; J <= Center; ++J)
          Set(J, I, double(J - Lo) / double(Center - Lo));
      if (Hi > Center)
        for (int64_t J = Center; J < Hi; ++J)
          Set(J, I, double(Hi - J) / double(Hi - Center));
    }
  }

private:
  int32_t RateId, LowId, HighId, OutId;
  size_t MelBins;
  int64_t DftLength;
  size_t SpecBins;
};

std::unique_ptr<Kernel> makeMelWeightMatrix(const NodeContext &Ctx) {
  Ctx.expectArity(5, 5, 1);
  Ctx.allowAttributes({"output_datatype"});
  for (size_t I : {0, 1, 2})
    Ctx.requireType(I, {OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_I64});
  Ctx.requireType(3, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_F64});
  const TensorInfo &Rate = *Ctx.input(2), &Low = *Ctx.input(3), &High = *Ctx.input(4);
  if (High.Type != Low.Type)
    Ctx.invalid("upper_edge_hertz \"" + High.Name + "\" must have the type of lower_edge_hertz (" +
                typeName(Low.Type) + "), got " + typeName(High.Type));
  for (const TensorInfo *T : {&Rate, &Low, &High})
    if (T->Elements != 1)
      Ctx.invalid("input \"" + T->Name + "\" must be a scalar, got " +
                  describe(T->Type, T->Shape));
  int32_t Type = outputDatatype(Ctx);
  int64_t MelBins = constantScalar(Ctx, 0, "num_mel_bins");
  int64_t DftLength = constantScalar(Ctx, 1, "dft_length");
  if (MelBins < 1 || DftLength < 1)
    Ctx.invalid("num_mel_bins (" + std::to_string(MelBins) + ") and dft_length (" +
                std::to_string(DftLength) + ") must be positive");
  int64_t SpecBins = DftLength / 2 + 1;
  if (SpecBins > MaxMelElements / MelBins)
    Ctx.invalid("the output [" + std::to_string(SpecBins) + ", " + std::to_string(MelBins) +
                "] is too large");
  Ctx.expectOutput(0, Type, {SpecBins, MelBins});

  std::unique_ptr<Kernel> K;
  dispatchType(Type, [&](auto OTag) {
    using O = typename decltype(OTag)::type;
    if constexpr (!std::is_same_v<O, bool>)
      dispatchType(Rate.Type, [&](auto RTag) {
        using SR = typename decltype(RTag)::type;
        if constexpr (std::is_same_v<SR, int32_t> || std::is_same_v<SR, int64_t>)
          dispatchType(Low.Type, [&](auto ETag) {
            using E = typename decltype(ETag)::type;
            if constexpr (std::is_floating_point_v<E> || isHalfLike<E>)
              K = std::make_unique<MelKernel<O, SR, E>>(Ctx.inputId(2), Ctx.inputId(3),
                                                        Ctx.inputId(4), Ctx.outputId(0),
                                                        size_t(MelBins), DftLength);
          });
      });
  });
  return K;
}

} // namespace

void registerMelWeightMatrixOps(OpRegistry &R) { R.add("MelWeightMatrix", makeMelWeightMatrix); }

} // namespace optima_v2::native
