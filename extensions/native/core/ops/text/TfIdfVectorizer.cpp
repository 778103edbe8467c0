// TfIdfVectorizer (opset 9) on integer input (I32/I64 with pool_int64s; pool_strings is refused:
// no string tensors here). Output F32 [max(ngram_indexes) + 1] per row (1-D [C] or 2-D [B, C]).
//
// At load the pool's n-grams of lengths [min_gram_length, max_gram_length] go into a trie
// (children sorted by value, flat arrays) whose nodes carry the output column of the n-gram
// ending there; n-gram ids and the meaning of ngram_counts / ngram_indexes / weights follow the
// ONNX reference (a later duplicate of an n-gram wins; weights are read by output column).
// At run, for each skip distance 1..max_skip_count+1 and each start position, the trie is
// walked along the skipped sequence and every n-gram found is counted (unigrams only once).
#include "../../OpRegistry.h"
#include "../../TypeDispatch.h"

#include <algorithm>
#include <map>
#include <memory>

namespace optima_v2::native {

namespace {

enum class TfIdfMode { TF, IDF, TFIDF };

struct Trie {
  // Node I's children are Keys/Child[Begin[I], End[I]), sorted by key; Column[I] is the output
  // column of the n-gram ending at node I, or -1.
  std::vector<int64_t> Keys;
  std::vector<uint32_t> Child, Begin, End;
  std::vector<int64_t> Column;

