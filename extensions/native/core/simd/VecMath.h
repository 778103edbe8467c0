// Vectorised float32 math for the native CPU kernels: plain array functions behind a table that
// is chosen once per process by CPU features (AVX-512, AVX2+FMA, or portable C++). Each ISA's
// table lives in its own translation unit compiled with that ISA's flags; nothing here is
// inline ISA code, so the rest of the backend stays baseline x86-64.
//
// OPTIMA_V2_NATIVE_ISA=generic|avx2|avx512 forces a table; an unknown or unsupported value
// falls back to the best available one (the GEMM kernels read the variable the same way).
//
// Accuracy of the transcendental functions (against std:: in float): exp <= 2 ulp, tanh and
// sigmoid <= 4 ulp, erf <= 5e-7 relative (<= 8 ulp near +-1). NaN propagates, +-inf and
// overflow/underflow saturate like std::, denormal inputs and results are handled.
#pragma once

#include <cstddef>

namespace optima_v2::native::simd {

enum class Isa { Generic = 0, Avx2 = 1, Avx512 = 2 };

// Y[i] = f(X[i], P0, P1); X may equal Y. P0/P1 are the activation parameters where one has them.
enum UnaryOp {
  UnaryRelu,        // x > 0 ? x : 0 (NaN -> 0, as the Relu op)
  UnaryReluKeepNaN, // x < 0 ? 0 : x (NaN passes, as the fused Relu epilogue)
  UnaryLeakyRelu,   // x < 0 ? P0 * x : x
  UnaryClip,        // x < P0 ? P0 : x > P1 ? P1 : x (NaN passes)
  UnaryExp,
  UnaryErf,
  UnaryTanh,
  UnarySigmoid,
  UnaryGeluErf, // 0.5 * x * (1 + erf(x / sqrt(2)))
  UnaryOpCount
};
using UnaryFn = void (*)(const float *X, float *Y, size_t N, float P0, float P1);

enum BinaryOp { BinaryAdd, BinarySub, BinaryMul, BinaryDiv, BinaryOpCount };
using BinaryFn = void (*)(const float *A, const float *B, float *Out, size_t N); // Out may alias A/B
using BinaryScalarBFn = void (*)(const float *A, float B, float *Out, size_t N); // A[i] op B
using BinaryScalarAFn = void (*)(float A, const float *B, float *Out, size_t N); // A op B[i]

// Activation applied in registers by the depthwise kernel before its store; formulas as
// UnaryReluKeepNaN and UnaryClip (so fused and per-plane results agree bit for bit).
enum DepthwiseAct { DwActNone, DwActRelu, DwActClip };

// Planes consecutive depthwise 3x3 planes, dilation 1, S in {1, 2}: for plane p,
// Out_p[oh][ow] = Bias[p] + sum W_p[kh*3+kw] * In_p[oh*S-PadT+kh][ow*S-PadL+kw], taps outside
// the input skipped (zero padding), then Act. In_p = In + p*InH*InW, Out_p = Out + p*OutH*OutW,
// W_p = W + 9p. Bias may be null (zero).
struct Depthwise3x3Args {
  const float *In;
  const float *W; // 9 taps per plane, row-major
  const float *Bias;
  float *Out;
  size_t Planes;
  size_t InH, InW, OutH, OutW;
  size_t Stride;
  size_t PadT, PadL;
  int Act;           // DepthwiseAct
  float ActLo, ActHi; // Clip bounds
};

// One 2-D max-pooling plane, dilation 1; windows wholly in the padding give -inf. Tmp holds
// InW floats. NaN inside a window: the result is the window's max under x > acc ? x : acc.
struct MaxPool2dArgs {
  const float *In;
  float *Out;
  float *Tmp;
  size_t InH, InW, OutH, OutW;
  size_t KH, KW, SH, SW;
  size_t PadT, PadL;
};

struct VecMathTable {
  Isa Which;
  UnaryFn Unary[UnaryOpCount];
  BinaryFn Binary[BinaryOpCount];
  BinaryScalarBFn BinaryScalarB[BinaryOpCount];
  BinaryScalarAFn BinaryScalarA[BinaryOpCount];
  float (*ReduceSum)(const float *X, size_t N);
  float (*ReduceMax)(const float *X, size_t N); // N >= 1; x > acc ? x : acc per lane
  // Y[i] = exp(X[i] - Sub); returns the sum of Y. X may equal Y.
  float (*ExpSubSum)(const float *X, float *Y, size_t N, float Sub);
  // Y = (X - mean) / sqrt(var + Eps) * Scale + Bias (Bias may be null); N >= 1. Mean and
  // 1/sqrt(var + Eps) are returned through MeanOut / InvStdOut.
  void (*LayerNormRow)(const float *X, float *Y, size_t N, const float *Scale, const float *Bias,
                       float Eps, float *MeanOut, float *InvStdOut);
  void (*Depthwise3x3)(const Depthwise3x3Args &A);
  void (*MaxPool2d)(const MaxPool2dArgs &A);
};

// The process-wide table (chosen on first use, thread-safe).
const VecMathTable &vecMath();
// A specific ISA's table, or null when this CPU (or build) lacks it: for tests and benchmarks.
const VecMathTable *vecMathFor(Isa Which);
const char *isaName(Isa Which);

// Per-ISA tables (defined in VecMath<Isa>.cpp; null where the compiler cannot build the ISA).
const VecMathTable *vecMathGenericTable();
const VecMathTable *vecMathAvx2Table();
const VecMathTable *vecMathAvx512Table();

} // namespace optima_v2::native::simd
