#include "core/Model/ModelPaths.h"

#include <OptimaV2/Runtime/Exception.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace fs = std::filesystem;

namespace optima_v2::runtime::detail {

bool isInside(const fs::path &Root, const fs::path &Path) {
  auto R = Root.begin(), P = Path.begin();
  for (; R != Root.end(); ++R, ++P) {
    if (R->empty() && std::next(R) == Root.end())
      break; // trailing separator of Root
    if (P == Path.end() || *R != *P)
      return false;
  }
  return true;
}

fs::path resolveInside(const fs::path &Root, const std::string &Relative, const std::string &Field) {
  if (Relative.empty())
    throwFormat<InvalidModelException>("{}: path is empty", Field);
  if (Relative.find('\0') != std::string::npos)
    throwFormat<InvalidModelException>("{}: path contains a NUL byte", Field);
  fs::path Rel(Relative);
  if (Rel.is_absolute() || Relative.front() == '/')
    throwFormat<InvalidModelException>("{}: path \"{}\" is absolute; it must be relative to the model folder",
                                       Field, Relative);
  for (const auto &Part : Rel)
    if (Part == "..")
      throwFormat<InvalidModelException>("{}: path \"{}\" contains \"..\"", Field, Relative);
  std::error_code EC;
  fs::path Resolved = fs::weakly_canonical(Root / Rel, EC);
  if (EC)
    throwFormat<InvalidModelException>("{}: cannot resolve path \"{}\": {}", Field, Relative, EC.message());
  if (!isInside(Root, Resolved))
    throwFormat<InvalidModelException>("{}: path \"{}\" leads outside the model folder (to {})", Field, Relative,
                                       Resolved.string());
  return Resolved;
}

std::string readBoundedFile(const fs::path &Path, const std::string &File, uint64_t MaxBytes) {
  std::error_code EC;
  auto Status = fs::status(Path, EC);
  if (EC || !fs::exists(Status))
    throwFormat<InvalidModelException>("{}: file not found in {}", File, Path.parent_path().string());
  if (!fs::is_regular_file(Status))
    throwFormat<InvalidModelException>("{}: not a regular file", File);
  uint64_t Size = fs::file_size(Path, EC);
  if (EC)
    throwFormat<InvalidModelException>("{}: cannot get the file size: {}", File, EC.message());
  if (Size > MaxBytes)
    throwFormat<InvalidModelException>("{}: file is {} bytes, more than the limit of {} bytes", File, Size, MaxBytes);
  std::ifstream In(Path, std::ios::binary);
  if (!In)
    throwFormat<InvalidModelException>("{}: cannot open: {}", File, std::strerror(errno));
  std::string Text(static_cast<size_t>(Size), '\0');
  In.read(Text.data(), static_cast<std::streamsize>(Size));
  if (static_cast<uint64_t>(In.gcount()) != Size)
    throwFormat<InvalidModelException>("{}: cannot read the whole file ({} of {} bytes)", File, In.gcount(), Size);
  return Text;
}

} // namespace optima_v2::runtime::detail
