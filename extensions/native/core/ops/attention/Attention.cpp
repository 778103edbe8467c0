// Attention (ONNX opsets 23/24, plus the window attributes of 25): validation and planning.
//
// Inputs Q, K, V are 3-D [B, S, H*D] (q_num_heads/kv_num_heads required) or 4-D [B, H, S, D];
// optional attn_mask (T or BOOL, broadcast right-aligned to [B, Hq, Sq, past+Skv], last dim
// padded as masked), past_key/past_value [B, Hkv, P, D/Dv], nonpad_kv_seqlen [B] (I64).
// Outputs Y, present_key, present_value, qk_matmul_output. Semantics follow onnx's reference
// (onnx/reference/ops/op_attention.py): bottom-right aligned causal and window masks, softcap
// before the bias, fully masked rows give zeros, qk_matmul_output modes 0/1 = (softcapped) QK,
// 2 = QK + bias, 3 = softmax. Types F32/F16/BF16 (F64 is refused: the matmuls are float).
#include "../../OpRegistry.h"
#include "../../TypeDispatch.h"
#include "AttentionKernel.h"
#include "AttentionOps.h"

#include <cmath>
#include <string>

namespace optima_v2::native {

namespace {

std::string dimsText(const Dims &D) { return formatShape(D); }

// Q/K/V geometry: heads, sequence length and head size of one input plus its strides.
struct HeadView {
  size_t Heads = 0, Len = 0, Size = 0;
  HeadStrides S;
};

HeadView viewOf(const NodeContext &Ctx, size_t Input, int64_t Heads, const char *HeadsAttr) {
  const TensorInfo &T = *Ctx.input(Input);
  HeadView V;
  if (T.Shape.size() == 3) {
    if (Heads <= 0)
      Ctx.invalidAttribute(HeadsAttr, "must be a positive head count for 3-D inputs");
    if (T.Shape[2] % Heads != 0)
      Ctx.invalid("input \"" + T.Name + "\" " + dimsText(T.Shape) + ": hidden size is not a " +
                  "multiple of " + HeadsAttr + " = " + std::to_string(Heads));
    V.Heads = size_t(Heads), V.Len = size_t(T.Shape[1]), V.Size = size_t(T.Shape[2] / Heads);
    V.S = {V.Len * V.Heads * V.Size, V.Size, V.Heads * V.Size};
  } else {
    V.Heads = size_t(T.Shape[1]), V.Len = size_t(T.Shape[2]), V.Size = size_t(T.Shape[3]);
    if (Heads > 0 && size_t(Heads) != V.Heads)
      Ctx.invalidAttribute(HeadsAttr, std::to_string(Heads) + " disagrees with input \"" +
                                          T.Name + "\" " + dimsText(T.Shape));
    V.S = {V.Heads * V.Len * V.Size, V.Len * V.Size, V.Size};
  }
  return V;
}

SoftmaxPrecision precisionOf(const NodeContext &Ctx) {
  if (!Ctx.hasAttribute("softmax_precision"))
    return SoftmaxPrecision::AsInput;
  switch (Ctx.getInt("softmax_precision", 0)) {
  case 1: return SoftmaxPrecision::Float;   // TensorProto FLOAT
  case 10: return SoftmaxPrecision::Half;   // FLOAT16
  case 11: return SoftmaxPrecision::Double; // DOUBLE
  case 16: return SoftmaxPrecision::BFloat16;
  default:
    Ctx.invalidAttribute("softmax_precision", "must be a floating type (1, 10, 11 or 16)");
  }
}

void planMask(const NodeContext &Ctx, AttentionPlan &P) {
  const TensorInfo &M = *Ctx.input(3);
  if (M.Type != OPTIMA_ELEMENT_BOOL && M.Type != Ctx.input(0)->Type)
    Ctx.invalid("attn_mask \"" + M.Name + "\" must be BOOL or the type of Q, got " +
                typeName(M.Type));
  if (M.Shape.empty() || M.Shape.size() > 4)
    Ctx.invalid("attn_mask \"" + M.Name + "\" must have rank 1 to 4, got " + dimsText(M.Shape));
  const size_t Target[4] = {P.Batch, P.QHeads, P.QLen, P.TotalLen};
  size_t Rank = M.Shape.size(), Stride = 1;
  size_t Strides[4] = {0, 0, 0, 0};
  for (size_t K = Rank; K-- > 0;) {
    size_t Dim = size_t(M.Shape[K]), T = 4 - Rank + K;
    bool Ok = T == 3 ? Dim <= Target[3] : (Dim == 1 || Dim == Target[T]);
    if (!Ok)
      Ctx.invalid("attn_mask \"" + M.Name + "\" " + dimsText(M.Shape) +
                  " does not broadcast to [batch, q_heads, q_len, total_kv_len] = " +
                  dimsText({int64_t(Target[0]), int64_t(Target[1]), int64_t(Target[2]),
                            int64_t(Target[3])}));
    Strides[T] = Dim == 1 && T != 3 ? 0 : Stride;
    Stride *= Dim;
  }
  P.Mask = Ctx.inputId(3);
  P.MaskIsBool = M.Type == OPTIMA_ELEMENT_BOOL;
  P.MaskBatch = Strides[0], P.MaskHead = Strides[1], P.MaskQuery = Strides[2];
  P.MaskLen = size_t(M.Shape.back());
}

void planCache(const NodeContext &Ctx, AttentionPlan &P, int32_t Type) {
  const TensorInfo *PastK = Ctx.input(4), *PastV = Ctx.input(5);
  if (!PastK != !PastV)
    Ctx.invalid("past_key and past_value must be given together");
  if (PastK) {
    for (const TensorInfo *T : {PastK, PastV})
      if (T->Type != Type || T->Shape.size() != 4 || size_t(T->Shape[0]) != P.Batch ||
          size_t(T->Shape[1]) != P.KvHeads || T->Shape[2] != PastK->Shape[2])
        Ctx.invalid("past \"" + T->Name + "\" " + describe(T->Type, T->Shape) + " must be " +
                    typeName(Type) + " [batch, kv_heads, past_len, head_size]");
    if (size_t(PastK->Shape[3]) != P.HeadSize || size_t(PastV->Shape[3]) != P.VHeadSize)
      Ctx.invalid("past_key/past_value head sizes " + dimsText(PastK->Shape) + ", " +
                  dimsText(PastV->Shape) + " do not match K and V");
    P.PastK = Ctx.inputId(4), P.PastV = Ctx.inputId(5), P.PastLen = size_t(PastK->Shape[2]);
  }
  P.TotalLen = P.PastLen + P.KvLen;
  if (const TensorInfo *NonPad = Ctx.input(6)) {
    if (PastK)
      Ctx.invalid("nonpad_kv_seqlen cannot be combined with past_key/past_value");
    if (NonPad->Type != OPTIMA_ELEMENT_I64 || NonPad->Shape != Dims{int64_t(P.Batch)})
      Ctx.invalid("nonpad_kv_seqlen \"" + NonPad->Name + "\" must be I64 [batch], got " +
                  describe(NonPad->Type, NonPad->Shape));
    P.NonPad = Ctx.inputId(6);
  }
}

// Scratch: float keys, values, queries, scores and Y accumulators; unsupported past the cap.
void planScratch(const NodeContext &Ctx, AttentionPlan &P) {
  auto Align = [](uint64_t X) { return (X + 63) & ~uint64_t(63); };
  uint64_t Kv = uint64_t(P.Batch) * P.KvHeads * P.TotalLen, Qs = uint64_t(P.Batch) * P.QHeads * P.QLen;
  uint64_t Off = 0;
  uint64_t Parts[5] = {Kv * P.HeadSize, Kv * P.VHeadSize, Qs * P.HeadSize, Qs * P.TotalLen,
                       Qs * P.VHeadSize};
  size_t *Offs[5] = {&P.KOff, &P.VOff, &P.QOff, &P.ScoreOff, &P.YOff};
  for (size_t I = 0; I < 5; ++I) {
    *Offs[I] = size_t(Off);
    Off = Align(Off + Parts[I] * sizeof(float));
    if (Off > MaxTensorBytes)
      Ctx.unsupported("Attention scratch would exceed " + std::to_string(MaxTensorBytes) +
                      " bytes");
  }
  P.ScratchBytes = size_t(Off);
}

void planOutputs(const NodeContext &Ctx, AttentionPlan &P, int32_t Type, bool ThreeD) {
  size_t Outs = Ctx.outputCount();
  if (Outs < 1 || Outs > 4)
    Ctx.invalid("expected 1 to 4 outputs, got " + std::to_string(Outs));
  auto I = [](size_t X) { return int64_t(X); };
  Dims YShape = ThreeD ? Dims{I(P.Batch), I(P.QLen), I(P.QHeads * P.VHeadSize)}
                       : Dims{I(P.Batch), I(P.QHeads), I(P.QLen), I(P.VHeadSize)};
  const Dims Shapes[4] = {YShape, {I(P.Batch), I(P.KvHeads), I(P.TotalLen), I(P.HeadSize)},
                          {I(P.Batch), I(P.KvHeads), I(P.TotalLen), I(P.VHeadSize)},
                          {I(P.Batch), I(P.QHeads), I(P.QLen), I(P.TotalLen)}};
  int32_t *Ids[4] = {&P.Y, &P.PresentK, &P.PresentV, &P.QkOut};
  for (size_t O = 0; O < Outs; ++O) {
    Ctx.expectOutput(O, Type, Shapes[O]);
    if (O == 0 || Ctx.output(O).Where != Storage::Unused)
      *Ids[O] = Ctx.outputId(O);
  }
  size_t YElems = P.QHeads * P.VHeadSize;
  P.YS = ThreeD ? HeadStrides{P.QLen * YElems, P.VHeadSize, YElems}
                : HeadStrides{P.QHeads * P.QLen * P.VHeadSize, P.QLen * P.VHeadSize, P.VHeadSize};
}

std::unique_ptr<Kernel> makeAttention(const NodeContext &Ctx) {
  Ctx.expectArity(3, 7, Ctx.outputCount());
  Ctx.allowAttributes({"is_causal", "kv_num_heads", "q_num_heads", "qk_matmul_output_mode",
                       "scale", "softcap", "softmax_precision", "left_window_size",
                       "right_window_size"});
  for (size_t I = 0; I < 3; ++I)
    Ctx.requireType(I, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16});
  const TensorInfo &Q = *Ctx.input(0), &K = *Ctx.input(1), &V = *Ctx.input(2);
  int32_t Type = Q.Type;
  if (K.Type != Type || V.Type != Type)
    Ctx.invalid("Q, K and V must have one type, got " + std::string(typeName(Q.Type)) + ", " +
                typeName(K.Type) + ", " + typeName(V.Type));
  size_t Rank = Q.Shape.size();
  if ((Rank != 3 && Rank != 4) || K.Shape.size() != Rank || V.Shape.size() != Rank)
    Ctx.invalid("Q, K and V must all be 3-D or all 4-D, got " + dimsText(Q.Shape) + ", " +
                dimsText(K.Shape) + ", " + dimsText(V.Shape));

