#include "core/Logging/Logger.h"

#include <OptimaV2/Runtime/Utils/ToString.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace optima_v2::runtime::detail {

Logger::Logger(LogLevel L, const std::filesystem::path &Path) : Level(static_cast<int32_t>(L)) {
  if (static_cast<int32_t>(L) < 0 || static_cast<int32_t>(L) > static_cast<int32_t>(LogLevel::Error))
    throwFormat<InvalidArgumentException>("ContextOptions.Verbosity: invalid log level {}",
                                          static_cast<int32_t>(L));
  if (Path.empty())
    return;
  File = std::fopen(Path.c_str(), "a");
  if (!File)
    throwFormat<InvalidArgumentException>("ContextOptions.LogPath: cannot open log file \"{}\": {}",
                                          Path.string(), std::strerror(errno));
}

Logger::~Logger() {
  if (File)
    std::fclose(File);
}

LogLevel Logger::setLevel(LogLevel NewLevel) noexcept {
  return static_cast<LogLevel>(Level.exchange(static_cast<int32_t>(NewLevel)));
}

void Logger::log(LogLevel L, std::string_view Message) noexcept {
  if (!enabled(L))
    return;
  // Timestamp with milliseconds, local time: "2024-05-01 12:00:00.123".
  auto Now = std::chrono::system_clock::now();
  std::time_t Seconds = std::chrono::system_clock::to_time_t(Now);
  auto Millis = std::chrono::duration_cast<std::chrono::milliseconds>(Now.time_since_epoch()).count() % 1000;
  std::tm Local{};
  localtime_r(&Seconds, &Local);
  char Stamp[32];
  std::strftime(Stamp, sizeof(Stamp), "%Y-%m-%d %H:%M:%S", &Local);
  std::string_view LevelName = toString(L);

  std::lock_guard<std::mutex> Lock(Mutex);
  std::FILE *Out = File ? File : stderr;
  std::fprintf(Out, "[%s.%03d] [OptimaV2] [%.*s] %.*s\n", Stamp, static_cast<int>(Millis),
               static_cast<int>(LevelName.size()), LevelName.data(), static_cast<int>(Message.size()),
               Message.data());
  std::fflush(Out);
}

} // namespace optima_v2::runtime::detail
