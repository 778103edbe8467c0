// Op family: BatchNormalization (inference and training_mode=1), RMSNormalization,
// InstanceNormalization, LayerNormalization,
// GroupNormalization, LRN, MeanVarianceNormalization, LpNormalization (F32, F16, BF16, F64).
//
// Statistics are accumulated in double (cheap next to the memory traffic, and it keeps
// E[x^2] - E[x]^2 style cancellation out of F32 results: we use two passes anyway).
// Per-channel parameters may be graph inputs (as in the ONNX tests), so they are read at run
// time, once per channel, through a type switch; the per-element loops are typed.
#include "../OpRegistry.h"
#include "../TypeDispatch.h"
#include "AxisUtil.h"
#include "../simd/VecMath.h"

#include <algorithm>
#include <cmath>

namespace optima_v2::native {

namespace {

const std::initializer_list<int32_t> FloatTypes = {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16,
                                                   OPTIMA_ELEMENT_BF16, OPTIMA_ELEMENT_F64};

// Element I of a float tensor of runtime type Type, as double (per channel, not per element).
inline double loadAny(const void *P, int32_t Type, size_t I) {
  switch (Type) {
  case OPTIMA_ELEMENT_F16: return toFloat(static_cast<const Half *>(P)[I]);
  case OPTIMA_ELEMENT_BF16: return toFloat(static_cast<const BFloat16 *>(P)[I]);
  case OPTIMA_ELEMENT_F64: return static_cast<const double *>(P)[I];
  default: return static_cast<const float *>(P)[I];
  }
}
inline void storeAny(void *P, int32_t Type, size_t I, double V) {
  switch (Type) {
  case OPTIMA_ELEMENT_F16: static_cast<Half *>(P)[I] = toHalf(float(V)); break;
  case OPTIMA_ELEMENT_BF16: static_cast<BFloat16 *>(P)[I] = toBFloat16(float(V)); break;
  case OPTIMA_ELEMENT_F64: static_cast<double *>(P)[I] = V; break;
  default: static_cast<float *>(P)[I] = float(V); break;
  }
}

struct Param {
  int32_t Id = -1, Type = OPTIMA_ELEMENT_F32;
};

// A 1-D parameter of Count elements (float type).
Param param(const NodeContext &Ctx, size_t Index, const char *What, size_t Count) {
  const TensorInfo *T = Ctx.input(Index);
  if (!T)
    return {};
  Ctx.requireType(Index, FloatTypes);
  if (T->Elements != Count || T->Shape.size() > 1)
    Ctx.invalid(std::string(What) + " \"" + T->Name + "\" must have " + std::to_string(Count) +
                " elements (1-D), got " + describe(T->Type, T->Shape));
  return {Ctx.inputId(Index), T->Type};
}

template <typename Fn> std::unique_ptr<Kernel> dispatchFloat(int32_t Type, Fn &&F) {
  std::unique_ptr<Kernel> K;
  dispatchType(Type, [&](auto Tag) {
    using T = typename decltype(Tag)::type;
    if constexpr (std::is_floating_point_v<T> || isHalfLike<T>)
      K = F(Tag);
  });
  return K;
}

// Rows of Len contiguous elements: y = (x - mean) * invstd * scale[j] + bias[j] style work is
// done by the callers; this computes mean and 1/sqrt(var + eps) of one strided set.
template <typename T> void meanInvStd(const T *X, size_t Len, double Eps, double &Mean, double &Inv) {
  double S = 0;
  for (size_t I = 0; I < Len; ++I)
    S += double(load(X[I]));
  Mean = Len ? S / double(Len) : 0;
  double V = 0;
  for (size_t I = 0; I < Len; ++I) {
    double D = double(load(X[I])) - Mean;
    V += D * D;
  }
  V = Len ? V / double(Len) : 0;
  Inv = 1.0 / std::sqrt(V + Eps);
}

// ---- BatchNormalization / InstanceNormalization: per (n, c) plane y = x * a + b -------------

template <typename T, bool Instance> class ChannelNormKernel final : public Kernel {
public:
  ChannelNormKernel(int32_t X, int32_t Y, Param Scale, Param Bias, Param Mean, Param Var,
                    size_t N, size_t C, size_t Spatial, double Eps)
      : XId(X), YId(Y), Scale(Scale), Bias(Bias), Mean(Mean), Var(Var), N(N), C(C),
        Spatial(Spatial), Eps(Eps) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    T *Y = Ctx.tensor<T>(YId);
    const void *Sc = Ctx.tensor<const void>(Scale.Id), *Bi = Ctx.tensor<const void>(Bias.Id);
    const void *Me = Instance ? nullptr : Ctx.tensor<const void>(Mean.Id);
    const void *Va = Instance ? nullptr : Ctx.tensor<const void>(Var.Id);
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, Spatial));
    Ctx.parallelFor(N * C, Grain, [&](size_t Begin, size_t End) {
      for (size_t P = Begin; P < End; ++P) {
        size_t Ch = P % C;
        const T *XP = X + P * Spatial;
        double M, Inv;
        if constexpr (Instance)
          meanInvStd(XP, Spatial, Eps, M, Inv);
        else {
          M = loadAny(Me, Mean.Type, Ch);
          Inv = 1.0 / std::sqrt(loadAny(Va, Var.Type, Ch) + Eps);
        }
        double A = loadAny(Sc, Scale.Type, Ch) * Inv;
        double B = loadAny(Bi, Bias.Type, Ch) - M * A;
        using CT = ComputeType<T>;
        CT A1 = CT(A), B1 = CT(B);
        T *YP = Y + P * Spatial;
        for (size_t I = 0; I < Spatial; ++I)
          YP[I] = store<T>(load(XP[I]) * A1 + B1);
      }
    });
  }

