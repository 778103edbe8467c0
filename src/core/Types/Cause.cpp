#include <OptimaV2/Runtime/Exception.h>

namespace optima_v2::runtime {

// The view stays valid as long as the exception object lives, which Error keeps alive.
std::string_view getCause(std::exception_ptr Error) noexcept {
  if (!Error)
    return "unknown cause";
  try {
    std::rethrow_exception(Error);
  } catch (const std::exception &E) {
    return E.what();
  } catch (const std::string &S) {
    return S;
  } catch (const char *S) {
    return S ? std::string_view(S) : std::string_view("unknown cause");
  } catch (...) {
  }
  return "unknown cause";
}

} // namespace optima_v2::runtime
