#pragma once

#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace optima_v2::runtime {

// Base of every exception the runtime throws for its own errors (std::invalid_argument and
// std::out_of_range are used where API.md says so).
class Exception : public std::runtime_error {
public:
  explicit Exception(const std::string &Message) : std::runtime_error(Message) {}
};

// A backend (extension) failed in a way that is its own fault: an internal error status, an
// unknown status code, or a C++ exception escaping an entry point.
class BackendException : public Exception {
public:
  BackendException(const std::string &Message, std::string BackendName = {},
                   std::exception_ptr Uncaught = nullptr)
      : Exception(Message), Backend(std::move(BackendName)), Uncaught(std::move(Uncaught)) {}
  const std::string &getBackendName() const noexcept { return Backend; }
  // The exception that escaped the backend, when there was one (else nullptr).
  std::exception_ptr getUncaughtException() const noexcept { return Uncaught; }

private:
  std::string Backend;
  std::exception_ptr Uncaught;
};

#define OPTIMA_RT_DECLARE_EXCEPTION(Name)                                                           \
  class Name : public Exception {                                                                  \
  public:                                                                                          \
    using Exception::Exception;                                                                    \
  }

OPTIMA_RT_DECLARE_EXCEPTION(InferException);
OPTIMA_RT_DECLARE_EXCEPTION(InitializationFailedException);
OPTIMA_RT_DECLARE_EXCEPTION(InvalidArgumentException);
OPTIMA_RT_DECLARE_EXCEPTION(InvalidExtensionException);
OPTIMA_RT_DECLARE_EXCEPTION(InvalidModelException);
OPTIMA_RT_DECLARE_EXCEPTION(InvalidOperationException);
OPTIMA_RT_DECLARE_EXCEPTION(OutOfResourceException);
OPTIMA_RT_DECLARE_EXCEPTION(UnsupportedModelException);

#undef OPTIMA_RT_DECLARE_EXCEPTION

// Message of the exception held by Error: what() of a std::exception, a thrown std::string or
// const char*; "unknown cause" otherwise (and for nullptr).
std::string_view getCause(std::exception_ptr Error) noexcept;

namespace detail {
inline void formatInto(std::ostringstream &Out, std::string_view Fmt) { Out << Fmt; }

template <class First, class... Rest>
void formatInto(std::ostringstream &Out, std::string_view Fmt, First &&Arg, Rest &&...Args) {
  auto Pos = Fmt.find("{}");
  if (Pos == std::string_view::npos) {
    Out << Fmt; // more arguments than placeholders: the extra ones are dropped
    return;
  }
  Out << Fmt.substr(0, Pos) << std::forward<First>(Arg);
  formatInto(Out, Fmt.substr(Pos + 2), std::forward<Rest>(Args)...);
}
} // namespace detail

// Builds the message by replacing each "{}" in Fmt with the next argument (streamed with <<).
template <class... Args> std::string format(std::string_view Fmt, Args &&...Arguments) {
  std::ostringstream Out;
  detail::formatInto(Out, Fmt, std::forward<Args>(Arguments)...);
  return Out.str();
}

template <class E, class... Args> [[noreturn]] void throwFormat(std::string_view Fmt, Args &&...Arguments) {
  throw E(format(Fmt, std::forward<Args>(Arguments)...));
}

} // namespace optima_v2::runtime
