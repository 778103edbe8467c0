#!/usr/bin/env bash
# Sanitizer runs: builds a CMakePresets.json preset and runs ctest under it; any sanitizer report
# fails the run (halt_on_error + abort_on_error; the UBSan build also uses
# -fno-sanitize-recover=undefined).
#   scripts/sanitize.sh asan-ubsan   whole ctest suite under AddressSanitizer + UBSan (+ LeakSanitizer)
#   scripts/sanitize.sh tsan         the ctest suite under ThreadSanitizer (TSAN_TESTS=<regex> to
#                                    run a subset; TSAN_TESTS=concurrency for the executor subset)
#   scripts/sanitize.sh pytest       tests/python against the Python module built in the ASan+UBSan
#                                    tree (libasan preloaded into the interpreter); needs PYTHON=
#                                    an interpreter with requirements-test.txt installed
#   scripts/sanitize.sh all          asan-ubsan, tsan, then pytest (default)
# Build folders: build/asan-ubsan and build/tsan. JOBS sets the parallelism (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}

# The whole suite runs under TSan by default (it costs ~30 s on 2 cores). The subset below is the
# part that exercises threads: the request executor (sync/async/callbacks/chaining), in-flight
# tracking, fault injection and lifetime under load, split (multi-subgraph) pipelines, the core
# graph executor, the thread pool and extension loading/unloading.
CONCURRENCY_TESTS='^(Request|BusyRequest|EmptyRequest|Callback|ChainedInference|InFlight|InFlightScope|FaultInjectionTest|FaultLifetimeTest|Placements/SplitModel|DiamondFixture|ThreadPool|ExtensionRegistry|NativeEndToEnd|AcceleratorDeviceTest|Devices/AcceleratorFallback|Context|ContextLoadModel|ContextLoadExtension)\.'

run_preset() {
  local Preset=$1; shift
  local Start=$SECONDS
  printf '\n==> sanitizer preset %s: configure + build\n' "$Preset"
  cmake --preset "$Preset" >/dev/null || return
  cmake --build --preset "$Preset" -j "$JOBS" || return
  local Built=$SECONDS
  printf '\n==> sanitizer preset %s: ctest %s\n' "$Preset" "$*"
  ctest --preset "$Preset" -j "$JOBS" "$@" || return
  printf '==> %s: build %ds, tests %ds\n' "$Preset" $((Built - Start)) $((SECONDS - Built))
}

# ASAN_OPTIONS / UBSAN_OPTIONS / TSAN_OPTIONS (fail on the first report, leak checking on) live in
# the test presets of CMakePresets.json, so `ctest --preset <name>` behaves the same by hand.
asan_ubsan() { run_preset asan-ubsan; }
tsan() {
  case "${TSAN_TESTS:-}" in
    '') run_preset tsan ;;
    concurrency) run_preset tsan -R "$CONCURRENCY_TESTS" ;;
    *) run_preset tsan -R "$TSAN_TESTS" ;;
  esac
}

# The interpreter is not instrumented, so the ASan runtime must be the first library loaded
# (LD_PRELOAD). Leak checking is off for this run only: CPython does not free its interned objects,
# module state and arenas at exit, so LeakSanitizer would report the interpreter itself; leaks of
# our code are checked by the ctest suite under the same preset, where LSan is on.
asan_pytest() {
  local Py=${PYTHON:-python3} Build=build/asan-ubsan Start=$SECONDS
  printf '\n==> pytest under ASan+UBSan (%s/python, libasan preloaded)\n' "$Build"
  cmake --preset asan-ubsan -DOPTIMA_V2_BUILD_PYTHON=ON -DPython_EXECUTABLE="$(command -v "$Py")" >/dev/null || return
  cmake --build "$Build" -j "$JOBS" || return
  # libstdc++ is preloaded too: the interpreter does not link it, and ASan must resolve the real
  # __cxa_throw when it starts, or the first C++ exception thrown by the module aborts.
  local Preload
  Preload="$("${CXX:-g++}" -print-file-name=libasan.so) $("${CXX:-g++}" -print-file-name=libstdc++.so)"
  PYTHONPATH=$Build/python OPTIMA_V2_TEST_ACCEL=$Build/tests/extensions/liboptima_v2_test_accel.so \
    LD_PRELOAD=$Preload ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$Py" -m pytest -q -p no:cacheprovider tests/python || return
  printf '==> pytest under ASan+UBSan: %ds\n' $((SECONDS - Start))
}

case "${1:-all}" in
  asan-ubsan) asan_ubsan ;;
  tsan) tsan ;;
  pytest) asan_pytest ;;
  # Each step returns its failure explicitly: inside an && list bash ignores `set -e`, so a failing
  # command would otherwise be masked by the next one.
  all) asan_ubsan && tsan && asan_pytest ;;
  *) echo "usage: $0 [asan-ubsan|tsan|pytest|all]" >&2; exit 2 ;;
esac