private:
  int32_t XId, YId;
  Param Scale, Bias, Mean, Var;
  size_t N, C, Spatial;
  double Eps;
};

struct NCS {
  size_t N = 1, C = 1, Spatial = 1;
};
NCS splitNC(const NodeContext &Ctx, const TensorInfo &X) {
  if (X.Shape.size() < 2)
    Ctx.invalid("input \"" + X.Name + "\" must be [N, C, ...], got " + describe(X.Type, X.Shape));
  NCS S;
  S.N = size_t(X.Shape[0]);
  S.C = size_t(X.Shape[1]);
  for (size_t I = 2; I < X.Shape.size(); ++I)
    S.Spatial *= size_t(X.Shape[I]);
  return S;
}

// Training mode: per channel, the batch mean and population variance over N and the spatial
// dims normalize X; running_mean/var = input * momentum + batch * (1 - momentum).
template <typename T> class BatchNormTrainKernel final : public Kernel {
public:
  BatchNormTrainKernel(int32_t X, int32_t Y, Param Scale, Param Bias, Param Mean, Param Var,
                       Param RunMean, Param RunVar, NCS S, double Eps, double Momentum)
      : XId(X), YId(Y), Scale(Scale), Bias(Bias), Mean(Mean), Var(Var), RunMean(RunMean),
        RunVar(RunVar), S(S), Eps(Eps), Momentum(Momentum) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    T *Y = Ctx.tensor<T>(YId);
    const void *Sc = Ctx.tensor<const void>(Scale.Id), *Bi = Ctx.tensor<const void>(Bias.Id);
    const void *Me = Ctx.tensor<const void>(Mean.Id), *Va = Ctx.tensor<const void>(Var.Id);
    void *RM = RunMean.Id >= 0 ? Ctx.tensor<void>(RunMean.Id) : nullptr;
    void *RV = RunVar.Id >= 0 ? Ctx.tensor<void>(RunVar.Id) : nullptr;
    size_t Count = S.N * S.Spatial;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, Count));
    Ctx.parallelFor(S.C, Grain, [&](size_t Begin, size_t End) {
      for (size_t Ch = Begin; Ch < End; ++Ch) {
        double Sum = 0;
        for (size_t Nn = 0; Nn < S.N; ++Nn) {
          const T *XP = X + (Nn * S.C + Ch) * S.Spatial;
          for (size_t I = 0; I < S.Spatial; ++I)
            Sum += double(load(XP[I]));
        }
        double M = Count ? Sum / double(Count) : 0;
        double Sq = 0;
        for (size_t Nn = 0; Nn < S.N; ++Nn) {
          const T *XP = X + (Nn * S.C + Ch) * S.Spatial;
          for (size_t I = 0; I < S.Spatial; ++I) {
            double D = double(load(XP[I])) - M;
            Sq += D * D;
          }
        }
        double V = Count ? Sq / double(Count) : 0;
        double A = loadAny(Sc, Scale.Type, Ch) / std::sqrt(V + Eps);
        double B = loadAny(Bi, Bias.Type, Ch) - M * A;
        using CT = ComputeType<T>;
        CT A1 = CT(A), B1 = CT(B);
        for (size_t Nn = 0; Nn < S.N; ++Nn) {
          const T *XP = X + (Nn * S.C + Ch) * S.Spatial;
          T *YP = Y + (Nn * S.C + Ch) * S.Spatial;
          for (size_t I = 0; I < S.Spatial; ++I)
            YP[I] = store<T>(load(XP[I]) * A1 + B1);
        }
        if (RM)
          storeAny(RM, RunMean.Type, Ch,
                   loadAny(Me, Mean.Type, Ch) * Momentum + M * (1 - Momentum));
        if (RV)
          storeAny(RV, RunVar.Type, Ch, loadAny(Va, Var.Type, Ch) * Momentum + V * (1 - Momentum));
      }
    });
  }

