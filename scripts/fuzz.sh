#!/usr/bin/env bash
# libFuzzer targets of fuzz/ (issue #9 item 3), built with Debian's clang under ASan+UBSan.
#   scripts/fuzz.sh build            configure + build build-fuzz (installs clang with apt if missing)
#   scripts/fuzz.sh smoke            build, then each target for FUZZ_SECONDS (default 60) from the seeds
#   scripts/fuzz.sh long [RUNS]      build, then each target for RUNS executions (default 1000000)
#   scripts/fuzz.sh run TARGET ARGS  one target by hand, with its dictionary and a copy of its seeds
#   scripts/fuzz.sh python [SECONDS] the Atheris target fuzz/python/fuzz_tensor_inputs.py (Python input
#                                    path), coverage-guided against the importable optima_v2 (PYTHON=
#                                    interpreter), then the same time under ASan+UBSan against
#                                    build/asan-ubsan/python when that tree has the module
# A crash, sanitizer report, leak, timeout (10 s) or out-of-memory (2 GiB) fails the run; the
# reproducer lands in build-fuzz/artifacts/. Summary lines start with "[ fuzz ]".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${JOBS:-$(nproc)}
TARGETS=(fuzz_model_meta fuzz_native_graph fuzz_model_folder)

have_clang() {
  command -v clang++ >/dev/null &&
    ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1
}

# Returns non-zero (without failing the caller) when clang cannot be had.
ensure_clang() {
  have_clang && return 0
  local SUDO=
  [ "$(id -u)" = 0 ] || SUDO=sudo
  command -v apt-get >/dev/null || return 1
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq clang libclang-rt-14-dev || return 1
  have_clang
}

build() {
  ensure_clang || { echo "fuzz.sh: clang with libFuzzer is not available" >&2; return 1; }
  cmake -S fuzz -B "$BUILD" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" -DCMAKE_C_FLAGS_DEBUG="-g -O1" \
    -DOPTIMA_V2_SANITIZE="address;undefined" \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" >/dev/null
  cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}"
}

seeds_of() {
  case $1 in
    fuzz_model_meta) echo fuzz/corpus/model_meta ;;
    fuzz_native_graph) echo fuzz/corpus/native_graph ;;
    fuzz_model_folder) echo fuzz/corpus/model_folder ;;
  esac
}

# run TARGET [libFuzzer args...]: a fresh working corpus seeded from the repository's seeds.
run() {
  local Target=$1; shift
  local Work=$BUILD/corpus-work/$Target
  mkdir -p "$Work" "$BUILD/artifacts"
  cp -n "$(seeds_of "$Target")"/* "$Work"/ 2>/dev/null || true
  export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=1:detect_leaks=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
  "$BUILD/$Target" -dict=fuzz/optima.dict -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$BUILD/artifacts/$Target-" "$@" "$Work"
}

# Runs every target with the given limit and prints one summary line each.
campaign() {
  local Failed=0
  for T in "${TARGETS[@]}"; do
    local Log=$BUILD/$T.log Start=$SECONDS
    if run "$T" "$@" >"$Log" 2>&1; then Status=ok; else Status=FAILED; Failed=1; fi
    local Runs
    Runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$Log" | grep -o '[0-9]*$' || echo "?")
    printf '[ fuzz ] %s: %s executions in %ds, %s (log %s)\n' "$T" "$Runs" $((SECONDS - Start)) "$Status" "$Log"
    [ $Status = ok ] || tail -40 "$Log"
  done
  return $Failed
}

# The Atheris target. With gcc's libasan preloaded, libFuzzer's coverage hooks resolve to ASan's
# stubs, so the ASan pass is an uninstrumented random run: it checks memory safety, the plain pass
# finds the paths.
python_fuzz() {
  local Py Seconds=${1:-${FUZZ_SECONDS:-60}} Failed=0
  Py=$(command -v "${PYTHON:-python3}")
  case $Py in /*) ;; *) Py=$ROOT/$Py ;; esac  # the target runs from its corpus folder
  local Work=$BUILD/corpus-work/python Log
  mkdir -p "$Work" "$BUILD/artifacts"
  Log=$BUILD/python.log
  if (cd "$Work/.." && "$Py" "$ROOT/fuzz/python/fuzz_tensor_inputs.py" -max_total_time="$Seconds" \
      -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/python-" "$Work") >"$Log" 2>&1; then
    Status=ok; else Status=FAILED; Failed=1; fi
  printf '[ fuzz ] atheris: %s executions in %ss, %s (log %s)\n' \
    "$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$Log" | grep -o '[0-9]*$' || echo '?')" "$Seconds" "$Status" "$Log"
  [ $Status = ok ] || tail -40 "$Log"
  local Asan=$ROOT/build/asan-ubsan/python
  if ls "$Asan"/optima_v2/runtime/_runtime*.so >/dev/null 2>&1; then
    Log=$BUILD/python-asan.log
    if PYTHONPATH=$Asan LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libstdc++.so)" \
        ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$Py" "$ROOT/fuzz/python/fuzz_tensor_inputs.py" -max_total_time="$Seconds" -print_final_stats=1 \
        -artifact_prefix="$BUILD/artifacts/python-asan-" >"$Log" 2>&1; then
      Status=ok; else Status=FAILED; Failed=1; fi
    printf '[ fuzz ] atheris under ASan+UBSan: %s executions in %ss, %s (log %s)\n' \
      "$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$Log" | grep -o '[0-9]*$' || echo '?')" "$Seconds" "$Status" "$Log"
    [ $Status = ok ] || tail -40 "$Log"
  fi
  return $Failed
}

case "${1:-smoke}" in
  build) build ;;
  smoke) build && campaign -max_total_time="${FUZZ_SECONDS:-60}" ;;
  long) build && campaign -runs="${2:-1000000}" ;;
  run) shift; run "$@" ;;
  python) python_fuzz "${2:-}" ;;
  *) echo "usage: $0 [build|smoke|long [RUNS]|run TARGET ARGS...|python [SECONDS]]" >&2; exit 2 ;;
esac
