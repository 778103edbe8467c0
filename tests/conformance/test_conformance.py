"""CI job of the ONNX conformance run (tests/conformance/README.md).

Regression guard / ratchet: every case listed in ``expected_pass.txt`` (written by
``run.py --update`` from a full run) must still pass through ``optima_v2.testing.onnx_backend``;
the list names only existing, counted cases. By default every counted case runs (the full job:
about a minute or two on 2 cores) and cases passing now that the list lacks are printed (run
``--update`` to ratchet them in); ``OPTIMA_V2_CONFORMANCE=fast`` runs only the listed cases.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("onnx")
pytest.importorskip("optima_v2.runtime")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cases  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402

FULL = os.environ.get("OPTIMA_V2_CONFORMANCE", "full").lower() != "fast"


@pytest.fixture(scope="module")
def expected() -> list[str]:
    names = report.read_expected(run.EXPECTED_PASS)
    if not names:
        pytest.skip(f"{run.EXPECTED_PASS.name} lists no case")
    return names


def _infos() -> dict:
    return {name: info for kind in cases.KINDS for name, info in cases.case_infos(kind).items()}


def test_expected_list_names_counted_cases(expected):
    infos = _infos()
    unknown = [n for n in expected if n not in infos]
    excluded = [n for n in expected if n in infos and infos[n].excluded]
    assert not unknown, f"expected_pass.txt names cases onnx does not have: {unknown[:20]}"
    assert not excluded, f"expected_pass.txt names excluded cases: {excluded[:20]}"
    assert len(set(expected)) == len(expected), "expected_pass.txt lists a case twice"


def test_expected_cases_still_pass(expected, tmp_path):
    infos = _infos()
    names = [info.name for info in cases.select(kinds=cases.KINDS)] if FULL else expected
    jobs = int(os.environ.get("OPTIMA_V2_CONFORMANCE_JOBS", str(min(2, os.cpu_count() or 1))))
    env = {**run.worker_env(None), "TMPDIR": str(tmp_path)}
    kinds = {name: infos[name].kind for name in names}
    results = run.run_backend("optima", names, jobs, 120.0, env, verbose=False, kinds=kinds)
    regressions = [
        f"{name}: {results[name]['status']}: {results[name]['message'][:300]}"
        for name in expected
        if results[name]["status"] != "passed"
    ]
    print(f"\nconformance ({'full' if FULL else 'expected_pass.txt'}): {run.summarize(results)}")
    if FULL:
        new = sorted({n for n, r in results.items() if r["status"] == "passed"} - set(expected))
        if new:
            print(f"{len(new)} cases pass now but are not in expected_pass.txt (run run.py --update): {new[:30]}")
    assert not regressions, f"{len(regressions)} cases of expected_pass.txt no longer pass:\n" + "\n".join(regressions)
