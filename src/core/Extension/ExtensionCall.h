// The one wrapper every call into an extension goes through: no C++ exception comes back out of
// an extension unconverted, and every status code becomes the matching runtime exception.
#pragma once

#include <OptimaV2/Extension/Extension.h>
#include <OptimaV2/Runtime/Exception.h>

#include <string>
#include <string_view>

namespace optima_v2::runtime::detail {

class Logger;

// An OptimaExtError ready to pass to an extension (only the first byte is cleared: cheap).
struct ExtError : OptimaExtError {
  ExtError() noexcept {
    StructSize = sizeof(OptimaExtError);
    Message[0] = '\0';
  }
  // The message, bounded even when the extension forgot the terminator.
  std::string text() const;
};

// Throws the exception that Status maps to (see docs/extension-abi.md). Message is
// "<Prefix><extension message>", or says which call failed when the extension gave no message.
[[noreturn]] void throwStatus(int32_t Status, std::string_view Backend, std::string_view What,
                              std::string_view Prefix, const ExtError &Error);

// Turns an escaped C++ exception (the current one) into a BackendException.
[[noreturn]] void throwEscaped(std::string_view Backend, std::string_view What, std::string_view Prefix);

// Calls Fn(OptimaExtError*) -> OptimaStatus and throws on anything but OK. What names the entry
// point ("execute"); Prefix starts the message (e.g. the subgraph folder for loadSubgraph).
template <class F>
void callExtension(std::string_view Backend, std::string_view What, std::string_view Prefix, F &&Fn) {
  ExtError Error;
  int32_t Status;
  try {
    Status = static_cast<int32_t>(Fn(static_cast<OptimaExtError *>(&Error)));
  } catch (...) {
    throwEscaped(Backend, What, Prefix);
  }
  if (Status != OPTIMA_STATUS_OK)
    throwStatus(Status, Backend, What, Prefix, Error);
}

// For the void entry points (release, free, destroy, unload): an escaped exception is logged
// and swallowed, since these run from destructors.
template <class F> void callExtensionNoThrow(Logger *Log, std::string_view Backend, std::string_view What, F &&Fn) noexcept;

void logEscaped(Logger *Log, std::string_view Backend, std::string_view What) noexcept;

template <class F>
void callExtensionNoThrow(Logger *Log, std::string_view Backend, std::string_view What, F &&Fn) noexcept {
  try {
    Fn();
  } catch (...) {
    logEscaped(Log, Backend, What);
  }
}

} // namespace optima_v2::runtime::detail
