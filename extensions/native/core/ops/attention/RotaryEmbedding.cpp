// RotaryEmbedding (ONNX opset 23). X is 4-D [B, H, S, D] or 3-D [B, S, H*D] (num_heads
// required); cos/sin caches are [max_pos, R/2] indexed by position_ids [B, S], or [B, S, R/2]
// without position_ids. The first R = rotary_embedding_dim (0 = D) features of each head are
// rotated as pairs (x[k], x[k + R/2]), or (x[2k], x[2k+1]) when interleaved; the rest are
// copied. F16/BF16 products and sums are rounded to T as the reference's numpy ops are.
#include "../../TypeDispatch.h"
#include "AttentionOps.h"
#include "RoundedSoftmax.h"

#include <algorithm>
#include <string>

namespace optima_v2::native {

namespace {

struct RotaryPlan {
  int32_t X = -1, Cos = -1, Sin = -1, Pos = -1, Y = -1;
  size_t Batch = 0, Heads = 0, Len = 0, HeadSize = 0, Half = 0, MaxPos = 0;
  size_t BatchStride = 0, HeadStride = 0, SeqStride = 0; // of X and Y (same layout)
  bool Interleaved = false;
};

template <typename T> class RotaryKernel final : public Kernel {
public:
  explicit RotaryKernel(const RotaryPlan &P) : P(P) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(P.X);
    const T *Cos = Ctx.tensor<const T>(P.Cos), *Sin = Ctx.tensor<const T>(P.Sin);
    const int64_t *Pos = P.Pos >= 0 ? Ctx.tensor<const int64_t>(P.Pos) : nullptr;
    T *Y = Ctx.tensor<T>(P.Y);
    size_t Grain = std::max<size_t>(1, 4096 / std::max<size_t>(1, P.Heads * P.HeadSize));
    Ctx.parallelFor(P.Batch * P.Len, Grain, [&](size_t Begin, size_t End) {
      for (size_t Token = Begin; Token < End; ++Token) {
        size_t CacheRow = Token; // [B, S, R/2] caches
        if (Pos) {
          int64_t Id = Pos[Token];
          if (Id < 0 || uint64_t(Id) >= P.MaxPos) {
            Ctx.fail("position_ids[%zu] = %lld is out of range [0, %zu)", Token, (long long)Id,
                     P.MaxPos);
            return;
          }
          CacheRow = size_t(Id);
        }
        size_t B = Token / P.Len, S = Token % P.Len;
        for (size_t H = 0; H < P.Heads; ++H) {
          size_t Base = B * P.BatchStride + H * P.HeadStride + S * P.SeqStride;
          rotate(X + Base, Y + Base, Cos + CacheRow * P.Half, Sin + CacheRow * P.Half);
        }
      }
    });
  }

private:
  static float r(float V) noexcept { return roundTo<T>(V); }

  void rotate(const T *In, T *Out, const T *Cos, const T *Sin) const {
    size_t Step = P.Interleaved ? 2 : 1, Second = P.Interleaved ? 1 : P.Half;
    for (size_t K = 0; K < P.Half; ++K) {
      float C = load(Cos[K]), S = load(Sin[K]);
      float X1 = load(In[K * Step]), X2 = load(In[K * Step + Second]);
      Out[K * Step] = store<T>(r(C * X1) - r(S * X2));
      Out[K * Step + Second] = store<T>(r(S * X1) + r(C * X2));
    }
    for (size_t D = 2 * P.Half; D < P.HeadSize; ++D)
      Out[D] = In[D];
  }

  RotaryPlan P;
};

} // namespace

