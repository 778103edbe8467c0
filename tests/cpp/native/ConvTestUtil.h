// The Conv tests' case description and naive N-D reference (the ONNX definition computed
// directly, in double), shared by the op-level tests and the GEMM-engine tests.
#pragma once

#include "NativeTestUtil.h"

#include <algorithm>
#include <string>
#include <vector>

namespace native_test {

struct ConvCase {
  std::string Label;
  Shape X, W;
  bool Bias = true;
  int64_t Group = 1;
  std::vector<int64_t> Strides, Dilations, Pads; // empty: attribute omitted (defaults)
  std::string AutoPad;                           // empty: omitted
};

// ONNX output size and begin padding per spatial dim (spec formulas).
inline void geometry(const ConvCase &C, Shape &Out, std::vector<int64_t> &PadBegin) {
  size_t R = C.X.size() - 2;
  Out = {C.X[0], C.W[0]};
  PadBegin.assign(R, 0);
  for (size_t D = 0; D < R; ++D) {
    int64_t In = C.X[D + 2], K = C.W[D + 2];
    int64_t S = C.Strides.empty() ? 1 : C.Strides[D];
    int64_t Dil = C.Dilations.empty() ? 1 : C.Dilations[D];
    int64_t Eff = (K - 1) * Dil + 1;
    if (C.AutoPad == "SAME_UPPER" || C.AutoPad == "SAME_LOWER") {
      int64_t O = (In + S - 1) / S;
      int64_t Total = std::max<int64_t>(0, (O - 1) * S + Eff - In);
      PadBegin[D] = C.AutoPad == "SAME_UPPER" ? Total / 2 : (Total + 1) / 2;
      Out.push_back(O);
    } else if (C.AutoPad == "VALID") {
      Out.push_back((In - Eff) / S + 1);
    } else {
      int64_t B = C.Pads.empty() ? 0 : C.Pads[D], E = C.Pads.empty() ? 0 : C.Pads[D + R];
      PadBegin[D] = B;
      Out.push_back((In + B + E - Eff) / S + 1);
    }
  }
}

inline std::vector<float> referenceConv(const ConvCase &C, const std::vector<float> &X,
                                 const std::vector<float> &W, const std::vector<float> &B,
                                 const Shape &Out, const std::vector<int64_t> &PadBegin) {
  size_t R = C.X.size() - 2;
  int64_t N = C.X[0], Ch = C.X[1], M = C.W[0], Cg = Ch / C.Group, Mg = M / C.Group;
  size_t OutPlane = 1, KPlane = 1, InPlane = 1;
  for (size_t D = 0; D < R; ++D) {
    OutPlane *= size_t(Out[D + 2]);
    KPlane *= size_t(C.W[D + 2]);
    InPlane *= size_t(C.X[D + 2]);
  }
  std::vector<float> Y(elementCount(Out));
  std::vector<int64_t> O(R), K(R);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (size_t p = 0; p < OutPlane; ++p) {
        for (size_t D = R, Rem = p; D-- > 0;) {
          O[D] = int64_t(Rem % size_t(Out[D + 2]));
          Rem /= size_t(Out[D + 2]);
        }
        double Sum = B.empty() ? 0.0 : B[size_t(m)];
        int64_t g = m / Mg;
        for (int64_t c = 0; c < Cg; ++c)
          for (size_t k = 0; k < KPlane; ++k) {
            for (size_t D = R, Rem = k; D-- > 0;) {
              K[D] = int64_t(Rem % size_t(C.W[D + 2]));
              Rem /= size_t(C.W[D + 2]);
            }
            size_t InIndex = 0;
            bool Inside = true;
            for (size_t D = 0; D < R; ++D) {
              int64_t S = C.Strides.empty() ? 1 : C.Strides[D];
              int64_t Dil = C.Dilations.empty() ? 1 : C.Dilations[D];
              int64_t I = O[D] * S - PadBegin[D] + K[D] * Dil;
              Inside = Inside && I >= 0 && I < C.X[D + 2];
              InIndex = InIndex * size_t(C.X[D + 2]) + size_t(I);
            }
            if (!Inside)
              continue;
            float Xv = X[size_t(n * Ch + g * Cg + c) * InPlane + InIndex];
            float Wv = W[size_t(m * Cg + c) * KPlane + k];
            Sum += double(Xv) * double(Wv);
          }
        Y[size_t(n * M + m) * OutPlane + p] = float(Sum);
      }
  return Y;
}

// The attributes Conv and ConvTranspose share (those left empty are omitted).
inline void appendSharedConvAttributes(std::vector<std::string> &Attrs, int64_t Group,
                                       const std::vector<int64_t> &Strides,
                                       const std::vector<int64_t> &Dilations,
                                       const std::vector<int64_t> &Pads,
                                       const std::string &AutoPad) {
  if (Group != 1)
    Attrs.push_back(attrInt("group", Group));
  if (!Strides.empty())
    Attrs.push_back(attrInts("strides", Strides));
  if (!Dilations.empty())
    Attrs.push_back(attrInts("dilations", Dilations));
  if (!Pads.empty())
    Attrs.push_back(attrInts("pads", Pads));
  if (!AutoPad.empty())
    Attrs.push_back(attrString("auto_pad", AutoPad));
}

// The node attributes that describe C (those left empty in C are omitted).
inline std::vector<std::string> convAttributes(const ConvCase &C) {
  std::vector<std::string> Attrs;
  appendSharedConvAttributes(Attrs, C.Group, C.Strides, C.Dilations, C.Pads, C.AutoPad);
  Attrs.push_back(attrInts("kernel_shape", Shape(C.W.begin() + 2, C.W.end())));
  return Attrs;
}

} // namespace native_test
