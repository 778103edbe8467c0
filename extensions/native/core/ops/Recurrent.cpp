// RNN, GRU and LSTM (ONNX; F32, and F64/F16/BF16 computed in float). Directions forward / reverse / bidirectional, layouts 0 and 1,
// optional sequence_lens (runtime values, clamped to [0, seq_length]), initial_h / initial_c,
// LSTM peepholes and input_forget, GRU linear_before_reset, the spec's activation list with
// activation_alpha / activation_beta, clip, and every optional output.
//
// Per direction: one GEMM computes X*W^T for all time steps; each step then runs one GEMM
// H_prev*R^T (two for GRU without linear_before_reset) and the gate arithmetic. W and R are
// transposed at load when constant; biases are summed at load when constant.
// Steps past a batch entry's sequence length leave its state unchanged and write zeros to Y;
// the reverse direction walks t from seq_length-1 down, which for each entry starts at its own
// last valid step.
#include "../Gemm.h"
#include "../OpRegistry.h"
#include "conv/Staging.h"
#include "quant/QuantCommon.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace optima_v2::native {

namespace {

enum class Cell { Rnn, Gru, Lstm };

enum class ActKind {
  Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu,
  Softsign, Softplus
};

struct Activation {
  ActKind Kind = ActKind::Tanh;
  float Alpha = 0.0f, Beta = 0.0f;
};

// Applies A to N values in place (one switch per call, not per element).
void applyActivation(const Activation &A, float *V, size_t N) {
  switch (A.Kind) {
  case ActKind::Relu:
    for (size_t I = 0; I < N; ++I)
      V[I] = std::max(V[I], 0.0f);
    break;
  case ActKind::Tanh:
    for (size_t I = 0; I < N; ++I)
      V[I] = std::tanh(V[I]);
    break;
  case ActKind::Sigmoid:
    for (size_t I = 0; I < N; ++I)
      V[I] = V[I] >= 0 ? 1.0f / (1.0f + std::exp(-V[I])) : std::exp(V[I]) / (1.0f + std::exp(V[I]));
    break;
  case ActKind::Affine:
    for (size_t I = 0; I < N; ++I)
      V[I] = A.Alpha * V[I] + A.Beta;
    break;
  case ActKind::LeakyRelu:
    for (size_t I = 0; I < N; ++I)
      V[I] = V[I] >= 0 ? V[I] : A.Alpha * V[I];
    break;
  case ActKind::ThresholdedRelu:
    for (size_t I = 0; I < N; ++I)
      V[I] = V[I] > A.Alpha ? V[I] : 0.0f;
    break;
  case ActKind::ScaledTanh:
    for (size_t I = 0; I < N; ++I)
      V[I] = A.Alpha * std::tanh(A.Beta * V[I]);
    break;
  case ActKind::HardSigmoid:
    for (size_t I = 0; I < N; ++I)
      V[I] = std::min(1.0f, std::max(0.0f, A.Alpha * V[I] + A.Beta));
    break;
  case ActKind::Elu:
    for (size_t I = 0; I < N; ++I)
      V[I] = V[I] >= 0 ? V[I] : A.Alpha * (std::exp(V[I]) - 1.0f);
    break;
  case ActKind::Softsign:
    for (size_t I = 0; I < N; ++I)
      V[I] = V[I] / (1.0f + std::fabs(V[I]));
    break;
  case ActKind::Softplus:
    for (size_t I = 0; I < N; ++I)
      V[I] = V[I] > 20.0f ? V[I] : std::log1p(std::exp(V[I]));
    break;
  }
}

struct RnnPlan {
  Cell Kind = Cell::Rnn;
  size_t Gates = 1, Dirs = 1, Seq = 0, Batch = 0, Input = 0, Hidden = 0;
  bool Reverse = false; // single-direction reverse
  bool Layout1 = false, InputForget = false, LinearBeforeReset = false;
  float Clip = 0.0f; // 0: none
  Activation Act[2][3];
  int32_t X = -1, W = -1, R = -1, B = -1, SeqLens = -1, InitH = -1, InitC = -1, P = -1;
  int32_t Y = -1, YH = -1, YC = -1;
};

class RecurrentKernel final : public Kernel {
public:
  RecurrentKernel(const NodeContext &Ctx, const RnnPlan &Plan) : P(Plan) {
    size_t GH = P.Gates * P.Hidden;
    const TensorInfo &WI = *Ctx.input(1), &RI = *Ctx.input(2);
    // W^T [I, GH] and R^T [H, GH] per direction, when constant.
    Type = WI.Type;
    if (WI.Where == Storage::Constant)
      WT = transposeAll(constantAsFloat(WI).data(), GH, P.Input);
    if (RI.Where == Storage::Constant)
      RT = transposeAll(constantAsFloat(RI).data(), GH, P.Hidden);
    BiasCount = P.Dirs * (GH + P.Hidden);
    if (P.B < 0) {
      Bias.assign(BiasCount, 0.0f);
    } else if (Ctx.input(3)->Where == Storage::Constant) {
      Bias.resize(BiasCount);
      sumBias(constantAsFloat(*Ctx.input(3)).data(), Bias.data());
    } else {
      BiasOffset = Layout.add(BiasCount * sizeof(float));
    }
    XWOffset = Layout.add(P.Seq * P.Batch * GH * sizeof(float));
    HROffset = Layout.add(P.Batch * GH * sizeof(float));
    HOffset = Layout.add(P.Batch * P.Hidden * sizeof(float));
    COffset = Layout.add(P.Batch * P.Hidden * sizeof(float));
    TmpOffset = Layout.add(P.Batch * P.Hidden * sizeof(float));
    LensOffset = Layout.add(P.Batch * sizeof(int32_t));
    // F16/BF16/F64: every float tensor the run reads or writes gets a float copy in scratch
    // (constant W/R/B already converted above).
    if (Type != OPTIMA_ELEMENT_F32) {
      const int32_t Ids[SlotCount] = {P.X, P.W, P.R, P.B, P.InitH, P.InitC, P.P, P.Y, P.YH, P.YC};
      for (size_t Sl = 0; Sl < SlotCount; ++Sl) {
        if (Ids[Sl] < 0 || (Sl == SlotW && !WT.empty()) || (Sl == SlotR && !RT.empty()) ||
            (Sl == SlotB && !Bias.empty()))
          continue;
        Staged[Sl] = true;
        StageCount[Sl] = Sl < SlotY ? Ctx.input(InputIndex[Sl])->Elements
                                    : Ctx.output(Sl - SlotY).Elements;
        StageOffset[Sl] = Layout.add(StageCount[Sl] * sizeof(float));
      }
    }
  }