private:
  int32_t XId, YId;
  Param Scale, Bias, Mean, Var, RunMean, RunVar;
  NCS S;
  double Eps, Momentum;
};

std::unique_ptr<Kernel> makeBatchNorm(const NodeContext &Ctx) {
  Ctx.allowAttributes({"epsilon", "momentum", "training_mode", "spatial", "is_test",
                       "consumed_inputs"});
  int64_t Training = Ctx.getInt("training_mode", 0);
  if (Training != 0 && Training != 1)
    Ctx.invalidAttribute("training_mode", "expected 0 or 1, got " + std::to_string(Training));
  if (Ctx.getInt("spatial", 1) != 1)
    Ctx.unsupported("spatial=0");
  // Opset 14+ outputs running_mean/var only in training mode; opsets <= 9 (no training_mode)
  // had up to 5 training outputs (saved mean/var too), which we do not implement.
  if (Training == 0 && Ctx.outputCount() != 1)
    Ctx.unsupported("running mean/variance outputs without training_mode=1 (legacy training "
                    "form of opsets <= 9)");
  if (Ctx.outputCount() > 3)
    Ctx.unsupported("saved mean/variance outputs (opsets <= 9 training form)");
  Ctx.expectArity(5, 5, Ctx.outputCount());
  Ctx.requireType(0, FloatTypes);
  const TensorInfo &X = *Ctx.input(0);
  NCS S = splitNC(Ctx, X);
  Param Scale = param(Ctx, 1, "scale", S.C), Bias = param(Ctx, 2, "B", S.C);
  Param Mean = param(Ctx, 3, "mean", S.C), Var = param(Ctx, 4, "var", S.C);
  Ctx.expectOutput(0, X.Type, X.Shape);
  double Eps = Ctx.getFloat("epsilon", 1e-5);
  if (Training) {
    Param Run[2];
    for (size_t O = 1; O < Ctx.outputCount(); ++O) {
      int32_t Type = O == 1 ? Mean.Type : Var.Type;
      Ctx.expectOutput(O, Type, {int64_t(S.C)});
      Run[O - 1] = {Ctx.outputId(O), Type};
    }
    double Momentum = Ctx.getFloat("momentum", 0.9);
    return dispatchFloat(X.Type, [&](auto Tag) -> std::unique_ptr<Kernel> {
      using T = typename decltype(Tag)::type;
      return std::make_unique<BatchNormTrainKernel<T>>(Ctx.inputId(0), Ctx.outputId(0), Scale,
                                                       Bias, Mean, Var, Run[0], Run[1], S, Eps,
                                                       Momentum);
    });
  }
  return dispatchFloat(X.Type, [&](auto Tag) -> std::unique_ptr<Kernel> {
    using T = typename decltype(Tag)::type;
    return std::make_unique<ChannelNormKernel<T, false>>(Ctx.inputId(0), Ctx.outputId(0), Scale,
                                                         Bias, Mean, Var, S.N, S.C, S.Spatial, Eps);
  });
}

std::unique_ptr<Kernel> makeInstanceNorm(const NodeContext &Ctx) {
  Ctx.expectArity(3, 3, 1);
  Ctx.allowAttributes({"epsilon"});
  Ctx.requireType(0, FloatTypes);
  const TensorInfo &X = *Ctx.input(0);
  NCS S = splitNC(Ctx, X);
  Param Scale = param(Ctx, 1, "scale", S.C), Bias = param(Ctx, 2, "B", S.C);
  Ctx.expectOutput(0, X.Type, X.Shape);
  double Eps = Ctx.getFloat("epsilon", 1e-5);
  return dispatchFloat(X.Type, [&](auto Tag) -> std::unique_ptr<Kernel> {
    using T = typename decltype(Tag)::type;
    return std::make_unique<ChannelNormKernel<T, true>>(Ctx.inputId(0), Ctx.outputId(0), Scale,
                                                        Bias, Param{}, Param{}, S.N, S.C,
                                                        S.Spatial, Eps);
  });
}

// ---- LayerNormalization: rows of Len = prod(X.shape[axis:]) ----------------------------------