  AttentionPlan P;
  int64_t QHeadsAttr = Ctx.getInt("q_num_heads", 0), KvHeadsAttr = Ctx.getInt("kv_num_heads", 0);
  HeadView QV = viewOf(Ctx, 0, QHeadsAttr, "q_num_heads");
  HeadView KV = viewOf(Ctx, 1, KvHeadsAttr, "kv_num_heads");
  HeadView VV = viewOf(Ctx, 2, KvHeadsAttr, "kv_num_heads");
  if (K.Shape[0] != Q.Shape[0] || V.Shape[0] != Q.Shape[0])
    Ctx.invalid("Q, K and V batch sizes differ: " + dimsText(Q.Shape) + ", " +
                dimsText(K.Shape) + ", " + dimsText(V.Shape));
  if (KV.Heads != VV.Heads || KV.Len != VV.Len || KV.Size != QV.Size)
    Ctx.invalid("K " + dimsText(K.Shape) + " and V " + dimsText(V.Shape) +
                " must share kv heads and length, and K's head size must match Q's " +
                dimsText(Q.Shape));
  if (KV.Heads == 0 || QV.Heads % KV.Heads != 0)
    Ctx.invalid("q heads (" + std::to_string(QV.Heads) + ") must be a multiple of kv heads (" +
                std::to_string(KV.Heads) + ")");
  P.Q = Ctx.inputId(0), P.K = Ctx.inputId(1), P.V = Ctx.inputId(2);
  P.Batch = size_t(Q.Shape[0]), P.QHeads = QV.Heads, P.KvHeads = KV.Heads;
  P.Group = QV.Heads / KV.Heads;
  P.QLen = QV.Len, P.KvLen = KV.Len, P.HeadSize = QV.Size, P.VHeadSize = VV.Size;
  P.QS = QV.S, P.KS = KV.S, P.VS = VV.S;
  planCache(Ctx, P, Type);
  if (Ctx.input(3))
    planMask(Ctx, P);

