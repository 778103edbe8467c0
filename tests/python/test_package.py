"""The optima_v2 package and the SDK the wheel carries (headers, library, extensions, CMake package)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import optima_v2
import optima_v2.runtime as rt


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optima_v2", *args], capture_output=True, text=True, timeout=60)


def test_version_cli():
    assert optima_v2.__version__ == "0.1.0" == rt.__version__
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == "0.1.0"
    assert run_cli().returncode != 0  # an option is required


def test_runtime_exports_are_typed():
    assert (Path(optima_v2.__file__).parent / "py.typed").is_file()
    for name in rt.__all__:
        assert hasattr(rt, name), name


@pytest.fixture
def installed_sdk() -> Path:
    try:
        return optima_v2.get_library_dir()
    except FileNotFoundError:
        pytest.skip("optima_v2 is not installed from the wheel (build tree)")


def test_wheel_carries_the_sdk(installed_sdk):
    package = Path(optima_v2.__file__).resolve().parent
    lib = optima_v2.get_library_dir()
    assert lib.parent == package
    assert any(lib.glob("libOptimaV2Runtime.so*"))
    assert any((lib / "extensions").glob("*native*.so"))
    include = optima_v2.get_include_dir()
    assert include == package / "include"
    for header in ["OptimaV2/Runtime.h", "OptimaV2/Runtime/Context.h", "OptimaV2/Extension/Extension.h"]:
        assert (include / header).is_file(), header
    cmake = optima_v2.get_cmake_dir()
    for name in ["OptimaV2-RuntimeConfig.cmake", "OptimaV2-RuntimeConfigVersion.cmake"]:
        assert (cmake / name).is_file(), name
    assert any(cmake.glob("OptimaV2-RuntimeTargets*.cmake"))
    assert '"0.1.0"' in (cmake / "OptimaV2-RuntimeConfigVersion.cmake").read_text()
    assert Path(rt._runtime.__file__).parent == package / "runtime"
    # The runtime found its bundled extension next to the library.
    assert any(str(lib / "extensions") in text for text in rt.Context().loaded_extensions)
    result = run_cli("--cmake-dir")
    assert result.returncode == 0 and Path(result.stdout.strip()) == cmake
    assert Path(run_cli("--include-dir").stdout.strip()) == include
    assert Path(run_cli("--library-dir").stdout.strip()) == lib
