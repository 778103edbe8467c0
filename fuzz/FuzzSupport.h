// Helpers shared by the fuzz targets: a private scratch folder and whole-file writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace optima_v2::fuzz {

// A folder private to this process (on tmpfs when available), made once, removed at exit.
const std::filesystem::path &scratch();
void writeFile(const std::filesystem::path &Path, std::string_view Bytes);
// Splits Data at the first occurrence of Separator; the rest goes to Tail (empty when absent).
std::string_view splitAt(std::string_view &Data, std::string_view Separator);

} // namespace optima_v2::fuzz
