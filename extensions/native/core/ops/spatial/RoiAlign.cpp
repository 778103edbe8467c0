// RoiAlign (opset 16/22): for each region rois[r] = (x1, y1, x2, y2) (scaled by spatial_scale)
// of image batch_indices[r], pools an output_height x output_width grid of bins; each bin
// averages (mode avg) or maxes (mode max) sampling_ratio^2 bilinear samples (adaptive
// ceil(roi size / bins) per axis when sampling_ratio is 0). coordinate_transformation_mode
// half_pixel shifts coordinates by -0.5; output_half_pixel (opset 10 behaviour) does not and
// forces regions to at least 1 x 1. Max mode follows onnx's reference (and ONNX Runtime): the
// max over samples of the largest weighted corner. F32, F16, BF16, F64 (sums in float or
// double); batch_indices I64, checked at run time.
#include "SpatialOps.h"

#include "../../TypeDispatch.h"

#include <algorithm>
#include <cmath>

namespace optima_v2::native {

namespace {

struct RoiAlignParams {
  int32_t X = -1, Rois = -1, Batch = -1, Y = -1;
  size_t Images = 0, Channels = 0, Height = 0, Width = 0, Regions = 0;
  size_t OutH = 0, OutW = 0;
  int64_t SamplingRatio = 0;
  double SpatialScale = 1;
  bool HalfPixel = true, Max = false;
};

// Samples per bin beyond this fail the run (an absurd region would otherwise hang it).
constexpr double MaxSamplesPerBin = double(1 << 20);

template <typename T> class RoiAlignKernel final : public Kernel {
public:
  using C = ComputeType<T>;

  explicit RoiAlignKernel(const RoiAlignParams &P) : P(P) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(P.X);
    const T *Rois = Ctx.tensor<const T>(P.Rois);
    const int64_t *Batch = Ctx.tensor<const int64_t>(P.Batch);
    T *Y = Ctx.tensor<T>(P.Y);
    for (size_t R = 0; R < P.Regions; ++R) {
      if (Batch[R] < 0 || uint64_t(Batch[R]) >= P.Images) {
        Ctx.fail("batch_indices[%zu] = %lld is outside [0, %zu)", R,
                 static_cast<long long>(Batch[R]), P.Images);
        return;
      }
      for (size_t J = 0; J < 4; ++J)
        if (!std::isfinite(double(load(Rois[R * 4 + J])))) {
          Ctx.fail("rois[%zu] has a non-finite coordinate", R);
          return;
        }
      Region G = region(Rois + R * 4);
      if (double(G.GridH) * double(G.GridW) > MaxSamplesPerBin) {
        Ctx.fail("rois[%zu] needs %.0f samples per bin (region too large)", R,
                 double(G.GridH) * double(G.GridW));
        return;
      }
    }
    size_t Grain = std::max<size_t>(1, 64 / std::max<size_t>(1, P.OutH * P.OutW));
    Ctx.parallelFor(P.Regions * P.Channels, Grain, [&](size_t Begin, size_t End) {
      for (size_t Task = Begin; Task < End; ++Task) {
        size_t R = Task / P.Channels, Ch = Task % P.Channels;
        Region G = region(Rois + R * 4);
        const T *Plane = X + (size_t(Batch[R]) * P.Channels + Ch) * P.Height * P.Width;
        T *Out = Y + Task * P.OutH * P.OutW;
        for (size_t Ph = 0; Ph < P.OutH; ++Ph)
          for (size_t Pw = 0; Pw < P.OutW; ++Pw)
            Out[Ph * P.OutW + Pw] = store<T>(bin(Plane, G, Ph, Pw));
      }
    });
  }

private:
  struct Region {
    C StartH, StartW, BinH, BinW;
    int64_t GridH, GridW;
  };

  Region region(const T *Roi) const {
    C Scale = C(P.SpatialScale), Offset = P.HalfPixel ? C(0.5) : C(0);
    C StartW = load(Roi[0]) * Scale - Offset, StartH = load(Roi[1]) * Scale - Offset;
    C EndW = load(Roi[2]) * Scale - Offset, EndH = load(Roi[3]) * Scale - Offset;
    C RoiW = EndW - StartW, RoiH = EndH - StartH;
    if (!P.HalfPixel) { // malformed regions become 1 x 1
      RoiW = std::max(RoiW, C(1));
      RoiH = std::max(RoiH, C(1));
    }
    Region G;
    G.StartH = StartH;
    G.StartW = StartW;
    G.BinH = RoiH / C(P.OutH);
    G.BinW = RoiW / C(P.OutW);
    auto grid = [&](C Extent, size_t Bins) -> int64_t {
      if (P.SamplingRatio > 0)
        return P.SamplingRatio;
      C Cells = std::ceil(Extent / C(Bins));
      return Cells > C(0) ? int64_t(std::min(Cells, C(MaxSamplesPerBin + 1))) : 0;
    };
    G.GridH = grid(RoiH, P.OutH);
    G.GridW = grid(RoiW, P.OutW);
    return G;
  }

