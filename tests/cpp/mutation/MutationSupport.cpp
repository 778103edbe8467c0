#include "MutationSupport.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <sys/resource.h>
#include <unistd.h>

namespace optima_v2::test::mutation {

std::string readBytes(const fs::path &Path) {
  std::ifstream In(Path, std::ios::binary);
  if (!In)
    throw std::runtime_error("cannot read " + Path.string());
  std::ostringstream Out;
  Out << In.rdbuf();
  return Out.str();
}

void writeBytes(const fs::path &Path, const std::string &Bytes) {
  std::ofstream Out(Path, std::ios::binary | std::ios::trunc);
  Out.write(Bytes.data(), std::streamsize(Bytes.size()));
  if (!Out)
    throw std::runtime_error("cannot write " + Path.string());
}

namespace {

// A locator, not a validator: the texts it reads are the suite's own valid base files.
class Locator {
public:
  explicit Locator(const std::string &Text) : T(Text) {}

  std::vector<JsonSpan> run() {
    value("");
    return std::move(Spans);
  }

private:
  void ws() {
    while (P < T.size() && std::strchr(" \t\r\n", T[P]))
      ++P;
  }
  std::string string() {
    size_t Start = ++P;
    while (T[P] != '"')
      P += T[P] == '\\' ? 2 : 1;
    return T.substr(Start, P++ - Start);
  }
  void value(const std::string &Path) {
    ws();
    JsonSpan S;
    S.Begin = P;
    S.Path = Path.empty() ? "(root)" : Path;
    size_t Index = Spans.size();
    Spans.emplace_back();
    char C = T[P];
    if (C == '{') {
      S.Kind = 'o';
      ++P;
      ws();
      while (T[P] != '}') {
        std::string Key = string();
        ws();
        ++P; // ':'
        value(Path.empty() ? Key : Path + "." + Key);
        ws();
        if (T[P] == ',')
          ++P, ws();
      }
      ++P;
    } else if (C == '[') {
      S.Kind = 'a';
      ++P;
      ws();
      for (size_t I = 0; T[P] != ']'; ++I) {
        value(Path + "[" + std::to_string(I) + "]");
        ws();
        if (T[P] == ',')
          ++P, ws();
      }
      ++P;
    } else if (C == '"') {
      S.Kind = 's';
      string();
    } else {
      S.Kind = (C == '-' || (C >= '0' && C <= '9')) ? 'n' : 'l';
      while (P < T.size() && !std::strchr(",}] \t\r\n", T[P]))
        ++P;
    }
    S.End = P;
    Spans[Index] = S;
  }

