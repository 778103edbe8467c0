// Context, ContextOptions, extension loading, model-loading errors, logging and version.
#include "ApiTestUtil.h"

#include <OptimaV2/Runtime/Utils/ToString.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace optima_v2::test {
namespace {

#if defined(__aarch64__)
constexpr rt::DeviceKind HostCpu = rt::DeviceKind::ARM64;
#else
constexpr rt::DeviceKind HostCpu = rt::DeviceKind::x64;
#endif

bool hasNativeCpu(const std::vector<rt::DeviceInfo> &Devices) {
  return std::any_of(Devices.begin(), Devices.end(), [](const rt::DeviceInfo &D) {
    return D.Framework == rt::FrameworkKind::Native && D.Kind == HostCpu && D.Index == 0;
  });
}

// Runs F, expects E, and returns what() so callers can check the message names the culprit.
template <class E, class F> std::string messageOf(F &&Fn) {
  try {
    Fn();
  } catch (const E &Error) {
    return Error.what();
  } catch (const std::exception &Other) {
    ADD_FAILURE() << "expected " << typeid(E).name() << ", got " << typeid(Other).name() << ": "
                  << Other.what();
    return {};
  }
  ADD_FAILURE() << "expected " << typeid(E).name() << ", nothing was thrown";
  return {};
}

TEST(Context, DefaultConstructionLoadsNativeExtension) {
  rt::Context Context;
  auto Devices = Context.getAvailableDevices();
  EXPECT_TRUE(hasNativeCpu(Devices));
  for (const auto &D : Devices)
    EXPECT_FALSE(D.Name.empty());
  auto Loaded = Context.getLoadedExtensions();
  ASSERT_FALSE(Loaded.empty());
  EXPECT_TRUE(std::any_of(Loaded.begin(), Loaded.end(),
                          [](const std::string &S) { return S.find("Native") != std::string::npos; }))
      << "loaded: " << (Loaded.empty() ? "" : Loaded.front());
  EXPECT_EQ(Context.getVerbosity(), rt::LogLevel::Warning);
  EXPECT_GE(Context.getThreadCount(), 1u);
}

TEST(Context, ThreadCountOption) {
  rt::ContextOptions Options;
  Options.ThreadCount = 3;
  EXPECT_EQ(rt::Context(Options).getThreadCount(), 3u);
}

TEST(Context, WithoutDefaultExtensionsNothingRunsUntilLoadExtension) {
  TempDir Dir;
  writeSampleModel(Dir.path() / "m");
  rt::ContextOptions Options;
  Options.LoadDefaultExtensions = false;
  rt::Context Context(Options);
  EXPECT_FALSE(hasNativeCpu(Context.getAvailableDevices()));
  EXPECT_THROW(Context.loadModel(Dir.path() / "m"), rt::UnsupportedModelException);

  Context.loadExtension(nativeExtensionPath());
  EXPECT_TRUE(hasNativeCpu(Context.getAvailableDevices()));
  auto Model = Context.loadModel(Dir.path() / "m");
  EXPECT_EQ(Model.getInputTensorCount(), 2u);
}

TEST(ContextOptions, GuideSpellingLogLevelIsVerbosity) {
  auto Options = rt::ContextOptions();
  EXPECT_EQ(Options.Verbosity, rt::LogLevel::Warning);
  EXPECT_TRUE(Options.LogPath.empty());
  EXPECT_TRUE(Options.EnableProfile);
  Options.LogLevel = rt::LogLevel::Verbose; // as written in the guide
  EXPECT_EQ(Options.Verbosity, rt::LogLevel::Verbose);
  Options.Verbosity = rt::LogLevel::Error;
  EXPECT_EQ(Options.LogLevel, rt::LogLevel::Error);

  Options.LogLevel = rt::LogLevel::Verbose;
  auto Context = rt::Context(Options);
  EXPECT_EQ(Context.getVerbosity(), rt::LogLevel::Verbose);
}

TEST(Context, SetVerbosityReturnsPrevious) {
  rt::Context Context;
  EXPECT_EQ(Context.setVerbosity(rt::LogLevel::Debug), rt::LogLevel::Warning);
  EXPECT_EQ(Context.getVerbosity(), rt::LogLevel::Debug);
  EXPECT_EQ(Context.setVerbosity(rt::LogLevel::Error), rt::LogLevel::Debug);
  EXPECT_EQ(Context.getVerbosity(), rt::LogLevel::Error);
}

size_t lineCount(const fs::path &Path) {
  std::string Text = readText(Path);
  return static_cast<size_t>(std::count(Text.begin(), Text.end(), '\n'));
}

// Does the work that a Context logs about (extension loading, model loading, inference).
void exerciseRuntime(rt::Context &Context, const fs::path &ModelPath) {
  auto Model = Context.loadModel(ModelPath);
  auto Req = Model.createRequest();
  Req.infer();
  Req.wait();
}

// Levels of the lines of a log file; a line names its level as "[Info]" (the Logger's format).
std::vector<rt::LogLevel> levelsInLog(const fs::path &Path) {
  std::vector<rt::LogLevel> Levels;
  std::istringstream In(readText(Path));
  std::string Line;
  while (std::getline(In, Line)) {
    bool Found = false;
    for (auto L : {rt::LogLevel::Debug, rt::LogLevel::Verbose, rt::LogLevel::Info, rt::LogLevel::Warning,
                   rt::LogLevel::Error})
      if (!Found && Line.find("[" + std::string(rt::toString(L)) + "]") != std::string::npos) {
        Levels.push_back(L);
        Found = true;
      }
    EXPECT_TRUE(Found) << "log line without a level: " << Line;
  }
  return Levels;
}

std::vector<rt::LogLevel> logAt(rt::LogLevel Filter, const fs::path &ModelPath, const fs::path &Log) {
  {
    rt::ContextOptions Options;
    Options.LogLevel = Filter;
    Options.LogPath = Log;
    rt::Context Context(Options);
    exerciseRuntime(Context, ModelPath);
  }
  return fs::exists(Log) ? levelsInLog(Log) : std::vector<rt::LogLevel>{};
}

size_t countOf(const std::vector<rt::LogLevel> &Levels, rt::LogLevel L) {
  return static_cast<size_t>(std::count(Levels.begin(), Levels.end(), L));
}

TEST(Context, LogPathReceivesMessagesAtTheLevelFilter) {
  TempDir Dir;
  const fs::path Model = Dir.path() / "m";
  writeSampleModel(Model);

  auto Verbose = logAt(rt::LogLevel::Verbose, Model, Dir.path() / "verbose.log");
  EXPECT_GT(countOf(Verbose, rt::LogLevel::Verbose), 0u) << readText(Dir.path() / "verbose.log");
  EXPECT_GT(countOf(Verbose, rt::LogLevel::Info), 0u) << readText(Dir.path() / "verbose.log");
  EXPECT_EQ(countOf(Verbose, rt::LogLevel::Debug), 0u);

  auto Info = logAt(rt::LogLevel::Info, Model, Dir.path() / "info.log");
  EXPECT_GT(countOf(Info, rt::LogLevel::Info), 0u);
  EXPECT_EQ(countOf(Info, rt::LogLevel::Verbose) + countOf(Info, rt::LogLevel::Debug), 0u)
      << readText(Dir.path() / "info.log");

  // Nothing went wrong, so Warning (the default) and Error filters let nothing through.
  EXPECT_TRUE(logAt(rt::LogLevel::Warning, Model, Dir.path() / "warning.log").empty())
      << readText(Dir.path() / "warning.log");
  EXPECT_TRUE(logAt(rt::LogLevel::Error, Model, Dir.path() / "error.log").empty())
      << readText(Dir.path() / "error.log");
}

TEST(Context, SetVerbosityChangesTheFilterOfALiveContext) {
  TempDir Dir;
  writeSampleModel(Dir.path() / "m");
  const fs::path Log = Dir.path() / "live.log";
  rt::ContextOptions Options;
  Options.LogLevel = rt::LogLevel::Error;
  Options.LogPath = Log;
  rt::Context Context(Options);
  exerciseRuntime(Context, Dir.path() / "m");
  size_t Quiet = fs::exists(Log) ? lineCount(Log) : 0;
  EXPECT_EQ(Quiet, 0u);
  Context.setVerbosity(rt::LogLevel::Debug);
  exerciseRuntime(Context, Dir.path() / "m");
  ASSERT_TRUE(fs::exists(Log));
  EXPECT_GT(lineCount(Log), Quiet);
}

TEST(Context, VersionMatchesHeadersAndProject) {
  const rt::VersionTuple V = rt::Context::getVersion();
  EXPECT_EQ(V, OPTIMA_RT_CURRENT_VERSION);
  std::string Text = std::to_string(V.Major) + "." + std::to_string(V.Minor) + "." + std::to_string(V.Patch);
  EXPECT_EQ(Text, OPTIMA_V2_TEST_PROJECT_VERSION);
  EXPECT_NE(V, (rt::VersionTuple{V.Major, V.Minor, V.Patch + 1}));
}

// ---- loadModel: path errors ------------------------------------------------------------------

TEST(ContextLoadModel, MissingPathIsInvalidArgument) {
  rt::Context Context;
  TempDir Dir;
  auto What = messageOf<std::invalid_argument>([&] { Context.loadModel(Dir.path() / "no_such_model"); });
  EXPECT_NE(What.find("no_such_model"), std::string::npos) << What;
}

TEST(ContextLoadModel, FileInsteadOfFolderIsInvalidArgument) {
  rt::Context Context;
  TempDir Dir;
  writeTextFile(Dir.path() / "model.meta", "{}");
  EXPECT_THROW(Context.loadModel(Dir.path() / "model.meta"), std::invalid_argument);
  EXPECT_THROW(Context.loadModel(""), std::invalid_argument);
}

// ---- loadModel: corrupt folders --------------------------------------------------------------

class CorruptModel : public ::testing::Test {
protected:
  void SetUp() override {
    Path = Dir.path() / "m";
    writeSampleModel(Path);
    Meta = Path / "model.meta";
  }
  // Loads and returns the InvalidModelException message.
  std::string invalidModelMessage() {
    return messageOf<rt::InvalidModelException>([&] { Context.loadModel(Path); });
  }
  TempDir Dir;
  fs::path Path, Meta;
  rt::Context Context;
};

TEST_F(CorruptModel, MissingModelMeta) {
  fs::remove(Meta);
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("model.meta"), std::string::npos) << What;
}

