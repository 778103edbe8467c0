#include "core/Extension/ExtensionRegistry.h"

#include <OptimaV2/Runtime/Utils/ToString.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <system_error>

#ifndef OPTIMA_V2_EXTENSION_SUBDIR
#define OPTIMA_V2_EXTENSION_SUBDIR "extensions"
#endif

namespace fs = std::filesystem;

namespace optima_v2::runtime::detail {

fs::path ExtensionRegistry::defaultExtensionDir() {
  Dl_info Info{};
  // Any function of this library locates its file.
  if (!dladdr(reinterpret_cast<void *>(&ExtensionRegistry::defaultExtensionDir), &Info) || !Info.dli_fname)
    return {};
  std::error_code EC;
  fs::path Library = fs::weakly_canonical(fs::path(Info.dli_fname), EC);
  if (EC)
    Library = fs::path(Info.dli_fname);
  return Library.parent_path() / OPTIMA_V2_EXTENSION_SUBDIR;
}

void ExtensionRegistry::loadDefaults() {
  fs::path Dir = defaultExtensionDir();
  if (!Dir.empty())
    loadFolderOrFile(Dir, /*MissingIsQuiet=*/true);
  if (const char *Env = std::getenv("OPTIMA_V2_EXTENSION_PATH")) {
    std::string_view List(Env);
    while (!List.empty()) {
      size_t Colon = List.find(':');
      std::string_view Item = List.substr(0, Colon);
      if (!Item.empty())
        loadFolderOrFile(fs::path(std::string(Item)), /*MissingIsQuiet=*/false);
      if (Colon == std::string_view::npos)
        break;
      List.remove_prefix(Colon + 1);
    }
  }
}

void ExtensionRegistry::loadFolderOrFile(const fs::path &Path, bool MissingIsQuiet) {
  std::error_code EC;
  if (fs::is_directory(Path, EC)) {
    std::vector<fs::path> Files;
    for (fs::directory_iterator It(Path, EC), End; !EC && It != End; It.increment(EC)) {
      const fs::path &P = It->path();
      std::error_code FileEC;
      if (P.extension() == ".so" && fs::is_regular_file(P, FileEC))
        Files.push_back(P);
    }
    if (EC)
      Host->logger().logf(LogLevel::Warning, "cannot list extension folder {}: {}", Path.string(), EC.message());
    std::sort(Files.begin(), Files.end());
    for (const auto &F : Files)
      loadLogged(F);
    return;
  }
  if (!fs::exists(Path, EC)) {
    if (!MissingIsQuiet)
      Host->logger().logf(LogLevel::Warning, "OPTIMA_V2_EXTENSION_PATH: {} does not exist", Path.string());
    return;
  }
  loadLogged(Path);
}

void ExtensionRegistry::loadLogged(const fs::path &Path) {
  try {
    load(Path);
  } catch (const std::exception &E) {
    Host->logger().logf(LogLevel::Warning, "skipping extension {}: {}", Path.string(), E.what());
  }
}

bool ExtensionRegistry::load(const fs::path &Path) {
  if (Path.empty())
    throw std::invalid_argument("loadExtension: empty path");
  std::error_code EC;
  auto Status = fs::status(Path, EC);
  if (EC || !fs::exists(Status))
    throw std::invalid_argument(format("loadExtension: {} does not exist", Path.string()));
  if (!fs::is_regular_file(Status))
    throw std::invalid_argument(format("loadExtension: {} is not a regular file", Path.string()));
  fs::path Canonical = fs::canonical(Path, EC);
  if (EC)
    throw std::invalid_argument(format("loadExtension: cannot resolve {}: {}", Path.string(), EC.message()));

  // Held while loading so two threads cannot both add the same file or framework.
  std::lock_guard<std::mutex> Lock(Mutex);
  for (const auto &L : Libraries)
    if (L->path() == Canonical) {
      Host->logger().logf(LogLevel::Info, "extension {} is already loaded; ignored", Canonical.string());
      return false;
    }
  auto Lib = ExtensionLibrary::open(Canonical, Host);
  for (const auto &L : Libraries)
    if (L->framework() == Lib->framework())
      throwFormat<InvalidExtensionException>("extension {}: framework {} is already provided by {}",
                                             Canonical.string(), toString(Lib->framework()), L->describe());
  Libraries.push_back(std::move(Lib));
  return true;
}

std::shared_ptr<ExtensionLibrary> ExtensionRegistry::find(FrameworkKind Framework) const {
  std::lock_guard<std::mutex> Lock(Mutex);
  for (const auto &L : Libraries)
    if (L->framework() == Framework)
      return L;
  return nullptr;
}

std::vector<std::shared_ptr<ExtensionLibrary>> ExtensionRegistry::all() const {
  std::lock_guard<std::mutex> Lock(Mutex);
  return Libraries;
}

} // namespace optima_v2::runtime::detail