  const std::string &T;
  size_t P = 0;
  std::vector<JsonSpan> Spans;
};

std::vector<float> floatsFrom(const fs::path &File, size_t Count) {
  std::string Bytes = readBytes(File);
  if (Bytes.size() < Count * sizeof(float))
    throw std::runtime_error(File.string() + " is shorter than the oracle needs");
  std::vector<float> V(Count);
  std::memcpy(V.data(), Bytes.data(), Count * sizeof(float));
  return V;
}

// Equal within tolerance; NaN matches NaN and an infinity matches the same infinity.
std::string compare(const std::vector<float> &Got, const std::vector<float> &Want) {
  if (Got.size() != Want.size())
    return "size " + std::to_string(Got.size()) + " != " + std::to_string(Want.size());
  for (size_t I = 0; I < Got.size(); ++I) {
    float G = Got[I], W = Want[I];
    if (std::isnan(W) ? std::isnan(G) : (std::isinf(W) ? G == W : std::fabs(G - W) <= 1e-4f + 1e-4f * std::fabs(W)))
      continue;
    return "element " + std::to_string(I) + ": got " + std::to_string(G) + ", expected " + std::to_string(W);
  }
  return "";
}

void listFiles(BaseModel &B) {
  for (auto It = fs::recursive_directory_iterator(B.Folder); It != fs::recursive_directory_iterator(); ++It) {
    std::string Rel = fs::relative(It->path(), B.Folder).generic_string();
    if (It->is_directory())
      B.Subfolders.push_back(Rel);
    else
      B.Files.push_back(Rel);
  }
  std::sort(B.Files.begin(), B.Files.end());
  std::sort(B.Subfolders.begin(), B.Subfolders.end());
}

std::string runRequest(rt::InferRequest &Req) {
  Req.infer();
  if (Req.wait(std::chrono::seconds(30)))
    return "inference did not finish within 30 s";
  return "";
}

} // namespace

std::vector<JsonSpan> locateJsonValues(const std::string &Text) { return Locator(Text).run(); }

BaseModel makeSampleBase(const fs::path &Work) {
  BaseModel B;
  B.Name = "sample";
  B.Folder = Work / "sample_pristine";
  fs::copy(fs::path(OPTIMA_V2_TEST_SOURCE_DIR) / "examples" / "sample_model", B.Folder,
           fs::copy_options::recursive);
  listFiles(B);
  B.Run = [](rt::Model &M, const fs::path &Dir, bool CheckValues) -> std::string {
    auto In1 = randomFloats(3 * 32 * 32, 11), In2 = randomFloats(32 * 32, 12);
    auto Req = M.createRequest();
    Req.getInputTensor("input_1").copyFrom(In1.data(), In1.size());
    Req.getInputTensor("input_2").copyFrom(In2.data(), In2.size());
    if (auto Error = runRequest(Req); !Error.empty())
      return Error;
    std::vector<float> Out(32 * 32);
    Req.getOutputTensor("output_1").copyTo(Out.data(), Out.size());
    if (!CheckValues)
      return "";
    auto Want = referenceConv2d(In1, 1, 3, 32, 32, floatsFrom(Dir / "Subgraph_0" / "weights.bin", 27), 1, 3, 3, 1);
    for (size_t I = 0; I < Want.size(); ++I)
      Want[I] += In2[I];
    return compare(Out, Want);
  };
  return B;
}

BaseModel makeChainBase(const fs::path &Work) {
  constexpr size_t Stages = 3;
  BaseModel B;
  B.Name = "chain";
  B.Folder = Work / "chain_pristine";
  writeChainModel(B.Folder, std::vector<std::pair<std::string, std::string>>(Stages, {"Native", "X64:0"}));
  listFiles(B);
  B.Run = [](rt::Model &M, const fs::path &Dir, bool CheckValues) -> std::string {
    auto X = randomFloats(4 * 8 * 8, 21);
    auto Req = M.createRequest();
    Req.getInputTensor("x").copyFrom(X.data(), X.size());
    if (auto Error = runRequest(Req); !Error.empty())
      return Error;
    std::vector<float> Out(4 * 8 * 8);
    Req.getOutputTensor("y").copyTo(Out.data(), Out.size());
    if (!CheckValues)
      return "";
    // The oracle reads each stage's weights from the folder (offset 0 of its weights.bin).
    std::vector<float> Want = X;
    for (size_t S = 0; S < Stages; ++S) {
      auto W = floatsFrom(Dir / ("Subgraph_" + std::to_string(S)) / "weights.bin", 4 * 4 * 3 * 3);
      Want = referenceConv2d(Want, 1, 4, 8, 8, W, 4, 3, 3, 1);
      for (auto &V : Want)
        V = V > 0 ? V : 0;
    }
    return compare(Out, Want);
  };
  return B;
}

long maxRssKiB() {
  struct rusage U {};
  ::getrusage(RUSAGE_SELF, &U);
  return U.ru_maxrss;
}

long currentRssKiB() {
  long Pages = 0, Resident = 0;
  if (FILE *F = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(F, "%ld %ld", &Pages, &Resident) != 2)
      Resident = 0;
    std::fclose(F);
  }
  return Resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

StepWatchdog::StepWatchdog(std::chrono::seconds Limit) : Limit(Limit) {
  Started = std::chrono::steady_clock::now();
  Thread = std::thread([this] {
    std::unique_lock<std::mutex> Lock(Mutex);
    while (!Done) {
      Cv.wait_for(Lock, std::chrono::milliseconds(200));
      if (!Done && std::chrono::steady_clock::now() - Started > this->Limit) {
        std::fprintf(stderr, "WATCHDOG: step '%s' ran longer than %lld s (hang?)\n", Current.c_str(),
                     static_cast<long long>(this->Limit.count()));
        std::fflush(stderr);
        std::abort();
      }
    }
  });
}

StepWatchdog::~StepWatchdog() {
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    Done = true;
  }
  Cv.notify_all();
  Thread.join();
}

void StepWatchdog::step(const std::string &Name) {
  std::lock_guard<std::mutex> Lock(Mutex);
  Current = Name;
  Started = std::chrono::steady_clock::now();
}

} // namespace optima_v2::test::mutation