TEST_F(CorruptModel, BadJson) {
  writeTextFile(Meta, readText(Meta).substr(0, 40)); // cut in the middle of an object
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("model.meta"), std::string::npos) << What;
}

TEST_F(CorruptModel, WrongTypeOfField) {
  replaceInFile(Meta, "\"format_version\":1", "\"format_version\":\"1\"");
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("model.meta"), std::string::npos) << What;
  EXPECT_NE(What.find("format_version"), std::string::npos) << What;
}

TEST_F(CorruptModel, WrongFormatVersion) {
  replaceInFile(Meta, "\"format_version\":1", "\"format_version\":2");
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("format_version"), std::string::npos) << What;
}

TEST_F(CorruptModel, MissingRequiredKey) {
  replaceInFile(Meta, "\"outputs\":[{", "\"outputz\":[{");
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("outputs"), std::string::npos) << What;
}

TEST_F(CorruptModel, UnknownElementType) {
  replaceInFile(Meta, "\"type\":\"F32\"", "\"type\":\"F33\"");
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("type"), std::string::npos) << What;
}

TEST_F(CorruptModel, MoreThanEightDims) {
  replaceInFile(Meta, "\"shape\":[1,3,32,32]", "\"shape\":[1,1,1,1,1,1,3,32,32]");
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("model.meta"), std::string::npos) << What;
  EXPECT_NE(What.find("shape"), std::string::npos) << What;
}

