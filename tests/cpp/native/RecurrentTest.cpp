// RNN / GRU / LSTM vs a per-entry, per-step reference written from the ONNX equations (double),
// over directions, layouts, sequence lengths, initial states, peepholes, input_forget,
// linear_before_reset, clip, activations with alpha/beta, and runtime weights.
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <functional>

using namespace native_test;

namespace {

struct RCase {
  std::string Label, Op;
  int64_t Seq = 3, Batch = 2, Input = 4, Hidden = 3;
  std::string Direction = "forward";
  int64_t Layout = 0;
  std::vector<int32_t> SeqLens; // empty: omitted
  bool InitH = false, InitC = false, Peep = false, Bias = true;
  int64_t InputForget = 0, Lbr = 0;
  double Clip = 0;
  std::vector<std::string> Acts;
  std::vector<double> Alphas, Betas;
  bool ConstWeights = true;
  size_t Outputs = 2;
};

using Fn = std::function<double(double)>;

std::vector<Fn> activations(const RCase &C, size_t PerDir, size_t Dirs) {
  std::vector<std::string> Names = C.Acts;
  if (Names.empty()) {
    const char *Def[3] = {C.Op == "RNN" ? "Tanh" : "Sigmoid", "Tanh", "Tanh"};
    for (size_t D = 0; D < Dirs; ++D)
      for (size_t I = 0; I < PerDir; ++I)
        Names.push_back(Def[I]);
  }
  size_t NA = 0, NB = 0;
  std::vector<Fn> Out;
  for (std::string N : Names) {
    for (char &Ch : N)
      Ch = char(std::tolower(static_cast<unsigned char>(Ch)));
    auto alpha = [&](double D) { return NA < C.Alphas.size() ? C.Alphas[NA++] : D; };
    auto beta = [&](double D) { return NB < C.Betas.size() ? C.Betas[NB++] : D; };
    if (N == "tanh") Out.push_back([](double X) { return std::tanh(X); });
    else if (N == "sigmoid") Out.push_back([](double X) { return 1 / (1 + std::exp(-X)); });
    else if (N == "relu") Out.push_back([](double X) { return X > 0 ? X : 0; });
    else if (N == "leakyrelu") { double A = alpha(0.01); Out.push_back([A](double X) { return X >= 0 ? X : A * X; }); }
    else if (N == "hardsigmoid") { double A = alpha(0.2), B = beta(0.5); Out.push_back([A, B](double X) { return std::min(1.0, std::max(0.0, A * X + B)); }); }
    else if (N == "affine") { double A = alpha(1), B = beta(0); Out.push_back([A, B](double X) { return A * X + B; }); }
    else if (N == "scaledtanh") { double A = alpha(1), B = beta(1); Out.push_back([A, B](double X) { return A * std::tanh(B * X); }); }
    else if (N == "elu") { double A = alpha(1); Out.push_back([A](double X) { return X >= 0 ? X : A * (std::exp(X) - 1); }); }
    else if (N == "thresholdedrelu") { double A = alpha(1); Out.push_back([A](double X) { return X > A ? X : 0; }); }
    else if (N == "softsign") Out.push_back([](double X) { return X / (1 + std::fabs(X)); });
    else if (N == "softplus") Out.push_back([](double X) { return std::log(1 + std::exp(X)); });
  }
  if (Out.size() == PerDir && Dirs == 2)
    for (size_t I = 0; I < PerDir; ++I)
      Out.push_back(Out[I]);
  return Out;
}

struct Result {
  std::vector<double> Y, YH, YC;
};

Result reference(const RCase &C, const std::vector<double> &X, const std::vector<double> &W,
                 const std::vector<double> &R, const std::vector<double> &B,
                 const std::vector<double> &H0, const std::vector<double> &C0,
                 const std::vector<double> &P) {
  size_t G = C.Op == "RNN" ? 1 : C.Op == "GRU" ? 3 : 4, PerDir = C.Op == "RNN" ? 1 : C.Op == "GRU" ? 2 : 3;
  size_t Dirs = C.Direction == "bidirectional" ? 2 : 1;
  size_t S = size_t(C.Seq), Bt = size_t(C.Batch), I = size_t(C.Input), H = size_t(C.Hidden);
  std::vector<Fn> Act = activations(C, PerDir, Dirs);
  auto clip = [&](double V) { return C.Clip > 0 ? std::min(C.Clip, std::max(-C.Clip, V)) : V; };
  auto xAt = [&](size_t T, size_t Bi, size_t K) {
    return C.Layout ? X[(Bi * S + T) * I + K] : X[(T * Bt + Bi) * I + K];
  };
  auto state = [&](size_t D, size_t Bi) { return C.Layout ? (Bi * Dirs + D) * H : (D * Bt + Bi) * H; };
  auto yAt = [&](size_t T, size_t D, size_t Bi) {
    return C.Layout ? ((Bi * S + T) * Dirs + D) * H : ((T * Dirs + D) * Bt + Bi) * H;
  };
  Result Out{std::vector<double>(S * Dirs * Bt * H, 0.0), std::vector<double>(Dirs * Bt * H),
             std::vector<double>(Dirs * Bt * H)};
  for (size_t D = 0; D < Dirs; ++D) {
    const Fn *F = &Act[D * PerDir];
    bool Rev = C.Direction == "reverse" || D == 1;
    auto bias = [&](size_t Row) { return B.empty() ? 0.0 : B[D * 2 * G * H + Row]; };
    auto rbias = [&](size_t Row) { return B.empty() ? 0.0 : B[D * 2 * G * H + G * H + Row]; };
    for (size_t Bi = 0; Bi < Bt; ++Bi) {
      size_t Len = C.SeqLens.empty() ? S : size_t(C.SeqLens[Bi]);
      std::vector<double> Hs(H, 0.0), Cs(H, 0.0);
      for (size_t J = 0; J < H; ++J) {
        if (!H0.empty()) Hs[J] = H0[state(D, Bi) + J];
        if (!C0.empty()) Cs[J] = C0[state(D, Bi) + J];
      }
      for (size_t Step = 0; Step < Len; ++Step) {
        size_t T = Rev ? Len - 1 - Step : Step;
        // xw(row) = X_t . W[row] + Wb[row]; hr(row, h) = h . R[row]
        auto xw = [&](size_t Row) {
          double V = bias(Row);
          for (size_t K = 0; K < I; ++K)
            V += xAt(T, Bi, K) * W[(D * G * H + Row) * I + K];
          return V;
        };
        auto hr = [&](size_t Row, const std::vector<double> &Hv) {
          double V = 0;
          for (size_t K = 0; K < H; ++K)
            V += Hv[K] * R[(D * G * H + Row) * H + K];
          return V;
        };
        std::vector<double> NH(H), NC(H);
        if (C.Op == "RNN") {
          for (size_t J = 0; J < H; ++J)
            NH[J] = F[0](clip(xw(J) + hr(J, Hs) + rbias(J)));
        } else if (C.Op == "GRU") {
          std::vector<double> Z(H), Rg(H), RH(H);
          for (size_t J = 0; J < H; ++J) {
            Z[J] = F[0](clip(xw(J) + hr(J, Hs) + rbias(J)));
            Rg[J] = F[0](clip(xw(H + J) + hr(H + J, Hs) + rbias(H + J)));
            RH[J] = Rg[J] * Hs[J];
          }
          for (size_t J = 0; J < H; ++J) {
            double Pre = C.Lbr ? xw(2 * H + J) + Rg[J] * (hr(2 * H + J, Hs) + rbias(2 * H + J))
                               : xw(2 * H + J) + hr(2 * H + J, RH) + rbias(2 * H + J);
            double Hh = F[1](clip(Pre));
            NH[J] = (1 - Z[J]) * Hh + Z[J] * Hs[J];
          }
        } else {
          for (size_t J = 0; J < H; ++J) {
            auto pre = [&](size_t Gate) { return xw(Gate * H + J) + hr(Gate * H + J, Hs) + rbias(Gate * H + J); };
            double Pi = P.empty() ? 0 : P[D * 3 * H + J], Po = P.empty() ? 0 : P[D * 3 * H + H + J];
            double Pf = P.empty() ? 0 : P[D * 3 * H + 2 * H + J];
            double Ig = F[0](clip(pre(0) + Pi * Cs[J]));
            double Fg = C.InputForget ? 1 - Ig : F[0](clip(pre(2) + Pf * Cs[J]));
            double Cg = F[1](clip(pre(3)));
            NC[J] = Fg * Cs[J] + Ig * Cg;
            double Og = F[0](clip(pre(1) + Po * NC[J]));
            NH[J] = Og * F[2](NC[J]);
          }
          Cs = NC;
        }
        Hs = NH;
        for (size_t J = 0; J < H; ++J)
          Out.Y[yAt(T, D, Bi) + J] = Hs[J];
      }
      for (size_t J = 0; J < H; ++J) {
        Out.YH[state(D, Bi) + J] = Hs[J];
        Out.YC[state(D, Bi) + J] = Cs[J];
      }
    }
  }
  return Out;
}

std::string floatsAttr(const std::string &Name, const std::vector<double> &V) {
  std::string S = "\"" + Name + "\": {\"type\": \"floats\", \"value\": [";
  for (size_t I = 0; I < V.size(); ++I)
    S += (I ? ", " : "") + std::to_string(V[I]);
  return S + "]}";
}
std::string stringsAttr(const std::string &Name, const std::vector<std::string> &V) {
  std::string S = "\"" + Name + "\": {\"type\": \"strings\", \"value\": [";
  for (size_t I = 0; I < V.size(); ++I)
    S += (I ? ", \"" : "\"") + V[I] + "\"";
  return S + "]}";
}

void check(const RCase &C, unsigned Threads, const std::string &Type = "F32") {
  SCOPED_TRACE(C.Op + " " + C.Label + " " + Type + " threads=" + std::to_string(Threads));
  int64_t G = C.Op == "RNN" ? 1 : C.Op == "GRU" ? 3 : 4;
  int64_t Dirs = C.Direction == "bidirectional" ? 2 : 1, H = C.Hidden;
  Shape XS = C.Layout ? Shape{C.Batch, C.Seq, C.Input} : Shape{C.Seq, C.Batch, C.Input};
  Shape WS{Dirs, G * H, C.Input}, RS{Dirs, G * H, H}, BS{Dirs, 2 * G * H};
  Shape StateS = C.Layout ? Shape{C.Batch, Dirs, H} : Shape{Dirs, C.Batch, H};
  Shape YS = C.Layout ? Shape{C.Batch, C.Seq, Dirs, H} : Shape{C.Seq, Dirs, C.Batch, H};
  auto vals = [](const Shape &S, uint32_t Seed, float Scale) {
    std::vector<float> F = randomFloats(elementCount(S), Seed, -Scale, Scale);
    return std::vector<double>(F.begin(), F.end());
  };
  std::vector<double> X = vals(XS, 1, 1.0f), W = vals(WS, 2, 0.6f), R = vals(RS, 3, 0.6f);
  std::vector<double> B = C.Bias ? vals(BS, 4, 0.5f) : std::vector<double>();
  std::vector<double> H0 = C.InitH ? vals(StateS, 5, 0.8f) : std::vector<double>();
  std::vector<double> C0 = C.InitC ? vals(StateS, 6, 0.8f) : std::vector<double>();
  std::vector<double> P = C.Peep ? vals({Dirs, 3 * H}, 7, 0.5f) : std::vector<double>();
  // Round through float so that the reference sees what the kernel sees.
  for (auto *V : {&X, &W, &R, &B, &H0, &C0, &P})
    for (double &E : *V)
      E = decode(encode({E}, Type), Type)[0];

  GraphSpec Spec;
  Spec.tensor("x", XS, Type).input("x");
  std::vector<Bytes> Inputs{encode(X, Type)};
  auto weight = [&](const std::string &Name, const Shape &S, const std::vector<double> &V) {
    if (C.ConstWeights) {
      Spec.constant(Name, S, encode(V, Type), Type);
    } else {
      Spec.tensor(Name, S, Type).input(Name);
      Inputs.push_back(encode(V, Type));
    }
  };
  weight("w", WS, W);
  weight("r", RS, R);
  std::vector<std::string> Ins{"x", "w", "r"};
  if (C.Bias) {
    weight("b", BS, B);
    Ins.push_back("b");
  } else {
    Ins.push_back("");
  }
  if (!C.SeqLens.empty()) {
    Spec.tensor("lens", {C.Batch}, "I32").input("lens");
    std::vector<double> L(C.SeqLens.begin(), C.SeqLens.end());
    Inputs.push_back(encode(L, "I32"));
    Ins.push_back("lens");
  } else {
    Ins.push_back("");
  }
  if (C.InitH) {
    Spec.tensor("h0", StateS, Type).input("h0");
    Inputs.push_back(encode(H0, Type));
    Ins.push_back("h0");
  } else {
    Ins.push_back("");
  }
  if (C.Op == "LSTM") {
    if (C.InitC) {
      Spec.constant("c0", StateS, encode(C0, Type), Type);
      Ins.push_back("c0");
    } else {
      Ins.push_back("");
    }
    if (C.Peep) {
      weight("p", {Dirs, 3 * H}, P);
      Ins.push_back("p");
    }
  }
  while (!Ins.empty() && Ins.back().empty())
    Ins.pop_back();
  std::vector<std::string> Outs{"y", "yh", "yc"};
  Outs.resize(C.Outputs);
  Spec.tensor("y", YS, Type).tensor("yh", StateS, Type);
  if (C.Outputs > 2)
    Spec.tensor("yc", StateS, Type);
  for (const std::string &O : Outs)
    Spec.output(O);
  std::vector<std::string> Attrs{attrInt("hidden_size", H), attrString("direction", C.Direction)};
  if (C.Layout)
    Attrs.push_back(attrInt("layout", 1));
  if (C.Clip > 0)
    Attrs.push_back(attrFloat("clip", C.Clip));
  if (C.InputForget)
    Attrs.push_back(attrInt("input_forget", 1));
  if (C.Lbr)
    Attrs.push_back(attrInt("linear_before_reset", 1));
  if (!C.Acts.empty())
    Attrs.push_back(stringsAttr("activations", C.Acts));
  if (!C.Alphas.empty())
    Attrs.push_back(floatsAttr("activation_alpha", C.Alphas));
  if (!C.Betas.empty())
    Attrs.push_back(floatsAttr("activation_beta", C.Betas));
  Spec.node("rnn", C.Op, Ins, Outs, Attrs);
  TempDir Dir;
  auto Graph = load(Spec, Dir);
  std::vector<Bytes> Got = run(*Graph, Inputs, Threads);
  Result Ref = reference(C, X, W, R, B, H0, C0, P);
  const std::vector<double> *Want[3] = {&Ref.Y, &Ref.YH, &Ref.YC};
  for (size_t O = 0; O < C.Outputs; ++O) {
    std::vector<double> V = decode(Got[O], Type);
    ASSERT_EQ(V.size(), Want[O]->size()) << "output " << O;
    double Tol = Type == "F16" ? 2e-3 : Type == "BF16" ? 1e-2 : 1e-5; // F64 computes in float
    for (size_t I = 0; I < V.size(); ++I)
      ASSERT_NEAR(V[I], (*Want[O])[I], Tol * (1 + std::fabs((*Want[O])[I])))
          << "output " << O << " at " << I;
  }
}

std::vector<RCase> cases() {
  std::vector<RCase> All;
  for (const char *Op : {"RNN", "GRU", "LSTM"}) {
    RCase Base;
    Base.Op = Op;
    Base.Outputs = std::string(Op) == "LSTM" ? 3 : 2;
    auto add = [&](const std::string &Label, auto Edit) {
      RCase C = Base;
      C.Label = Label;
      Edit(C);
      All.push_back(C);
    };
    add("defaults", [](RCase &) {});
    add("no bias, Y only", [](RCase &C) { C.Bias = false; C.Outputs = 1; });
    add("reverse initial_h", [](RCase &C) { C.Direction = "reverse"; C.InitH = true; C.InitC = true; });
    add("bidirectional seq lens", [](RCase &C) {
      C.Direction = "bidirectional"; C.Seq = 5; C.Batch = 3; C.SeqLens = {5, 2, 0}; C.InitH = true;
    });
    add("layout 1 bidirectional", [](RCase &C) {
      C.Layout = 1; C.Direction = "bidirectional"; C.SeqLens = {1, 3}; C.InitH = true; C.InitC = true;
    });
    add("runtime weights clip", [](RCase &C) { C.ConstWeights = false; C.Clip = 0.7; C.Seq = 4; });
    add("larger", [](RCase &C) { C.Seq = 7; C.Batch = 5; C.Input = 19; C.Hidden = 33; });
    if (std::string(Op) == "RNN")
      add("activations alpha beta", [](RCase &C) {
        C.Direction = "bidirectional"; C.Acts = {"LeakyRelu", "HardSigmoid"}; C.Alphas = {0.2, 0.3};
        C.Betas = {0.4};
      });
    if (std::string(Op) == "GRU") {
      add("linear_before_reset", [](RCase &C) { C.Lbr = 1; C.InitH = true; C.Direction = "bidirectional"; });
      add("lbr runtime weights seq lens", [](RCase &C) { C.Lbr = 1; C.ConstWeights = false; C.SeqLens = {2, 3}; });
      add("activations", [](RCase &C) { C.Acts = {"HardSigmoid", "Softsign"}; C.Alphas = {0.25}; C.Betas = {0.45}; });
    }
    if (std::string(Op) == "LSTM") {
      add("peepholes", [](RCase &C) { C.Peep = true; C.InitH = true; C.InitC = true; });
      add("peepholes bidirectional runtime", [](RCase &C) {
        C.Peep = true; C.Direction = "bidirectional"; C.ConstWeights = false; C.SeqLens = {3, 1}; C.InitC = true;
      });
      add("input_forget clip", [](RCase &C) { C.InputForget = 1; C.Clip = 0.5; C.Peep = true; });
      add("activations", [](RCase &C) {
        C.Acts = {"Sigmoid", "ScaledTanh", "Affine", "HardSigmoid", "Elu", "Softplus"};
        C.Direction = "bidirectional"; C.Alphas = {0.9, 0.7, 0.25, 1.1}; C.Betas = {1.2, 0.1, 0.45};
      });
    }
  }
  return All;
}

} // namespace

