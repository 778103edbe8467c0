// TfIdfVectorizer vs a reference written from the spec's definition: every n-gram of each
// length in [min, max] and each skip in [0, max_skip] (unigrams once) is looked up in a map from
// the pool's n-gram sequences to output columns, then TF / IDF / TFIDF weighting.
#include "NativeTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

using namespace native_test;

namespace {

struct TfIdfSpec {
  int64_t MinGram = 1, MaxGram = 2, MaxSkip = 0;
  std::string Mode = "TF";
  std::vector<int64_t> Pool, Counts, Indexes;
  std::vector<double> Weights;
};

std::vector<float> reference(const TfIdfSpec &S, const std::vector<int64_t> &X, size_t Rows) {
  size_t OutSize = 0;
  for (int64_t I : S.Indexes)
    OutSize = std::max(OutSize, size_t(I) + 1);
  std::map<std::vector<int64_t>, int64_t> Column;
  size_t Id = 0;
  for (size_t G = 0; G < S.Counts.size(); ++G) {
    size_t N = G + 1;
    size_t From = size_t(S.Counts[G]);
    size_t To = G + 1 < S.Counts.size() ? size_t(S.Counts[G + 1]) : S.Pool.size();
    for (size_t P = From; P + N <= To; P += N, ++Id)
      if (int64_t(N) >= S.MinGram && int64_t(N) <= S.MaxGram)
        Column[std::vector<int64_t>(S.Pool.begin() + long(P), S.Pool.begin() + long(P + N))] =
            S.Indexes[Id];
  }
  size_t Cols = X.size() / Rows;
  std::vector<float> Y(Rows * OutSize, 0.0f);
  for (size_t R = 0; R < Rows; ++R) {
    const int64_t *Row = X.data() + R * Cols;
    float *Out = Y.data() + R * OutSize;
    for (int64_t N = S.MinGram; N <= S.MaxGram; ++N)
      for (int64_t Skip = 0; Skip <= (N == 1 ? 0 : S.MaxSkip); ++Skip)
        for (size_t Start = 0; Start < Cols; ++Start) {
          std::vector<int64_t> Gram;
          for (int64_t K = 0; K < N; ++K) {
            size_t P = Start + size_t(K * (Skip + 1));
            if (P >= Cols)
              break;
            Gram.push_back(Row[P]);
          }
          if (int64_t(Gram.size()) != N)
            continue;
          auto It = Column.find(Gram);
          if (It != Column.end())
            Out[It->second] += 1.0f;
        }
    for (size_t I = 0; I < OutSize; ++I) {
      float W = S.Weights.empty() ? 1.0f : float(S.Weights[I]);
      if (S.Mode == "IDF")
        Out[I] = Out[I] > 0 ? W : 0.0f;
      else if (S.Mode == "TFIDF")
        Out[I] *= W;
    }
  }
  return Y;
}

std::string attrFloats(const std::string &Name, const std::vector<double> &V) {
  std::string S = "\"" + Name + "\": {\"type\": \"floats\", \"value\": [";
  for (size_t I = 0; I < V.size(); ++I)
    S += (I ? ", " : "") + std::to_string(V[I]);
  return S + "]}";
}

std::vector<std::string> attrs(const TfIdfSpec &S) {
  std::vector<std::string> A = {attrInt("min_gram_length", S.MinGram),
                                attrInt("max_gram_length", S.MaxGram),
                                attrInt("max_skip_count", S.MaxSkip), attrString("mode", S.Mode),
                                attrInts("pool_int64s", S.Pool), attrInts("ngram_counts", S.Counts),
                                attrInts("ngram_indexes", S.Indexes)};
  if (!S.Weights.empty())
    A.push_back(attrFloats("weights", S.Weights));
  return A;
}

std::vector<float> runTfIdf(const TfIdfSpec &S, const std::vector<int64_t> &X, const Shape &XShape,
                            const std::string &Type, unsigned Threads = 1) {
  size_t OutSize = 0;
  for (int64_t I : S.Indexes)
    OutSize = std::max(OutSize, size_t(I) + 1);
  Shape YShape = XShape.size() == 1 ? Shape{int64_t(OutSize)} : Shape{XShape[0], int64_t(OutSize)};
  GraphSpec G;
  G.tensor("x", XShape, Type).tensor("y", YShape).input("x").output("y");
  G.node("t", "TfIdfVectorizer", {"x"}, {"y"}, attrs(S));
  TempDir Dir;
  Bytes In;
  if (Type == "I32") {
    std::vector<int32_t> X32(X.begin(), X.end());
    In = toBytes(X32);
  } else {
    In = toBytes(X);
  }
  return fromBytes<float>(run(*load(G, Dir), {In}, Threads)[0]);
}

const TfIdfSpec Conformance = {2, 2, 0, "TF", {2, 3, 5, 4, 5, 6, 7, 8, 6, 7}, {0, 4},
                               {0, 1, 2, 3, 4, 5, 6}, {}};

} // namespace