  // Child of Node with key V, or -1.
  int64_t find(uint32_t Node, int64_t V) const {
    auto First = Keys.begin() + Begin[Node], Last = Keys.begin() + End[Node];
    auto It = std::lower_bound(First, Last, V);
    if (It == Last || *It != V)
      return -1;
    return Child[size_t(It - Keys.begin())];
  }
};

struct TfIdfConfig {
  size_t Rows = 1, Cols = 0, OutSize = 0;
  int64_t MinGram = 1, MaxGram = 1, MaxSkip = 0;
  TfIdfMode Mode = TfIdfMode::TF;
  std::vector<float> Weights; // by output column; empty = all ones
};

template <typename T> class TfIdfKernel final : public Kernel {
public:
  TfIdfKernel(int32_t X, int32_t Y, TfIdfConfig C, Trie Tr)
      : XId(X), YId(Y), C(std::move(C)), Tr(std::move(Tr)) {}

  void run(const KernelContext &Ctx) const override {
    const T *X = Ctx.tensor<const T>(XId);
    float *Y = Ctx.tensor<float>(YId);
    size_t Grain = std::max<size_t>(1, (size_t(1) << 12) / std::max<size_t>(1, C.Cols));
    Ctx.parallelFor(C.Rows, Grain, [&](size_t Begin, size_t End) {
      for (size_t R = Begin; R < End; ++R)
        row(X + R * C.Cols, Y + R * C.OutSize);
    });
  }

private:
  void row(const T *X, float *Y) const {
    std::fill(Y, Y + C.OutSize, 0.0f);
    int64_t N = int64_t(C.Cols), StartGram = C.MinGram;
    for (int64_t Skip = 1; Skip <= C.MaxSkip + 1; ++Skip) {
      for (int64_t S = 0; S < N; ++S) {
        if (S + Skip * (StartGram - 1) >= N)
          break;
        uint32_t Node = 0;
        int64_t Item = S;
        for (int64_t Size = 1; Size <= C.MaxGram && Item < N; ++Size, Item += Skip) {
          int64_t Next = Tr.find(Node, int64_t(X[Item]));
          if (Next < 0)
            break;
          Node = uint32_t(Next);
          if (Size >= StartGram && Tr.Column[Node] >= 0)
            Y[Tr.Column[Node]] += 1.0f;
        }
      }
      // Unigrams do not depend on the skip distance: count them in the first pass only.
      if (StartGram == 1) {
        StartGram = 2;
        if (StartGram > C.MaxGram)
          break;
      }
    }
    bool HasW = !C.Weights.empty();
    if (C.Mode == TfIdfMode::IDF)
      for (size_t I = 0; I < C.OutSize; ++I)
        Y[I] = Y[I] > 0 ? (HasW ? C.Weights[I] : 1.0f) : 0.0f;
    else if (C.Mode == TfIdfMode::TFIDF && HasW)
      for (size_t I = 0; I < C.OutSize; ++I)
        Y[I] *= C.Weights[I];
  }

  int32_t XId, YId;
  TfIdfConfig C;
  Trie Tr;
};

Trie buildTrie(const NodeContext &Ctx, const TfIdfConfig &C, const std::vector<int64_t> &Pool,
               const std::vector<int64_t> &Counts, const std::vector<int64_t> &Indexes) {
  std::vector<std::map<int64_t, uint32_t>> Children(1);
  std::vector<int64_t> Column(1, -1);
  size_t Id = 0; // 0-based n-gram id (index into ngram_indexes)
  for (size_t G = 0; G < Counts.size(); ++G) {
    int64_t Size = int64_t(G) + 1;
    int64_t From = Counts[G], To = G + 1 < Counts.size() ? Counts[G + 1] : int64_t(Pool.size());
    if (From < 0 || To > int64_t(Pool.size()) || From > To)
      Ctx.invalidAttribute("ngram_counts", "must be non-decreasing offsets into the pool of " +
                                               std::to_string(Pool.size()) + " items");
    size_t Grams = size_t((To - From) / Size);
    if (Size < C.MinGram || Size > C.MaxGram) {
      Id += Grams;
      continue;
    }
    for (size_t K = 0; K < Grams; ++K, ++Id) {
      if (Id >= Indexes.size())
        Ctx.invalidAttribute("ngram_indexes", "has " + std::to_string(Indexes.size()) +
                                                  " entries, fewer than the pool's n-grams");
      uint32_t Node = 0;
      for (int64_t J = 0; J < Size; ++J) {
        int64_t V = Pool[size_t(From + int64_t(K) * Size + J)];
        auto It = Children[Node].find(V);
        if (It == Children[Node].end()) {
          uint32_t New = uint32_t(Children.size());
          Children[Node].emplace(V, New);
          Children.emplace_back();
          Column.push_back(-1);
          Node = New;
        } else {
          Node = It->second;
        }
      }
      Column[Node] = Indexes[Id];
    }
  }
  // Flatten: each node's children become one sorted run of Keys/Child.
  Trie T;
  T.Column = std::move(Column);
  T.Begin.resize(Children.size());
  T.End.resize(Children.size());
  for (size_t I = 0; I < Children.size(); ++I) {
    T.Begin[I] = uint32_t(T.Keys.size());
    for (const auto &[Key, Child] : Children[I]) {
      T.Keys.push_back(Key);
      T.Child.push_back(Child);
    }
    T.End[I] = uint32_t(T.Keys.size());
  }
  return T;
}

std::unique_ptr<Kernel> makeTfIdfVectorizer(const NodeContext &Ctx) {
  Ctx.expectArity(1, 1, 1);
  Ctx.allowAttributes({"max_gram_length", "max_skip_count", "min_gram_length", "mode",
                       "ngram_counts", "ngram_indexes", "pool_int64s", "pool_strings",
                       "weights"});
  if (Ctx.hasAttribute("pool_strings"))
    Ctx.unsupported("pool_strings (string tensors are not supported; use pool_int64s)");
  Ctx.requireType(0, {OPTIMA_ELEMENT_I32, OPTIMA_ELEMENT_I64});
  for (const char *Name : {"max_gram_length", "min_gram_length", "max_skip_count", "mode",
                           "ngram_counts", "ngram_indexes", "pool_int64s"})
    if (!Ctx.hasAttribute(Name))
      Ctx.invalidAttribute(Name, "required attribute is missing");
  TfIdfConfig C;
  C.MinGram = Ctx.getInt("min_gram_length", 1);
  C.MaxGram = Ctx.getInt("max_gram_length", 1);
  C.MaxSkip = Ctx.getInt("max_skip_count", 0);
  if (C.MinGram < 1 || C.MaxGram < C.MinGram || C.MaxGram > (int64_t(1) << 30))
    Ctx.invalidAttribute("min_gram_length", "must satisfy 1 <= min_gram_length (" +
                                                std::to_string(C.MinGram) +
                                                ") <= max_gram_length (" +
                                                std::to_string(C.MaxGram) + ")");
  if (C.MaxSkip < 0 || C.MaxSkip > (int64_t(1) << 30))
    Ctx.invalidAttribute("max_skip_count", "must be >= 0, got " + std::to_string(C.MaxSkip));
  std::string Mode = Ctx.getString("mode", "TF");
  if (Mode == "TF")
    C.Mode = TfIdfMode::TF;
  else if (Mode == "IDF")
    C.Mode = TfIdfMode::IDF;
  else if (Mode == "TFIDF")
    C.Mode = TfIdfMode::TFIDF;
  else
    Ctx.invalidAttribute("mode", "must be TF, IDF or TFIDF, got \"" + Mode + "\"");
  std::vector<int64_t> Pool = Ctx.getInts("pool_int64s", {});
  std::vector<int64_t> Counts = Ctx.getInts("ngram_counts", {});
  std::vector<int64_t> Indexes = Ctx.getInts("ngram_indexes", {});
  if (Indexes.empty())
    Ctx.invalidAttribute("ngram_indexes", "must not be empty");
  int64_t MaxIndex = 0;
  for (int64_t I : Indexes) {
    if (I < 0 || I >= (int64_t(1) << 28))
      Ctx.invalidAttribute("ngram_indexes", "entry " + std::to_string(I) + " is out of range");
    MaxIndex = std::max(MaxIndex, I);
  }
  C.OutSize = size_t(MaxIndex + 1);
  for (double W : Ctx.getFloats("weights", {}))
    C.Weights.push_back(float(W));
  if (!C.Weights.empty() && C.Weights.size() < C.OutSize)
    Ctx.invalidAttribute("weights", "has " + std::to_string(C.Weights.size()) +
                                        " entries, fewer than the " + std::to_string(C.OutSize) +
                                        " output columns");

  const TensorInfo &X = *Ctx.input(0);
  Dims OutShape;
  if (X.Shape.size() == 1) {
    C.Cols = size_t(X.Shape[0]);
    OutShape = {int64_t(C.OutSize)};
  } else if (X.Shape.size() == 2 && X.Shape[0] >= 1) {
    C.Rows = size_t(X.Shape[0]);
    C.Cols = size_t(X.Shape[1]);
    OutShape = {X.Shape[0], int64_t(C.OutSize)};
  } else {
    Ctx.invalid("input \"" + X.Name + "\" must be [C] or [B, C] with B > 0, got " +
                describe(X.Type, X.Shape));
  }
  Ctx.expectOutput(0, OPTIMA_ELEMENT_F32, OutShape);
  Trie Tr = buildTrie(Ctx, C, Pool, Counts, Indexes);

  if (X.Type == OPTIMA_ELEMENT_I32)
    return std::make_unique<TfIdfKernel<int32_t>>(Ctx.inputId(0), Ctx.outputId(0), std::move(C),
                                                  std::move(Tr));
  return std::make_unique<TfIdfKernel<int64_t>>(Ctx.inputId(0), Ctx.outputId(0), std::move(C),
                                                std::move(Tr));
}

} // namespace

void registerTfIdfVectorizerOps(OpRegistry &R) {
  R.add("TfIdfVectorizer", makeTfIdfVectorizer);
}

} // namespace optima_v2::native
