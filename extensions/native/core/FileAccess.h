// Opening files of an untrusted subgraph folder: every file must resolve (after symlinks) to a
// regular file inside the folder. The weights are mapped read-only once and shared.
#pragma once

#include <cstddef>
#include <string>

namespace optima_v2::native {

// Read-only private mapping of a whole file; unmapped on destruction.
class MappedFile {
public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile &&Other) noexcept;
  MappedFile &operator=(MappedFile &&Other) noexcept;
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  const std::byte *data() const noexcept { return static_cast<const std::byte *>(Addr); }
  size_t size() const noexcept { return Size; }

  // Maps Fd's first Size bytes; throws NativeError(OUT_OF_RESOURCE) naming DisplayName.
  static MappedFile map(int Fd, size_t Size, const std::string &DisplayName);

  // Drops this process's resident copy of the whole pages inside [Data, Data + Bytes), a range
  // of this mapping (anything else is ignored). The bytes stay readable: a later read faults
  // them back in from the file. For weights a kernel copied into its own layout at load
  // (pre-packed), so the model does not keep both resident.
  void releasePages(const void *Data, size_t Bytes) const noexcept;

private:
  void *Addr = nullptr;
  size_t Size = 0;
};

// An open regular file inside the folder (closed on destruction).
class FolderFile {
public:
  FolderFile() = default;
  ~FolderFile();
  FolderFile(FolderFile &&Other) noexcept;
  FolderFile &operator=(FolderFile &&Other) noexcept;
  FolderFile(const FolderFile &) = delete;
  FolderFile &operator=(const FolderFile &) = delete;

  bool isOpen() const noexcept { return Fd >= 0; }
  int fd() const noexcept { return Fd; }
  size_t size() const noexcept { return Size; }
  // Whole content; throws NativeError(INVALID_MODEL) when it exceeds MaxBytes or a read fails.
  std::string readAll(size_t MaxBytes, const std::string &DisplayName) const;

  // Opens Name (a plain file name, no '/') inside the canonical folder. Returns a closed
  // FolderFile when the file does not exist and AllowMissing is set; otherwise throws
  // NativeError(INVALID_MODEL) naming Name: missing, a symlink leading outside, not a regular file.
  static FolderFile open(const std::string &CanonicalFolder, const std::string &Name,
                         bool AllowMissing);

private:
  int Fd = -1;
  size_t Size = 0;
};

// realpath() of a folder; throws NativeError(INVALID_MODEL) when it is not an existing folder.
std::string canonicalFolder(const std::string &Folder);

// True for a plain file name: non-empty, no '/', no NUL, not "." or "..".
bool isPlainFileName(const std::string &Name) noexcept;

} // namespace optima_v2::native
