#!/usr/bin/env bash
# SDK consumer checks: builds examples/cpp (the guide's CMakeLists.txt and Sample.cpp) against
#   (a) the build tree installed with `cmake --install BUILD_DIR --prefix <temp>`, and
#   (b) the SDK inside an installed wheel (`PYTHON -m optima_v2 --cmake-dir`),
# runs Sample on the sample model (it checks its outputs against its own reference) and checks
# that the runtime it used, and the extensions that runtime loaded, come from that SDK.
#
#   tests/sdk/test_consumer.sh BUILD_DIR [PYTHON]     BUILD_DIR "-" skips (a); no PYTHON skips (b)
#
# Sample model: $OPTIMA_V2_SAMPLE_MODEL, else examples/sample_model, else one written by
# BUILD_DIR's optima_v2_write_sample_model.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-}
PYTHON=${2:-}
[ -n "$BUILD_DIR" ] || { echo "usage: $0 BUILD_DIR|- [PYTHON]" >&2; exit 2; }
[ "$BUILD_DIR" = - ] || BUILD_DIR=$(cd "$BUILD_DIR" && pwd)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/optima_v2_sdk.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
unset OPTIMA_V2_EXTENSION_PATH # only the SDK's own extensions may be found

GENERATOR=()
command -v ninja >/dev/null && GENERATOR=(-G Ninja)

fail() { echo "FAIL: $*" >&2; exit 1; }

find_model() {
  if [ -n "${OPTIMA_V2_SAMPLE_MODEL:-}" ]; then
    MODEL=$OPTIMA_V2_SAMPLE_MODEL
  elif [ -f "$ROOT/examples/sample_model/model.meta" ]; then
    MODEL=$ROOT/examples/sample_model
  elif [ "$BUILD_DIR" != - ] && [ -x "$BUILD_DIR/tests/cpp/api/optima_v2_write_sample_model" ]; then
    MODEL=$WORK/sample_model
    "$BUILD_DIR/tests/cpp/api/optima_v2_write_sample_model" "$MODEL"
  else
    fail "no sample model: set OPTIMA_V2_SAMPLE_MODEL or create examples/sample_model"
  fi
  MODEL=$(cd "$MODEL" && pwd)
}

# build_and_run NAME PREFIX ROOT: builds examples/cpp with CMAKE_PREFIX_PATH=PREFIX, runs Sample in
# a scratch folder and checks that its runtime library and extensions came from under ROOT.
build_and_run() {
  local name=$1 prefix=$2 root=$3
  local build=$WORK/build-$name run=$WORK/run-$name
  echo "==> [$name] configure and build examples/cpp against $prefix"
  cmake -S "$ROOT/examples/cpp" -B "$build" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" >"$WORK/$name-configure.log" 2>&1 ||
    { cat "$WORK/$name-configure.log"; fail "[$name] configure"; }
  cmake --build "$build" >"$WORK/$name-build.log" 2>&1 || { cat "$WORK/$name-build.log"; fail "[$name] build"; }

  local lib
  lib=$(ldd "$build/Sample" | awk '/libOptimaV2Runtime/ {print $3}')
  [ -n "$lib" ] || fail "[$name] Sample does not link libOptimaV2Runtime"
  lib=$(readlink -f "$lib")
  case "$lib" in "$(readlink -f "$root")"/*) ;; *) fail "[$name] Sample uses $lib, not the SDK under $root" ;; esac

  echo "==> [$name] run Sample $MODEL"
  mkdir -p "$run"
  (cd "$run" && "$build/Sample" "$MODEL") >"$WORK/$name-run.log" 2>&1 ||
    { cat "$WORK/$name-run.log"; fail "[$name] Sample exited with an error"; }
  cat "$WORK/$name-run.log"
  grep -q '^OK: ' "$WORK/$name-run.log" || fail "[$name] Sample did not report OK"

  # The native extension must be the SDK's own (found next to its runtime library).
  local ext
  ext=$(sed -n 's/^extension: .* at \(.*\)$/\1/p' "$WORK/$name-run.log" | head -n 1)
  [ -n "$ext" ] || fail "[$name] Sample loaded no extension"
  case "$(readlink -f "$ext")" in "$(readlink -f "$root")"/*) ;; *) fail "[$name] extension $ext is outside $root" ;; esac

  # Options.LogPath = "runtime.log" with Verbose: the log file exists and has messages.
  [ -s "$run/runtime.log" ] || fail "[$name] runtime.log is missing or empty"
  echo "==> [$name] OK"
}

find_model

if [ "$BUILD_DIR" != - ]; then
  PREFIX=$WORK/prefix
  echo "==> [install] cmake --install $BUILD_DIR --prefix $PREFIX"
  cmake --install "$BUILD_DIR" --prefix "$PREFIX" >"$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log"; fail "[install] cmake --install"; }
  for f in include/OptimaV2/Runtime.h include/OptimaV2/Runtime/Utils/StreamHelper.h; do
    [ -f "$PREFIX/$f" ] || fail "[install] $f not installed"
  done
  ls "$PREFIX"/lib*/cmake/OptimaV2-Runtime/OptimaV2-RuntimeConfig.cmake >/dev/null 2>&1 ||
    fail "[install] CMake package not installed"
  ls "$PREFIX"/lib*/extensions/liboptima_v2_native.so >/dev/null 2>&1 ||
    fail "[install] native extension not installed in <libdir>/extensions"
  build_and_run install "$PREFIX" "$PREFIX"
fi

if [ -n "$PYTHON" ]; then
  WHEEL_PREFIX=$("$PYTHON" -m optima_v2 --cmake-dir) || fail "[wheel] '$PYTHON -m optima_v2 --cmake-dir' failed"
  [ -d "$WHEEL_PREFIX" ] || fail "[wheel] --cmake-dir gave '$WHEEL_PREFIX', not a folder"
  # The SDK lives inside the package folder (the wheel's install prefix).
  WHEEL_ROOT=$("$PYTHON" -c 'import os, optima_v2; print(os.path.dirname(os.path.abspath(optima_v2.__file__)))') ||
    fail "[wheel] cannot import optima_v2 with $PYTHON"
  build_and_run wheel "$WHEEL_PREFIX" "$WHEEL_ROOT"
fi

echo "SDK consumer checks passed."
