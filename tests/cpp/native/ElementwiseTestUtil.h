// Shared helpers of the elementwise-family tests: values of any element type carried as double,
// encoded/decoded with conversions written here (F16 through the compiler's half type, BF16 by
// rounding the significand with frexp), a naive broadcasting reference, and graph runners.
#pragma once

#include "NativeTestUtil.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

// The compiler's IEEE half type: _Float16 (x86-64 GCC 12+, Clang), or on AArch64 compilers whose
// C++ lacks it (GCC 12) the ARM storage type __fp16, which converts the same way.
#if defined(__aarch64__) && !defined(__clang__) && defined(__GNUC__) && __GNUC__ < 13
using TestHalf = __fp16;
#else
using TestHalf = _Float16;
#endif
#include <string>
#include <vector>

namespace ew_test {

using namespace native_test;

inline const std::vector<std::string> FloatTypes = {"F32", "F64", "F16", "BF16"};
inline const std::vector<std::string> SignedTypes = {"I8", "I16", "I32", "I64"};
inline const std::vector<std::string> UnsignedTypes = {"U8", "U16", "U32", "U64"};
inline std::vector<std::string> join(std::vector<std::string> A, const std::vector<std::string> &B) {
  A.insert(A.end(), B.begin(), B.end());
  return A;
}
inline const std::vector<std::string> IntTypes = join(SignedTypes, UnsignedTypes);
inline const std::vector<std::string> NumericTypes = join(FloatTypes, IntTypes);

inline bool isFloat(const std::string &T) { return T[0] == 'F' || T == "BF16"; }
inline bool isUnsigned(const std::string &T) { return T[0] == 'U'; }
inline size_t sizeOf(const std::string &T) {
  if (T == "BOOL" || T == "I8" || T == "U8")
    return 1;
  if (T == "F16" || T == "BF16" || T == "I16" || T == "U16")
    return 2;
  if (T == "F32" || T == "I32" || T == "U32")
    return 4;
  return 8;
}

// BF16: float rounded to 8 significant bits, ties to even (nearbyint's default mode).
inline float roundBF16(float F) {
  if (!std::isfinite(F) || F == 0.0f)
    return F;
  int E;
  double M = std::frexp(double(F), &E); // 0.5 <= |M| < 1
  double R = std::ldexp(std::nearbyint(std::ldexp(M, 8)), E - 8);
  return float(R);
}

// The value V becomes when stored as T (floats rounded, integers as given: callers pass values
// representable in T).
inline double roundTo(const std::string &T, double V) {
  if (T == "F32")
    return double(float(V));
  if (T == "F16")
    return double(TestHalf(V));
  if (T == "BF16")
    return double(roundBF16(float(V)));
  if (T == "BOOL")
    return V != 0 ? 1 : 0;
  return V;
}

inline Bytes encode(const std::string &T, const std::vector<double> &V) {
  Bytes B(V.size() * sizeOf(T));
  for (size_t I = 0; I < V.size(); ++I) {
    uint8_t *P = B.data() + I * sizeOf(T);
    auto Put = [&](auto X) { std::memcpy(P, &X, sizeof(X)); };
    double X = V[I];
    if (T == "F32") Put(float(X));
    else if (T == "F64") Put(X);
    else if (T == "F16") Put(TestHalf(X));
    else if (T == "BF16") {
      float F = roundBF16(float(X));
      uint32_t Bits;
      std::memcpy(&Bits, &F, 4);
      Put(uint16_t(Bits >> 16));
    }
    else if (T == "BOOL") Put(uint8_t(X != 0));
    else if (T == "I8") Put(int8_t(X));
    else if (T == "I16") Put(int16_t(X));
    else if (T == "I32") Put(int32_t(X));
    else if (T == "I64") Put(int64_t(X));
    else if (T == "U8") Put(uint8_t(X));
    else if (T == "U16") Put(uint16_t(X));
    else if (T == "U32") Put(uint32_t(X));
    else Put(uint64_t(X));
  }
  return B;
}

inline std::vector<double> decode(const std::string &T, const Bytes &B) {
  std::vector<double> V(B.size() / sizeOf(T));
  for (size_t I = 0; I < V.size(); ++I) {
    const uint8_t *P = B.data() + I * sizeOf(T);
    auto Get = [&](auto X) {
      std::memcpy(&X, P, sizeof(X));
      return double(X);
    };
    if (T == "F32") V[I] = Get(float());
    else if (T == "F64") V[I] = Get(double());
    else if (T == "F16") V[I] = Get(TestHalf());
    else if (T == "BF16") {
      uint16_t H;
      std::memcpy(&H, P, 2);
      uint32_t Bits = uint32_t(H) << 16;
      float F;
      std::memcpy(&F, &Bits, 4);
      V[I] = F;
    }
    else if (T == "BOOL") V[I] = Get(uint8_t());
    else if (T == "I8") V[I] = Get(int8_t());
    else if (T == "I16") V[I] = Get(int16_t());
    else if (T == "I32") V[I] = Get(int32_t());
    else if (T == "I64") V[I] = Get(int64_t());
    else if (T == "U8") V[I] = Get(uint8_t());
    else if (T == "U16") V[I] = Get(uint16_t());
    else if (T == "U32") V[I] = Get(uint32_t());
    else V[I] = Get(uint64_t());
  }
  return V;
}

// Relative tolerance of a float result computed in (at least) the type's precision.
inline double relTol(const std::string &T) {
  if (T == "F64") return 1e-12;
  if (T == "F32") return 2e-6;
  if (T == "F16") return 2e-3;
  if (T == "BF16") return 1.6e-2;
  return 0;
}

inline bool closeEnough(const std::string &T, double Got, double Want, double Scale = 1.0) {
  if (std::isnan(Want))
    return std::isnan(Got);
  if (!isFloat(T) || std::isinf(Want))
    return Got == Want;
  return std::fabs(Got - Want) <= relTol(T) * Scale * std::max(1.0, std::fabs(Want));
}

inline void expectClose(const std::string &T, double Got, double Want, const std::string &What,
                        double Scale = 1.0) {
  if (std::isnan(Want)) {
    EXPECT_TRUE(std::isnan(Got)) << What << ": got " << Got << ", want NaN";
  } else if (!isFloat(T) || std::isinf(Want)) {
    EXPECT_EQ(Got, Want) << What;
  } else {
    double Tol = relTol(T) * Scale * std::max(1.0, std::fabs(Want));
    EXPECT_NEAR(Got, Want, Tol) << What;
  }
}

// Numpy broadcasting the slow, obvious way: index every output element.
inline std::vector<double>
referenceBroadcast(const std::vector<std::vector<double>> &In, const std::vector<Shape> &Shapes,
                   const Shape &Out, const std::function<double(const std::vector<double> &)> &F) {
  std::vector<double> Y(elementCount(Out));
  size_t R = Out.size();
  std::vector<double> Args(In.size());
  std::vector<int64_t> Idx(R);
  for (size_t I = 0; I < Y.size(); ++I) {
    for (size_t D = R, Rem = I; D-- > 0;) {
      Idx[D] = int64_t(Rem % size_t(Out[D]));
      Rem /= size_t(Out[D]);
    }
    for (size_t K = 0; K < In.size(); ++K) {
      const Shape &S = Shapes[K];
      size_t Off = 0;
      for (size_t D = 0; D < S.size(); ++D)
        Off = Off * size_t(S[D]) + size_t(S[D] == 1 ? 0 : Idx[R - S.size() + D]);
      Args[K] = In[K][Off];
    }
    Y[I] = F(Args);
  }
  return Y;
}

struct Operand {
  std::string Type;
  Shape Dims;
  std::vector<double> Values; // exactly representable in Type
};

// Builds a one-node graph Op(Ins) -> y, runs it (Threads) and returns y decoded.
inline std::vector<double> runNode(const std::string &Op, const std::vector<Operand> &Ins,
                                   const std::string &OutType, const Shape &OutShape,
                                   const std::vector<std::string> &Attrs = {}, unsigned Threads = 1) {
  GraphSpec G;
  std::vector<std::string> Names;
  std::vector<Bytes> Data;
  for (size_t I = 0; I < Ins.size(); ++I) {
    std::string N = "in" + std::to_string(I);
    G.tensor(N, Ins[I].Dims, Ins[I].Type).input(N);
    Names.push_back(N);
    Data.push_back(encode(Ins[I].Type, Ins[I].Values));
  }
  G.tensor("y", OutShape, OutType).output("y").node("n", Op, Names, {"y"}, Attrs);
  TempDir Dir;
  auto Graph = load(G, Dir);
  return decode(OutType, run(*Graph, Data, Threads)[0]);
}

// Values for type T: a deterministic spread within [Lo, Hi], rounded to T.
inline std::vector<double> valuesFor(const std::string &T, size_t N, uint32_t Seed, double Lo, double Hi) {
  std::mt19937 Gen(Seed);
  std::uniform_real_distribution<double> Dist(Lo, Hi);
  std::vector<double> V(N);
  for (double &X : V) {
    X = Dist(Gen);
    X = isFloat(T) ? roundTo(T, X) : std::trunc(X);
  }
  return V;
}

// Default value range of an integer type used by the tests (small so products stay exact).
inline std::pair<double, double> intRange(const std::string &T) {
  if (isUnsigned(T))
    return {0, 100};
  return {-60, 60};
}

// Runs a same-type unary Op over every type in Types on values in [Lo, Hi] (plus Extra, rounded
// to the type) and compares with Ref computed in double on the stored inputs. Float results
// may differ from Ref by Scale * relTol; integer results must be exact. F32 is also run on a
// large tensor split over 4 threads.
inline void checkUnaryOp(const std::string &Op, const std::vector<std::string> &Types, double Lo,
                         double Hi, const std::function<double(double)> &Ref,
                         const std::vector<std::string> &Attrs = {}, double Scale = 8,
                         const std::vector<double> &Extra = {}) {
  for (const std::string &T : Types) {
    for (const Shape &S : {Shape{3, 7, 11}, Shape{50000}}) {
      if (S.size() == 1 && T != "F32")
        continue;
      SCOPED_TRACE(Op + " " + T + " " + ::testing::PrintToString(S));
      double L = Lo, H = Hi;
      if (!isFloat(T)) {
        L = isUnsigned(T) ? std::max(0.0, Lo) : Lo;
        H = isUnsigned(T) ? Hi : std::min(Hi, 100.0);
      }
      std::vector<double> X = valuesFor(T, elementCount(S), 7, L, H);
      for (size_t I = 0; I < Extra.size() && I < X.size(); ++I)
        if (isFloat(T) || (std::isfinite(Extra[I]) && (!isUnsigned(T) || Extra[I] >= 0)))
          X[I] = isFloat(T) ? roundTo(T, Extra[I]) : std::trunc(Extra[I]);
      std::vector<double> Y = runNode(Op, {{T, S, X}}, T, S, Attrs, S.size() == 1 ? 4 : 1);
      for (size_t I = 0; I < Y.size(); ++I) {
        double Want = Ref(X[I]);
        if (!isFloat(T) && std::isfinite(Want))
          Want = std::trunc(Want);
        if (!closeEnough(T, Y[I], Want, Scale)) {
          expectClose(T, Y[I], Want, "x=" + std::to_string(X[I]), Scale);
          return;
        }
      }
    }
  }
}

} // namespace ew_test
