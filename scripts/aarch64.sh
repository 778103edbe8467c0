#!/usr/bin/env bash
# The native backend's tests on AArch64 from an x86-64 machine: cross-builds the C++ library and
# the native test binary with Debian's aarch64 GCC (GoogleTest built from Debian's source package
# for the target) and runs it under qemu-user, where the NEON microkernel is the active GEMM.
# Installs g++-aarch64-linux-gnu, qemu-user and libgtest-dev when missing. Not part of .ci/run
# (about 5 minutes on 2 cores with the packages installed: the CI budget); run it after touching
# core/gemm or the kernels.
#   scripts/aarch64.sh [gtest filter]     default: every native test
# Build folder: build/aarch64 (its own GoogleTest in build/aarch64/gtest-prefix).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${JOBS:-$(nproc)}
FILTER=${1:-*}
OUT=$ROOT/build/aarch64
SYSROOT=/usr/aarch64-linux-gnu

need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
[ -d /usr/src/googletest ] || need+=(libgtest-dev)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${need[@]}"
fi

mkdir -p "$OUT"
cat > "$OUT/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH $SYSROOT $OUT/gtest-prefix)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;$SYSROOT)
EOF

if [ ! -f "$OUT/gtest-prefix/lib/cmake/GTest/GTestConfig.cmake" ]; then
  cmake -S /usr/src/googletest -B "$OUT/gtest" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$OUT/toolchain.cmake" -DCMAKE_INSTALL_PREFIX="$OUT/gtest-prefix" \
    -DBUILD_GMOCK=OFF >/dev/null
  cmake --build "$OUT/gtest" -j "$JOBS"
  cmake --install "$OUT/gtest" >/dev/null
fi

cmake -S . -B "$OUT/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_TOOLCHAIN_FILE="$OUT/toolchain.cmake" -DOPTIMA_V2_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build "$OUT/build" -j "$JOBS" --target optima_v2_native_tests
# The binary must say it runs the NEON kernel, then every test must pass.
qemu-aarch64 -L "$SYSROOT" "$OUT/build/tests/cpp/native/optima_v2_native_tests" \
  --gtest_filter='NativeSgemm.IsaSelection' --gtest_brief=1
qemu-aarch64 -L "$SYSROOT" "$OUT/build/tests/cpp/native/optima_v2_native_tests" \
  --gtest_filter="$FILTER" --gtest_brief=1
