"""SDK consumer check (b): the C++ example builds and runs against the SDK inside the installed wheel."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "test_consumer.sh"


@pytest.mark.skipif(importlib.util.find_spec("optima_v2") is None, reason="optima_v2 wheel is not installed")
def test_example_builds_and_runs_against_the_wheel_sdk() -> None:
    result = subprocess.run(
        ["bash", str(SCRIPT), "-", sys.executable],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[wheel] OK" in result.stdout
