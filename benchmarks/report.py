"""docs/performance.md from the suite's results JSON: the template is this module; the prose about
misses comes from benchmarks/analysis.md, included verbatim so it survives regeneration.

``render(results, analysis)`` is the whole file; ``tables(results)`` only the measured tables
(what run_suite.py prints when it writes no docs).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

import call_overhead

RUNTIME_NAMES = {"optima": "optima-v2", "ort": "ONNX Runtime", "openvino": "OpenVINO"}
CONFIG_TITLES = {
    "latency_1t": "Latency, 1 thread",
    "latency_all": "Latency, all cores",
}

COMMANDS = """\
```bash
# once: a Release build with the Python module and the C++ benchmark programs, and the
# benchmark-only packages (ONNX Runtime, OpenVINO; never runtime dependencies)
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DOPTIMA_V2_BUILD_PYTHON=ON \\
  -DOPTIMA_V2_BUILD_TESTS=OFF -DOPTIMA_V2_BUILD_BENCHMARKS=ON -DPython_EXECUTABLE=.venv-python/bin/python
cmake --build build-bench -j2
.venv-python/bin/pip install -r requirements-bench.txt

# everything: benchmarks/results/latest.json and this file (about {minutes} min on this machine)
.venv-python/bin/python benchmarks/run_suite.py

# smoke run (< 3 min; writes benchmarks/results/quick.json, not this file)
.venv-python/bin/python benchmarks/run_suite.py --quick
# a subset (writes benchmarks/results/partial.json)
.venv-python/bin/python benchmarks/run_suite.py --models resnet18,bert --runtimes optima,ort
# this file again from latest.json, e.g. after editing benchmarks/analysis.md
.venv-python/bin/python benchmarks/run_suite.py --report-only
```