  int64_t Causal = Ctx.getInt("is_causal", 0);
  if (Causal != 0 && Causal != 1)
    Ctx.invalidAttribute("is_causal", "must be 0 or 1");
  P.Causal = Causal == 1;
  P.LeftWindow = Ctx.getInt("left_window_size", -1);
  P.RightWindow = Ctx.getInt("right_window_size", -1);
  if (P.LeftWindow < -1)
    Ctx.invalidAttribute("left_window_size", "must be -1 or >= 0");
  if (P.RightWindow < -1)
    Ctx.invalidAttribute("right_window_size", "must be -1 or >= 0");
  int64_t Mode = Ctx.getInt("qk_matmul_output_mode", 0);
  if (Mode < 0 || Mode > 3)
    Ctx.invalidAttribute("qk_matmul_output_mode", "must be 0, 1, 2 or 3");
  P.QkMode = int(Mode);
  P.Precision = precisionOf(Ctx);

  // The function body scales Q and K by sqrt(scale) each, rounded to T.
  double Scale = Ctx.hasAttribute("scale") ? Ctx.getFloat("scale", 1.0)
                                           : 1.0 / std::sqrt(double(P.HeadSize));
  if (!(Scale >= 0))
    Ctx.unsupported("scale " + std::to_string(Scale) +
                    " (the ONNX function takes its square root; only scale >= 0 is defined)");
  double Softcap = Ctx.getFloat("softcap", 0.0);
  float ScaleRoot = float(std::sqrt(Scale)), Cap = Softcap > 0 ? float(Softcap) : 0.0f;
  if (Type == OPTIMA_ELEMENT_F16)
    ScaleRoot = roundTo<Half>(ScaleRoot), Cap = roundTo<Half>(Cap);
  else if (Type == OPTIMA_ELEMENT_BF16)
    ScaleRoot = roundTo<BFloat16>(ScaleRoot), Cap = roundTo<BFloat16>(Cap);
  P.ScaleRoot = ScaleRoot, P.Softcap = Cap;

  planOutputs(Ctx, P, Type, Rank == 3);
  planScratch(Ctx, P);
  switch (Type) {
  case OPTIMA_ELEMENT_F16: return std::make_unique<AttentionKernel<Half>>(P);
  case OPTIMA_ELEMENT_BF16: return std::make_unique<AttentionKernel<BFloat16>>(P);
  default: return std::make_unique<AttentionKernel<float>>(P);
  }
}

} // namespace

void registerAttentionOps(OpRegistry &R) {
  R.add("Attention", makeAttention);
  R.add("RotaryEmbedding", makeRotaryEmbedding);
}

} // namespace optima_v2::native
