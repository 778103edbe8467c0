// Keeps runtime threads out of the interpreter once it starts to exit.
//
// A thread that asks for the GIL while Python finalizes is ended by the interpreter
// (pthread_exit, a forced unwind through our frames). So an atexit handler, which runs before
// finalization while other threads can still run, closes the entrance and then waits, without the
// GIL, for the threads already on their way in to leave; a thread entering after that sees the
// entrance closed and skips its Python work.
#include "bindings.h"

#include <atomic>
#include <chrono>
#include <thread>

namespace optima_v2::python {

namespace {

std::atomic<bool> Closed{false};
std::atomic<int> Inside{0};

// A callback still running Python this long after exit began is left to its fate.
constexpr std::chrono::seconds MaxExitWait(5);

void closeEntrance() {
  Closed.store(true); // seq_cst, paired with PythonEntry's increment then load
  py::gil_scoped_release NoGil;
  const auto Deadline = std::chrono::steady_clock::now() + MaxExitWait;
  while (Inside.load() != 0 && std::chrono::steady_clock::now() < Deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

} // namespace

PythonEntry::PythonEntry() noexcept {
  // Count first, then look: closeEntrance either sees this thread counted or this thread sees it
  // closed (both operations are sequentially consistent).
  Inside.fetch_add(1);
  Allowed = !Closed.load() && !interpreterFinalizing();
}

PythonEntry::~PythonEntry() { Inside.fetch_sub(1); }

bool interpreterFinalizing() noexcept {
  if (Closed.load(std::memory_order_acquire))
    return true;
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

void registerInterpreterExit(py::module_ &) {
  py::module_::import("atexit").attr("register")(py::cpp_function(&closeEntrance));
}

} // namespace optima_v2::python
