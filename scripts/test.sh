#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what it needs (Debian's GoogleTest and a C++
# toolchain when missing, Python packages into ./.venv), builds the C++ library and tests, runs
# ctest, repeats ctest under ASan+UBSan and TSan (build/asan-ubsan, build/tsan), runs the fuzz
# smoke (build-fuzz, Debian's clang), builds and installs the wheel, runs pytest and the ONNX
# conformance job (tests/conformance), and checks the SDK from both install routes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${JOBS:-$(nproc)}

step() { printf '\n==> %s\n' "$*"; }

step "System packages"
need=()
[ -f /usr/include/gtest/gtest.h ] || need+=(libgtest-dev)
command -v g++ >/dev/null || need+=(g++)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}"
fi

step "Python environment (.venv)"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PY=$ROOT/.venv/bin/python
$PY -m pip install --quiet --upgrade pip
$PY -m pip install --quiet -r requirements-test.txt
export PATH=$ROOT/.venv/bin:$PATH

step "C++ build and ctest"
cmake -S . -B build/ci -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPTIMA_V2_WARNINGS_AS_ERRORS=ON
cmake --build build/ci -j "$JOBS"
ctest --test-dir build/ci --output-on-failure -j "$JOBS" --timeout 600

step "Sanitizers: ctest under ASan+UBSan, then under TSan, then pytest under ASan+UBSan (scripts/sanitize.sh)"
JOBS=$JOBS PYTHON=$PY bash scripts/sanitize.sh all

step "Fuzz smoke: each libFuzzer target ~60 s under ASan+UBSan (scripts/fuzz.sh; apt-installs clang)"
JOBS=$JOBS bash scripts/fuzz.sh smoke

step "Wheel and pytest"
$PY -m pip install --quiet .
OPTIMA_V2_TEST_ACCEL=$ROOT/build/ci/tests/extensions/liboptima_v2_test_accel.so $PY -m pytest -q tests/python

step "Atheris: the Python input path fuzzed ~60 s against the wheel, then ~60 s under ASan+UBSan (scripts/fuzz.sh python)"
PYTHON=$PY JOBS=$JOBS bash scripts/fuzz.sh python

step "ONNX conformance: onnx backend test cases (node + model suites) through the runtime; expected_pass.txt must still pass"
$PY -m pytest -q -s tests/conformance

step "SDK consumers (cmake --install and the wheel)"
bash tests/sdk/test_consumer.sh build/ci "$PY"

step "Lint"
$PY -m ruff check python tests/python examples benchmarks fuzz/python
# Types: the runtime package and the stub of its binding (_runtime.pyi), strict; the source tree is
# checked (the binding is typed by its stub), so this needs no build.
$PY -m mypy --strict python/optima_v2/runtime
$PY -m mypy python/optima_v2/model_folder python/optima_v2/profiling python/optima_v2/tools

echo; echo "All tests passed."
