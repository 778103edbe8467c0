// Fused activation epilogue ("activation" / "activation_params" node attributes) on Conv,
// ConvTranspose, MatMul and Gemm: each fused result is compared with a naive reference of the op
// computed here in double, followed by the activation's formula (also written here).
#include "OpTestTypes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

using namespace native_test;

namespace {

struct Act {
  std::string Name;
  std::vector<double> Params;
};

const std::vector<Act> Activations = {
    {"Relu", {}},         {"LeakyRelu", {0.1}},      {"Clip", {-0.5, 0.7}},
    {"Sigmoid", {}},      {"Tanh", {}},              {"HardSigmoid", {0.3, 0.4}},
    {"HardSwish", {}},    {"Gelu", {}},              {"GeluTanh", {}}};

double activate(const Act &A, double X) {
  const std::vector<double> &P = A.Params;
  if (A.Name == "Relu") return X > 0 ? X : 0;
  if (A.Name == "LeakyRelu") return X >= 0 ? X : P[0] * X;
  if (A.Name == "Clip") return std::min(P[1], std::max(P[0], X));
  if (A.Name == "Sigmoid") return 1.0 / (1.0 + std::exp(-X));
  if (A.Name == "Tanh") return std::tanh(X);
  if (A.Name == "HardSigmoid") return std::min(1.0, std::max(0.0, P[0] * X + P[1]));
  if (A.Name == "HardSwish") return X * std::min(1.0, std::max(0.0, X / 6 + 0.5));
  if (A.Name == "Gelu") return 0.5 * X * (1 + std::erf(X / std::sqrt(2.0)));
  if (A.Name == "GeluTanh")
    return 0.5 * X * (1 + std::tanh(0.7978845608028654 /* sqrt(2 / pi) */ * (X + 0.044715 * X * X * X)));
  ADD_FAILURE() << "no reference for " << A.Name;
  return 0;
}

std::vector<std::string> actAttrs(const Act &A) {
  std::vector<std::string> Attrs = {attrString("activation", A.Name)};
  if (!A.Params.empty()) {
    std::string V = "[";
    for (size_t I = 0; I < A.Params.size(); ++I) {
      char Buf[64];
      std::snprintf(Buf, sizeof Buf, "%.17g", A.Params[I]);
      std::string S = Buf;
      if (S.find_first_of(".eE") == std::string::npos)
        S += ".0";
      V += (I ? ", " : "") + S;
    }
    Attrs.push_back("\"activation_params\": {\"type\": \"floats\", \"value\": " + V + "]}");
  }
  return Attrs;
}

std::vector<std::string> concat(std::vector<std::string> A, const std::vector<std::string> &B) {
  A.insert(A.end(), B.begin(), B.end());
  return A;
}

// One single-node graph: inputs given as (name, shape, values) — the first is the runtime
// input, the others constants — run on Threads threads, compared with Ref after the activation.
struct Operand {
  std::string Name;
  Shape Dims;
  std::vector<double> Values;
};

void checkFused(const std::string &Op, const std::vector<Operand> &Ins, const Shape &OutShape,
                const std::vector<std::string> &OpAttrs, const std::vector<double> &Ref,
                const std::string &Type, unsigned Threads) {
  double Tol = Type == "F64" ? 1e-10 : Type == "F32" ? 2e-5 : Type == "F16" ? 2e-2 : 1e-1;
  for (const Act &A : Activations) {
    SCOPED_TRACE(Op + " " + Type + " " + A.Name + " threads=" + std::to_string(Threads));
    GraphSpec G;
    std::vector<std::string> Names;
    G.tensor(Ins[0].Name, Ins[0].Dims, Type).input(Ins[0].Name);
    Names.push_back(Ins[0].Name);
    for (size_t I = 1; I < Ins.size(); ++I) {
      G.constant(Ins[I].Name, Ins[I].Dims, encode(Ins[I].Values, Type), Type);
      Names.push_back(Ins[I].Name);
    }
    G.tensor("y", OutShape, Type).output("y");
    G.node("n", Op, Names, {"y"}, concat(OpAttrs, actAttrs(A)));
    TempDir Dir;
    auto Graph = load(G, Dir);
    std::vector<double> Y = decode(run(*Graph, {encode(Ins[0].Values, Type)}, Threads)[0], Type);
    ASSERT_EQ(Y.size(), Ref.size());
    for (size_t I = 0; I < Y.size(); ++I) {
      double Want = activate(A, Ref[I]);
      ASSERT_NEAR(Y[I], Want, Tol * (1 + std::fabs(Want))) << "element " << I;
    }
  }
}

std::vector<double> values(size_t N, uint32_t Seed, double Scale = 1.0) {
  std::vector<double> V = gridValues(N, Seed);
  for (double &E : V)
    E *= Scale;
  return V;
}

// 2-D Conv reference: NCHW, groups, stride, symmetric pad.
std::vector<double> refConv(const Shape &XS, const std::vector<double> &X, const Shape &WS,
                            const std::vector<double> &W, const std::vector<double> &B,
                            int64_t Group, int64_t Stride, int64_t Pad, Shape &Out) {
  int64_t N = XS[0], C = XS[1], H = XS[2], Wd = XS[3], M = WS[0], Cg = WS[1], KH = WS[2],
          KW = WS[3];
  int64_t OH = (H + 2 * Pad - KH) / Stride + 1, OW = (Wd + 2 * Pad - KW) / Stride + 1;
  Out = {N, M, OH, OW};
  std::vector<double> Y(size_t(N * M * OH * OW));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double S = B.empty() ? 0 : B[size_t(m)];
          int64_t g = m / (M / Group);
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t ih = oh * Stride - Pad + kh, iw = ow * Stride - Pad + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= Wd)
                  continue;
                S += X[size_t(((n * C + g * Cg + c) * H + ih) * Wd + iw)] *
                     W[size_t(((m * Cg + c) * KH + kh) * KW + kw)];
              }
          Y[size_t(((n * M + m) * OH + oh) * OW + ow)] = S;
        }
  (void)C;
  return Y;
}