TEST_F(CorruptModel, PathEscapingTheFolder) {
  // A real folder outside the model, so only the escape check can refuse it.
  fs::copy(Path / "Subgraph_0", Dir.path() / "outside", fs::copy_options::recursive);
  replaceInFile(Meta, "\"path\":\"Subgraph_0\"", "\"path\":\"../outside\"");
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("path"), std::string::npos) << What;
}

TEST_F(CorruptModel, AbsolutePath) {
  replaceInFile(Meta, "\"path\":\"Subgraph_0\"", "\"path\":\"" + (Path / "Subgraph_0").string() + "\"");
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("path"), std::string::npos) << What;
}

TEST_F(CorruptModel, TruncatedWeights) {
  fs::resize_file(Path / "Subgraph_0" / "weights.bin", 10);
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("Subgraph_0"), std::string::npos) << What;
  EXPECT_NE(What.find("weights"), std::string::npos) << What;
}

TEST_F(CorruptModel, BrokenGraphRule) {
  // The subgraph reads a tensor nothing provides.
  replaceInFile(Meta, "\"inputs\":[\"input_1\",\"input_2\"]", "\"inputs\":[\"input_1\",\"t7\"]");
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("t7"), std::string::npos) << What;
}

TEST_F(CorruptModel, CorruptGraphJsonNamesTheFile) {
  writeTextFile(Path / "Subgraph_0" / "graph.json", "{\"format\": ");
  auto What = invalidModelMessage();
  EXPECT_NE(What.find("graph.json"), std::string::npos) << What;
}

TEST_F(CorruptModel, ContextStillWorksAfterFailures) {
  fs::remove(Meta);
  EXPECT_THROW(Context.loadModel(Path), rt::InvalidModelException);
  writeSampleModel(Path);
  EXPECT_EQ(Context.loadModel(Path).getOutputTensorCount(), 1u);
}

// ---- loadModel: unsupported ------------------------------------------------------------------

