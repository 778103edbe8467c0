"""OptimaV2: run models compiled into OptimaV2 model folders.

Subpackages:

* :mod:`optima_v2.runtime` -- the inference runtime (``import optima_v2.runtime as rt``).
* :mod:`optima_v2.model_folder` -- writer of model folders (used by tests and the compiler).

The wheel also carries the C++ SDK (headers, ``libOptimaV2Runtime.so``, bundled extensions and the
CMake package); the functions below locate it, e.g. for
``cmake -DCMAKE_PREFIX_PATH=$(python -m optima_v2 --cmake-dir)``.
"""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

__all__ = ["__version__", "get_cmake_dir", "get_include_dir", "get_library_dir"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def get_library_dir() -> Path:
    """Folder holding ``libOptimaV2Runtime.so`` (and ``extensions/``) inside the installed wheel."""
    for name in ("lib", "lib64"):
        candidate = _PACKAGE_DIR / name
        if any(candidate.glob("libOptimaV2Runtime.*")):
            return candidate
    raise FileNotFoundError(
        f"the OptimaV2 runtime library is not installed under {_PACKAGE_DIR} "
        "(this optima_v2 package does not come from the wheel)"
    )


def get_include_dir() -> Path:
    """Folder to add to the include path: it holds ``OptimaV2/Runtime.h``."""
    candidate = _PACKAGE_DIR / "include"
    if not (candidate / "OptimaV2" / "Runtime.h").is_file():
        raise FileNotFoundError(f"the OptimaV2 headers are not installed under {candidate}")
    return candidate


def get_cmake_dir() -> Path:
    """Folder holding ``OptimaV2-RuntimeConfig.cmake``.

    Pass it as ``CMAKE_PREFIX_PATH`` (or ``OptimaV2-Runtime_DIR``) so that
    ``find_package(OptimaV2-Runtime)`` finds the SDK bundled in the wheel.
    """
    candidate = get_library_dir() / "cmake" / "OptimaV2-Runtime"
    if not (candidate / "OptimaV2-RuntimeConfig.cmake").is_file():
        raise FileNotFoundError(f"the OptimaV2 CMake package is not installed under {candidate}")
    return candidate
