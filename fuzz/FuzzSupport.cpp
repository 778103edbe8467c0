#include "FuzzSupport.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

namespace fs = std::filesystem;

namespace optima_v2::fuzz {

const fs::path &scratch() {
  static const fs::path Path = [] {
    fs::path Base = ::access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string Pattern = (Base / "optima_v2_fuzz_XXXXXX").string();
    if (!::mkdtemp(Pattern.data()))
      std::abort();
    static fs::path Made = Pattern;
    std::atexit([] {
      std::error_code EC;
      fs::remove_all(Made, EC);
    });
    return Made;
  }();
  return Path;
}

void writeFile(const fs::path &Path, std::string_view Bytes) {
  std::ofstream Out(Path, std::ios::binary | std::ios::trunc);
  Out.write(Bytes.data(), std::streamsize(Bytes.size()));
  if (!Out)
    std::abort(); // the harness itself failed: not a finding
}

std::string_view splitAt(std::string_view &Data, std::string_view Separator) {
  size_t At = Data.find(Separator);
  std::string_view Head = Data.substr(0, At);
  Data = At == std::string_view::npos ? std::string_view() : Data.substr(At + Separator.size());
  return Head;
}

} // namespace optima_v2::fuzz