template <typename T> class LayerNormKernel final : public Kernel {
public:
  LayerNormKernel(int32_t X, int32_t Y, Param Scale, Param Bias, Param Mean, Param Inv,
                  size_t Rows, size_t Len, std::vector<size_t> ScaleIdx,
                  std::vector<size_t> BiasIdx, double Eps)
      : XId(X), YId(Y), Scale(Scale), Bias(Bias), MeanOut(Mean), InvOut(Inv), Rows(Rows),
        Len(Len), ScaleIdx(std::move(ScaleIdx)), BiasIdx(std::move(BiasIdx)), Eps(Eps) {
    Direct = isIdentity(this->ScaleIdx) && (Bias.Id < 0 || isIdentity(this->BiasIdx));
  }

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    T *Y = Ctx.tensor<T>(YId);
    const T *Sc = Ctx.tensor<const T>(Scale.Id);
    const T *Bi = Bias.Id >= 0 ? Ctx.tensor<const T>(Bias.Id) : nullptr;
    void *MO = MeanOut.Id >= 0 ? Ctx.tensor<void>(MeanOut.Id) : nullptr;
    void *IO = InvOut.Id >= 0 ? Ctx.tensor<void>(InvOut.Id) : nullptr;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, Len));
    Ctx.parallelFor(Rows, Grain, [&](size_t Begin, size_t End) {
      for (size_t R = Begin; R < End; ++R) {
        const T *XR = X + R * Len;
        T *YR = Y + R * Len;
        double M, Inv;
        if constexpr (std::is_same_v<T, float>) {
          if (Direct && Len > 0) { // vectorised float32 row (two-pass statistics in float)
            float MF, InvF;
            simd::vecMath().LayerNormRow(XR, YR, Len, Sc, Bi, float(Eps), &MF, &InvF);
            if (MO)
              storeAny(MO, MeanOut.Type, R, MF);
            if (IO)
              storeAny(IO, InvOut.Type, R, InvF);
            continue;
          }
        }
        meanInvStd(XR, Len, Eps, M, Inv);
        if (Direct) { // parameters shaped like the normalized block: no index table
          for (size_t I = 0; I < Len; ++I) {
            double V = (double(load(XR[I])) - M) * Inv * double(load(Sc[I]));
            if (Bi)
              V += double(load(Bi[I]));
            YR[I] = store<T>(ComputeType<T>(V));
          }
        } else {
          for (size_t I = 0; I < Len; ++I) {
            double V = (double(load(XR[I])) - M) * Inv * double(load(Sc[ScaleIdx[I]]));
            if (Bi)
              V += double(load(Bi[BiasIdx[I]]));
            YR[I] = store<T>(ComputeType<T>(V));
          }
        }
        if (MO)
          storeAny(MO, MeanOut.Type, R, M);
        if (IO)
          storeAny(IO, InvOut.Type, R, Inv);
      }
    });
  }

private:
  int32_t XId, YId;
  Param Scale, Bias, MeanOut, InvOut;
  size_t Rows, Len;
  std::vector<size_t> ScaleIdx, BiasIdx; // element of the normalized block -> parameter element
  double Eps;
  bool Direct = false;

  static bool isIdentity(const std::vector<size_t> &Idx) {
    for (size_t I = 0; I < Idx.size(); ++I)
      if (Idx[I] != I)
        return false;
    return true;
  }
};

// Unidirectional broadcast of parameter P onto the normalized block shape Norm: index table.
std::vector<size_t> paramIndex(const NodeContext &Ctx, const TensorInfo &P, const Dims &Norm) {
  size_t Len = 1;
  for (int64_t D : Norm)
    Len *= size_t(D);
  if (P.Shape.size() > Norm.size())
    Ctx.invalid("\"" + P.Name + "\" " + formatShape(P.Shape) +
                " does not broadcast to the normalized shape " + formatShape(Norm));
  size_t Off = Norm.size() - P.Shape.size();
  std::vector<size_t> Strides(Norm.size(), 0);
  size_t S = 1;
  for (size_t I = P.Shape.size(); I-- > 0;) {
    if (P.Shape[I] != Norm[Off + I] && P.Shape[I] != 1)
      Ctx.invalid("\"" + P.Name + "\" " + formatShape(P.Shape) +
                  " does not broadcast to the normalized shape " + formatShape(Norm));
    Strides[Off + I] = P.Shape[I] == 1 ? 0 : S;
    S *= size_t(P.Shape[I]);
  }
  std::vector<size_t> Idx(Len);
  for (size_t E = 0; E < Len; ++E) {
    size_t Rem = E, Pos = 0;
    for (size_t D = Norm.size(); D-- > 0;) {
      Pos += (Rem % size_t(Norm[D])) * Strides[D];
      Rem /= size_t(Norm[D]);
    }
    Idx[E] = Pos;
  }
  return Idx;
}