struct ConvCase {
  std::string Label;
  Shape X, W;
  int64_t Group, Stride, Pad;
};

TEST(NativeConvFused, MatchesReferenceForEveryActivation) {
  // im2col + GEMM (several tiles), pointwise GEMM, depthwise (direct).
  const std::vector<ConvCase> Cases = {{"im2col", {2, 3, 21, 17}, {5, 3, 3, 3}, 1, 1, 1},
                                       {"strided", {1, 4, 9, 8}, {6, 2, 3, 3}, 2, 2, 1},
                                       {"pointwise", {1, 6, 17, 19}, {7, 6, 1, 1}, 1, 1, 0},
                                       {"depthwise", {2, 4, 11, 13}, {4, 1, 3, 3}, 4, 1, 1}};
  for (const ConvCase &C : Cases)
    for (const char *Type : {"F32", "F64", "F16"})
      for (unsigned Threads : {1u, 3u}) {
        SCOPED_TRACE(C.Label);
        std::vector<double> X = values(elementCount(C.X), 11);
        std::vector<double> W = values(elementCount(C.W), 12, 0.5);
        std::vector<double> B = values(size_t(C.W[0]), 13);
        Shape Out;
        std::vector<double> Ref = refConv(C.X, X, C.W, W, B, C.Group, C.Stride, C.Pad, Out);
        std::vector<std::string> Attrs = {attrInt("group", C.Group),
                                          attrInts("strides", {C.Stride, C.Stride}),
                                          attrInts("pads", {C.Pad, C.Pad, C.Pad, C.Pad})};
        checkFused("Conv", {{"x", C.X, X}, {"w", C.W, W}, {"b", {C.W[0]}, B}}, Out, Attrs, Ref,
                   Type, Threads);
      }
}

TEST(NativeConvTransposeFused, MatchesReferenceForEveryActivation) {
  // 2-D, stride 2, pad 1, groups 1: Y[n, m, oh, ow] += X[n, c, ih, iw] * W[c, m, kh, kw]
  // where oh = ih * 2 - 1 + kh.
  Shape XS = {1, 4, 5, 6}, WS = {4, 3, 3, 3};
  int64_t S = 2, P = 1, OH = (5 - 1) * S - 2 * P + 3, OW = (6 - 1) * S - 2 * P + 3;
  std::vector<double> X = values(elementCount(XS), 21), W = values(elementCount(WS), 22, 0.5),
                      B = values(3, 23);
  Shape Out = {1, 3, OH, OW};
  std::vector<double> Ref(size_t(3 * OH * OW));
  for (int64_t m = 0; m < 3; ++m)
    for (int64_t I = 0; I < OH * OW; ++I)
      Ref[size_t(m * OH * OW + I)] = B[size_t(m)];
  for (int64_t c = 0; c < 4; ++c)
    for (int64_t ih = 0; ih < 5; ++ih)
      for (int64_t iw = 0; iw < 6; ++iw)
        for (int64_t m = 0; m < 3; ++m)
          for (int64_t kh = 0; kh < 3; ++kh)
            for (int64_t kw = 0; kw < 3; ++kw) {
              int64_t oh = ih * S - P + kh, ow = iw * S - P + kw;
              if (oh < 0 || oh >= OH || ow < 0 || ow >= OW)
                continue;
              Ref[size_t((m * OH + oh) * OW + ow)] += X[size_t((c * 5 + ih) * 6 + iw)] *
                                                       W[size_t(((c * 3 + m) * 3 + kh) * 3 + kw)];
            }
  for (const char *Type : {"F32", "F64", "BF16"})
    checkFused("ConvTranspose", {{"x", XS, X}, {"w", WS, W}, {"b", {3}, B}}, Out,
               {attrInts("strides", {S, S}), attrInts("pads", {P, P, P, P})}, Ref, Type, 2);
}