TEST_F(CorruptModel, UnknownFrameworkIsUnsupported) {
  replaceInFile(Meta, "\"framework\":\"Native\"", "\"framework\":\"Bogus\"");
  auto What = messageOf<rt::UnsupportedModelException>([&] { Context.loadModel(Path); });
  EXPECT_NE(What.find("Bogus"), std::string::npos) << What;
}

TEST_F(CorruptModel, FrameworkWithoutExtensionIsUnsupported) {
  replaceInFile(Meta, "\"framework\":\"Native\"", "\"framework\":\"TFLite\"");
  EXPECT_THROW(Context.loadModel(Path), rt::UnsupportedModelException);
}

TEST_F(CorruptModel, UnknownDeviceIsUnsupported) {
  replaceInFile(Meta, "\"device\":\"X64:0\"", "\"device\":\"Quantum:0\"");
  auto What = messageOf<rt::UnsupportedModelException>([&] { Context.loadModel(Path); });
  EXPECT_NE(What.find("Quantum"), std::string::npos) << What;
}

TEST_F(CorruptModel, DeviceTheFrameworkDoesNotOfferIsUnsupported) {
  replaceInFile(Meta, "\"device\":\"X64:0\"", "\"device\":\"Hexagon:0\"");
  EXPECT_THROW(Context.loadModel(Path), rt::UnsupportedModelException);
}

// ---- loadModel: Fallback ---------------------------------------------------------------------

TEST(ContextFallback, UnavailableDeviceRunsOnTheCpuOnlyWithFallback) {
  TempDir Dir;
  const fs::path Path = Dir.path() / "m";
  // A framework whose extension is not loaded here (the test accelerator is never a default).
  writeSampleModel(Path, "OpenCL", "NVIDIA:0");
  rt::Context Context;
  EXPECT_THROW(Context.loadModel(Path), rt::UnsupportedModelException);
  EXPECT_THROW(Context.loadModel(Path, false), rt::UnsupportedModelException);

  auto Model = Context.loadModel(Path, true);
  auto Subgraphs = Model.getSubgraphInfo();
  ASSERT_EQ(Subgraphs.size(), 1u);
  EXPECT_TRUE(Subgraphs[0].FellBack);
  EXPECT_EQ(Subgraphs[0].Framework, rt::FrameworkKind::Native);
  EXPECT_TRUE(rt::isDeviceCPU(Subgraphs[0].Device));

  auto Req = Model.createRequest();
  auto Case = makeSampleCase(21);
  expectRunMatches(Req, Case);
}

TEST(ContextFallback, AvailableDeviceDoesNotFallBack) {
  TempDir Dir;
  writeSampleModel(Dir.path() / "m");
  rt::Context Context;
  auto Subgraphs = Context.loadModel(Dir.path() / "m", true).getSubgraphInfo();
  ASSERT_EQ(Subgraphs.size(), 1u);
  EXPECT_FALSE(Subgraphs[0].FellBack);
}

// ---- loadExtension -----------------------------------------------------------------------------

TEST(ContextLoadExtension, EmptyMissingOrDirectoryIsInvalidArgument) {
  rt::Context Context;
  TempDir Dir;
  EXPECT_THROW(Context.loadExtension(""), std::invalid_argument);
  EXPECT_THROW(Context.loadExtension(Dir.path() / "libmissing.so"), std::invalid_argument);
  EXPECT_THROW(Context.loadExtension(Dir.path()), std::invalid_argument);
}

TEST(ContextLoadExtension, NonLibraryFileIsInvalidExtension) {
  rt::Context Context;
  TempDir Dir;
  writeTextFile(Dir.path() / "libfake.so", "this is not a shared library\n");
  auto What = messageOf<rt::InvalidExtensionException>([&] { Context.loadExtension(Dir.path() / "libfake.so"); });
  EXPECT_NE(What.find("libfake.so"), std::string::npos) << What;
}

TEST(ContextLoadExtension, LibraryWithoutEntryPointIsInvalidExtension) {
  rt::Context Context;
  auto What = messageOf<rt::InvalidExtensionException>(
      [&] { Context.loadExtension(OPTIMA_V2_TEST_RUNTIME_LIBRARY); });
  EXPECT_NE(What.find("optimaV2ExtensionInit"), std::string::npos) << What;
}

TEST(ContextLoadExtension, FailedLoadLeavesContextUsable) {
  rt::Context Context;
  TempDir Dir;
  writeTextFile(Dir.path() / "libfake.so", "junk");
  EXPECT_THROW(Context.loadExtension(Dir.path() / "libfake.so"), rt::InvalidExtensionException);
  writeSampleModel(Dir.path() / "m");
  EXPECT_EQ(Context.loadModel(Dir.path() / "m").getInputTensorCount(), 2u);
}

} // namespace
} // namespace optima_v2::test