std::unique_ptr<Kernel> makeLayerNorm(const NodeContext &Ctx) {
  if (Ctx.outputCount() < 1 || Ctx.outputCount() > 3)
    Ctx.invalid("expected 1 to 3 outputs, got " + std::to_string(Ctx.outputCount()));
  Ctx.expectArity(2, 3, Ctx.outputCount());
  Ctx.allowAttributes({"axis", "epsilon", "stash_type"});
  Ctx.requireType(0, FloatTypes);
  const TensorInfo &X = *Ctx.input(0);
  if (X.Shape.empty())
    Ctx.invalid("input \"" + X.Name + "\" must have rank >= 1");
  size_t Axis = normalizeAxis(Ctx, "axis", Ctx.getInt("axis", -1), X.Shape.size());
  Dims Norm(X.Shape.begin() + std::ptrdiff_t(Axis), X.Shape.end());
  size_t Rows = 1, Len = 1;
  for (size_t I = 0; I < X.Shape.size(); ++I)
    (I < Axis ? Rows : Len) *= size_t(X.Shape[I]);
  for (size_t I = 1; I <= 2; ++I)
    if (const TensorInfo *P = Ctx.input(I); P && P->Type != X.Type)
      Ctx.invalid("\"" + P->Name + "\" must have the input's type " + typeName(X.Type) + ", got " +
                  typeName(P->Type));
  std::vector<size_t> ScaleIdx = paramIndex(Ctx, *Ctx.input(1), Norm);
  std::vector<size_t> BiasIdx;
  Param Bias;
  if (Ctx.input(2)) {
    BiasIdx = paramIndex(Ctx, *Ctx.input(2), Norm);
    Bias = {Ctx.inputId(2), X.Type};
  }
  Ctx.expectOutput(0, X.Type, X.Shape);
  Dims StatShape = X.Shape;
  for (size_t I = Axis; I < StatShape.size(); ++I)
    StatShape[I] = 1;
  Param Stats[2];
  for (size_t O = 1; O < Ctx.outputCount(); ++O) {
    const TensorInfo &T = Ctx.output(O);
    int32_t Type = T.Type == X.Type ? X.Type : OPTIMA_ELEMENT_F32;
    Ctx.expectOutput(O, Type, StatShape);
    Stats[O - 1] = {Ctx.outputId(O), Type};
  }
  double Eps = Ctx.getFloat("epsilon", 1e-5);
  Param Scale{Ctx.inputId(1), X.Type};
  return dispatchFloat(X.Type, [&](auto Tag) -> std::unique_ptr<Kernel> {
    using T = typename decltype(Tag)::type;
    return std::make_unique<LayerNormKernel<T>>(Ctx.inputId(0), Ctx.outputId(0), Scale, Bias,
                                                Stats[0], Stats[1], Rows, Len, ScaleIdx, BiasIdx,
                                                Eps);
  });
}

// ---- RMSNormalization: rows of Len = prod(X.shape[axis:]), y = x / sqrt(mean(x^2) + eps) * scale
// X has type T, scale and Y type V (they may differ). Statistics in double whatever stash_type
// asks (at least as precise as the float it names).

template <typename T, typename V> class RmsNormKernel final : public Kernel {
public:
  RmsNormKernel(int32_t X, int32_t Scale, int32_t Y, size_t Rows, size_t Len,
                std::vector<size_t> ScaleIdx, double Eps)
      : XId(X), ScaleId(Scale), YId(Y), Rows(Rows), Len(Len), ScaleIdx(std::move(ScaleIdx)),
        Eps(Eps) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    const V *Sc = Ctx.tensor<const V>(ScaleId);
    V *Y = Ctx.tensor<V>(YId);
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, Len));
    Ctx.parallelFor(Rows, Grain, [&](size_t Begin, size_t End) {
      for (size_t R = Begin; R < End; ++R) {
        const T *XR = X + R * Len;
        V *YR = Y + R * Len;
        double Sq = 0;
        for (size_t I = 0; I < Len; ++I) {
          double Xv = double(load(XR[I]));
          Sq += Xv * Xv;
        }
        double Inv = 1.0 / std::sqrt((Len ? Sq / double(Len) : 0.0) + Eps);
        for (size_t I = 0; I < Len; ++I)
          YR[I] = store<V>(ComputeType<V>(double(load(XR[I])) * Inv *
                                          double(load(Sc[ScaleIdx[I]]))));
      }
    });
  }

private:
  int32_t XId, ScaleId, YId;
  size_t Rows, Len;
  std::vector<size_t> ScaleIdx; // element of the normalized block -> scale element
  double Eps;
};