std::unique_ptr<Kernel> makeRotaryEmbedding(const NodeContext &Ctx) {
  Ctx.expectArity(3, 4, 1);
  Ctx.allowAttributes({"interleaved", "num_heads", "rotary_embedding_dim"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16});
  const TensorInfo &X = *Ctx.input(0), &Cos = *Ctx.input(1), &Sin = *Ctx.input(2);
  if (Cos.Type != X.Type || Sin.Type != X.Type)
    Ctx.invalid("cos_cache and sin_cache must have the type of input (" +
                std::string(typeName(X.Type)) + "), got " + typeName(Cos.Type) + ", " +
                typeName(Sin.Type));
  Ctx.expectOutput(0, X.Type, X.Shape);
  RotaryPlan P;
  int64_t NumHeads = Ctx.getInt("num_heads", 0);
  if (NumHeads < 0)
    Ctx.invalidAttribute("num_heads", "must be >= 0");
  if (X.Shape.size() == 4) {
    P.Batch = size_t(X.Shape[0]), P.Heads = size_t(X.Shape[1]), P.Len = size_t(X.Shape[2]);
    P.HeadSize = size_t(X.Shape[3]);
    if (NumHeads > 0 && size_t(NumHeads) != P.Heads)
      Ctx.invalidAttribute("num_heads", std::to_string(NumHeads) + " disagrees with input " +
                                            formatShape(X.Shape));
    P.SeqStride = P.HeadSize, P.HeadStride = P.Len * P.HeadSize;
    P.BatchStride = P.Heads * P.HeadStride;
  } else if (X.Shape.size() == 3) {
    if (NumHeads == 0)
      Ctx.invalidAttribute("num_heads", "is required for a 3-D input");
    if (X.Shape[2] % NumHeads != 0)
      Ctx.invalid("input " + formatShape(X.Shape) + ": hidden size is not a multiple of " +
                  "num_heads = " + std::to_string(NumHeads));
    P.Batch = size_t(X.Shape[0]), P.Len = size_t(X.Shape[1]), P.Heads = size_t(NumHeads);
    P.HeadSize = size_t(X.Shape[2] / NumHeads);
    P.HeadStride = P.HeadSize, P.SeqStride = P.Heads * P.HeadSize;
    P.BatchStride = P.Len * P.SeqStride;
  } else {
    Ctx.invalid("input \"" + X.Name + "\" must be 3-D or 4-D, got " + formatShape(X.Shape));
  }
  int64_t Dim = Ctx.getInt("rotary_embedding_dim", 0);
  if (Dim == 0)
    Dim = int64_t(P.HeadSize);
  if (Dim < 0 || Dim % 2 != 0 || size_t(Dim) > P.HeadSize)
    Ctx.invalidAttribute("rotary_embedding_dim", std::to_string(Dim) +
                                                     " must be even and at most the head size " +
                                                     std::to_string(P.HeadSize));
  P.Half = size_t(Dim / 2);
  int64_t Interleaved = Ctx.getInt("interleaved", 0);
  if (Interleaved != 0 && Interleaved != 1)
    Ctx.invalidAttribute("interleaved", "must be 0 or 1");
  P.Interleaved = Interleaved == 1;

  auto I = [](size_t V) { return int64_t(V); };
  Dims CacheShape;
  if (const TensorInfo *Pos = Ctx.input(3)) {
    if (Pos->Type != OPTIMA_ELEMENT_I64 || Pos->Shape != Dims{I(P.Batch), I(P.Len)})
      Ctx.invalid("position_ids \"" + Pos->Name + "\" must be I64 [batch, seq] = " +
                  formatShape({I(P.Batch), I(P.Len)}) + ", got " +
                  describe(Pos->Type, Pos->Shape));
    if (Cos.Shape.size() != 2)
      Ctx.invalid("cos_cache \"" + Cos.Name + "\" must be [max_position, rotary_dim / 2] with " +
                  "position_ids, got " + formatShape(Cos.Shape));
    CacheShape = {Cos.Shape[0], I(P.Half)};
    P.Pos = Ctx.inputId(3), P.MaxPos = size_t(Cos.Shape[0]);
  } else {
    CacheShape = {I(P.Batch), I(P.Len), I(P.Half)};
  }
  if (Cos.Shape != CacheShape || Sin.Shape != CacheShape)
    Ctx.invalid("cos_cache " + formatShape(Cos.Shape) + " and sin_cache " +
                formatShape(Sin.Shape) + " must be " + formatShape(CacheShape));
  P.X = Ctx.inputId(0), P.Cos = Ctx.inputId(1), P.Sin = Ctx.inputId(2), P.Y = Ctx.outputId(0);
  switch (X.Type) {
  case OPTIMA_ELEMENT_F16: return std::make_unique<RotaryKernel<Half>>(P);
  case OPTIMA_ELEMENT_BF16: return std::make_unique<RotaryKernel<BFloat16>>(P);
  default: return std::make_unique<RotaryKernel<float>>(P);
  }
}

} // namespace optima_v2::native
