// LinearAttention (opset 27): recurrent linear attention with update rules linear, gated,
// delta and gated_delta (default), GQA/MQA (each KV head's state serves q_num_heads /
// kv_num_heads consecutive query heads). Q/K/V/decay/beta are packed [B, T, H * D]; the state
// is [B, H_kv, d_k, d_v]. T in {F32, F16, BF16}, the state type S in the same set (present_state
// has past_state's type, or T without past_state); computed in float like the ONNX reference.
//
// Each (batch, kv head) pair is independent: its state lives in scratch and the T steps run in
// order: state *= exp(decay); v' = beta * (v - state^T k) (delta rules); state += k v'^T;
// o = scale * q^T state for each query head of the group.
#include "../../OpRegistry.h"
#include "../../TypeDispatch.h"

#include <algorithm>
#include <cmath>
#include <memory>

namespace optima_v2::native {

namespace {

struct LinearAttentionConfig {
  size_t B = 0, T = 0, Hq = 0, Hkv = 0, Dk = 0, Dv = 0;
  bool Gating = false, Delta = false;
  bool DecayPerKey = false;  // decay is [B, T, Hkv * Dk] (else [B, T, Hkv])
  bool BetaPerHead = false;  // beta is [B, T, Hkv] (else [B, T, 1])
  float Scale = 1.0f;
  int32_t Q = -1, K = -1, V = -1, Past = -1, Decay = -1, Beta = -1, Out = -1, Present = -1;
};

template <typename T, typename S> class LinearAttentionKernel final : public Kernel {
public:
  explicit LinearAttentionKernel(const LinearAttentionConfig &C) : C(C) {}

  size_t scratchBytes() const override { return C.B * C.Hkv * perPair() * sizeof(float); }

  void run(const KernelContext &Ctx) const override {
    float *Scratch = reinterpret_cast<float *>(Ctx.Scratch);
    Ctx.parallelFor(C.B * C.Hkv, 1, [&](size_t Begin, size_t End) {
      for (size_t P = Begin; P < End; ++P)
        pair(Ctx, P, Scratch + P * perPair());
    });
  }

private:
  size_t perPair() const { return C.Dk * C.Dv + C.Dv; }

  void pair(const KernelContext &Ctx, size_t Pair, float *State) const {
    size_t Bi = Pair / C.Hkv, H = Pair % C.Hkv, Dk = C.Dk, Dv = C.Dv;
    size_t Group = C.Hq / C.Hkv;
    float *Tmp = State + Dk * Dv;
    const T *Q = Ctx.tensor<const T>(C.Q), *K = Ctx.tensor<const T>(C.K),
            *V = Ctx.tensor<const T>(C.V);
    const T *Decay = C.Decay >= 0 ? Ctx.tensor<const T>(C.Decay) : nullptr;
    const T *Beta = C.Beta >= 0 ? Ctx.tensor<const T>(C.Beta) : nullptr;
    T *Out = Ctx.tensor<T>(C.Out);
    if (C.Past >= 0) {
      const S *Past = Ctx.tensor<const S>(C.Past) + Pair * Dk * Dv;
      for (size_t I = 0; I < Dk * Dv; ++I)
        State[I] = float(load(Past[I]));
    } else {
      std::fill(State, State + Dk * Dv, 0.0f);
    }
    for (size_t Ti = 0; Ti < C.T; ++Ti) {
      size_t Row = Bi * C.T + Ti;
      const T *Kt = K + Row * C.Hkv * Dk + H * Dk;
      const T *Vt = V + Row * C.Hkv * Dv + H * Dv;
      if (C.Gating) {
        const T *G = C.DecayPerKey ? Decay + Row * C.Hkv * Dk + H * Dk : Decay + Row * C.Hkv + H;
        for (size_t D = 0; D < Dk; ++D) {
          float E = std::exp(float(load(G[C.DecayPerKey ? D : 0])));
          for (size_t M = 0; M < Dv; ++M)
            State[D * Dv + M] *= E;
        }
      }
      if (C.Delta) {
        float Bt = float(load(Beta[C.BetaPerHead ? Row * C.Hkv + H : Row]));
        for (size_t M = 0; M < Dv; ++M)
          Tmp[M] = 0.0f;
        for (size_t D = 0; D < Dk; ++D) {
          float Kd = float(load(Kt[D]));
          for (size_t M = 0; M < Dv; ++M)
            Tmp[M] += State[D * Dv + M] * Kd;
        }
        for (size_t M = 0; M < Dv; ++M)
          Tmp[M] = Bt * (float(load(Vt[M])) - Tmp[M]);
      } else {
        for (size_t M = 0; M < Dv; ++M)
          Tmp[M] = float(load(Vt[M]));
      }
      for (size_t D = 0; D < Dk; ++D) {
        float Kd = float(load(Kt[D]));
        for (size_t M = 0; M < Dv; ++M)
          State[D * Dv + M] += Kd * Tmp[M];
      }
      for (size_t G = 0; G < Group; ++G) {
        size_t Hq = H * Group + G;
        const T *Qt = Q + Row * C.Hq * Dk + Hq * Dk;
        T *Ot = Out + Row * C.Hq * Dv + Hq * Dv;
        for (size_t M = 0; M < Dv; ++M)
          Tmp[M] = 0.0f; // Tmp is free again: reuse it as the output accumulator
        for (size_t D = 0; D < Dk; ++D) {
          float Qd = float(load(Qt[D]));
          for (size_t M = 0; M < Dv; ++M)
            Tmp[M] += Qd * State[D * Dv + M];
        }
        for (size_t M = 0; M < Dv; ++M)
          Ot[M] = store<T>(ComputeType<T>(C.Scale * Tmp[M]));
      }
    }
    if (C.Present >= 0) {
      S *Present = Ctx.tensor<S>(C.Present) + Pair * Dk * Dv;
      for (size_t I = 0; I < Dk * Dv; ++I)
        Present[I] = store<S>(ComputeType<S>(State[I]));
    }
  }

  LinearAttentionConfig C;
};

std::unique_ptr<Kernel> makeLinearAttention(const NodeContext &Ctx) {
  if (Ctx.outputCount() < 1 || Ctx.outputCount() > 2)
    Ctx.invalid("expects 1 or 2 outputs (output, present_state), got " +
                std::to_string(Ctx.outputCount()));
  Ctx.expectArity(3, 6, Ctx.outputCount());
  Ctx.allowAttributes({"chunk_size", "kv_num_heads", "q_num_heads", "scale", "update_rule"});
  const std::initializer_list<int32_t> Floats = {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F16,
                                                 OPTIMA_ELEMENT_BF16};
  Ctx.requireType(0, Floats);
  const TensorInfo &Q = *Ctx.input(0), &K = *Ctx.input(1), &V = *Ctx.input(2);
  for (const TensorInfo *X : {&Q, &K, &V})
    if (X->Type != Q.Type || X->Shape.size() != 3 || X->Shape[0] != Q.Shape[0] ||
        X->Shape[1] != Q.Shape[1])
      Ctx.invalid("query, key and value must be [B, T, H * D] with the type and B, T of query " +
                  describe(Q.Type, Q.Shape) + ", got \"" + X->Name + "\" " +
                  describe(X->Type, X->Shape));
  for (const char *Name : {"q_num_heads", "kv_num_heads"})
    if (!Ctx.hasAttribute(Name))
      Ctx.invalidAttribute(Name, "required attribute is missing");
  int64_t Hq = Ctx.getInt("q_num_heads", 0), Hkv = Ctx.getInt("kv_num_heads", 0);
  if (Hq <= 0 || Hkv <= 0 || Hq % Hkv != 0)
    Ctx.invalidAttribute("q_num_heads", "q_num_heads (" + std::to_string(Hq) +
                                            ") must be a positive multiple of kv_num_heads (" +
                                            std::to_string(Hkv) + ")");
  if (Q.Shape[2] % Hq != 0 || V.Shape[2] % Hkv != 0 || Q.Shape[2] / Hq == 0 ||
      K.Shape[2] != Hkv * (Q.Shape[2] / Hq))
    Ctx.invalid("head sizes do not divide: query last dim " + std::to_string(Q.Shape[2]) +
                " / q_num_heads " + std::to_string(Hq) + ", key last dim " +
                std::to_string(K.Shape[2]) + " / kv_num_heads " + std::to_string(Hkv) +
                ", value last dim " + std::to_string(V.Shape[2]));
  LinearAttentionConfig C;
  C.B = size_t(Q.Shape[0]);
  C.T = size_t(Q.Shape[1]);
  C.Hq = size_t(Hq);
  C.Hkv = size_t(Hkv);
  C.Dk = size_t(Q.Shape[2] / Hq);
  C.Dv = size_t(V.Shape[2] / Hkv);
  std::string Rule = Ctx.getString("update_rule", "gated_delta");
  if (Rule != "linear" && Rule != "gated" && Rule != "delta" && Rule != "gated_delta")
    Ctx.invalidAttribute("update_rule", "must be linear, gated, delta or gated_delta, got \"" +
                                            Rule + "\"");
  C.Gating = Rule == "gated" || Rule == "gated_delta";
  C.Delta = Rule == "delta" || Rule == "gated_delta";
  double Scale = Ctx.getFloat("scale", 0.0);
  C.Scale = Scale == 0.0 ? float(1.0 / std::sqrt(double(C.Dk))) : float(Scale);

  int64_t Bs = Q.Shape[0], Ts = Q.Shape[1];
  const TensorInfo *Decay = Ctx.input(4), *Beta = Ctx.input(5), *Past = Ctx.input(3);
  if (C.Gating != (Decay != nullptr))
    Ctx.invalid("update_rule \"" + Rule + "\" " + (C.Gating ? "requires" : "forbids") +
                " the decay input");
  if (C.Delta != (Beta != nullptr))
    Ctx.invalid("update_rule \"" + Rule + "\" " + (C.Delta ? "requires" : "forbids") +
                " the beta input");
  if (Decay) {
    C.DecayPerKey = Decay->Shape.size() == 3 && Decay->Shape[2] == Hkv * int64_t(C.Dk);
    bool PerHead = Decay->Shape.size() == 3 && Decay->Shape[2] == Hkv;
    if (Decay->Type != Q.Type || (!C.DecayPerKey && !PerHead) || Decay->Shape[0] != Bs ||
        Decay->Shape[1] != Ts)
      Ctx.invalid("decay \"" + Decay->Name + "\" must be " + typeName(Q.Type) + " [" +
                  std::to_string(Bs) + ", " + std::to_string(Ts) + ", " +
                  std::to_string(Hkv * int64_t(C.Dk)) + " or " + std::to_string(Hkv) +
                  "], got " + describe(Decay->Type, Decay->Shape));
    C.Decay = Ctx.inputId(4);
  }
  if (Beta) {
    C.BetaPerHead = Beta->Shape.size() == 3 && Beta->Shape[2] == Hkv;
    bool Shared = Beta->Shape.size() == 3 && Beta->Shape[2] == 1;
    if (Beta->Type != Q.Type || (!C.BetaPerHead && !Shared) || Beta->Shape[0] != Bs ||
        Beta->Shape[1] != Ts)
      Ctx.invalid("beta \"" + Beta->Name + "\" must be " + typeName(Q.Type) + " [" +
                  std::to_string(Bs) + ", " + std::to_string(Ts) + ", " + std::to_string(Hkv) +
                  " or 1], got " + describe(Beta->Type, Beta->Shape));
    C.Beta = Ctx.inputId(5);
  }
  Dims StateShape = {Bs, Hkv, int64_t(C.Dk), int64_t(C.Dv)};
  int32_t StateType = Q.Type;
  if (Past) {
    Ctx.requireType(3, Floats);
    if (Past->Shape != StateShape)
      Ctx.invalid("past_state \"" + Past->Name + "\" must be " + formatShape(StateShape) +
                  ", got " + describe(Past->Type, Past->Shape));
    StateType = Past->Type;
    C.Past = Ctx.inputId(3);
  }
  Ctx.expectOutput(0, Q.Type, {Bs, Ts, Hq * int64_t(C.Dv)});
  if (Ctx.outputCount() == 2) {
    Ctx.expectOutput(1, StateType, StateShape);
    C.Present = Ctx.outputId(1);
  }
  C.Q = Ctx.inputId(0);
  C.K = Ctx.inputId(1);
  C.V = Ctx.inputId(2);
  C.Out = Ctx.outputId(0);

  std::unique_ptr<Kernel> Result;
  dispatchType(Q.Type, [&](auto TTag) {
    using T = typename decltype(TTag)::type;
    if constexpr (std::is_same_v<T, float> || isHalfLike<T>)
      dispatchType(StateType, [&](auto STag) {
        using S = typename decltype(STag)::type;
        if constexpr (std::is_same_v<S, float> || isHalfLike<S>)
          Result = std::make_unique<LinearAttentionKernel<T, S>>(C);
      });
  });
  return Result;
}

} // namespace

void registerLinearAttentionOps(OpRegistry &R) { R.add("LinearAttention", makeLinearAttention); }

} // namespace optima_v2::native