std::unique_ptr<Kernel> makeRmsNorm(const NodeContext &Ctx) {
  Ctx.expectArity(2, 2, 1);
  Ctx.allowAttributes({"axis", "epsilon", "stash_type"});
  Ctx.requireType(0, FloatTypes);
  Ctx.requireType(1, FloatTypes);
  const TensorInfo &X = *Ctx.input(0), &Scale = *Ctx.input(1);
  if (X.Shape.empty())
    Ctx.invalid("input \"" + X.Name + "\" must have rank >= 1");
  int64_t Stash = Ctx.getInt("stash_type", 1);
  // ONNX TensorProto codes: FLOAT 1, FLOAT16 10, DOUBLE 11, BFLOAT16 16.
  if (Stash != 1 && Stash != 10 && Stash != 11 && Stash != 16)
    Ctx.invalidAttribute("stash_type", "expected a float type code (1, 10, 11 or 16), got " +
                                           std::to_string(Stash));
  size_t Axis = normalizeAxis(Ctx, "axis", Ctx.getInt("axis", -1), X.Shape.size());
  Dims Norm(X.Shape.begin() + std::ptrdiff_t(Axis), X.Shape.end());
  size_t Rows = 1, Len = 1;
  for (size_t I = 0; I < X.Shape.size(); ++I)
    (I < Axis ? Rows : Len) *= size_t(X.Shape[I]);
  std::vector<size_t> ScaleIdx = paramIndex(Ctx, Scale, Norm);
  Ctx.expectOutput(0, Scale.Type, X.Shape);
  double Eps = Ctx.getFloat("epsilon", 1e-5);
  std::unique_ptr<Kernel> K;
  dispatchFloat(X.Type, [&](auto XTag) -> std::unique_ptr<Kernel> {
    dispatchFloat(Scale.Type, [&](auto VTag) -> std::unique_ptr<Kernel> {
      using T = typename decltype(XTag)::type;
      using V = typename decltype(VTag)::type;
      K = std::make_unique<RmsNormKernel<T, V>>(Ctx.inputId(0), Ctx.inputId(1), Ctx.outputId(0),
                                                Rows, Len, ScaleIdx, Eps);
      return nullptr;
    });
    return nullptr;
  });
  return K;
}

// ---- GroupNormalization: per (n, group) over C/G channels x spatial ------------------------

template <typename T> class GroupNormKernel final : public Kernel {
public:
  GroupNormKernel(int32_t X, int32_t Y, Param Scale, Param Bias, size_t N, size_t C,
                  size_t Groups, size_t Spatial, bool PerChannel, double Eps)
      : XId(X), YId(Y), Scale(Scale), Bias(Bias), N(N), C(C), Groups(Groups), Spatial(Spatial),
        PerChannel(PerChannel), Eps(Eps) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    T *Y = Ctx.tensor<T>(YId);
    const void *Sc = Ctx.tensor<const void>(Scale.Id), *Bi = Ctx.tensor<const void>(Bias.Id);
    size_t PerGroup = C / Groups, Len = PerGroup * Spatial;
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, Len));
    Ctx.parallelFor(N * Groups, Grain, [&](size_t Begin, size_t End) {
      for (size_t P = Begin; P < End; ++P) {
        size_t G = P % Groups;
        const T *XG = X + P * Len;
        T *YG = Y + P * Len;
        double M, Inv;
        meanInvStd(XG, Len, Eps, M, Inv);
        for (size_t Ch = 0; Ch < PerGroup; ++Ch) {
          size_t Pi = PerChannel ? G * PerGroup + Ch : G;
          double A = loadAny(Sc, Scale.Type, Pi) * Inv;
          double B = loadAny(Bi, Bias.Type, Pi) - M * A;
          using CT = ComputeType<T>;
          CT A1 = CT(A), B1 = CT(B);
          for (size_t I = Ch * Spatial; I < (Ch + 1) * Spatial; ++I)
            YG[I] = store<T>(load(XG[I]) * A1 + B1);
        }
      }
    });
  }

private:
  int32_t XId, YId;
  Param Scale, Bias;
  size_t N, C, Groups, Spatial;
  bool PerChannel;
  double Eps;
};

std::unique_ptr<Kernel> makeGroupNorm(const NodeContext &Ctx) {
  Ctx.expectArity(3, 3, 1);
  Ctx.allowAttributes({"epsilon", "num_groups", "stash_type"});
  Ctx.requireType(0, FloatTypes);
  const TensorInfo &X = *Ctx.input(0);
  NCS S = splitNC(Ctx, X);
  if (!Ctx.hasAttribute("num_groups"))
    Ctx.invalid("attribute \"num_groups\" is required");
  int64_t G = Ctx.getInt("num_groups", 1);
  if (G <= 0 || S.C % size_t(G) != 0)
    Ctx.invalidAttribute("num_groups", std::to_string(G) + " does not divide the " +
                                           std::to_string(S.C) + " channels");
  // Opset 21 takes per-channel scale/bias ([C]); opset 18 took per-group ([num_groups]). The
  // opset is not recorded, so the shape decides (both agree when num_groups == C).
  size_t Count = Ctx.input(1)->Elements;
  bool PerChannel = Count == S.C;
  if (!PerChannel && Count != size_t(G))
    Ctx.invalid("scale must have C (" + std::to_string(S.C) + ") or num_groups (" +
                std::to_string(G) + ") elements, got " + std::to_string(Count));
  Param Scale = param(Ctx, 1, "scale", Count), Bias = param(Ctx, 2, "bias", Count);
  Ctx.expectOutput(0, X.Type, X.Shape);
  double Eps = Ctx.getFloat("epsilon", 1e-5);
  return dispatchFloat(X.Type, [&](auto Tag) -> std::unique_ptr<Kernel> {
    using T = typename decltype(Tag)::type;
    return std::make_unique<GroupNormKernel<T>>(Ctx.inputId(0), Ctx.outputId(0), Scale, Bias,
                                                S.N, S.C, size_t(G), S.Spatial, PerChannel, Eps);
  });
}

