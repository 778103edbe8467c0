// TensorScatter (opset 24): a functional KV-cache update. present_cache = past_cache with
// update written along `axis` (default -2, never the batch axis 0) from write_indices[b]
// (default 0) for each batch b; mode "linear" requires the write to fit, "circular" wraps
// modulo the cache length. Any element type (a byte copy; the low-precision types are stored
// one per byte).
// Indices out of range fail the run with a message (never a write out of bounds).
#include "SpatialOps.h"

#include "../AxisUtil.h"

#include <algorithm>
#include <cstring>

namespace optima_v2::native {

namespace {

struct ScatterParams {
  int32_t Past = -1, Update = -1, Indices = -1, Out = -1;
  size_t ElemBytes = 0, CacheBytes = 0;
  size_t Batch = 0, Outer = 0; // Outer: rows per batch (product of axes 1 .. axis-1)
  size_t MaxLen = 0, Len = 0, Inner = 0;
  bool Circular = false;
};

class TensorScatterKernel final : public Kernel {
public:
  explicit TensorScatterKernel(const ScatterParams &P) : P(P) {}

  void run(const KernelContext &Ctx) const override {
    const std::byte *Past = Ctx.tensor<const std::byte>(P.Past);
    const std::byte *Update = Ctx.tensor<const std::byte>(P.Update);
    const int64_t *Indices = P.Indices >= 0 ? Ctx.tensor<const int64_t>(P.Indices) : nullptr;
    std::byte *Out = Ctx.tensor<std::byte>(P.Out);
    // Validate every index before writing anything.
    for (size_t B = 0; B < P.Batch && Indices; ++B) {
      int64_t Start = Indices[B];
      if (!P.Circular && (Start < 0 || uint64_t(Start) > P.MaxLen - P.Len)) {
        Ctx.fail("write_indices[%zu] = %lld: writing %zu positions must fit in a cache of %zu",
                 B, static_cast<long long>(Start), P.Len, P.MaxLen);
        return;
      }
    }
    if (Out != Past)
      std::memmove(Out, Past, P.CacheBytes);
    size_t Row = P.Inner * P.ElemBytes;
    for (size_t B = 0; B < P.Batch; ++B) {
      int64_t Start = Indices ? Indices[B] : 0;
      size_t First = 0;
      if (P.Circular) {
        int64_t M = int64_t(P.MaxLen);
        First = M > 0 ? size_t(((Start % M) + M) % M) : 0;
      } else {
        First = size_t(Start);
      }
      for (size_t O = 0; O < P.Outer; ++O) {
        size_t Slab = B * P.Outer + O;
        const std::byte *Src = Update + Slab * P.Len * Row;
        std::byte *Dst = Out + Slab * P.MaxLen * Row;
        for (size_t S = 0; S < P.Len; ++S) {
          size_t At = First + S;
          if (P.Circular && At >= P.MaxLen)
            At -= P.MaxLen;
          std::memcpy(Dst + At * Row, Src + S * Row, Row);
        }
      }
    }
  }

private:
  ScatterParams P;
};

} // namespace

std::unique_ptr<Kernel> makeTensorScatter(const NodeContext &Ctx) {
  Ctx.expectArity(2, 3, 1);
  Ctx.allowAttributes({"mode", "axis"});
  const TensorInfo &Past = *Ctx.input(0);
  const TensorInfo &Update = *Ctx.input(1);
  size_t ElemBytes = elementSize(Past.Type);
  if (ElemBytes == 0)
    Ctx.unsupported(std::string(typeName(Past.Type)) + " input \"" + Past.Name + "\"");
  if (Update.Type != Past.Type)
    Ctx.invalid("update \"" + Update.Name + "\" is " + typeName(Update.Type) +
                " but past_cache \"" + Past.Name + "\" is " + typeName(Past.Type));
  size_t Rank = Past.Shape.size();
  if (Rank < 2)
    Ctx.invalid("past_cache \"" + Past.Name + "\" must have rank >= 2, got " +
                describe(Past.Type, Past.Shape));
  size_t Axis = normalizeAxis(Ctx, "axis", Ctx.getInt("axis", -2), Rank);
  if (Axis == 0)
    Ctx.invalidAttribute("axis", "must not be the batch axis 0");
  bool Fits = Update.Shape.size() == Rank;
  for (size_t D = 0; D < Rank && Fits; ++D)
    Fits = D == Axis ? Update.Shape[D] <= Past.Shape[D] : Update.Shape[D] == Past.Shape[D];
  if (!Fits)
    Ctx.invalid("update \"" + Update.Name + "\" " + describe(Update.Type, Update.Shape) +
                " must match past_cache " + describe(Past.Type, Past.Shape) +
                " except for a length <= the cache's along axis " + std::to_string(Axis));
  if (const TensorInfo *I = Ctx.input(2)) {
    if (I->Type != OPTIMA_ELEMENT_I64)
      Ctx.unsupported(std::string(typeName(I->Type)) + " write_indices \"" + I->Name + "\"");
    if (I->Shape != Dims{Past.Shape[0]})
      Ctx.invalid("write_indices \"" + I->Name + "\" must be [" + std::to_string(Past.Shape[0]) +
                  "], got " + describe(I->Type, I->Shape));
  }
  std::string Mode = Ctx.getString("mode", "linear");
  if (Mode != "linear" && Mode != "circular")
    Ctx.invalidAttribute("mode", "expected \"linear\" or \"circular\", got \"" + Mode + "\"");
  Ctx.expectOutput(0, Past.Type, Past.Shape);
  ScatterParams P;
  P.Past = Ctx.inputId(0);
  P.Update = Ctx.inputId(1);
  P.Indices = Ctx.inputId(2);
  P.Out = Ctx.outputId(0);
  P.ElemBytes = ElemBytes;
  P.CacheBytes = Past.Bytes;
  P.Batch = size_t(Past.Shape[0]);
  P.Outer = 1;
  for (size_t D = 1; D < Axis; ++D)
    P.Outer *= size_t(Past.Shape[D]);
  P.MaxLen = size_t(Past.Shape[Axis]);
  P.Len = size_t(Update.Shape[Axis]);
  P.Inner = 1;
  for (size_t D = Axis + 1; D < Rank; ++D)
    P.Inner *= size_t(Past.Shape[D]);
  P.Circular = Mode == "circular";
  return std::make_unique<TensorScatterKernel>(P);
}

} // namespace optima_v2::native
