#!/usr/bin/env python3
"""Run onnx's node test cases (BackendTest) through our backend or ONNX Runtime; see README.md.

    python tests/conformance/run.py --build build-ops-X --ops Gather,Scatter -v
    python tests/conformance/run.py --backend ort --json /tmp/ort.json
    python tests/conformance/run.py --backend both --json out.json --report docs/conformance.md --update

Each case runs in a worker process (``--jobs`` of them); a worker that crashes or runs past
``--timeout`` seconds fails that case and is replaced, so a crashing kernel costs one case, not
the run.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import select
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EXPECTED_PASS = HERE / "expected_pass.txt"
BACKENDS = ("optima", "ort")


# --- worker side -------------------------------------------------------------------------------
def _backend(name: str) -> tuple[Any, tuple[type[BaseException], ...]]:
    if name == "optima":
        from optima_v2.testing.onnx_backend import BackendRefusal, OptimaBackend

        return OptimaBackend, (BackendRefusal,)
    from ort_backend import OrtBackend, OrtRefusal

    return OrtBackend, (OrtRefusal,)


def worker(backend_name: str) -> int:
    """Read case names on stdin, answer one JSON line per case on stdout."""
    import warnings

    warnings.simplefilter("ignore")
    sys.path.insert(0, str(HERE))
    import cases
    from harness import NodeCaseRunner, run_case

    backend, refusals = _backend(backend_name)
    out = sys.stdout
    sys.stdout = sys.stderr  # anything a backend prints must not break the protocol
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        kind, name = line.split()
        test_class = NodeCaseRunner(backend, [cases.all_cases(kind)[name]]).test_case_class()
        record = run_case(test_class, name, refusals)
        out.write(json.dumps({"name": name, **record}) + "\n")
        out.flush()
    return 0


# --- parent side -------------------------------------------------------------------------------
class Worker:
    """One worker process; ``ask`` returns its JSON answer, or None when it died or timed out."""

    def __init__(self, backend: str, env: dict[str, str]) -> None:
        self.log = tempfile.TemporaryFile(mode="w+b")  # the worker's stderr, for the crash message
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", backend],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=env,
            text=True,
            bufsize=1,
        )
        self.buffer = ""
        self.closed = False  # the worker closed its output: it died
        if self._read_line(600) != "ready":
            self.kill()
            raise RuntimeError(f"the {backend} worker did not start: {self.last_error_line() or self.death()}")

    def _read_line(self, timeout: float) -> Optional[str]:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while "\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 65536).decode("utf-8", "replace")
            if not chunk:
                self.closed = True
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split("\n", 1)
        return line.strip()

    def ask(self, kind: str, name: str, timeout: float) -> Optional[dict[str, Any]]:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(f"{kind} {name}\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            return None
        line = self._read_line(timeout)
        return json.loads(line) if line else None

    def death(self) -> str:
        code = self.process.poll()
        if code is None:
            return "still running"
        return f"killed by signal {-code}" if code < 0 else f"exited with status {code}"

    def last_error_line(self) -> str:
        self.log.seek(0, os.SEEK_END)
        size = self.log.tell()
        self.log.seek(max(0, size - 4096))
        lines = [x for x in self.log.read().decode("utf-8", "replace").splitlines() if x.strip()]
        return lines[-1].strip()[:300] if lines else ""

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def run_backend(
    backend: str,
    names: list[str],
    jobs: int,
    timeout: float,
    env: dict[str, str],
    verbose: bool,
    kinds: Optional[dict[str, str]] = None,
) -> dict[str, dict[str, Any]]:
    """Run the named cases (suite of each from ``kinds``, default node) in ``jobs`` workers."""
    kinds = kinds or {}
    todo: queue.Queue[str] = queue.Queue()
    for name in names:
        todo.put(name)
    results: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def loop() -> None:
        current: Optional[Worker] = None
        try:
            while True:
                try:
                    name = todo.get_nowait()
                except queue.Empty:
                    break
                if current is None:
                    current = Worker(backend, env)
                start = time.perf_counter()
                answer = current.ask(kinds.get(name, "node"), name, timeout)
                if answer is None:
                    timed_out = not current.closed
                    if current.closed:
                        try:
                            current.process.wait(timeout=10)
                        except subprocess.TimeoutExpired:
                            pass
                    current.kill()
                    why = f"timed out after {timeout:g} s" if timed_out else current.death()
                    last = current.last_error_line()
                    why += f" ({last})" if last else ""
                    answer = {"name": name, "status": "failed", "message": f"worker {why}",
                              "seconds": round(time.perf_counter() - start, 3)}  # fmt: skip
                    current = None
                with lock:
                    results[name] = answer
                    if verbose:
                        status = answer["status"].upper()
                        tail = f"  {answer['message'][:300]}" if answer["status"] != "passed" else ""
                        print(f"[{backend}] {status:7} {name}{tail}", flush=True)
        except BaseException as error:
            errors.append(error)
        finally:
            if current is not None:
                current.kill()

    threads = [threading.Thread(target=loop) for _ in range(max(1, min(jobs, len(names))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def worker_env(build: Optional[str]) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(HERE)]
    if build:
        package = Path(build).resolve() / "python"
        if not (package / "optima_v2" / "runtime").is_dir():
            raise SystemExit(
                f"--build {build}: no {package}/optima_v2/runtime (build with -DOPTIMA_V2_BUILD_PYTHON=ON)"
            )
        _warn_stale(package / "optima_v2")
        paths.append(str(package))
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _warn_stale(built: Path) -> None:
    """The build tree holds copies of python/optima_v2: say when they are older than the sources."""
    source = REPO / "python" / "optima_v2"
    stale = []
    for path in source.rglob("*.py"):
        copy = built / path.relative_to(source)
        if not copy.exists() or copy.read_bytes() != path.read_bytes():
            stale.append(str(path.relative_to(REPO)))
    if stale:
        print(
            f"warning: {len(stale)} Python files in {built} differ from the sources (e.g. {stale[0]}); "
            f"run: ninja -C {built.parents[1]} optima_v2_python_package",
            file=sys.stderr,
        )


def summarize(results: dict[str, dict[str, Any]]) -> str:
    counts = Counter(r["status"] for r in results.values())
    total = len(results)
    passed = counts.get("passed", 0)
    percent = 100.0 * passed / total if total else 0.0
    return (
        f"{passed} passed, {counts.get('failed', 0)} failed, {counts.get('refused', 0)} refused "
        f"of {total} ({percent:.1f} % passed)"
    )


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", help="only cases whose graph has one of these ops (comma-separated, any node)")
    parser.add_argument("-k", "--cases", action="append", help="only cases whose name matches this regex (repeatable)")
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="optima")
    parser.add_argument(
        "--kind",
        default="node",
        help="onnx suites, comma-separated: node (default), pytorch-converted, pytorch-operator, simple; or all",
    )
    parser.add_argument("--build", help="build folder whose python/ holds optima_v2 (default: PYTHONPATH / installed)")
    parser.add_argument("-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case before it counts as failed")
    parser.add_argument("--json", help="write every case's result here (input of report.py)")
    parser.add_argument(
        "--report", help="write the markdown report here (e.g. docs/conformance.md); needs --backend both"
    )
    parser.add_argument(
        "--update", action="store_true", help=f"rewrite {EXPECTED_PASS.name} with the cases passing now"
    )
    parser.add_argument("--allow-regressions", action="store_true", help="let --update drop listed cases that fail now")
    parser.add_argument("--list", action="store_true", help="print the selected cases and their ops, run nothing")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each case's outcome as it finishes")
    parser.add_argument("--worker", choices=BACKENDS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker)

    sys.path.insert(0, str(HERE))
    import cases
    import report

    start = time.perf_counter()
    ops = {o.strip() for o in args.ops.split(",") if o.strip()} if args.ops else None
    kinds = cases.KINDS if args.kind == "all" else tuple(k.strip() for k in args.kind.split(",") if k.strip())
    unknown = [k for k in kinds if k not in cases.KINDS]
    if unknown:
        parser.error(f"--kind: unknown {unknown} (known: {', '.join(cases.KINDS)})")
    selected = cases.select(ops, args.cases, kinds)
    if args.list:
        for info in selected:
            print(f"{info.name}  [{info.op}] ({info.kind})  ops: {', '.join(sorted(info.ops))}")
        print(f"{len(selected)} cases")
        return 0
    if not selected:
        print("no case matches", file=sys.stderr)
        return 2
    if args.update and (ops or args.cases or args.backend == "ort" or set(kinds) != set(cases.KINDS)):
        parser.error("--update needs the full run of our backend (--kind all, no --ops / -k, not --backend ort)")
    if args.report and args.backend != "both":
        parser.error("--report needs --backend both (the report has both columns)")
    env = worker_env(args.build)
    scratch = tempfile.TemporaryDirectory(prefix="optima_v2_conformance_")  # what killed workers leave
    env["TMPDIR"] = scratch.name
    names = [info.name for info in selected]
    kind_of = {info.name: info.kind for info in selected}
    backends = list(BACKENDS) if args.backend == "both" else [args.backend]
    results: dict[str, dict[str, dict[str, Any]]] = {}
    timings: dict[str, float] = {}
    for backend in backends:
        began = time.perf_counter()
        try:
            results[backend] = run_backend(backend, names, args.jobs, args.timeout, env, args.verbose, kind_of)
        except RuntimeError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        timings[backend] = time.perf_counter() - began
        print(f"{backend}: {summarize(results[backend])} in {timings[backend]:.0f} s")
    if not args.verbose:
        for backend in backends:
            for name in names:
                record = results[backend][name]
                if record["status"] != "passed":
                    print(f"[{backend}] {record['status'].upper():7} {name}  {record['message'][:300]}")
    infos = {name: info for kind in kinds for name, info in cases.case_infos(kind).items()}
    document = report.build_document(infos, results, timings, args.jobs)
    if args.json:
        Path(args.json).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    if args.report:
        Path(args.report).write_text(report.markdown(document), encoding="utf-8")
        print(f"wrote {args.report}")
    if args.update:
        passing = sorted(n for n, r in results.get("optima", {}).items() if r["status"] == "passed")
        dropped = sorted(set(report.read_expected(EXPECTED_PASS)) - set(passing))
        if dropped and not args.allow_regressions:
            print(
                f"not updating {EXPECTED_PASS.name}: {len(dropped)} listed cases no longer pass "
                f"({', '.join(dropped[:20])}); fix them or pass --allow-regressions",
                file=sys.stderr,
            )
            return 1
        report.write_expected(EXPECTED_PASS, passing)
        print(f"wrote {EXPECTED_PASS.relative_to(REPO)}: {len(passing)} cases ({len(dropped)} dropped)")
    scratch.cleanup()
    print(f"total {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
