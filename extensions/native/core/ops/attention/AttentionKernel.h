// Attention kernel for storage type T (F32, F16, BF16; arithmetic in float). Two parallel
// passes: (1) per (batch, kv head): present_key/value = past ++ new, keys scaled and values
// widened to float scratch; (2) per (batch, q head): scores = Q' K'^T (sgemm), softcap, bias,
// softmax, P V (sgemm). Values are rounded to T wherever ONNX's function body materialises a T
// tensor (Q*s, K*s, QK, softcap steps, QK+bias, softmax, P, Y) so F16/BF16 match the reference.
#pragma once

#include "../../Gemm.h"
#include "../../Kernel.h"
#include "AttentionPlan.h"
#include "RoundedSoftmax.h"

#include <cmath>
#include <limits>

namespace optima_v2::native {

template <typename T> class AttentionKernel final : public Kernel {
public:
  explicit AttentionKernel(const AttentionPlan &P) : P(P) {}

  size_t scratchBytes() const override { return P.ScratchBytes; }

  void run(const KernelContext &Ctx) const override {
    float *KF = reinterpret_cast<float *>(Ctx.Scratch + P.KOff);
    float *VF = reinterpret_cast<float *>(Ctx.Scratch + P.VOff);
    Ctx.parallelFor(P.Batch * P.KvHeads, 1, [&](size_t Begin, size_t End) {
      for (size_t Task = Begin; Task < End; ++Task)
        gatherKv(Ctx, Task, KF, VF);
    });
    Ctx.parallelFor(P.Batch * P.QHeads, 1, [&](size_t Begin, size_t End) {
      for (size_t Task = Begin; Task < End; ++Task)
        attendHead(Ctx, Task, KF, VF);
    });
  }

private:
  static float roundT(float X) noexcept { return roundTo<T>(X); }

  // Copies one kv head's past and new rows to present_* and to the float scratch.
  void gatherKv(const KernelContext &Ctx, size_t Task, float *KF, float *VF) const {
    size_t B = Task / P.KvHeads, H = Task % P.KvHeads;
    const T *Key = Ctx.tensor<const T>(P.K), *Value = Ctx.tensor<const T>(P.V);
    const T *PastKey = P.PastK >= 0 ? Ctx.tensor<const T>(P.PastK) : nullptr;
    const T *PastValue = P.PastV >= 0 ? Ctx.tensor<const T>(P.PastV) : nullptr;
    T *PresentKey = P.PresentK >= 0 ? Ctx.tensor<T>(P.PresentK) : nullptr;
    T *PresentValue = P.PresentV >= 0 ? Ctx.tensor<T>(P.PresentV) : nullptr;
    size_t D = P.HeadSize, Dv = P.VHeadSize;
    for (size_t Pos = 0; Pos < P.TotalLen; ++Pos) {
      const T *KRow, *VRow;
      if (Pos < P.PastLen) {
        KRow = PastKey + (Task * P.PastLen + Pos) * D;
        VRow = PastValue + (Task * P.PastLen + Pos) * Dv;
      } else {
        size_t S = Pos - P.PastLen;
        KRow = Key + B * P.KS.Batch + H * P.KS.Head + S * P.KS.Seq;
        VRow = Value + B * P.VS.Batch + H * P.VS.Head + S * P.VS.Seq;
      }
      size_t Row = Task * P.TotalLen + Pos;
      float *KOut = KF + Row * D;
      for (size_t I = 0; I < D; ++I)
        KOut[I] = roundT(load(KRow[I]) * P.ScaleRoot);
      float *VOut = VF + Row * Dv;
      for (size_t I = 0; I < Dv; ++I)
        VOut[I] = load(VRow[I]);
      if (PresentKey)
        for (size_t I = 0; I < D; ++I)
          PresentKey[Row * D + I] = KRow[I];
      if (PresentValue)
        for (size_t I = 0; I < Dv; ++I)
          PresentValue[Row * Dv + I] = VRow[I];
    }
  }

  // The additive bias of score (B, H, I, J): attn_mask, causal, window and padding terms, each
  // 0 or -inf except a float mask value (added, not selected, as the reference does).
  float biasAt(const T *Mask, const bool *MaskBool, int64_t Offset, int64_t NonPadLen, size_t B,
               size_t H, size_t I, size_t J) const {
    constexpr float NegInf = -std::numeric_limits<float>::infinity();
    float Bias = 0;
    if (P.Mask >= 0) {
      if (J < P.MaskLen) {
        size_t Idx = B * P.MaskBatch + H * P.MaskHead + I * P.MaskQuery + J;
        Bias = P.MaskIsBool ? (MaskBool[Idx] ? 0.0f : NegInf) : load(Mask[Idx]);
      } else {
        Bias = NegInf;
      }
    }
    int64_t Diff = int64_t(I) + Offset - int64_t(J); // query position - key position
    if (P.Causal && Diff < 0)
      Bias += NegInf;
    if (P.LeftWindow >= 0 && Diff > P.LeftWindow)
      Bias += NegInf;
    if (P.RightWindow >= 0 && -Diff > P.RightWindow)
      Bias += NegInf;
    if (P.NonPad >= 0 && int64_t(J) >= NonPadLen)
      Bias += NegInf;
    return Bias;
  }

  void softmax(float *Row) const {
    switch (P.Precision) {
    case SoftmaxPrecision::AsInput: roundedSoftmax<T>(Row, P.TotalLen); break;
    case SoftmaxPrecision::Float: roundedSoftmax<float>(Row, P.TotalLen); break;
    case SoftmaxPrecision::Double: roundedSoftmax<double>(Row, P.TotalLen); break;
    case SoftmaxPrecision::Half: roundedSoftmax<Half>(Row, P.TotalLen); break;
    case SoftmaxPrecision::BFloat16: roundedSoftmax<BFloat16>(Row, P.TotalLen); break;
    }
  }

  void attendHead(const KernelContext &Ctx, size_t Task, const float *KF, const float *VF) const {
    constexpr float NegInf = -std::numeric_limits<float>::infinity();
    size_t B = Task / P.QHeads, H = Task % P.QHeads;
    size_t KvTask = B * P.KvHeads + H / P.Group; // kv heads are repeated, not tiled
    size_t D = P.HeadSize, Dv = P.VHeadSize, N = P.TotalLen;
    float *QF = reinterpret_cast<float *>(Ctx.Scratch + P.QOff) + Task * P.QLen * D;
    float *Scores = reinterpret_cast<float *>(Ctx.Scratch + P.ScoreOff) + Task * P.QLen * N;
    float *YF = reinterpret_cast<float *>(Ctx.Scratch + P.YOff) + Task * P.QLen * Dv;

    const T *Query = Ctx.tensor<const T>(P.Q) + B * P.QS.Batch + H * P.QS.Head;
    for (size_t I = 0; I < P.QLen; ++I)
      for (size_t C = 0; C < D; ++C)
        QF[I * D + C] = roundT(load(Query[I * P.QS.Seq + C]) * P.ScaleRoot);
    GemmShape QK;
    QK.M = P.QLen, QK.N = N, QK.K = D, QK.TransB = true, QK.Lda = D, QK.Ldb = D, QK.Ldc = N;
    sgemm(QK, 1.0f, QF, KF + KvTask * N * D, 0.0f, Scores, nullptr);

    const T *Mask = nullptr;
    const bool *MaskBool = nullptr;
    if (P.Mask >= 0 && P.MaskIsBool)
      MaskBool = Ctx.tensor<const bool>(P.Mask);
    else if (P.Mask >= 0)
      Mask = Ctx.tensor<const T>(P.Mask);
    int64_t NonPadLen = P.NonPad >= 0 ? Ctx.tensor<const int64_t>(P.NonPad)[B] : 0;
    // Where the query block sits among the keys: after the past (internal cache), or at the
    // end of the valid keys (external cache); bottom-right aligned causal/window masks.
    int64_t Offset = P.PastK >= 0 ? int64_t(P.PastLen)
                     : P.NonPad >= 0 ? NonPadLen - int64_t(P.QLen)
                                     : 0;
    T *QkOut = P.QkOut >= 0 ? Ctx.tensor<T>(P.QkOut) + Task * P.QLen * N : nullptr;
    float Cap = P.Softcap;
    for (size_t I = 0; I < P.QLen; ++I) {
      float *Row = Scores + I * N;
      T *QkRow = QkOut ? QkOut + I * N : nullptr;
      float BiasMax = NegInf;
      for (size_t J = 0; J < N; ++J) {
        float X = roundT(Row[J]);
        if (Cap > 0)
          X = roundT(roundT(std::tanh(roundT(X / Cap))) * Cap);
        if (QkRow && P.QkMode <= 1)
          QkRow[J] = store<T>(X);
        float Bias = biasAt(Mask, MaskBool, Offset, NonPadLen, B, H, I, J);
        if (Bias > BiasMax || Bias != Bias)
          BiasMax = Bias;
        X = roundT(X + Bias);
        if (QkRow && P.QkMode == 2)
          QkRow[J] = store<T>(X);
        Row[J] = X;
      }
      softmax(Row);
      // A row with no attendable key (decided on the bias, not on possibly-NaN logits) is 0.
      bool AllMasked = BiasMax == NegInf;
      for (size_t J = 0; J < N; ++J) {
        Row[J] = AllMasked ? 0.0f : roundT(Row[J]);
        if (QkRow && P.QkMode == 3)
          QkRow[J] = store<T>(Row[J]);
      }
    }

    GemmShape PV;
    PV.M = P.QLen, PV.N = Dv, PV.K = N, PV.Lda = N, PV.Ldb = Dv, PV.Ldc = Dv;
    sgemm(PV, 1.0f, Scores, VF + KvTask * N * Dv, 0.0f, YF, nullptr);
    T *Out = Ctx.tensor<T>(P.Y) + B * P.YS.Batch + H * P.YS.Head;
    for (size_t I = 0; I < P.QLen; ++I)
      for (size_t C = 0; C < Dv; ++C)
        Out[I * P.YS.Seq + C] = store<T>(YF[I * Dv + C]);
  }

  AttentionPlan P;
};

} // namespace optima_v2::native