  size_t scratchBytes() const override { return Layout.size(); }

  void run(const KernelContext &Ctx) const override {
    std::byte *S = Ctx.Scratch;
    const int32_t Ids[SlotCount] = {P.X, P.W, P.R, P.B, P.InitH, P.InitC, P.P, P.Y, P.YH, P.YC};
    for (size_t Sl = 0; Sl < SlotY; ++Sl)
      if (Staged[Sl])
        paramsToFloat(Type, Ctx.Tensors[Ids[Sl]], reinterpret_cast<float *>(S + StageOffset[Sl]),
                      StageCount[Sl]);
    const float *BiasSum = Bias.data();
    if (Bias.empty()) {
      float *Tmp = reinterpret_cast<float *>(S + BiasOffset);
      sumBias(in(Ctx, SlotB, P.B), Tmp);
      BiasSum = Tmp;
    }
    int32_t *Lens = reinterpret_cast<int32_t *>(S + LensOffset);
    for (size_t B = 0; B < P.Batch; ++B) {
      int64_t L = P.SeqLens >= 0 ? int64_t(Ctx.tensor<const int32_t>(P.SeqLens)[B]) : int64_t(P.Seq);
      Lens[B] = int32_t(std::min<int64_t>(std::max<int64_t>(L, 0), int64_t(P.Seq)));
    }
    for (size_t D = 0; D < P.Dirs; ++D)
      runDirection(Ctx, D, BiasSum + D * (P.Gates * P.Hidden + P.Hidden), Lens);
    for (size_t Sl = SlotY; Sl < SlotCount; ++Sl)
      if (Staged[Sl])
        storeFloats(Type, reinterpret_cast<const float *>(S + StageOffset[Sl]), Ctx.Tensors[Ids[Sl]],
                    StageCount[Sl]);
  }

private:
  enum Slot : size_t { SlotX, SlotW, SlotR, SlotB, SlotH0, SlotC0, SlotP, SlotY, SlotYH, SlotYC, SlotCount };
  static constexpr size_t InputIndex[SlotY] = {0, 1, 2, 3, 5, 6, 7};

