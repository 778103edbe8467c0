#include "FileAccess.h"

#include "OptimaV2/Native/NativeGraph.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace optima_v2::native {

namespace {
[[noreturn]] void invalid(const std::string &Message) {
  throw NativeError(OPTIMA_STATUS_INVALID_MODEL, Message);
}

std::string realPath(const std::string &Path, int &Errno) {
  char *R = ::realpath(Path.c_str(), nullptr);
  if (!R) {
    Errno = errno;
    return {};
  }
  std::string S(R);
  std::free(R);
  Errno = 0;
  return S;
}
} // namespace

MappedFile::~MappedFile() {
  if (Addr)
    ::munmap(Addr, Size);
}

MappedFile::MappedFile(MappedFile &&Other) noexcept : Addr(Other.Addr), Size(Other.Size) {
  Other.Addr = nullptr;
  Other.Size = 0;
}

MappedFile &MappedFile::operator=(MappedFile &&Other) noexcept {
  if (this != &Other) {
    if (Addr)
      ::munmap(Addr, Size);
    Addr = Other.Addr;
    Size = Other.Size;
    Other.Addr = nullptr;
    Other.Size = 0;
  }
  return *this;
}

void MappedFile::releasePages(const void *Data, size_t Bytes) const noexcept {
  auto Begin = reinterpret_cast<uintptr_t>(Data), Base = reinterpret_cast<uintptr_t>(Addr);
  if (!Addr || Begin < Base || Bytes > Size || Begin - Base > Size - Bytes)
    return; // not (wholly) inside this mapping: never madvise memory we do not own
  long Page = ::sysconf(_SC_PAGESIZE);
  if (Page <= 0)
    return;
  uintptr_t P = uintptr_t(Page);
  uintptr_t First = (Begin + P - 1) / P * P, Last = (Begin + Bytes) / P * P;
  if (Last > First) // a private read-only file mapping: dropped pages re-read the file
    ::madvise(reinterpret_cast<void *>(First), Last - First, MADV_DONTNEED);
}

MappedFile MappedFile::map(int Fd, size_t Size, const std::string &DisplayName) {
  MappedFile M;
  if (Size == 0)
    return M;
  void *A = ::mmap(nullptr, Size, PROT_READ, MAP_PRIVATE, Fd, 0);
  if (A == MAP_FAILED)
    throw NativeError(OPTIMA_STATUS_OUT_OF_RESOURCE,
                      DisplayName + ": cannot map: " + std::strerror(errno));
  M.Addr = A;
  M.Size = Size;
  return M;
}

FolderFile::~FolderFile() {
  if (Fd >= 0)
    ::close(Fd);
}

FolderFile::FolderFile(FolderFile &&Other) noexcept : Fd(Other.Fd), Size(Other.Size) {
  Other.Fd = -1;
}

FolderFile &FolderFile::operator=(FolderFile &&Other) noexcept {
  if (this != &Other) {
    if (Fd >= 0)
      ::close(Fd);
    Fd = Other.Fd;
    Size = Other.Size;
    Other.Fd = -1;
  }
  return *this;
}

std::string FolderFile::readAll(size_t MaxBytes, const std::string &DisplayName) const {
  if (Size > MaxBytes)
    invalid(DisplayName + ": file is " + std::to_string(Size) + " bytes, more than the limit of " +
            std::to_string(MaxBytes));
  std::string Text(Size, '\0');
  size_t Done = 0;
  while (Done < Size) {
    ssize_t N = ::pread(Fd, Text.data() + Done, Size - Done, off_t(Done));
    if (N < 0 && errno == EINTR)
      continue;
    if (N < 0)
      invalid(DisplayName + ": cannot read: " + std::strerror(errno));
    if (N == 0)
      invalid(DisplayName + ": file shrank while being read");
    Done += size_t(N);
  }
  return Text;
}

bool isPlainFileName(const std::string &Name) noexcept {
  return !Name.empty() && Name != "." && Name != ".." && Name.find('/') == std::string::npos &&
         Name.find('\0') == std::string::npos;
}

FolderFile FolderFile::open(const std::string &CanonicalFolder, const std::string &Name,
                            bool AllowMissing) {
  if (!isPlainFileName(Name))
    invalid(Name + ": not a plain file name inside the subgraph folder");
  std::string Path = CanonicalFolder + "/" + Name;
  struct stat Link;
  if (::lstat(Path.c_str(), &Link) != 0) {
    if (errno == ENOENT && AllowMissing)
      return FolderFile();
    invalid(Name + ": cannot open: " + std::strerror(errno));
  }
  // Resolve symlinks and require the target to stay inside the folder.
  int Errno = 0;
  std::string Real = realPath(Path, Errno);
  if (Real.empty()) {
    if (S_ISLNK(Link.st_mode))
      invalid(Name + ": symbolic link to a missing file");
    invalid(Name + ": cannot open: " + std::strerror(Errno));
  }
  if (Real.compare(0, CanonicalFolder.size() + 1, CanonicalFolder + "/") != 0)
    invalid(Name + ": symbolic link leading outside the subgraph folder");
  // O_NOFOLLOW: the resolved path must not have been swapped for a symlink since. O_NONBLOCK: a
  // FIFO (or device) planted in the folder must not block the open; it is refused just below.
  int Fd = ::open(Real.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (Fd < 0)
    invalid(Name + ": cannot open: " + std::strerror(errno));
  FolderFile F;
  F.Fd = Fd;
  struct stat St;
  if (::fstat(Fd, &St) != 0)
    invalid(Name + ": cannot stat: " + std::strerror(errno));
  if (!S_ISREG(St.st_mode))
    invalid(Name + ": not a regular file");
  F.Size = size_t(St.st_size);
  return F;
}

std::string canonicalFolder(const std::string &Folder) {
  int Errno = 0;
  std::string Real = realPath(Folder, Errno);
  if (Real.empty())
    invalid("subgraph folder \"" + Folder + "\": " + std::strerror(Errno));
  struct stat St;
  if (::stat(Real.c_str(), &St) != 0 || !S_ISDIR(St.st_mode))
    invalid("subgraph folder \"" + Folder + "\": not a folder");
  return Real == "/" ? std::string() : Real;
}

} // namespace optima_v2::native
