#include "core/Extension/ExtensionCall.h"

#include "core/Logging/Logger.h"

#include <cstring>

namespace optima_v2::runtime::detail {

std::string ExtError::text() const {
  const char *End = static_cast<const char *>(std::memchr(Message, '\0', sizeof(Message)));
  return std::string(Message, End ? static_cast<size_t>(End - Message) : sizeof(Message));
}

void throwStatus(int32_t Status, std::string_view Backend, std::string_view What, std::string_view Prefix,
                 const ExtError &Error) {
  std::string Text = Error.text();
  if (Text.empty())
    Text = format("{} failed with status {} and no message", What, Status);
  std::string Message = std::string(Prefix) + Text;
  switch (Status) {
  case OPTIMA_STATUS_INVALID_ARGUMENT:
    throw InvalidArgumentException(Message);
  case OPTIMA_STATUS_INVALID_MODEL:
    throw InvalidModelException(Message);
  case OPTIMA_STATUS_UNSUPPORTED:
    throw UnsupportedModelException(Message);
  case OPTIMA_STATUS_OUT_OF_RESOURCE:
    throw OutOfResourceException(Message);
  case OPTIMA_STATUS_EXECUTION_FAILED:
  case OPTIMA_STATUS_CANCELLED:
    throw InferException(Message);
  case OPTIMA_STATUS_INTERNAL:
    throw BackendException(format("{}: {}: internal error: {}", Backend, What, Message), std::string(Backend));
  default:
    throw BackendException(format("{}{}: {} returned unknown status {}: {}", Prefix, Backend, What, Status,
                                  Error.text().empty() ? "(no message)" : Error.text()),
                           std::string(Backend));
  }
}

void throwEscaped(std::string_view Backend, std::string_view What, std::string_view Prefix) {
  std::exception_ptr Escaped = std::current_exception();
  throw BackendException(format("{}{}: {} let a C++ exception escape: {}", Prefix, Backend, What, getCause(Escaped)),
                         std::string(Backend), Escaped);
}

void logEscaped(Logger *Log, std::string_view Backend, std::string_view What) noexcept {
  if (Log)
    Log->logf(LogLevel::Error, "{}: {} let a C++ exception escape: {}", Backend, What,
              getCause(std::current_exception()));
}

} // namespace optima_v2::runtime::detail