  const float *in(const KernelContext &Ctx, size_t Sl, int32_t Id) const {
    return Staged[Sl] ? reinterpret_cast<const float *>(Ctx.Scratch + StageOffset[Sl])
                      : Ctx.tensor<const float>(Id);
  }
  float *out(const KernelContext &Ctx, size_t Sl, int32_t Id) const {
    return Staged[Sl] ? reinterpret_cast<float *>(Ctx.Scratch + StageOffset[Sl])
                      : Ctx.tensor<float>(Id);
  }
  static void storeFloats(int32_t T, const float *Src, void *Dst, size_t N) {
    dispatchType(T, [&](auto Tag) {
      using E = typename decltype(Tag)::type;
      if constexpr (std::is_same_v<E, double> || isHalfLike<E>)
        convertArray(Src, static_cast<E *>(Dst), N);
    });
  }

  std::vector<float> transposeAll(const float *Src, size_t Rows, size_t Cols) const {
    std::vector<float> T(P.Dirs * Rows * Cols);
    for (size_t D = 0; D < P.Dirs; ++D)
      for (size_t Ri = 0; Ri < Rows; ++Ri)
        for (size_t C = 0; C < Cols; ++C)
          T[D * Rows * Cols + C * Rows + Ri] = Src[D * Rows * Cols + Ri * Cols + C];
    return T;
  }

  // Per direction: [GH] = Wb + Rb (for GRU the h gate keeps Wbh only), then [H] = Rbh.
  void sumBias(const float *Src, float *Dst) const {
    size_t GH = P.Gates * P.Hidden;
    for (size_t D = 0; D < P.Dirs; ++D) {
      const float *Wb = Src + D * 2 * GH, *Rb = Wb + GH;
      float *Out = Dst + D * (GH + P.Hidden);
      for (size_t I = 0; I < GH; ++I)
        Out[I] = Wb[I] + Rb[I];
      std::fill(Out + GH, Out + GH + P.Hidden, 0.0f);
      if (P.Kind == Cell::Gru) {
        size_t H2 = 2 * P.Hidden;
        for (size_t I = 0; I < P.Hidden; ++I) {
          Out[H2 + I] = Wb[H2 + I];
          Out[GH + I] = Rb[H2 + I];
        }
      }
    }
  }

  // Row of X (and of the XW buffer) for time T, batch entry B.
  size_t xRow(size_t T, size_t B) const { return P.Layout1 ? B * P.Seq + T : T * P.Batch + B; }

  void clip(float *V, size_t N) const {
    if (P.Clip > 0.0f)
      for (size_t I = 0; I < N; ++I)
        V[I] = std::min(P.Clip, std::max(-P.Clip, V[I]));
  }

  // C = A[M x K] * op(B)^T-ish: B given either as the transposed constant Bt [K x Ncols slice]
  // (ldb = LdT) or the raw [Ncols x K] rows (TransB).
  void product(const KernelContext &Ctx, size_t M, size_t N, size_t K, const float *A,
               size_t Lda, const float *Bt, size_t LdT, const float *Raw, size_t LdRaw, float *C,
               size_t Ldc, float Beta) const {
    GemmShape G;
    G.M = M;
    G.N = N;
    G.K = K;
    G.Lda = Lda;
    G.Ldc = Ldc;
    if (Bt) {
      G.Ldb = LdT;
      sgemm(G, 1.0f, A, Bt, Beta, C, &Ctx);
    } else {
      G.TransB = true;
      G.Ldb = LdRaw;
      sgemm(G, 1.0f, A, Raw, Beta, C, &Ctx);
    }
  }