TEST(NativeMatMulFused, MatchesReferenceForEveryActivation) {
  // Batched, N > one GEMM tile (256 columns).
  int64_t Batch = 2, M = 13, K = 29, N = 300;
  std::vector<double> A = values(size_t(Batch * M * K), 31, 0.5), B = values(size_t(K * N), 32, 0.5);
  std::vector<double> Ref(size_t(Batch * M * N));
  for (int64_t b = 0; b < Batch; ++b)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double S = 0;
        for (int64_t k = 0; k < K; ++k)
          S += A[size_t((b * M + i) * K + k)] * B[size_t(k * N + j)];
        Ref[size_t((b * M + i) * N + j)] = S;
      }
  for (const char *Type : {"F32", "F64"})
    for (unsigned Threads : {1u, 4u})
      checkFused("MatMul", {{"a", {Batch, M, K}, A}, {"b", {K, N}, B}}, {Batch, M, N}, {}, Ref,
                 Type, Threads);
}

TEST(NativeGemmFused, MatchesReferenceForEveryActivation) {
  int64_t M = 35, K = 20, N = 270;
  double Alpha = 0.75, Beta = 1.5;
  std::vector<double> A = values(size_t(M * K), 41, 0.5), B = values(size_t(N * K), 42, 0.5),
                      C = values(size_t(N), 43);
  std::vector<double> Ref(size_t(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double S = 0;
      for (int64_t k = 0; k < K; ++k)
        S += A[size_t(i * K + k)] * B[size_t(j * K + k)]; // transB
      Ref[size_t(i * N + j)] = Alpha * S + Beta * C[size_t(j)];
    }
  std::vector<std::string> Attrs = {attrFloat("alpha", Alpha), attrFloat("beta", Beta),
                                    attrInt("transB", 1)};
  for (const char *Type : {"F32", "F64", "F16"})
    checkFused("Gemm", {{"a", {M, K}, A}, {"b", {N, K}, B}, {"c", {N}, C}}, {M, N}, Attrs, Ref,
               Type, 3);
}

GraphSpec fusedMatMul(const std::vector<std::string> &Attrs, const std::string &Type = "F32") {
  GraphSpec G;
  G.tensor("a", {2, 3}, Type).tensor("b", {3, 4}, Type).tensor("y", {2, 4}, Type);
  G.input("a").input("b").output("y").node("m", "MatMul", {"a", "b"}, {"y"}, Attrs);
  return G;
}

TEST(NativeMatMulFused, RefusesBadActivationsAtLoad) {
  expectLoadError(fusedMatMul({attrString("activation", "Swish")}), OPTIMA_STATUS_UNSUPPORTED,
                  {"node \"m\"", "unknown fused activation \"Swish\"", "supported: Relu"});
  expectLoadError(fusedMatMul(actAttrs({"LeakyRelu", {}})), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.activation_params", "\"LeakyRelu\" takes 1 parameters, got 0"});
  expectLoadError(fusedMatMul(concat({attrString("activation", "Relu")},
                                     {"\"activation_params\": {\"type\": \"floats\", "
                                      "\"value\": [1.0]}"})),
                  OPTIMA_STATUS_INVALID_MODEL, {"\"Relu\" takes 0 parameters, got 1"});
  expectLoadError(fusedMatMul(actAttrs({"Clip", {2.0, 1.0}})), OPTIMA_STATUS_INVALID_MODEL,
                  {"Clip needs min <= max"});
  expectLoadError(fusedMatMul({"\"activation_params\": {\"type\": \"floats\", \"value\": [1.0]}"}),
                  OPTIMA_STATUS_INVALID_MODEL, {"given without \"activation\""});
  expectLoadError(fusedMatMul({attrInt("activation", 1)}), OPTIMA_STATUS_INVALID_MODEL,
                  {"attributes.activation"});
  expectLoadError(fusedMatMul({attrString("activation", "Relu")}, "I32"),
                  OPTIMA_STATUS_UNSUPPORTED, {"needs a float type, not I32"});
}

TEST(NativeConvFused, RefusesUnknownActivationAtLoad) {
  GraphSpec G;
  G.tensor("x", {1, 2, 4, 4}).tensor("w", {3, 2, 1, 1}).tensor("y", {1, 3, 4, 4});
  G.input("x").input("w").output("y").node("c", "Conv", {"x", "w"}, {"y"},
                                            {attrString("activation", "relu")});
  expectLoadError(G, OPTIMA_STATUS_UNSUPPORTED, {"unknown fused activation \"relu\""});
}

} // namespace
