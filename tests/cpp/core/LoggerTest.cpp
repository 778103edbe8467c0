#include "core/Logging/Logger.h"

#include <OptimaV2/Runtime.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "TestModels.h"

namespace rt = optima_v2::runtime;
using rt::detail::Logger;

namespace {
std::string readAll(const std::filesystem::path &P) {
  std::ifstream In(P);
  std::stringstream S;
  S << In.rdbuf();
  return S.str();
}
size_t countLines(const std::string &S) { return static_cast<size_t>(std::count(S.begin(), S.end(), '\n')); }
} // namespace

TEST(Logger, FiltersByLevelIntoFile) {
  optima_v2::test::TempDir Dir;
  auto Path = Dir.path() / "log.txt";
  {
    Logger Log(rt::LogLevel::Info, Path);
    Log.log(rt::LogLevel::Debug, "debug-line");
    Log.log(rt::LogLevel::Verbose, "verbose-line");
    Log.log(rt::LogLevel::Info, "info-line");
    Log.logf(rt::LogLevel::Error, "error {} {}", 42, "x");
    EXPECT_EQ(Log.setLevel(rt::LogLevel::Debug), rt::LogLevel::Info);
    Log.log(rt::LogLevel::Debug, "debug-after");
  }
  std::string Text = readAll(Path);
  EXPECT_EQ(Text.find("debug-line"), std::string::npos);
  EXPECT_EQ(Text.find("verbose-line"), std::string::npos);
  EXPECT_NE(Text.find("[Info] info-line"), std::string::npos);
  EXPECT_NE(Text.find("[Error] error 42 x"), std::string::npos);
  EXPECT_NE(Text.find("debug-after"), std::string::npos);
  EXPECT_EQ(countLines(Text), 3u);
}

TEST(Logger, UnopenableFileNamesThePath) {
  std::string Bad = "/nonexistent-dir-optima/sub/log.txt";
  try {
    Logger Log(rt::LogLevel::Info, Bad);
    FAIL() << "no exception";
  } catch (const rt::InvalidArgumentException &E) {
    EXPECT_NE(std::string(E.what()).find(Bad), std::string::npos) << E.what();
  }
  rt::ContextOptions O;
  O.LogPath = Bad;
  O.LoadDefaultExtensions = false;
  EXPECT_THROW(rt::Context C(O), rt::InvalidArgumentException);
}

TEST(Logger, ConcurrentLinesStayWhole) {
  optima_v2::test::TempDir Dir;
  auto Path = Dir.path() / "log.txt";
  {
    Logger Log(rt::LogLevel::Debug, Path);
    std::vector<std::thread> Threads;
    for (int T = 0; T < 4; ++T)
      Threads.emplace_back([&, T] {
        for (int I = 0; I < 200; ++I)
          Log.logf(rt::LogLevel::Info, "thread {} line {} end", T, I);
      });
    for (auto &T : Threads)
      T.join();
  }
  std::istringstream In(readAll(Path));
  std::string Line;
  size_t N = 0;
  while (std::getline(In, Line)) {
    ++N;
    EXPECT_EQ(Line.substr(Line.size() - 4), " end") << Line;
  }
  EXPECT_EQ(N, 800u);
}

TEST(Logger, ContextOptionsAliasAndVerbosity) {
  optima_v2::test::TempDir Dir;
  rt::ContextOptions Options;
  Options.LogLevel = rt::LogLevel::Verbose; // the guide's spelling
  EXPECT_EQ(Options.Verbosity, rt::LogLevel::Verbose);
  Options.LogPath = Dir.path() / "runtime.log";
  Options.LoadDefaultExtensions = false;
  rt::Context C(Options);
  EXPECT_EQ(C.getVerbosity(), rt::LogLevel::Verbose);
  EXPECT_EQ(C.setVerbosity(rt::LogLevel::Error), rt::LogLevel::Verbose);
  EXPECT_EQ(C.getVerbosity(), rt::LogLevel::Error);
  // The Context logged its start-up at Verbose into the file.
  EXPECT_NE(readAll(Dir.path() / "runtime.log").find("[Verbose]"), std::string::npos);
}