TEST(NativeTfIdf, SpecExampleSkipTwo) {
  // From the spec: [94, 17, 36, 12, 28] with skip 2 has the bigrams [94, 12] and [17, 28].
  TfIdfSpec S{2, 2, 2, "TF", {94, 12, 17, 28, 94, 17}, {0, 0}, {0, 1, 2}, {}};
  std::vector<int64_t> X = {94, 17, 36, 12, 28};
  EXPECT_EQ(runTfIdf(S, X, {5}, "I64"), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(reference(S, X, 1), (std::vector<float>{1, 1, 1}));
}

TEST(NativeTfIdf, ModesSkipsAndGramRanges) {
  std::vector<int64_t> X = {1, 1, 3, 3, 3, 7, 8, 6, 7, 5, 6, 8, 2, 3, 5, 4, 5, 6, 7, 8, 6, 7, 3, 5};
  std::vector<TfIdfSpec> Specs;
  for (int64_t Min : {1, 2})
    for (int64_t Skip : {0, 1, 5})
      for (const char *Mode : {"TF", "IDF", "TFIDF"}) {
        TfIdfSpec S = Conformance;
        S.MinGram = Min;
        S.MaxSkip = Skip;
        S.Mode = Mode;
        Specs.push_back(S);
        S.Weights = {0.5, 1.5, 2.0, 0.25, 3.0, 1.0, 0.75};
        S.Indexes = {6, 0, 5, 1, 4, 2, 3}; // permuted output columns
        Specs.push_back(S);
      }
  // Trigrams with unigrams and bigrams, only 1..3 loaded of a 1..3 pool; and 3-grams only.
  TfIdfSpec Tri{1, 3, 2, "TF", {3, 5, 6, 3, 5, 5, 6, 7, 3, 5, 6, 6, 7, 8}, {0, 3, 7},
                {0, 1, 2, 3, 4, 5, 6, 7}, {}};
  Specs.push_back(Tri);
  Tri.MinGram = 3;
  Specs.push_back(Tri);
  Tri.MinGram = 2;
  Tri.MaxGram = 2;
  Specs.push_back(Tri);
  for (const TfIdfSpec &S : Specs) {
    SCOPED_TRACE("min " + std::to_string(S.MinGram) + " max " + std::to_string(S.MaxGram) +
                 " skip " + std::to_string(S.MaxSkip) + " " + S.Mode +
                 (S.Weights.empty() ? "" : " weighted"));
    auto Ref = reference(S, X, 1);
    ASSERT_GT(std::count_if(Ref.begin(), Ref.end(), [](float V) { return V > 0; }), 0);
    EXPECT_EQ(runTfIdf(S, X, {24}, "I64"), Ref);
    EXPECT_EQ(runTfIdf(S, X, {4, 6}, "I32", 3), reference(S, X, 4));
    EXPECT_EQ(runTfIdf(S, X, {3, 8}, "I64"), reference(S, X, 3));
  }
}

TEST(NativeTfIdf, RejectsBadAttributes) {
  auto Spec = [](std::vector<std::string> Attrs, const Shape &Y = {7}) {
    GraphSpec G;
    G.tensor("x", {6}, "I64").tensor("y", Y).input("x").output("y");
    G.node("t", "TfIdfVectorizer", {"x"}, {"y"}, Attrs);
    return G;
  };
  auto A = attrs(Conformance);
  expectLoadError(Spec(A, {8}), OPTIMA_STATUS_INVALID_MODEL, {"y"});
  auto NoMode = A;
  NoMode.erase(NoMode.begin() + 3);
  expectLoadError(Spec(NoMode), OPTIMA_STATUS_INVALID_MODEL, {"mode", "missing"});
  auto BadMode = A;
  BadMode[3] = attrString("mode", "BM25");
  expectLoadError(Spec(BadMode), OPTIMA_STATUS_INVALID_MODEL, {"BM25"});
  auto FewIndexes = A;
  FewIndexes[6] = attrInts("ngram_indexes", {0, 1, 2, 3, 4, 5});
  expectLoadError(Spec(FewIndexes, {6}), OPTIMA_STATUS_INVALID_MODEL, {"ngram_indexes"});
  auto BadCounts = A;
  BadCounts[5] = attrInts("ngram_counts", {0, 40});
  expectLoadError(Spec(BadCounts), OPTIMA_STATUS_INVALID_MODEL, {"ngram_counts"});
  auto Strings = A;
  Strings.push_back("\"pool_strings\": {\"type\": \"strings\", \"value\": [\"a\"]}");
  expectLoadError(Spec(Strings), OPTIMA_STATUS_UNSUPPORTED, {"pool_strings"});
}
