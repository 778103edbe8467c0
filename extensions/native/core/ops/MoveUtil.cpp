#include "MoveUtil.h"

#include "../TypeDispatch.h"

#include <algorithm>

namespace optima_v2::native::move {

namespace {

const TensorInfo &constantInput(const NodeContext &Ctx, size_t Input, const char *Role) {
  const TensorInfo *T = Ctx.input(Input);
  if (!T)
    Ctx.invalid(std::string(Role) + " input is missing");
  if (T->Where != Storage::Constant)
    Ctx.unsupported(std::string(Role) + " input \"" + T->Name +
                    "\" must be a constant: output shape depends on its values");
  return *T;
}

} // namespace

std::vector<int64_t> constInts(const NodeContext &Ctx, size_t Input, const char *Role) {
  const TensorInfo &T = constantInput(Ctx, Input, Role);
  if (T.Type != OPTIMA_ELEMENT_I64 && T.Type != OPTIMA_ELEMENT_I32)
    Ctx.invalid(std::string(Role) + " input \"" + T.Name + "\" must be I64 or I32, got " +
                typeName(T.Type));
  std::vector<int64_t> V(T.Elements);
  for (size_t I = 0; I < T.Elements; ++I)
    V[I] = loadIndex(T.Data, I, T.Type == OPTIMA_ELEMENT_I64);
  return V;
}

std::vector<double> constFloats(const NodeContext &Ctx, size_t Input, const char *Role) {
  const TensorInfo &T = constantInput(Ctx, Input, Role);
  std::vector<double> V(T.Elements);
  bool Ok = false;
  dispatchType(T.Type, [&](auto Tag) {
    using E = typename decltype(Tag)::type;
    if constexpr (std::is_floating_point_v<E> || isHalfLike<E>) {
      for (size_t I = 0; I < T.Elements; ++I) {
        E X;
        std::memcpy(&X, static_cast<const std::byte *>(T.Data) + I * sizeof(E), sizeof(E));
        V[I] = double(load(X));
      }
      Ok = true;
    }
  });
  if (!Ok)
    Ctx.invalid(std::string(Role) + " input \"" + T.Name + "\" must be a float tensor, got " +
                typeName(T.Type));
  return V;
}

int64_t normalizeAxis(const NodeContext &Ctx, int64_t Axis, int64_t Rank, const char *Attr) {
  if (Axis < -Rank || Axis >= Rank)
    Ctx.invalidAttribute(Attr, "axis " + std::to_string(Axis) + " is out of range for rank " +
                                   std::to_string(Rank));
  return Axis < 0 ? Axis + Rank : Axis;
}

std::vector<int64_t> stridesOf(const Dims &Shape) {
  std::vector<int64_t> S(Shape.size());
  int64_t Acc = 1;
  for (size_t I = Shape.size(); I-- > 0;) {
    S[I] = Acc;
    Acc *= Shape[I];
  }
  return S;
}

StridedPlan planStrided(const std::vector<int64_t> &Dims, const std::vector<int64_t> &Src,
                        int64_t Offset, size_t ElemSize) {
  StridedPlan P;
  P.ElemSize = ElemSize;
  P.Offset = Offset;
  P.Total = 1;
  for (int64_t D : Dims)
    P.Total *= size_t(D);
  // Drop size-1 dims, then merge a dim into its inner neighbour when the source stays linear.
  std::vector<int64_t> D, S;
  for (size_t I = 0; I < Dims.size(); ++I)
    if (Dims[I] != 1) {
      D.push_back(Dims[I]);
      S.push_back(Src[I]);
    }
  if (D.empty()) {
    D.push_back(1);
    S.push_back(1);
  }
  std::vector<int64_t> MD{D.back()}, MS{S.back()};
  for (size_t I = D.size() - 1; I-- > 0;) {
    if (S[I] == MS.front() * MD.front()) {
      MD.front() *= D[I];
    } else {
      MD.insert(MD.begin(), D[I]);
      MS.insert(MS.begin(), S[I]);
    }
  }
  P.Rank = MD.size();
  for (size_t I = 0; I < P.Rank; ++I) {
    P.Dims[I] = MD[I];
    P.Src[I] = MS[I];
  }
  return P;
}

namespace {

template <typename U>
void stridedRow(std::byte *Out, const std::byte *In, int64_t N, int64_t Stride) {
  U *O = reinterpret_cast<U *>(Out);
  for (int64_t I = 0; I < N; ++I)
    std::memcpy(O + I, In + I * Stride * int64_t(sizeof(U)), sizeof(U));
}

} // namespace

// The last two output dims read a transposed source (the second-to-last is contiguous in the
// source): copy in square tiles so reads and writes both stay within a few cache lines.
template <typename U>
void runTransposeTiles(const StridedPlan &P, const std::byte *InBytes, std::byte *OutBytes,
                       const KernelContext &Ctx) {
  constexpr int64_t Tile = 32;
  const size_t R = P.Rank;
  const int64_t M = P.Dims[R - 2], N = P.Dims[R - 1], NStride = P.Src[R - 1];
  const int64_t TilesM = (M + Tile - 1) / Tile;
  const size_t Outer = P.Total / size_t(M * N);
  const U *In = reinterpret_cast<const U *>(InBytes);
  U *Out = reinterpret_cast<U *>(OutBytes);
  Ctx.parallelFor(Outer * size_t(TilesM), 4, [&](size_t Begin, size_t End) {
    for (size_t Item = Begin; Item < End; ++Item) {
      size_t O = Item / size_t(TilesM);
      int64_t I0 = int64_t(Item % size_t(TilesM)) * Tile;
      int64_t SrcOff = P.Offset;
      size_t Rem = O;
      for (size_t D = R - 2; D-- > 0;) {
        SrcOff += int64_t(Rem % size_t(P.Dims[D])) * P.Src[D];
        Rem /= size_t(P.Dims[D]);
      }
      int64_t I1 = std::min(M, I0 + Tile);
      U *Dst = Out + O * size_t(M * N);
      for (int64_t J0 = 0; J0 < N; J0 += Tile) {
        int64_t J1 = std::min(N, J0 + Tile);
        for (int64_t I = I0; I < I1; ++I) {
          const U *Src = In + SrcOff + I;
          U *Row = Dst + I * N;
          for (int64_t J = J0; J < J1; ++J)
            std::memcpy(Row + J, Src + J * NStride, sizeof(U));
        }
      }
    }
  });
}

void runStrided(const StridedPlan &P, const std::byte *In, std::byte *Out,
                const KernelContext &Ctx) {
  if (P.Total == 0)
    return;
  const size_t R = P.Rank;
  const int64_t Inner = P.Dims[R - 1];
  const int64_t InnerStride = P.Src[R - 1];
  const size_t Rows = P.Total / size_t(Inner);
  const size_t E = P.ElemSize;
  if (R >= 2 && InnerStride != 1 && P.Src[R - 2] == 1 && Inner >= 8 && P.Dims[R - 2] >= 8) {
    switch (E) {
    case 1: return runTransposeTiles<uint8_t>(P, In, Out, Ctx);
    case 2: return runTransposeTiles<uint16_t>(P, In, Out, Ctx);
    case 4: return runTransposeTiles<uint32_t>(P, In, Out, Ctx);
    case 8: return runTransposeTiles<uint64_t>(P, In, Out, Ctx);
    default: break;
    }
  }
  size_t Grain = std::max<size_t>(1, (size_t(1) << 15) / (size_t(Inner) * E));
  auto Body = [&](size_t Begin, size_t End) {
    int64_t Idx[MaxPlanRank] = {};
    int64_t Rem = int64_t(Begin);
    int64_t SrcOff = P.Offset;
    for (size_t D = R - 1; D-- > 0;) {
      Idx[D] = Rem % P.Dims[D];
      Rem /= P.Dims[D];
      SrcOff += Idx[D] * P.Src[D];
    }
    std::byte *O = Out + Begin * size_t(Inner) * E;
    for (size_t Row = Begin; Row < End; ++Row) {
      const std::byte *I = In + SrcOff * int64_t(E);
      if (InnerStride == 1) {
        std::memcpy(O, I, size_t(Inner) * E);
      } else {
        switch (E) {
        case 1: stridedRow<uint8_t>(O, I, Inner, InnerStride); break;
        case 2: stridedRow<uint16_t>(O, I, Inner, InnerStride); break;
        case 4: stridedRow<uint32_t>(O, I, Inner, InnerStride); break;
        case 8: stridedRow<uint64_t>(O, I, Inner, InnerStride); break;
        default:
          for (int64_t K = 0; K < Inner; ++K)
            std::memcpy(O + K * int64_t(E), I + K * InnerStride * int64_t(E), E);
        }
      }
      O += size_t(Inner) * E;
      for (size_t D = R - 1; D-- > 0;) {
        SrcOff += P.Src[D];
        if (++Idx[D] < P.Dims[D])
          break;
        SrcOff -= P.Src[D] * P.Dims[D];
        Idx[D] = 0;
      }
    }
  };
  Ctx.parallelFor(Rows, Grain, Body);
}

namespace {

class StridedKernel final : public Kernel {
public:
  StridedKernel(int32_t In, int32_t Out, const StridedPlan &P) : In(In), Out(Out), P(P) {}
  void run(const KernelContext &Ctx) const override {
    runStrided(P, Ctx.tensor<const std::byte>(In), Ctx.tensor<std::byte>(Out), Ctx);
  }

private:
  int32_t In, Out;
  StridedPlan P;
};

class CopyKernel final : public Kernel {
public:
  CopyKernel(int32_t In, int32_t Out, size_t Bytes) : In(In), Out(Out), Bytes(Bytes) {}
  void run(const KernelContext &Ctx) const override {
    const void *X = Ctx.tensor<const void>(In);
    void *Y = Ctx.tensor<void>(Out);
    if (Bytes && X != Y)
      std::memcpy(Y, X, Bytes);
  }

private:
  int32_t In, Out;
  size_t Bytes;
};

} // namespace

std::unique_ptr<Kernel> makeStridedKernel(const NodeContext &Ctx, const StridedPlan &P) {
  return std::make_unique<StridedKernel>(Ctx.inputId(0), Ctx.outputId(0), P);
}

std::unique_ptr<Kernel> makeCopyKernel(const NodeContext &Ctx) {
  return std::make_unique<CopyKernel>(Ctx.inputId(0), Ctx.outputId(0), Ctx.input(0)->Bytes);
}

void TableGatherKernel::run(const KernelContext &Ctx) const {
  const std::byte *X = Ctx.tensor<const std::byte>(In);
  std::byte *Y = Ctx.tensor<std::byte>(Out);
  std::byte Fill[16] = {};
  if (Value >= 0)
    std::memcpy(Fill, Ctx.tensor<const std::byte>(Value), E);
  else if (!StaticFill.empty())
    std::memcpy(Fill, StaticFill.data(), E);
  size_t R = OutShape.size();
  if (R == 0) {
    std::memcpy(Y, X, E);
    return;
  }
  size_t Inner = size_t(OutShape[R - 1]);
  size_t Rows = 1;
  for (size_t D = 0; D + 1 < R; ++D)
    Rows *= size_t(OutShape[D]);
  if (Inner == 0 || Rows == 0)
    return;
  const std::vector<int64_t> &Last = Tables[R - 1];
  int64_t LastStride = InStrides[R - 1];
  size_t Grain = std::max<size_t>(1, 4096 / Inner);
  Ctx.parallelFor(Rows, Grain, [&](size_t Begin, size_t End) {
    int64_t Idx[OPTIMA_EXT_MAX_DIMS] = {};
    size_t Rem = Begin;
    for (size_t D = R - 1; D-- > 0;) {
      Idx[D] = int64_t(Rem % size_t(OutShape[D]));
      Rem /= size_t(OutShape[D]);
    }
    for (size_t Row = Begin; Row < End; ++Row) {
      std::byte *O = Y + Row * Inner * E;
      int64_t Base = 0;
      bool Padded = false;
      for (size_t D = 0; D + 1 < R; ++D) {
        int64_t S = Tables[D][size_t(Idx[D])];
        if (S < 0) {
          Padded = true;
          break;
        }
        Base += S * InStrides[D];
      }
      for (size_t J = 0; J < Inner; ++J) {
        int64_t S = Padded ? -1 : Last[J];
        std::memcpy(O + J * E, S < 0 ? Fill : X + (Base + S * LastStride) * int64_t(E), E);
      }
      for (size_t D = R - 1; D-- > 0;) {
        if (++Idx[D] < OutShape[D])
          break;
        Idx[D] = 0;
      }
    }
  });
}

bool onnxTypeToElement(int64_t OnnxType, int32_t &Type) noexcept {
  switch (OnnxType) {
  case 1: Type = OPTIMA_ELEMENT_F32; return true;
  case 2: Type = OPTIMA_ELEMENT_U8; return true;
  case 3: Type = OPTIMA_ELEMENT_I8; return true;
  case 4: Type = OPTIMA_ELEMENT_U16; return true;
  case 5: Type = OPTIMA_ELEMENT_I16; return true;
  case 6: Type = OPTIMA_ELEMENT_I32; return true;
  case 7: Type = OPTIMA_ELEMENT_I64; return true;
  case 9: Type = OPTIMA_ELEMENT_BOOL; return true;
  case 10: Type = OPTIMA_ELEMENT_F16; return true;
  case 11: Type = OPTIMA_ELEMENT_F64; return true;
  case 12: Type = OPTIMA_ELEMENT_U32; return true;
  case 13: Type = OPTIMA_ELEMENT_U64; return true;
  case 16: Type = OPTIMA_ELEMENT_BF16; return true;
  default: return false;
  }
}

} // namespace optima_v2::native::move