  void runDirection(const KernelContext &Ctx, size_t D, const float *Bias, const int32_t *Lens) const {
    const size_t H = P.Hidden, GH = P.Gates * H, Batch = P.Batch, Seq = P.Seq;
    std::byte *S = Ctx.Scratch;
    float *XW = reinterpret_cast<float *>(S + XWOffset);
    float *HR = reinterpret_cast<float *>(S + HROffset);
    float *Hs = reinterpret_cast<float *>(S + HOffset);
    float *Cs = reinterpret_cast<float *>(S + COffset);
    float *Tmp = reinterpret_cast<float *>(S + TmpOffset);
    const float *WTd = WT.empty() ? nullptr : WT.data() + D * P.Input * GH;
    const float *RTd = RT.empty() ? nullptr : RT.data() + D * H * GH;
    const float *Wraw = WT.empty() ? in(Ctx, SlotW, P.W) + D * GH * P.Input : nullptr;
    const float *Rraw = RT.empty() ? in(Ctx, SlotR, P.R) + D * GH * H : nullptr;
    const float *Peep = P.P >= 0 ? in(Ctx, SlotP, P.P) + D * 3 * H : nullptr;
    const Activation *Act = P.Act[D];
    bool Rev = P.Dirs == 2 ? D == 1 : P.Reverse;

    // XW[row] = X[row] * W^T for every (t, b): rows follow X's own layout.
    product(Ctx, Seq * Batch, GH, P.Input, in(Ctx, SlotX, P.X), P.Input, WTd, GH, Wraw,
            P.Input, XW, GH, 0.0f);

    // Initial state: [dirs, batch, H] (layout 0) or [batch, dirs, H] (layout 1).
    auto stateIndex = [&](size_t B) { return P.Layout1 ? (B * P.Dirs + D) * H : (D * Batch + B) * H; };
    for (size_t B = 0; B < Batch; ++B) {
      if (P.InitH >= 0)
        std::copy_n(in(Ctx, SlotH0, P.InitH) + stateIndex(B), H, Hs + B * H);
      else
        std::fill_n(Hs + B * H, H, 0.0f);
      if (P.InitC >= 0)
        std::copy_n(in(Ctx, SlotC0, P.InitC) + stateIndex(B), H, Cs + B * H);
      else
        std::fill_n(Cs + B * H, H, 0.0f);
    }
    float *Y = P.Y >= 0 ? out(Ctx, SlotY, P.Y) : nullptr;
    auto yIndex = [&](size_t T, size_t B) {
      return P.Layout1 ? ((B * Seq + T) * P.Dirs + D) * H : ((T * P.Dirs + D) * Batch + B) * H;
    };

    // Columns of the recurrent product done in the first GEMM (GRU without
    // linear_before_reset needs r before the h-gate product).
    size_t FirstCols = (P.Kind == Cell::Gru && !P.LinearBeforeReset) ? 2 * H : GH;
    const bool GruTwoPass = P.Kind == Cell::Gru && !P.LinearBeforeReset;
    for (size_t Step = 0; Step < Seq; ++Step) {
      size_t T = Rev ? Seq - 1 - Step : Step;
      product(Ctx, Batch, FirstCols, H, Hs, H, RTd, GH, Rraw, H, HR, GH, 0.0f);
      if (GruTwoPass) {
        // z and r for every active entry, then (r . H_prev) * Rh^T for all entries at once.
        for (size_t B = 0; B < Batch; ++B) {
          float *RH = Tmp + B * H;
          if (int32_t(T) >= Lens[B]) {
            std::fill_n(RH, H, 0.0f);
            continue;
          }
          float *G = HR + B * GH;
          gruGates(G, XW + xRow(T, B) * GH, Bias, Act);
          for (size_t I = 0; I < H; ++I)
            RH[I] = G[H + I] * Hs[B * H + I];
        }
        product(Ctx, Batch, H, H, Tmp, H, RTd ? RTd + 2 * H : nullptr, GH, Rraw ? Rraw + 2 * H * H : nullptr, H,
                HR + 2 * H, GH, 0.0f);
      }
      for (size_t B = 0; B < Batch; ++B) {
        float *Hb = Hs + B * H;
        if (int32_t(T) >= Lens[B]) {
          if (Y)
            std::fill_n(Y + yIndex(T, B), H, 0.0f);
          continue;
        }
        float *G = HR + B * GH;
        const float *Xg = XW + xRow(T, B) * GH;
        float *Cb = Cs + B * H;
        switch (P.Kind) {
        case Cell::Rnn:
          for (size_t I = 0; I < H; ++I)
            G[I] += Xg[I] + Bias[I];
          clip(G, H);
          applyActivation(Act[0], G, H);
          std::copy_n(G, H, Hb);
          break;
        case Cell::Gru:
          if (!GruTwoPass)
            gruGates(G, Xg, Bias, Act);
          gruOutput(G, Xg, Bias, Hb, Act);
          break;
        case Cell::Lstm:
          lstmStep(G, Xg, Bias, Hb, Cb, Peep, Act);
          break;
        }
        if (Y)
          std::copy_n(Hb, H, Y + yIndex(T, B));
      }
    }
    if (P.YH >= 0)
      for (size_t B = 0; B < Batch; ++B)
        std::copy_n(Hs + B * H, H, out(Ctx, SlotYH, P.YH) + stateIndex(B));
    if (P.YC >= 0)
      for (size_t B = 0; B < Batch; ++B)
        std::copy_n(Cs + B * H, H, out(Ctx, SlotYC, P.YC) + stateIndex(B));
  }