`--build DIR` picks another build tree (default `build-bench`: its `python/` goes on the
children's `PYTHONPATH`, its `benchmarks/` holds the C++ helpers); `--workdir DIR` keeps the
generated ONNX files and compiled model folders."""

METHOD = """\
- **Models** (`benchmarks/models.py`, onnx.helper + numpy, fixed seeds, opset 17, IR 8, float32,
  static shapes): laid out as PyTorch exports them — Linear as `Gemm(transB=1)`, every Conv
  followed by `BatchNormalization`, ReLU6 as `Clip(x, 0, 6)`, GELU as
  `x * 0.5 * (1 + Erf(x / sqrt 2))`, attention as MatMul/Reshape/Transpose/Div/Softmax,
  `LayerNormalization` (opset 17). The BERT-style encoder takes float embeddings `1x128x384`
  (no Gather, no mask). Weights are random (He-style scale); the input is standard normal
  (seed 1234), identical for all runtimes.
- **optima-v2**: compiled once with `optima_v2.compiler.compile_onnx` (its time is the
  *compile* column, not load time); `rt.Context(thread_count=N, enable_profile=False)`;
  one request, `set_inputs(x); infer(); wait()` per timed call. Throughput:
  `rt.RequestQueue(model)` (default job count: the pool's thread count, at least 2) with a
  completion callback, `start(x)` in a loop.
- **ONNX Runtime** (CPU EP): `intra_op_num_threads=N`, `inter_op_num_threads=1`, sequential
  execution, `ORT_ENABLE_ALL`; `sess.run(None, {{name: x}})` per timed call. Throughput: one
  session, one Python thread per core calling `run()` (ORT releases the GIL), the cores split
  between them (`intra_op_num_threads = cores / threads`).
- **OpenVINO** (CPU): `compile_model(onnx_path, "CPU", {{PERFORMANCE_HINT: LATENCY,
  INFERENCE_NUM_THREADS: N, INFERENCE_PRECISION_HINT: f32}})`; `req.infer({{0: x}})` per timed call.
  f32 is forced: without it OpenVINO may run bf16 on CPUs that have it; the compiled model's
  precision is read back and recorded. Throughput: `PERFORMANCE_HINT: THROUGHPUT` and
  `AsyncInferQueue` with `OPTIMAL_NUMBER_OF_INFER_REQUESTS` jobs.
- **One fresh process per (runtime, model, configuration)** (`benchmarks/worker.py`), importing
  only numpy and the runtime under test. *Load* = runtime object (Context / session options /
  Core) + model + first request; *first inference* is timed alone, then warm-up runs (at most
  about a quarter of the time bound), then back-to-back timed calls until at least
  {min_iters} calls and {min_time} s, or {max_time} s with at least {min_samples} calls (slow
  models). p50/p90 are nearest-rank percentiles of single-call times; the garbage collector is
  off while timing. Throughput runs {duration} s after one warm-up round per request.
  **Each (runtime, model, configuration) is measured {repeats} times**, the runtimes interleaved
  in alternating order; the table shows the best repeat (lowest p50, highest rate), as other
  processes on a shared machine only ever slow a run down. The JSON lists every repeat.
  *Cores busy* = the process's CPU time / wall time while timing: how many cores the runtime
  kept busy (pool threads that poll while waiting for work count too: ORT's and OpenVINO's,
  and optima-v2's for up to 100 µs, which with 1 thread keeps its one worker polling beside the
  caller while small models run back to back).
- **Peak RSS** is the child's own high-water mark at its end (`VmHWM` in `/proc/self/status`;
  not `ru_maxrss`, which Linux inherits from the parent across fork+exec), nothing subtracted; *idle* is the
  same process's peak right after importing numpy and the runtime (before loading anything).
  The table's peak RSS column is the 1-thread latency process (one request).
- **All cores** = `len(os.sched_getaffinity(0))`.
- **Output agreement**: each runtime's output of the 1-thread run against ONNX Runtime's,
  max |diff| divided by max |ORT output|; above {tolerance:g} the row is flagged.
- **Ratios** come from the same run: latency ratio = optima p50 / other p50 (≤ 1 is a win);
  throughput ratio = optima inferences/s / other's (≥ 1 is a win)."""


# --- formatting ----------------------------------------------------------------------------------
def ms(value: Optional[float]) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def cores(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1f}"


def ratio(a: Optional[float], b: Optional[float]) -> str:
    if a is None or not b:
        return "-"
    return f"{a / b:.2f}x"


def get(results: dict[str, Any], model: str, runtime: str, config: str) -> dict[str, Any]:
    run: dict[str, Any] = results["models"].get(model, {}).get("runs", {}).get(runtime, {}).get(config, {})
    return run


def value(results: dict[str, Any], model: str, runtime: str, config: str, key: str) -> Optional[float]:
    found = get(results, model, runtime, config).get(key)
    return float(found) if isinstance(found, (int, float)) else None


def cell(results: dict[str, Any], model: str, runtime: str, config: str, key: str, fmt: Any = ms) -> str:
    run = get(results, model, runtime, config)
    if "error" in run:
        return "error"
    return str(fmt(value(results, model, runtime, config, key)))


def runtimes(results: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for entry in results["models"].values():
        for runtime in entry.get("runs", {}):
            if runtime not in found:
                found.append(runtime)
    return [r for r in RUNTIME_NAMES if r in found]


# --- tables --------------------------------------------------------------------------------------
def latency_table(results: dict[str, Any], config: str) -> str:
    lines = [
        "| model | optima p50 ms | ORT p50 ms | OpenVINO p50 ms | **optima / ORT** | **optima / OpenVINO** "
        "| optima p90 ms | ORT p90 ms | OpenVINO p90 ms | calls timed (o / r / v) | cores busy (o / r / v) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for model in results["models"]:
        o, r, v = (value(results, model, rt, config, "p50_ms") for rt in ("optima", "ort", "openvino"))
        p90 = [cell(results, model, rt, config, "p90_ms") for rt in ("optima", "ort", "openvino")]
        p50 = [cell(results, model, rt, config, "p50_ms") for rt in ("optima", "ort", "openvino")]
        iters = " / ".join(
            cell(results, model, rt, config, "iterations", lambda x: "-" if x is None else f"{x:.0f}")
            for rt in ("optima", "ort", "openvino")
        )
        busy = " / ".join(cell(results, model, rt, config, "cores_busy", cores) for rt in ("optima", "ort", "openvino"))
        lines.append(
            f"| {model} | {' | '.join(p50)} | {ratio(o, r)} | {ratio(o, v)} | {' | '.join(p90)} | {iters} | {busy} |"
        )
    return "\n".join(lines)


def throughput_table(results: dict[str, Any]) -> str:
    lines = [
        "| model | optima inf/s | ORT inf/s | OpenVINO inf/s | **optima / ORT** | **optima / OpenVINO** "
        "| optima requests | ORT threads x intra-op | OpenVINO requests (streams) | cores busy (o / r / v) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def rate(x: Optional[float]) -> str:
        return "-" if x is None else (f"{x:.1f}" if x < 100 else f"{x:.0f}")

    for model in results["models"]:
        o, r, v = (value(results, model, rt, "throughput", "per_s") for rt in ("optima", "ort", "openvino"))
        cells = [cell(results, model, rt, "throughput", "per_s", rate) for rt in ("optima", "ort", "openvino")]
        ort = get(results, model, "ort", "throughput")
        ov = get(results, model, "openvino", "throughput")
        opt = get(results, model, "optima", "throughput")
        lines.append(
            f"| {model} | {' | '.join(cells)} | {ratio(o, r)} | {ratio(o, v)} | {opt.get('requests', '-')} "
            f"| {ort.get('requests', '-')} x {ort.get('intra_op_threads', '-')} "
            f"| {ov.get('requests', '-')} ({ov.get('streams', '-')}) "
            f"| {' / '.join(cell(results, model, rt, 'throughput', 'cores_busy', cores) for rt in RUNTIME_NAMES)} |"
        )
    return "\n".join(lines)


def load_table(results: dict[str, Any]) -> str:
    lines = [
        "| model | nodes | ONNX MiB | optima compile s | load s (o / r / v) | first inference ms (o / r / v) "
        "| peak RSS MiB (o / r / v) | idle RSS MiB (o / r / v) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def seconds(x: Optional[float]) -> str:
        return "-" if x is None else f"{x:.3f}"

    def mib(x: Optional[float]) -> str:
        return "-" if x is None else f"{x:.0f}"

    def first(x: Optional[float]) -> str:
        return ms(None if x is None else x * 1e3)

    def three(model: str, key: str, fmt: Any) -> str:
        return " / ".join(cell(results, model, rt, "latency_1t", key, fmt) for rt in ("optima", "ort", "openvino"))

    for model, entry in results["models"].items():
        compile_s = (
            f"{entry['compile_s']:.2f}" if "compile_s" in entry else ("failed" if "compile_error" in entry else "-")
        )
        lines.append(
            f"| {model} | {entry.get('nodes', '-')} | {entry.get('onnx_mib', 0):.1f} | {compile_s} "
            f"| {three(model, 'load_s', seconds)} | {three(model, 'first_inference_s', first)} "
            f"| {three(model, 'peak_rss_mib', mib)} | {three(model, 'baseline_rss_mib', mib)} |"
        )
    return "\n".join(lines)


def agreement_table(results: dict[str, Any]) -> str:
    lines = [
        "| model | reference | max abs of reference output | optima: max abs diff (relative) "
        "| OpenVINO: max abs diff (relative) | agree |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for model, entry in results["models"].items():
        agreement = entry.get("agreement", {})
        if not agreement:
            continue
        cells, ok = [], True
        for runtime in ("optima", "openvino"):
            found = agreement.get(runtime)
            if found is None:
                cells.append("-")
            elif "error" in found:
                cells.append(found["error"])
                ok = False
            else:
                cells.append(f"{found['max_abs_diff']:.2g} ({found['relative']:.1e})")
                ok = ok and found["ok"]
        verdict = "yes" if ok else "**NO**"
        lines.append(
            f"| {model} | {RUNTIME_NAMES.get(agreement['reference'], agreement['reference'])} "
            f"| {agreement['output_scale']:.3g} | {' | '.join(cells)} | {verdict} |"
        )
    return "\n".join(lines)


def profile_table(results: dict[str, Any]) -> str:
    """Where optima's time goes (1 thread, its own per-layer profile, by op family)."""
    lines = [
        "| model | inference ms (profiled) | in layers | top op families (ms, share of layer time) |",
        "| --- | ---: | ---: | --- |",
    ]
    found = False
    for model, entry in results["models"].items():
        profile = entry.get("optima_profile")
        if not profile or "error" in profile:
            continue
        found = True
        layers = profile.get("layers_ms") or 0.0
        top = ", ".join(
            f"{op} {t:.1f} ({t / layers:.0%})" for op, t in list(profile.get("by_op_ms", {}).items())[:6] if layers
        )
        share = f"{layers / profile['model_ms']:.0%}" if profile.get("model_ms") else "-"
        lines.append(f"| {model} | {ms(profile.get('model_ms'))} | {share} | {top} |")
    return "\n".join(lines) if found else "(not measured in this run: full runs only)"


def rss_table(results: dict[str, Any]) -> str:
    found = results.get("rss_resnet18")
    if not found:
        return "(not measured in this run)"
    base = found.get("ort", {}).get("peak_rss_mib")
    lines = [
        "| runtime | setup | peak RSS MiB | idle RSS MiB | ratio to ORT peak |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for runtime, run in found.items():
        if "error" in run:
            lines.append(f"| {RUNTIME_NAMES[runtime]} | error: {run['error'][:200]} | - | - | - |")
            continue
        if runtime == "optima":
            setup = f"one model, {run.get('requests')} requests in flight ({run.get('threads')} threads)"
        else:
            setup = f"one session/compiled model, {run.get('runs')} sequential runs"
        lines.append(
            f"| {RUNTIME_NAMES[runtime]} | {setup} | {run['peak_rss_mib']:.0f} | {run['baseline_rss_mib']:.0f} "
            f"| {ratio(run['peak_rss_mib'], base)} |"
        )
    return "\n".join(lines)


def gemm_rows(gemm: dict[str, Any]) -> list[dict[str, Any]]:
    rows = gemm.get("gemm")
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def gemm_1024(gemm: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The 1024^3 row of the helper's output, or None."""
    for row in gemm_rows(gemm):
        if (row.get("m"), row.get("k"), row.get("n")) == (1024, 1024, 1024):
            return row
    return None


def gemm_figure(
    row: dict[str, Any], kind: str, suffix: str
) -> tuple[Optional[float], Optional[float], Optional[float]]:
    """(GFLOP/s, % of peak, % of peak by CPU time) of one variant, in either layout the helper
    has printed: nested ``{kind}_{suffix}: {gflops, pct_peak, pct_peak_cpu}`` or flat
    ``{kind}_gflops_{suffix}`` / ``{kind}_pct_peak_{suffix}``."""
    nested = row.get(f"{kind}_{suffix}")
    if isinstance(nested, dict):
        return nested.get("gflops"), nested.get("pct_peak"), nested.get("pct_peak_cpu")
    return row.get(f"{kind}_gflops_{suffix}"), row.get(f"{kind}_pct_peak_{suffix}"), None


def other_gemm_run_note(gemm: dict[str, Any]) -> str:
    """One sentence on the suite's second GEMM run, when there was one (see run_suite.gemm)."""
    other = gemm.get("other_run")
    if not isinstance(other, dict):
        return ""
    shown, kept = gemm_1024(gemm), gemm_1024(other)
    if not shown or not kept:
        return ""
    rate = kept.get("packed_nt", {}).get("gflops", "-")
    return (
        " The helper runs first and last in the suite and the better run (by the all-threads "
        f"1024^3 packed figure) is shown; the other measured {rate} GFLOP/s there "
        "(results JSON: `gemm.other_run`)."
    )


def gemm_section(results: dict[str, Any]) -> str:
    gemm = results.get("gemm", {"status": "not run"})
    lines = []
    peak = gemm.get("peak") if isinstance(gemm.get("peak"), dict) else {}
    if gemm.get("status") == "ok" and gemm_rows(gemm):
        threads = gemm.get("threads", "N")
        lines += [
            f"C++ helper `benchmarks/cpp/GemmBench.cpp` (`{Path(str(gemm.get('binary'))).name} --threads {threads}`; "
            f"kernel ISA chosen at run time: {gemm.get('isa', '?')}). Measured fp32 peak: "
            f"**{peak.get('gflops_1t', '-')} GFLOP/s on 1 thread, {peak.get('gflops_nt', '-')} on {threads}** "
            f"({peak.get('method', 'method not stated')}). GFLOP/s and share of that peak; *packed*: B pre-packed "
            "once (what a constant weight gets at load), *unpacked*: B read as given. "
            + (f"The helper's note: {gemm['note']}." if gemm.get("note") else "")
            + other_gemm_run_note(gemm),
            "",
            "| shape (m x k x n) | packed 1 thread | packed all threads | unpacked 1 thread | unpacked all threads |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for row in gemm_rows(gemm):
            cells = []
            for kind in ("packed", "unpacked"):
                for suffix in ("1t", "nt"):
                    rate, pct, pct_cpu = gemm_figure(row, kind, suffix)
                    text = "-" if rate is None else f"{rate:.1f} ({pct:.0f} %"
                    if rate is not None:
                        text += f"; {pct_cpu:.0f} % by CPU time)" if pct_cpu is not None else ")"
                    cells.append(text)
            lines.append(
                f"| {row.get('name')} ({row.get('m')} x {row.get('k')} x {row.get('n')}) | {' | '.join(cells)} |"
            )
    elif gemm.get("status") == "ok":
        lines.append(f"C++ helper output not understood (kept in the results JSON): {sorted(gemm)}")
    else:
        lines.append(
            f"C++ GEMM helper (`build-bench/benchmarks/optima_v2_gemm_bench`): **{gemm.get('status')}**"
            + (f" ({gemm.get('error')})" if gemm.get("error") else "")
            + ", so no peak figure in this run."
        )
    flops = results["models"].get("matmul", {}).get("flops")
    if flops:
        lines += [
            "",
            "From the suite's `matmul` model (a whole inference through each runtime's API, 2·1024³ FLOP / p50):",
            "",
            "| configuration | optima GFLOP/s | ORT GFLOP/s | OpenVINO GFLOP/s |",
            "| --- | ---: | ---: | ---: |",
        ]
        for config, title in CONFIG_TITLES.items():
            cells = []
            for runtime in ("optima", "ort", "openvino"):
                p50 = value(results, "matmul", runtime, config, "p50_ms")
                cells.append("-" if not p50 else f"{flops / (p50 * 1e-3) / 1e9:.1f}")
            lines.append(f"| {title.split(', ')[1]} | {' | '.join(cells)} |")
    return "\n".join(lines)


def overhead_section(results: dict[str, Any]) -> str:
    found = results.get("call_overhead")
    if not found:
        return "(not measured in this run)"
    if "sizes" not in found:
        return f"(failed: {found.get('error', 'no result')})"
    note = ""
    if not any(call_overhead.CPP in rows for rows in found["sizes"].values()):
        note = "\n\n(C++ row missing: `build-bench/benchmarks/optima_v2_call_overhead` was not built.)"
    return call_overhead.markdown(found) + note


# --- acceptance ----------------------------------------------------------------------------------
def verdict(ok: Optional[bool], miss: str = "") -> str:
    if ok is None:
        return "not measured"
    return "met" if ok else f"**missed**{' ' + miss if miss else ''}"


def acceptance_table(results: dict[str, Any]) -> str:
    lines = ["| target (issue #6) | measured in this run | verdict |", "| --- | --- | --- |"]
    for config, title in CONFIG_TITLES.items():
        ratios = {}
        ov_ratios = {}
        for model in results["models"]:
            o, r, v = (value(results, model, rt, config, "p50_ms") for rt in ("optima", "ort", "openvino"))
            if o and r:
                ratios[model] = o / r
            if o and v:
                ov_ratios[model] = o / v
        if not ratios:
            lines.append(f"| {title}: p50 ≤ 1.0x ORT on every model | - | not measured |")
            continue
        worst = max(ratios, key=lambda m: ratios[m])
        met = sum(1 for x in ratios.values() if x <= 1.0)
        ov = ", ".join(f"{m} {x:.2f}x" for m, x in ov_ratios.items())
        free = ""
        if config != "latency_1t":
            busy = [value(results, m, "ort", config, "cores_busy") for m in ratios]
            fed = sum(1 for b in busy if b is not None and b >= 1.5)
            free = f" (ORT got ≥ 1.5 cores busy on {fed} of {len(ratios)} models: see *cores busy*)"
        lines.append(
            f"| {title}: p50 ≤ 1.0x ORT on every model | {met} of {len(ratios)} models met; worst {worst} "
            f"{ratios[worst]:.2f}x; vs OpenVINO: {ov or '-'}{free} "
            f"| {verdict(met == len(ratios), f'(worst by {ratios[worst]:.1f}x)')} |"
        )
    for model in ("resnet18", "mobilenetv2"):
        o, v = (value(results, model, rt, "throughput", "per_s") for rt in ("optima", "openvino"))
        text = f"{o:.2f} vs {v:.2f} inf/s = {o / v:.2f}x" if o and v else "-"
        ok = None if not (o and v) else o >= v
        miss = f"(at {o / v:.0%} of it)" if o and v else ""
        lines.append(f"| Throughput ≥ OpenVINO THROUGHPUT, {model} | {text} | {verdict(ok, miss)} |")
    gemm = results.get("gemm", {})
    row = gemm_1024(gemm) if gemm.get("status") == "ok" else None
    if row is not None and gemm_figure(row, "packed", "1t")[1] is not None:
        one, every = gemm_figure(row, "packed", "1t")[1], gemm_figure(row, "packed", "nt")[1]
        every_text = f"; {every:.0f} % on {gemm.get('threads')} threads" if every is not None else ""
        lines.append(
            f"| GEMM 1024³ ≥ 85 % of measured peak | packed B: {one:.0f} % of the 1-thread peak{every_text} "
            f"| {verdict(one >= 85.0, f'(by {85.0 - one:.0f} points on 1 thread)')} |"
        )
    else:
        lines.append(f"| GEMM 1024³ ≥ 85 % of measured peak | helper {gemm.get('status', 'not run')} | not measured |")
    rss = results.get("rss_resnet18", {})
    o, r = rss.get("optima", {}).get("peak_rss_mib"), rss.get("ort", {}).get("peak_rss_mib")
    lines.append(
        "| Peak RSS ResNet-18, 4 requests ≤ ORT one session | "
        + (f"{o:.0f} vs {r:.0f} MiB = {o / r:.2f}x" if o and r else "-")
        + f" | {verdict(None if not (o and r) else o <= r, f'(by {o / r:.2f}x)' if o and r else '')} |"
    )
    overhead = results.get("call_overhead", {}).get("sizes", {})
    for label, row, limit in (("C++", call_overhead.CPP, 5.0), ("Python", call_overhead.OPTIMA_PRESET, 15.0)):
        medians = {size: rows[row]["median_us"] for size, rows in overhead.items() if row in rows}
        ort = {
            size: rows[call_overhead.ORT_RUN]["median_us"]
            for size, rows in overhead.items()
            if call_overhead.ORT_RUN in rows
        }
        if not medians:
            lines.append(f"| `infer(); wait()` one-Add model, {label} ≤ {limit:g} µs | - | not measured |")
            continue
        text = "; ".join(f"[1,{s}] {m:.1f} µs (ORT run {ort.get(s, float('nan')):.1f} µs)" for s, m in medians.items())
        worst = max(medians.values())
        lines.append(
            f"| `infer(); wait()` one-Add model, {label} ≤ {limit:g} µs | {text} "
            f"| {verdict(worst <= limit, f'(by {worst / limit:.1f}x)')} |"
        )
    return "\n".join(lines)


# --- the document --------------------------------------------------------------------------------
def run_facts(results: dict[str, Any]) -> str:
    machine, ver, st = results["machine"], results["versions"], results["settings"]
    src = results.get("source", {})
    load = machine.get("loadavg_start"), machine.get("loadavg_end")
    load_text = " at the start, ".join(f"{x[0]:.1f}" for x in load if x) + (" at the end" if all(load) else "")
    isa = ", ".join(machine.get("isa", [])) or "-"
    kind = "full run" if results.get("complete") else ("quick run" if results.get("quick") else "partial run")
    return "\n".join(
        [
            f"- **Run**: {results['date']}, {kind}, {results['wall_s'] / 60:.1f} min, `{results['command']}`.",
            f"- **Machine**: {machine.get('cpu', '?')}, {st['all_cores']} cores usable "
            f"(`sched_getaffinity`; ISA: {isa}), {machine.get('mem_total_gib', '?')} GiB RAM, "
            f"{machine.get('platform')}, Python {machine.get('python')}.",
            f"- **Source**: commit {src.get('commit', '?')}"
            + (
                f" plus uncommitted changes in {src['uncommitted_runtime_files']} runtime files "
                "(src, include, extensions, python: work in progress of other sessions, built as found)"
                if src.get("uncommitted_runtime_files")
                else ", no uncommitted runtime changes"
            )
            + ".",
            f"- **Versions**: optima-v2 {ver.get('optima_v2')}, onnxruntime {ver.get('onnxruntime', '-')}, "
            f"openvino {ver.get('openvino', '-')}, onnx {ver.get('onnx', '-')}, numpy {ver.get('numpy', '-')}.",
            f"- **Shared machine**: 1-minute load average {load_text or '-'} of the run (other sessions "
            "build on the same cores). Absolute times swing with it; the ratios come from interleaved "
            "runs (each model and configuration runs the three runtimes back to back) and are the figures "
            "to read. The *cores busy* columns show whether a run got the cores it asked for.",
        ]
    )


def tables(results: dict[str, Any]) -> str:
    parts = ["### Acceptance targets", "", acceptance_table(results)]
    for config, title in CONFIG_TITLES.items():
        suffix = "" if config == "latency_1t" else f" ({results['settings']['all_cores']} threads)"
        parts += ["", f"### {title}{suffix}", "", latency_table(results, config)]
    parts += [
        "",
        f"### Throughput, all cores ({results['settings']['all_cores']}), concurrent requests",
        "",
        throughput_table(results),
        "",
        "### Load, first inference, memory (1-thread latency process)",
        "",
        load_table(results),
        "",
        "### Output agreement",
        "",
        agreement_table(results),
        "",
        "### Where optima-v2's time goes (1 thread, the runtime's per-layer profile)",
        "",
        "Layer names are the builders' node names (`conv_12`, `matmul_3`; a fused activation or "
        "folded BatchNorm runs inside the Conv/Gemm it was fused into), summed by prefix.",
        "",
        profile_table(results),
        "",
        "### Peak RSS: ResNet-18 with 4 requests in flight vs one ONNX Runtime session",
        "",
        rss_table(results),
        "",
        "### GEMM",
        "",
        gemm_section(results),
        "",
        "### Per-call overhead: `req.infer(); req.wait()` on a one-Add model (1 thread)",
        "",
        overhead_section(results),
    ]
    return "\n".join(parts)


def render(results: dict[str, Any], analysis: str) -> str:
    st = results["settings"]
    minutes = max(1, round(results["wall_s"] / 60))
    method = METHOD.format(
        min_iters=int(st["min_iters"]),
        min_time=st["min_time"],
        max_time=st["max_time"],
        min_samples=int(st.get("min_samples", 3)),
        duration=st["duration"],
        repeats=int(st.get("repeats", 1)),
        tolerance=st["agreement_tolerance"],
    )
    models = "\n".join(
        f"| {name} | {entry['description']} | {', '.join(entry.get('ops', []))} |"
        for name, entry in results["models"].items()
    )
    return "\n".join(
        [
            "# Performance",
            "",
            "<!-- Generated by benchmarks/run_suite.py (template: benchmarks/report.py, data:",
            "     benchmarks/results/latest.json, prose: benchmarks/analysis.md). Do not edit here:",
            "     edit analysis.md and run `benchmarks/run_suite.py --report-only`. -->",
            "",
            "optima-v2 next to ONNX Runtime (CPU EP) and OpenVINO (CPU, f32) on a fixed model set, all",
            "figures from **one run** of one command on one machine, so the ratios compare like with",
            "like. ONNX Runtime and OpenVINO are benchmark-only dependencies (`requirements-bench.txt`),",
            "never runtime ones.",
            "",
            "## How to reproduce",
            "",
            COMMANDS.replace("{minutes}", str(minutes)),
            "",
            "## This run",
            "",
            run_facts(results),
            "",
            "## Results",
            "",
            tables(results),
            "",
            "## Model set",
            "",
            "| model | what | ONNX ops |",
            "| --- | --- | --- |",
            models,
            "",
            "## Method",
            "",
            method,
            "",
            "The per-call overhead table comes from `benchmarks/call_overhead.py` (run by the suite as a",
            "child): one process, one thread on both sides, interleaved rounds; its docstring has the",
            "details. The C++ row is `benchmarks/cpp/CallOverhead.cpp`.",
            "",
            analysis.rstrip(),
            "",
        ]
    )