  C bin(const T *Plane, const Region &G, size_t Ph, size_t Pw) const {
    C Acc = C(0);
    bool First = true;
    int64_t H = int64_t(P.Height), W = int64_t(P.Width);
    for (int64_t Iy = 0; Iy < G.GridH; ++Iy) {
      C Yc = G.StartH + C(Ph) * G.BinH + (C(Iy) + C(0.5)) * G.BinH / C(G.GridH);
      for (int64_t Ix = 0; Ix < G.GridW; ++Ix) {
        C Xc = G.StartW + C(Pw) * G.BinW + (C(Ix) + C(0.5)) * G.BinW / C(G.GridW);
        C Val = C(0);
        if (!(Yc < C(-1) || Yc > C(H) || Xc < C(-1) || Xc > C(W))) {
          C Yv = std::max(Yc, C(0)), Xv = std::max(Xc, C(0));
          int64_t YLo = int64_t(Yv), XLo = int64_t(Xv), YHi, XHi;
          if (YLo >= H - 1) {
            YHi = YLo = H - 1;
            Yv = C(YLo);
          } else {
            YHi = YLo + 1;
          }
          if (XLo >= W - 1) {
            XHi = XLo = W - 1;
            Xv = C(XLo);
          } else {
            XHi = XLo + 1;
          }
          C Ly = Yv - C(YLo), Lx = Xv - C(XLo), Hy = 1 - Ly, Hx = 1 - Lx;
          C V1 = Hy * Hx * load(Plane[YLo * W + XLo]);
          C V2 = Hy * Lx * load(Plane[YLo * W + XHi]);
          C V3 = Ly * Hx * load(Plane[YHi * W + XLo]);
          C V4 = Ly * Lx * load(Plane[YHi * W + XHi]);
          Val = P.Max ? std::max(std::max(V1, V2), std::max(V3, V4)) : V1 + V2 + V3 + V4;
        }
        if (!P.Max)
          Acc += Val;
        else if (First || Val > Acc)
          Acc = Val;
        First = false;
      }
    }
    if (!P.Max)
      Acc /= C(std::max<int64_t>(G.GridH * G.GridW, 1));
    return Acc;
  }

  RoiAlignParams P;
};

} // namespace

std::unique_ptr<Kernel> makeRoiAlign(const NodeContext &Ctx) {
  Ctx.expectArity(3, 3, 1);
  Ctx.allowAttributes({"coordinate_transformation_mode", "mode", "output_height", "output_width",
                       "sampling_ratio", "spatial_scale"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_F64});
  Ctx.requireType(2, {OPTIMA_ELEMENT_I64});
  const TensorInfo &X = *Ctx.input(0);
  const TensorInfo &Rois = *Ctx.input(1);
  const TensorInfo &Batch = *Ctx.input(2);
  if (Rois.Type != X.Type)
    Ctx.invalid("rois \"" + Rois.Name + "\" is " + typeName(Rois.Type) + " but X \"" + X.Name +
                "\" is " + typeName(X.Type));
  if (X.Shape.size() != 4)
    Ctx.invalid("X \"" + X.Name + "\" must be [N, C, H, W], got " + describe(X.Type, X.Shape));
  if (Rois.Shape.size() != 2 || Rois.Shape[1] != 4)
    Ctx.invalid("rois \"" + Rois.Name + "\" must be [num_rois, 4], got " +
                describe(Rois.Type, Rois.Shape));
  if (Batch.Shape != Dims{Rois.Shape[0]})
    Ctx.invalid("batch_indices \"" + Batch.Name + "\" must be [" + std::to_string(Rois.Shape[0]) +
                "], got " + describe(Batch.Type, Batch.Shape));
  RoiAlignParams P;
  std::string Mode = Ctx.getString("mode", "avg");
  if (Mode != "avg" && Mode != "max")
    Ctx.invalidAttribute("mode", "expected \"avg\" or \"max\", got \"" + Mode + "\"");
  std::string Coord = Ctx.getString("coordinate_transformation_mode", "half_pixel");
  if (Coord != "half_pixel" && Coord != "output_half_pixel")
    Ctx.invalidAttribute("coordinate_transformation_mode",
                         "expected \"half_pixel\" or \"output_half_pixel\", got \"" + Coord + "\"");
  int64_t OutH = Ctx.getInt("output_height", 1), OutW = Ctx.getInt("output_width", 1);
  if (OutH < 1 || OutW < 1 || OutH > (int64_t(1) << 24) || OutW > (int64_t(1) << 24))
    Ctx.invalid("output_height and output_width must be positive");
  P.SamplingRatio = Ctx.getInt("sampling_ratio", 0);
  if (P.SamplingRatio < 0 || P.SamplingRatio > 1024)
    Ctx.invalidAttribute("sampling_ratio", "must be in [0, 1024]");
  P.SpatialScale = Ctx.getFloat("spatial_scale", 1.0);
  if (!std::isfinite(P.SpatialScale))
    Ctx.invalidAttribute("spatial_scale", "must be finite");
  Dims OutShape{Rois.Shape[0], X.Shape[1], OutH, OutW};
  size_t Elements = 0;
  if (!checkedElementCount(OutShape, elementSize(X.Type), Elements))
    Ctx.invalid("output shape " + formatShape(OutShape) + " is too large");
  Ctx.expectOutput(0, X.Type, OutShape);
  if ((X.Shape[2] == 0 || X.Shape[3] == 0) && Elements != 0)
    Ctx.invalid("X \"" + X.Name + "\" has an empty spatial axis");
  P.X = Ctx.inputId(0);
  P.Rois = Ctx.inputId(1);
  P.Batch = Ctx.inputId(2);
  P.Y = Ctx.outputId(0);
  P.Images = size_t(X.Shape[0]);
  P.Channels = size_t(X.Shape[1]);
  P.Height = size_t(X.Shape[2]);
  P.Width = size_t(X.Shape[3]);
  P.Regions = size_t(Rois.Shape[0]);
  P.OutH = size_t(OutH);
  P.OutW = size_t(OutW);
  P.HalfPixel = Coord == "half_pixel";
  P.Max = Mode == "max";
  std::unique_ptr<Kernel> K;
  dispatchType(X.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_floating_point_v<T> || isHalfLike<T>)
      K = std::make_unique<RoiAlignKernel<T>>(P);
  });
  return K;
}

} // namespace optima_v2::native