  // GRU gates z, r in place: G holds H_prev*R^T for them.
  void gruGates(float *G, const float *Xg, const float *Bias, const Activation *Act) const {
    const size_t H2 = 2 * P.Hidden;
    for (size_t I = 0; I < H2; ++I)
      G[I] += Xg[I] + Bias[I];
    clip(G, H2);
    applyActivation(Act[0], G, H2);
  }

  // GRU candidate and new state. G's h part holds H_prev*Rh^T (linear_before_reset) or
  // (r . H_prev)*Rh^T (otherwise).
  void gruOutput(float *G, const float *Xg, const float *Bias, float *Hb,
                 const Activation *Act) const {
    const size_t H = P.Hidden, GH = 3 * H;
    const float *Z = G, *R = G + H;
    float *Hh = G + 2 * H;
    if (P.LinearBeforeReset)
      for (size_t I = 0; I < H; ++I)
        Hh[I] = Xg[2 * H + I] + Bias[2 * H + I] + R[I] * (Hh[I] + Bias[GH + I]);
    else
      for (size_t I = 0; I < H; ++I)
        Hh[I] += Xg[2 * H + I] + Bias[2 * H + I] + Bias[GH + I];
    clip(Hh, H);
    applyActivation(Act[1], Hh, H);
    for (size_t I = 0; I < H; ++I)
      Hb[I] = (1.0f - Z[I]) * Hh[I] + Z[I] * Hb[I];
  }

  // Gates i, o, f, c; peepholes P = [i, o, f].
  void lstmStep(float *G, const float *Xg, const float *Bias, float *Hb, float *Cb,
                const float *Peep, const Activation *Act) const {
    const size_t H = P.Hidden;
    float *Ig = G, *Og = G + H, *Fg = G + 2 * H, *Cg = G + 3 * H;
    for (size_t I = 0; I < 4 * H; ++I)
      G[I] += Xg[I] + Bias[I];
    if (Peep)
      for (size_t I = 0; I < H; ++I) {
        Ig[I] += Peep[I] * Cb[I];
        Fg[I] += Peep[2 * H + I] * Cb[I];
      }
    clip(Ig, H);
    clip(Fg, 2 * H); // f and c
    applyActivation(Act[0], Ig, H);
    if (P.InputForget)
      for (size_t I = 0; I < H; ++I)
        Fg[I] = 1.0f - Ig[I];
    else
      applyActivation(Act[0], Fg, H);
    applyActivation(Act[1], Cg, H);
    for (size_t I = 0; I < H; ++I)
      Cb[I] = Fg[I] * Cb[I] + Ig[I] * Cg[I];
    if (Peep)
      for (size_t I = 0; I < H; ++I)
        Og[I] += Peep[H + I] * Cb[I];
    clip(Og, H); // after its peephole term, which uses the new cell state

    applyActivation(Act[0], Og, H);
    for (size_t I = 0; I < H; ++I)
      Hb[I] = Cb[I];
    applyActivation(Act[2], Hb, H);
    for (size_t I = 0; I < H; ++I)
      Hb[I] *= Og[I];
  }