TEST(NativeRecurrent, MatchesReference) {
  for (const RCase &C : cases()) {
    check(C, 1);
    check(C, 3);
  }
}

TEST(NativeRecurrent, OtherFloatTypesMatchReference) {
  for (const RCase &C : cases())
    for (const char *Type : {"F64", "F16", "BF16"})
      check(C, 2, Type);
}

TEST(NativeRecurrent, RejectsInvalidNodes) {
  auto Base = [](const std::vector<std::string> &Attrs, Shape R = {1, 4, 4}, const std::string &Type = "F32") {
    GraphSpec G;
    G.tensor("x", {2, 1, 3}, Type).tensor("w", {1, 4, 3}, Type).tensor("r", R, Type);
    G.tensor("y", {2, 1, 1, 4}, Type).input("x").input("w").input("r").output("y");
    G.node("rnn", "RNN", {"x", "w", "r"}, {"y"}, Attrs);
    return G;
  };
  expectLoadError(Base({attrString("direction", "sideways")}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.direction: expected forward, reverse or bidirectional"});
  expectLoadError(Base({attrInt("hidden_size", 5)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.hidden_size: does not match R [1, 4, 4]"});
  expectLoadError(Base({}, {1, 4, 3}), OPTIMA_STATUS_INVALID_MODEL,
                  {"nodes[0] (RNN \"rnn\"): W \"w\" is [1, 4, 3], expected [1, 3, 3]"});
  expectLoadError(Base({stringsAttr("activations", {"Swish"})}), OPTIMA_STATUS_UNSUPPORTED,
                  {"activation \"Swish\""});
  expectLoadError(Base({stringsAttr("activations", {"Tanh", "Tanh", "Tanh"})}),
                  OPTIMA_STATUS_INVALID_MODEL, {"attributes.activations: expected 1 names"});
  expectLoadError(Base({attrInt("layout", 2)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.layout: expected 0 or 1"});
  expectLoadError(Base({}, {1, 4, 4}, "I32"), OPTIMA_STATUS_UNSUPPORTED, {"I32 input \"x\""});
}