// ---- LRN: across channels, y = x / (bias + alpha / size * sum(x^2 over the window))^beta ----

template <typename T> class LrnKernel final : public Kernel {
public:
  LrnKernel(int32_t X, int32_t Y, NCS S, int64_t Size, double Alpha, double Beta, double Bias)
      : XId(X), YId(Y), S(S), Size(Size), Alpha(Alpha), Beta(Beta), Bias(Bias) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    T *Y = Ctx.tensor<T>(YId);
    int64_t Lo = (Size - 1) / 2, Hi = Size - 1 - Lo;
    double Scale = Alpha / double(Size);
    size_t Grain = std::max<size_t>(1, (size_t(1) << 12) / std::max<size_t>(1, S.Spatial));
    Ctx.parallelFor(S.N * S.C, Grain, [&](size_t Begin, size_t End) {
      for (size_t P = Begin; P < End; ++P) {
        size_t Nn = P / S.C;
        int64_t Ch = int64_t(P % S.C);
        int64_t C0 = std::max<int64_t>(0, Ch - Lo), C1 = std::min<int64_t>(int64_t(S.C) - 1, Ch + Hi);
        const T *XP = X + P * S.Spatial;
        T *YP = Y + P * S.Spatial;
        for (size_t I = 0; I < S.Spatial; ++I) {
          double Sum = 0;
          for (int64_t C = C0; C <= C1; ++C) {
            double V = double(load(X[(Nn * S.C + size_t(C)) * S.Spatial + I]));
            Sum += V * V;
          }
          YP[I] = store<T>(ComputeType<T>(double(load(XP[I])) / std::pow(Bias + Scale * Sum, Beta)));
        }
      }
    });
  }

private:
  int32_t XId, YId;
  NCS S;
  int64_t Size;
  double Alpha, Beta, Bias;
};

std::unique_ptr<Kernel> makeLrn(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"size", "alpha", "beta", "bias"});
  Ctx.requireType(0, FloatTypes);
  const TensorInfo &X = *Ctx.input(0);
  NCS S = splitNC(Ctx, X);
  if (!Ctx.hasAttribute("size"))
    Ctx.invalid("attribute \"size\" is required");
  int64_t Size = Ctx.getInt("size", 1);
  if (Size <= 0)
    Ctx.invalidAttribute("size", "expected a positive value");
  Ctx.expectOutput(0, X.Type, X.Shape);
  double Alpha = Ctx.getFloat("alpha", 1e-4), Beta = Ctx.getFloat("beta", 0.75),
         Bias = Ctx.getFloat("bias", 1.0);
  return dispatchFloat(X.Type, [&](auto Tag) -> std::unique_ptr<Kernel> {
    using T = typename decltype(Tag)::type;
    return std::make_unique<LrnKernel<T>>(Ctx.inputId(0), Ctx.outputId(0), S, Size, Alpha, Beta,
                                          Bias);
  });
}

// ---- MeanVarianceNormalization: y = (x - mean) / (std + 1e-9) over `axes` -----------------

template <typename T> class MvnKernel final : public Kernel {
public:
  MvnKernel(int32_t X, int32_t Y, Dims Shape, std::vector<size_t> KeptStride, size_t Kept,
            size_t Count)
      : XId(X), YId(Y), Shape(std::move(Shape)), KeptStride(std::move(KeptStride)), Kept(Kept),
        Count(Count) {}

  size_t scratchBytes() const override { return 2 * Kept * sizeof(double); }

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    T *Y = Ctx.tensor<T>(YId);
    double *Sum = reinterpret_cast<double *>(Ctx.Scratch), *Sq = Sum + Kept;
    std::fill(Sum, Sum + 2 * Kept, 0.0);
    walk([&](size_t I, size_t K) {
      double V = double(load(X[I]));
      Sum[K] += V;
      Sq[K] += V * V;
    });
    double N = double(Count);
    for (size_t K = 0; K < Kept; ++K) {
      double M = Sum[K] / N;
      double Var = std::max(0.0, Sq[K] / N - M * M);
      Sum[K] = M;
      Sq[K] = 1.0 / (std::sqrt(Var) + 1e-9);
    }
    walk([&](size_t I, size_t K) { Y[I] = store<T>(ComputeType<T>((double(load(X[I])) - Sum[K]) * Sq[K])); });
  }

