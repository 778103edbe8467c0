// Loading extensions: every way a file can fail to be an extension gets its own message, and a
// failed load leaves nothing behind.
#include "CoreTestUtil.h"
#include "TestModels.h"

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace rt = optima_v2::runtime;
namespace fs = std::filesystem;
using namespace optima_v2::coretest;

#define EXPECT_HAS(Text, Part) EXPECT_NE(std::string(Text).find(Part), std::string::npos) << (Text)

namespace {

rt::Context bareContext() {
  rt::ContextOptions O;
  O.LoadDefaultExtensions = false;
  O.Verbosity = rt::LogLevel::Error;
  O.ThreadCount = 1;
  return rt::Context(O);
}

std::string extensionError(rt::Context &C, const fs::path &Path) {
  return messageOf<rt::InvalidExtensionException>([&] { C.loadExtension(Path); });
}

bool isLoaded(const char *Path) {
  void *H = dlopen(Path, RTLD_NOW | RTLD_NOLOAD);
  if (H)
    dlclose(H);
  return H != nullptr;
}

} // namespace

TEST(ExtensionRegistry, BadPathsAreInvalidArguments) {
  optima_v2::test::TempDir Dir;
  auto C = bareContext();
  EXPECT_THROW(C.loadExtension(""), std::invalid_argument);
  EXPECT_THROW(C.loadExtension(Dir.path() / "missing.so"), std::invalid_argument);
  EXPECT_THROW(C.loadExtension(Dir.path()), std::invalid_argument);
}

TEST(ExtensionRegistry, FilesThatAreNotExtensions) {
  optima_v2::test::TempDir Dir;
  auto C = bareContext();
  writeFile(Dir.path() / "empty.so", "");
  EXPECT_HAS(extensionError(C, Dir.path() / "empty.so"), "cannot load:");
  EXPECT_HAS(extensionError(C, Dir.path() / "empty.so"), "empty.so");
  writeFile(Dir.path() / "text.so", "this is not an ELF file, just some text to fill the header area.......");
  EXPECT_HAS(extensionError(C, Dir.path() / "text.so"), "invalid ELF header"); // dlerror text
  EXPECT_HAS(extensionError(C, CORE_TEST_NO_ENTRY), "entry point optimaV2ExtensionInit not found");
  EXPECT_HAS(extensionError(C, CORE_TEST_WRONG_ABI), "ABI version 7 does not match the runtime's 1");
  EXPECT_HAS(extensionError(C, CORE_TEST_SMALL_TABLE), "table size 12 is smaller than the ABI v1 table");
  EXPECT_HAS(extensionError(C, CORE_TEST_INIT_FAILS), "failed (status 3): no device found on this machine");
  // A failed load closes the library again.
  EXPECT_FALSE(isLoaded(CORE_TEST_NO_ENTRY));
  EXPECT_FALSE(isLoaded(CORE_TEST_WRONG_ABI));
  EXPECT_FALSE(isLoaded(CORE_TEST_SMALL_TABLE));
  EXPECT_TRUE(C.getLoadedExtensions().empty());
  EXPECT_TRUE(C.getAvailableDevices().empty());
}

TEST(ExtensionRegistry, LoadsListsAndRejectsDuplicates) {
  {
    auto C = bareContext();
    C.loadExtension(CORE_TEST_EXT);
    ASSERT_TRUE(isLoaded(CORE_TEST_EXT));
    C.loadExtension(CORE_TEST_EXT); // same file again: ignored
    auto Names = C.getLoadedExtensions();
    ASSERT_EQ(Names.size(), 1u);
    EXPECT_HAS(Names[0], "coretest 1.0 (TFLite) at ");
    auto Devices = C.getAvailableDevices();
    ASSERT_EQ(Devices.size(), 2u);
    EXPECT_EQ(Devices[0].Kind, rt::DeviceKind::x64);
    EXPECT_EQ(Devices[0].Framework, rt::FrameworkKind::TFLite);
    EXPECT_EQ(Devices[0].Name, "CoreTest CPU");
    EXPECT_EQ(Devices[1].Kind, rt::DeviceKind::NVIDIA);
    EXPECT_EQ(Devices[1].Index, 0u);
    // Another file for the same framework.
    EXPECT_HAS(extensionError(C, CORE_TEST_EXT_DUP), "framework TFLite is already provided by coretest");
    EXPECT_FALSE(isLoaded(CORE_TEST_EXT_DUP));
  }
  // The Context is gone and nothing else used the extension: it is unloaded.
  EXPECT_FALSE(isLoaded(CORE_TEST_EXT));
}

TEST(ExtensionRegistry, EnvironmentPathSkipsBadOnesAndLoadsGoodOnes) {
  optima_v2::test::TempDir Dir;
  fs::copy_file(CORE_TEST_WRONG_ABI, Dir.path() / "a_wrong.so");
  fs::copy_file(CORE_TEST_EXT, Dir.path() / "b_good.so");
  writeFile(Dir.path() / "notes.txt", "not a library");
  std::string Env = Dir.path().string() + ":" + (Dir.path() / "missing.so").string() + "::" + CORE_TEST_SMALL_TABLE;
  setenv("OPTIMA_V2_EXTENSION_PATH", Env.c_str(), 1);
  auto LogPath = Dir.path() / "log.txt";
  rt::ContextOptions O;
  O.Verbosity = rt::LogLevel::Warning;
  O.LogPath = LogPath;
  O.ThreadCount = 1;
  {
    rt::Context C(O); // default extensions: must not throw
    bool HasGood = false;
    for (const auto &N : C.getLoadedExtensions())
      HasGood |= N.find("b_good.so") != std::string::npos;
    EXPECT_TRUE(HasGood);
  }
  unsetenv("OPTIMA_V2_EXTENSION_PATH");
  std::ifstream In(LogPath);
  std::string Log((std::istreambuf_iterator<char>(In)), std::istreambuf_iterator<char>());
  EXPECT_HAS(Log, "skipping extension");
  EXPECT_HAS(Log, "ABI version 7");
  EXPECT_HAS(Log, "table size 12");
  EXPECT_HAS(Log, "missing.so does not exist");
}

TEST(ExtensionRegistry, DefaultFolderIsNextToTheLibrary) {
  // The native extension is built into <libdir>/extensions; a default Context finds it.
  if (!fs::exists(fs::path(OPTIMA_V2_TEST_EXTENSION_DIR) / "liboptima_v2_native.so"))
    GTEST_SKIP() << "native extension not built";
  rt::ContextOptions O;
  O.Verbosity = rt::LogLevel::Error;
  rt::Context C(O);
  bool HasNative = false;
  for (const auto &D : C.getAvailableDevices())
    HasNative |= D.Framework == rt::FrameworkKind::Native && rt::isDeviceCPU(D.Kind);
  EXPECT_TRUE(HasNative);
}