  RnnPlan P;
  std::vector<float> WT, RT, Bias;
  size_t BiasCount = 0;
  int32_t Type = OPTIMA_ELEMENT_F32;
  bool Staged[SlotCount] = {};
  size_t StageOffset[SlotCount] = {}, StageCount[SlotCount] = {};
  ScratchLayout Layout;
  size_t BiasOffset = 0, XWOffset = 0, HROffset = 0, HOffset = 0, COffset = 0, TmpOffset = 0,
         LensOffset = 0;
};

bool parseActivation(std::string Name, ActKind &K) {
  for (char &C : Name)
    C = char(std::tolower(static_cast<unsigned char>(C)));
  static const std::pair<const char *, ActKind> Table[] = {
      {"relu", ActKind::Relu},           {"tanh", ActKind::Tanh},
      {"sigmoid", ActKind::Sigmoid},     {"affine", ActKind::Affine},
      {"leakyrelu", ActKind::LeakyRelu}, {"thresholdedrelu", ActKind::ThresholdedRelu},
      {"scaledtanh", ActKind::ScaledTanh}, {"hardsigmoid", ActKind::HardSigmoid},
      {"elu", ActKind::Elu},             {"softsign", ActKind::Softsign},
      {"softplus", ActKind::Softplus}};
  for (const auto &E : Table)
    if (Name == E.first) {
      K = E.second;
      return true;
    }
  return false;
}

std::unique_ptr<Kernel> makeRecurrent(const NodeContext &Ctx, Cell Kind) {
  const char *Op = Kind == Cell::Rnn ? "RNN" : Kind == Cell::Gru ? "GRU" : "LSTM";
  size_t MaxIn = Kind == Cell::Lstm ? 8 : 6, MaxOut = Kind == Cell::Lstm ? 3 : 2;
  if (Ctx.outputCount() < 1 || Ctx.outputCount() > MaxOut)
    Ctx.invalid("expected 1 to " + std::to_string(MaxOut) + " outputs, got " +
                std::to_string(Ctx.outputCount()));
  Ctx.expectArity(3, MaxIn, Ctx.outputCount());
  if (Kind == Cell::Rnn)
    Ctx.allowAttributes({"activation_alpha", "activation_beta", "activations", "clip",
                         "direction", "hidden_size", "layout"});
  else if (Kind == Cell::Gru)
    Ctx.allowAttributes({"activation_alpha", "activation_beta", "activations", "clip",
                         "direction", "hidden_size", "layout", "linear_before_reset"});
  else
    Ctx.allowAttributes({"activation_alpha", "activation_beta", "activations", "clip",
                         "direction", "hidden_size", "input_forget", "layout"});
  Ctx.requireType(0, {OPTIMA_ELEMENT_F32, OPTIMA_ELEMENT_F64, OPTIMA_ELEMENT_F16,
                      OPTIMA_ELEMENT_BF16});
  const int32_t Type = Ctx.input(0)->Type;
  for (size_t I = 1; I < MaxIn; ++I)
    if (I != 4 && Ctx.input(I) && Ctx.input(I)->Type != Type)
      Ctx.invalid("input " + std::to_string(I) + " \"" + Ctx.input(I)->Name + "\" is " +
                  typeName(Ctx.input(I)->Type) + " but X is " + typeName(Type));
  Ctx.requireType(4, {OPTIMA_ELEMENT_I32});

  RnnPlan P;
  P.Kind = Kind;
  P.Gates = Kind == Cell::Rnn ? 1 : Kind == Cell::Gru ? 3 : 4;
  std::string Direction = Ctx.getString("direction", "forward");
  if (Direction == "bidirectional")
    P.Dirs = 2;
  else if (Direction == "reverse")
    P.Reverse = true;
  else if (Direction != "forward")
    Ctx.invalidAttribute("direction", "expected forward, reverse or bidirectional, got \"" +
                                          Direction + "\"");
  int64_t LayoutAttr = Ctx.getInt("layout", 0);
  if (LayoutAttr != 0 && LayoutAttr != 1)
    Ctx.invalidAttribute("layout", "expected 0 or 1");
  P.Layout1 = LayoutAttr == 1;
  int64_t Forget = Ctx.getInt("input_forget", 0), Lbr = Ctx.getInt("linear_before_reset", 0);
  if ((Forget != 0 && Forget != 1) || (Lbr != 0 && Lbr != 1))
    Ctx.invalid("input_forget / linear_before_reset must be 0 or 1");
  P.InputForget = Forget == 1;
  P.LinearBeforeReset = Lbr == 1;
  double ClipV = Ctx.getFloat("clip", 0.0);
  if (Ctx.hasAttribute("clip") && !(ClipV > 0.0))
    Ctx.invalidAttribute("clip", "must be positive");
  P.Clip = float(ClipV);

  const TensorInfo &X = *Ctx.input(0), &W = *Ctx.input(1), &R = *Ctx.input(2);
  if (X.Shape.size() != 3 || W.Shape.size() != 3 || R.Shape.size() != 3)
    Ctx.invalid("X, W and R must be 3-D, got " + formatShape(X.Shape) + ", " +
                formatShape(W.Shape) + ", " + formatShape(R.Shape));
  P.Seq = size_t(P.Layout1 ? X.Shape[1] : X.Shape[0]);
  P.Batch = size_t(P.Layout1 ? X.Shape[0] : X.Shape[1]);
  P.Input = size_t(X.Shape[2]);
  int64_t H = R.Shape[2];
  if (Ctx.hasAttribute("hidden_size") && Ctx.getInt("hidden_size", 0) != H)
    Ctx.invalidAttribute("hidden_size", "does not match R " + formatShape(R.Shape));
  P.Hidden = size_t(H);
  int64_t Dirs = int64_t(P.Dirs), GH = int64_t(P.Gates) * H;
  auto expectShape = [&](size_t I, const Dims &Shape, const char *What) {
    const TensorInfo *T = Ctx.input(I);
    if (T && T->Shape != Shape)
      Ctx.invalid(std::string(What) + " \"" + T->Name + "\" is " + formatShape(T->Shape) +
                  ", expected " + formatShape(Shape));
  };
  expectShape(1, {Dirs, GH, int64_t(P.Input)}, "W");
  expectShape(2, {Dirs, GH, H}, "R");
  expectShape(3, {Dirs, 2 * GH}, "B");
  expectShape(4, {int64_t(P.Batch)}, "sequence_lens");
  Dims State = P.Layout1 ? Dims{int64_t(P.Batch), Dirs, H} : Dims{Dirs, int64_t(P.Batch), H};
  expectShape(5, State, "initial_h");
  expectShape(6, State, "initial_c");
  expectShape(7, {Dirs, 3 * H}, "P");

  // Activations: per direction, in the spec's order; alpha/beta consumed by those that take them.
  size_t PerDir = Kind == Cell::Rnn ? 1 : Kind == Cell::Gru ? 2 : 3;
  std::vector<std::string> Names;
  if (const Attribute *A = Ctx.node().findAttribute("activations")) {
    if (A->Type != AttrType::Strings)
      Ctx.invalidAttribute("activations", "expected strings");
    Names = A->Strings;
  }
  if (Names.empty()) {
    const char *Defaults[3] = {Kind == Cell::Rnn ? "Tanh" : "Sigmoid", "Tanh", "Tanh"};
    for (size_t Di = 0; Di < P.Dirs; ++Di)
      for (size_t I = 0; I < PerDir; ++I)
        Names.push_back(Defaults[I]);
  } else if (Names.size() == PerDir && P.Dirs == 2) {
    std::vector<std::string> Twice = Names;
    Names.insert(Names.end(), Twice.begin(), Twice.end());
  }
  if (Names.size() != PerDir * P.Dirs)
    Ctx.invalidAttribute("activations", "expected " + std::to_string(PerDir * P.Dirs) +
                                            " names for " + Op + " " + Direction + ", got " +
                                            std::to_string(Names.size()));
  std::vector<double> Alphas, Betas;
  for (auto [Name, Out] : {std::pair{"activation_alpha", &Alphas}, {"activation_beta", &Betas}})
    if (const Attribute *A = Ctx.node().findAttribute(Name)) {
      if (A->Type != AttrType::Floats)
        Ctx.invalidAttribute(Name, "expected floats");
      *Out = A->Floats;
    }
  size_t NextAlpha = 0, NextBeta = 0;
  for (size_t I = 0; I < Names.size(); ++I) {
    Activation &A = P.Act[I / PerDir][I % PerDir];
    if (!parseActivation(Names[I], A.Kind))
      Ctx.unsupported("activation \"" + Names[I] + "\"");
    float DefA = 0.0f, DefB = 0.0f;
    bool TakesAlpha = true, TakesBeta = false;
    switch (A.Kind) {
    case ActKind::Affine: DefA = 1.0f; TakesBeta = true; break;
    case ActKind::LeakyRelu: DefA = 0.01f; break;
    case ActKind::ThresholdedRelu: DefA = 1.0f; break;
    case ActKind::ScaledTanh: DefA = 1.0f; DefB = 1.0f; TakesBeta = true; break;
    case ActKind::HardSigmoid: DefA = 0.2f; DefB = 0.5f; TakesBeta = true; break;
    case ActKind::Elu: DefA = 1.0f; break;
    default: TakesAlpha = false; break;
    }
    A.Alpha = TakesAlpha && NextAlpha < Alphas.size() ? float(Alphas[NextAlpha++]) : DefA;
    A.Beta = TakesBeta && NextBeta < Betas.size() ? float(Betas[NextBeta++]) : DefB;
  }

  P.X = Ctx.inputId(0);
  P.W = Ctx.inputId(1);
  P.R = Ctx.inputId(2);
  P.B = Ctx.input(3) ? Ctx.inputId(3) : -1;
  P.SeqLens = Ctx.input(4) ? Ctx.inputId(4) : -1;
  P.InitH = Ctx.input(5) ? Ctx.inputId(5) : -1;
  P.InitC = Ctx.input(6) ? Ctx.inputId(6) : -1;
  P.P = Ctx.input(7) ? Ctx.inputId(7) : -1;
  Dims YShape = P.Layout1 ? Dims{int64_t(P.Batch), int64_t(P.Seq), Dirs, H}
                          : Dims{int64_t(P.Seq), Dirs, int64_t(P.Batch), H};
  int32_t *Outs[3] = {&P.Y, &P.YH, &P.YC};
  for (size_t I = 0; I < Ctx.outputCount(); ++I) {
    Ctx.expectOutput(I, Type, I == 0 ? YShape : State);
    if (Ctx.output(I).Where != Storage::Unused)
      *Outs[I] = Ctx.outputId(I);
  }
  uint64_t XWBytes = uint64_t(P.Seq) * P.Batch * uint64_t(GH) * sizeof(float);
  if (XWBytes > MaxTensorBytes)
    Ctx.unsupported("gate buffer would exceed " + std::to_string(MaxTensorBytes) + " bytes");
  return std::make_unique<RecurrentKernel>(Ctx, P);
}

std::unique_ptr<Kernel> makeRnn(const NodeContext &Ctx) { return makeRecurrent(Ctx, Cell::Rnn); }
std::unique_ptr<Kernel> makeGru(const NodeContext &Ctx) { return makeRecurrent(Ctx, Cell::Gru); }
std::unique_ptr<Kernel> makeLstm(const NodeContext &Ctx) { return makeRecurrent(Ctx, Cell::Lstm); }

} // namespace

void registerRecurrentOps(OpRegistry &R) {
  R.add("RNN", makeRnn);
  R.add("GRU", makeGru);
  R.add("LSTM", makeLstm);
}

} // namespace optima_v2::native
