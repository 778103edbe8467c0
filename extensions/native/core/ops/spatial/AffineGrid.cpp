// AffineGrid (opset 20): the sampling grid of a batch of affine matrices, for GridSample.
// theta [N, 2, 3] with size = (N, C, H, W) gives grid [N, H, W, 2]; theta [N, 3, 4] with
// size = (N, C, D, H, W) gives [N, D, H, W, 3]. The base grid spans [-1, 1] per axis (pixel
// corners with align_corners, pixel centres otherwise) and lists x (width) first:
//   grid[n, ..., i] = sum_j theta[n, i, j] * (x, y[, z], 1)[j].
// `size` must be a constant (it decides the output shape). F32, F16, BF16, F64 (F16/BF16 in
// float).
#include "SpatialOps.h"

#include "../../TypeDispatch.h"
#include "../AxisUtil.h"

#include <algorithm>

namespace optima_v2::native {

namespace {

template <typename T> class AffineGridKernel final : public Kernel {
public:
  using C = ComputeType<T>;

  // Base[a] holds the normalized coordinate of every index along spatial axis a (X order).
  AffineGridKernel(int32_t Theta, int32_t Out, size_t Batch, std::vector<size_t> Sizes,
                   std::vector<std::vector<C>> Base)
      : Theta(Theta), Out(Out), Batch(Batch), Sizes(std::move(Sizes)), Base(std::move(Base)) {
    Points = 1;
    for (size_t S : this->Sizes)
      Points *= S;
  }

  void run(const KernelContext &Ctx) const override {
    const T *Th = Ctx.tensor<const T>(Theta);
    T *Y = Ctx.tensor<T>(Out);
    size_t Dims = Sizes.size(); // 2 or 3 spatial axes
    Ctx.parallelFor(Batch * Points, 1024, [&](size_t Begin, size_t End) {
      for (size_t I = Begin; I < End; ++I) {
        size_t N = I / Points, Rest = I % Points;
        C Homo[4];
        Homo[Dims] = C(1);
        // Spatial axes in X order (D, H, W); the homogeneous vector is (x=W, y=H, z=D, 1).
        for (size_t A = Dims; A-- > 0;) {
          size_t Index = Rest % Sizes[A];
          Rest /= Sizes[A];
          Homo[Dims - 1 - A] = Base[A][Index];
        }
        const T *M = Th + N * Dims * (Dims + 1);
        T *G = Y + I * Dims;
        for (size_t R = 0; R < Dims; ++R) {
          C Sum = C(0);
          for (size_t J = 0; J <= Dims; ++J)
            Sum += load(M[R * (Dims + 1) + J]) * Homo[J];
          G[R] = store<T>(Sum);
        }
      }
    });
  }

private:
  int32_t Theta, Out;
  size_t Batch, Points = 0;
  std::vector<size_t> Sizes;
  std::vector<std::vector<C>> Base;
};

} // namespace

std::unique_ptr<Kernel> makeAffineGrid(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"align_corners"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16, OPTIMA_ELEMENT_BF16,
                      OPTIMA_ELEMENT_F64});
  const TensorInfo &Theta = *Ctx.input(0);
  std::vector<int64_t> Size = constantInts(Ctx, 1, "size");
  if (Size.size() != 4 && Size.size() != 5)
    Ctx.invalid("size input \"" + Ctx.input(1)->Name + "\" must have 4 (N, C, H, W) or 5 " +
                "(N, C, D, H, W) values, got " + std::to_string(Size.size()));
  size_t Dims = Size.size() - 2;
  if (Theta.Shape != native::Dims{Size[0], int64_t(Dims), int64_t(Dims) + 1})
    Ctx.invalid("theta \"" + Theta.Name + "\" must be [" + std::to_string(Size[0]) + ", " +
                std::to_string(Dims) + ", " + std::to_string(Dims + 1) + "] for size " +
                formatShape(Size) + ", got " + describe(Theta.Type, Theta.Shape));
  for (int64_t S : Size)
    if (S < 0)
      Ctx.invalid("size input \"" + Ctx.input(1)->Name + "\" has a negative value");
  int64_t Align = Ctx.getInt("align_corners", 0);
  if (Align != 0 && Align != 1)
    Ctx.invalidAttribute("align_corners", "must be 0 or 1");
  native::Dims OutShape{Size[0]};
  OutShape.insert(OutShape.end(), Size.begin() + 2, Size.end());
  OutShape.push_back(int64_t(Dims));
  size_t Elements = 0;
  if (!checkedElementCount(OutShape, elementSize(Theta.Type), Elements))
    Ctx.invalid("output shape " + formatShape(OutShape) + " is too large");
  Ctx.expectOutput(0, Theta.Type, OutShape);
  std::vector<size_t> Sizes(Size.begin() + 2, Size.end());
  std::unique_ptr<Kernel> K;
  dispatchType(Theta.Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_floating_point_v<T> || isHalfLike<T>) {
      using C = ComputeType<T>;
      std::vector<std::vector<C>> Base;
      for (size_t L : Sizes) {
        std::vector<C> Axis(L);
        for (size_t I = 0; I < L; ++I) {
          if (Align == 1) // corners at -1 and 1; a single pixel sits at -1
            Axis[I] = L > 1 ? C(-1) + C(2) * C(I) / C(L - 1) : C(-1);
          else // pixel centres
            Axis[I] = C(-1) + (C(2) * C(I) + C(1)) / C(L);
        }
        Base.push_back(std::move(Axis));
      }
      K = std::make_unique<AffineGridKernel<T>>(Ctx.inputId(0), Ctx.outputId(0),
                                                size_t(Size[0]), Sizes, std::move(Base));
    }
  });
  return K;
}

} // namespace optima_v2::native