private:
  // F(flat input index, kept-statistics index) over every element, in order.
  template <typename Fn> void walk(const Fn &F) const {
    size_t R = Shape.size(), Total = Count * Kept;
    size_t Idx[OPTIMA_EXT_MAX_DIMS] = {};
    size_t K = 0;
    for (size_t I = 0; I < Total; ++I) {
      F(I, K);
      for (size_t D = R; D-- > 0;) {
        K += KeptStride[D];
        if (++Idx[D] < size_t(Shape[D]))
          break;
        K -= Idx[D] * KeptStride[D];
        Idx[D] = 0;
      }
    }
  }

  int32_t XId, YId;
  Dims Shape;
  std::vector<size_t> KeptStride;
  size_t Kept, Count;
};

std::unique_ptr<Kernel> makeMvn(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"axes"});
  Ctx.requireType(0, FloatTypes);
  const TensorInfo &X = *Ctx.input(0);
  size_t R = X.Shape.size();
  std::vector<int64_t> Axes = Ctx.getInts("axes", {0, 2, 3});
  std::vector<bool> Red(R, false);
  for (int64_t A : Axes)
    Red[normalizeAxis(Ctx, "axes", A, R)] = true;
  std::vector<size_t> KeptStride(R, 0);
  size_t Kept = 1, Count = 1;
  for (size_t I = R; I-- > 0;) {
    if (Red[I]) {
      Count *= size_t(X.Shape[I]);
    } else {
      KeptStride[I] = Kept;
      Kept *= size_t(X.Shape[I]);
    }
  }
  Ctx.expectOutput(0, X.Type, X.Shape);
  if (X.Elements == 0)
    Ctx.invalid("input \"" + X.Name + "\" is empty");
  return dispatchFloat(X.Type, [&](auto Tag) -> std::unique_ptr<Kernel> {
    using T = typename decltype(Tag)::type;
    return std::make_unique<MvnKernel<T>>(Ctx.inputId(0), Ctx.outputId(0), X.Shape, KeptStride,
                                          Kept, Count);
  });
}

// ---- LpNormalization along one axis (p = 1 or 2); a zero norm gives zeros ------------------

template <typename T> class LpNormKernel final : public Kernel {
public:
  LpNormKernel(int32_t X, int32_t Y, AxisSplit S, int64_t P) : XId(X), YId(Y), S(S), P(P) {}
  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    T *Y = Ctx.tensor<T>(YId);
    size_t Grain = std::max<size_t>(1, (size_t(1) << 14) / std::max<size_t>(1, S.Len));
    Ctx.parallelFor(S.Outer * S.Inner, Grain, [&](size_t Begin, size_t End) {
      for (size_t I = Begin; I < End; ++I) {
        size_t Base = (I / S.Inner) * S.Len * S.Inner + I % S.Inner;
        double Norm = 0;
        for (size_t J = 0; J < S.Len; ++J) {
          double V = double(load(X[Base + J * S.Inner]));
          Norm += P == 1 ? std::fabs(V) : V * V;
        }
        if (P == 2)
          Norm = std::sqrt(Norm);
        double Inv = Norm != 0 ? 1.0 / Norm : 0.0;
        for (size_t J = 0; J < S.Len; ++J)
          Y[Base + J * S.Inner] =
              store<T>(ComputeType<T>(double(load(X[Base + J * S.Inner])) * Inv));
      }
    });
  }

private:
  int32_t XId, YId;
  AxisSplit S;
  int64_t P;
};

std::unique_ptr<Kernel> makeLpNorm(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"axis", "p"});
  Ctx.requireType(0, FloatTypes);
  const TensorInfo &X = *Ctx.input(0);
  if (X.Shape.empty())
    Ctx.invalid("input \"" + X.Name + "\" must have rank >= 1");
  size_t Axis = normalizeAxis(Ctx, "axis", Ctx.getInt("axis", -1), X.Shape.size());
  int64_t P = Ctx.getInt("p", 2);
  if (P != 1 && P != 2)
    Ctx.invalidAttribute("p", "expected 1 or 2, got " + std::to_string(P));
  Ctx.expectOutput(0, X.Type, X.Shape);
  AxisSplit S = splitAt(X.Shape, Axis);
  return dispatchFloat(X.Type, [&](auto Tag) -> std::unique_ptr<Kernel> {
    using T = typename decltype(Tag)::type;
    return std::make_unique<LpNormKernel<T>>(Ctx.inputId(0), Ctx.outputId(0), S, P);
  });
}

} // namespace

void registerNormalizationOps(OpRegistry &R) {
  R.add("BatchNormalization", makeBatchNorm);
  R.add("InstanceNormalization", makeInstanceNorm);
  R.add("LayerNormalization", makeLayerNorm);
  R.add("GroupNormalization", makeGroupNorm);
  R.add("LRN", makeLrn);
  R.add("MeanVarianceNormalization", makeMvn);
  R.add("LpNormalization", makeLpNorm);
  R.add("RMSNormalization", makeRmsNorm);
}

} // namespace optima_v2::native
