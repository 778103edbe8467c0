// The Context's logger: level filter plus one sink (stderr or a file), safe from any thread.
#pragma once

#include <OptimaV2/Runtime/Exception.h>
#include <OptimaV2/Runtime/Logging/LogLevel.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string_view>

namespace optima_v2::runtime::detail {

class Logger {
public:
  // Empty Path = stderr. A file that cannot be opened -> InvalidArgumentException naming it.
  Logger(LogLevel Level, const std::filesystem::path &Path);
  ~Logger();
  Logger(const Logger &) = delete;
  Logger &operator=(const Logger &) = delete;

  LogLevel getLevel() const noexcept { return static_cast<LogLevel>(Level.load(std::memory_order_relaxed)); }
  LogLevel setLevel(LogLevel NewLevel) noexcept; // returns the previous level
  bool enabled(LogLevel L) const noexcept {
    return static_cast<int32_t>(L) >= Level.load(std::memory_order_relaxed);
  }

  void log(LogLevel L, std::string_view Message) noexcept;

  // Formats (see runtime::format) only when the level is enabled.
  template <class... Args> void logf(LogLevel L, std::string_view Fmt, Args &&...Arguments) noexcept {
    if (!enabled(L))
      return;
    try {
      log(L, format(Fmt, std::forward<Args>(Arguments)...));
    } catch (...) {
      // Logging never throws (out of memory while formatting drops the line).
    }
  }

private:
  std::atomic<int32_t> Level;
  std::mutex Mutex; // one line at a time, whole
  std::FILE *File = nullptr; // owned when logging to a file
};

} // namespace optima_v2::runtime::detail
