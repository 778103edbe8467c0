"""``python -m optima_v2 --cmake-dir | --include-dir | --library-dir | --version``."""

from __future__ import annotations

import argparse
import sys

from . import __version__, get_cmake_dir, get_include_dir, get_library_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m optima_v2", description="Locate the OptimaV2 Runtime SDK bundled in this package."
    )
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--cmake-dir", action="store_true", help="directory to pass as CMAKE_PREFIX_PATH")
    group.add_argument("--include-dir", action="store_true", help="directory holding OptimaV2/Runtime.h")
    group.add_argument("--library-dir", action="store_true", help="directory holding libOptimaV2Runtime.so")
    group.add_argument("--version", action="store_true", help="package version")
    args = parser.parse_args(argv)
    try:
        if args.version:
            print(__version__)
        elif args.cmake_dir:
            print(get_cmake_dir())
        elif args.include_dir:
            print(get_include_dir())
        else:
            print(get_library_dir())
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
