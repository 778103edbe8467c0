// Everything an Attention kernel needs, worked out at load time (Attention.cpp): tensor
// ids, head/sequence sizes, element strides that make 3-D ([B, S, H*D]) and 4-D ([B, H, S, D])
// Q/K/V/Y one walk, the attn_mask broadcast, and the scratch layout.
#pragma once

#include <cstddef>
#include <cstdint>

namespace optima_v2::native {

// The type softmax_precision asks the softmax to run in; AsInput = the input type T.
enum class SoftmaxPrecision : uint8_t { AsInput, Float, Double, Half, BFloat16 };

// Element strides of a [batch, head, seq, feature] view; the feature dim is contiguous.
struct HeadStrides {
  size_t Batch = 0, Head = 0, Seq = 0;
};

struct AttentionPlan {
  int32_t Q = -1, K = -1, V = -1, Mask = -1, PastK = -1, PastV = -1, NonPad = -1;
  int32_t Y = -1, PresentK = -1, PresentV = -1, QkOut = -1; // -1: not produced

  size_t Batch = 0, QHeads = 0, KvHeads = 0, Group = 1; // Group = QHeads / KvHeads
  size_t QLen = 0, KvLen = 0, PastLen = 0, TotalLen = 0; // TotalLen = PastLen + KvLen
  size_t HeadSize = 0, VHeadSize = 0;
  HeadStrides QS, KS, VS, YS;

  // attn_mask, right-aligned against [Batch, QHeads, QLen, TotalLen]: strides of its batch,
  // head and query dims (0 = broadcast); keys at or past MaskLen are masked (ONNX pads it).
  bool MaskIsBool = false;
  size_t MaskBatch = 0, MaskHead = 0, MaskQuery = 0, MaskLen = 0;

  bool Causal = false;
  int64_t LeftWindow = -1, RightWindow = -1; // -1: unbounded side

  float ScaleRoot = 1; // sqrt(scale) in T, applied to Q and to K (as the ONNX function does)
  float Softcap = 0;   // in T; 0 = off
  int QkMode = 0;      // qk_matmul_output_mode
  SoftmaxPrecision Precision = SoftmaxPrecision::AsInput;

  // Scratch (float), byte offsets: scaled keys, values, scaled queries, scores, Y accumulators.
  size_t KOff = 0, VOff = 0, QOff = 0, ScoreOff = 0, YOff = 0, ScratchBytes = 0;
};

} // namespace optima_v2::native
