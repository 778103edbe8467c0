"""The ``optima-v2`` command: ``compile`` an ONNX model, ``info`` about a model folder, and the tools
``devices``, ``run``, ``benchmark``, ``profile`` and ``demo`` (implemented in :mod:`optima_v2.tools`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Optional, TextIO


def _parse_shape(text: str) -> tuple[str, list[int]]:
    name, sep, dims = text.rpartition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=1x3x224x224, got {text!r}")
    try:
        shape = [int(d) for d in dims.lower().split("x")] if dims else []
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=1x3x224x224, got {text!r}") from None
    return name, shape


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read it ({error.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None


def _tensor_line(tensor: dict[str, Any]) -> str:
    shape = "x".join(str(d) for d in tensor.get("shape", [])) or "scalar"
    return f"  {tensor.get('name')}: {tensor.get('type')} [{shape}]"


def model_info(folder: Path) -> str:
    """A readable summary of a model folder: interface, subgraphs, op counts, weights size."""
    meta = _read_json(folder / "model.meta")
    if not isinstance(meta, dict) or meta.get("format") != "optima-v2-model":
        raise ValueError(f"{folder / 'model.meta'}: not an OptimaV2 model.meta")
    lines = [f"model {meta.get('name', '?')} (format version {meta.get('format_version')})", "inputs:"]
    lines += [_tensor_line(t) for t in meta.get("inputs", [])]
    lines.append("outputs:")
    lines += [_tensor_line(t) for t in meta.get("outputs", [])]
    if meta.get("tensors"):
        lines.append("boundary tensors:")
        lines += [_tensor_line(t) for t in meta["tensors"]]
    total_ops: Counter[str] = Counter()
    total_weights = 0
    lines.append("subgraphs:")
    for sub in meta.get("subgraphs", []):
        path = folder / str(sub.get("path", ""))
        lines.append(
            f"  {sub.get('name')}: framework {sub.get('framework')}, device {sub.get('device')}, "
            f"inputs {sub.get('inputs')}, outputs {sub.get('outputs')}"
        )
        graph_file = path / "graph.json"
        if not graph_file.is_file():
            lines.append("    (no graph.json: not in the native graph format)")
            continue
        graph = _read_json(graph_file)
        ops = Counter(str(node.get("op")) for node in graph.get("nodes", []))
        weights = sum(int(t["data"]["size"]) for t in graph.get("tensors", []) if isinstance(t.get("data"), dict))
        total_ops.update(ops)
        total_weights += weights
        op_text = ", ".join(f"{op} x{count}" for op, count in sorted(ops.items()))
        lines.append(f"    {sum(ops.values())} nodes ({op_text}); weights {weights} bytes")
    lines.append(f"ops: {', '.join(f'{op} x{count}' for op, count in sorted(total_ops.items()))}")
    lines.append(f"weights: {total_weights} bytes ({total_weights / 2**20:.2f} MiB)")
    return "\n".join(lines)


class StepPrinter:
    """Compile progress, one line per step on ``stream``: ``[3/9] folding constants ... 0.4 s``.

    The step's name is printed when it starts (a terminal shows what is running) and its elapsed
    time when the next step starts or :meth:`finish` is called.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started: Optional[float] = None

    def __call__(self, step: str) -> None:
        self.finish()
        print(f"{step} ...", end="", file=self.stream, flush=True)
        self.started = time.perf_counter()

    def finish(self, suffix: str = "") -> None:
        if self.started is not None:
            elapsed = time.perf_counter() - self.started
            print(f" {elapsed:.1f} s{suffix}", file=self.stream, flush=True)
            self.started = None


def _compile(args: argparse.Namespace) -> int:
    try:
        from .compiler import CompileError, compile_onnx
    except ImportError as error:
        print(f"error: the compiler needs the onnx package ({error}); pip install onnx", file=sys.stderr)
        return 1
    shapes = dict(args.input_shape or [])
    steps = StepPrinter(sys.stderr)
    try:
        path = compile_onnx(
            args.model,
            args.output,
            input_shapes=shapes,
            device_map=args.device_map,
            default_device=args.default_device,
            optimize=not args.no_optimize,
            progress=steps,
        )
    except CompileError as error:
        steps.finish(" (failed)")
        print(f"error: {error}", file=sys.stderr)
        return 1
    except BaseException:
        steps.finish(" (failed)")
        raise
    steps.finish()
    print(f"wrote {path}")
    return 0


def _info(args: argparse.Namespace) -> int:
    try:
        print(model_info(Path(args.model_dir)))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        print(f"error: {args.model_dir}: not a readable model folder ({error})", file=sys.stderr)
        return 1
    return 0


def _add_tool_parsers(commands: Any) -> None:
    from .tools._common import add_context_arguments

    devices = commands.add_parser("devices", help="list the loaded extensions and their devices")
    add_context_arguments(devices)

    run = commands.add_parser("run", help="run a model folder once; print output summaries")
    run.add_argument("model_dir")
    run.add_argument(
        "--input",
        action="append",
        default=[],
        metavar="NAME=file.npy",
        help="input data (repeat; missing inputs get random data)",
    )
    run.add_argument("-o", "--output", metavar="out.npz", help="save the outputs (by name) to an .npz file")
    run.add_argument("--seed", type=int, default=0, help="seed of the random inputs (0)")
    add_context_arguments(run)

    bench = commands.add_parser("benchmark", help="measure latency and throughput")
    bench.add_argument("model_dir")
    bench.add_argument("-t", "--time", type=float, default=10.0, metavar="SECONDS", help="duration (10 s)")
    bench.add_argument("--mode", choices=["latency", "throughput"], default="latency", help="(latency)")
    bench.add_argument(
        "--requests", type=int, metavar="N", help="concurrent requests in throughput mode (4); latency mode uses 1"
    )
    bench.add_argument("--json", action="store_true", help="print the report as JSON")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_context_arguments(bench)

    prof = commands.add_parser("profile", help="per-layer statistics over many runs")
    prof.add_argument("model_dir")
    prof.add_argument("-n", "--runs", type=int, default=100, help="profiled runs (100)")
    prof.add_argument("--warmup", type=int, default=1, help="runs before profiling (1)")
    prof.add_argument("--top", type=int, default=30, help="entries shown (30)")
    prof.add_argument("--json", action="store_true", help="print the statistics as JSON")
    prof.add_argument("--trace", metavar="trace.json", help="write a Chrome/Perfetto trace")
    prof.add_argument("--plot", metavar="out.png", help="write a per-layer bar chart (needs matplotlib)")
    prof.add_argument("--histogram", metavar="latency.png", help="write a latency histogram (needs matplotlib)")
    add_context_arguments(prof)

    demo = commands.add_parser("demo", help="build, run and check a small model end to end")
    add_context_arguments(demo)


def _run_tool(args: argparse.Namespace) -> int:
    import importlib

    from .tools._common import ToolError

    module = importlib.import_module(f".tools.{args.command}", __package__)
    try:
        return int(module.run(args))
    except (ToolError, ValueError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except RuntimeError as error:  # rt.Exception and its subclasses
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="optima-v2", description="OptimaV2 model compiler, runner and tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    compile_parser = commands.add_parser("compile", help="compile an ONNX model into a model folder")
    compile_parser.add_argument("model", help="the .onnx file")
    compile_parser.add_argument("-o", "--output", required=True, help="model folder to write")
    compile_parser.add_argument(
        "--input-shape", action="append", type=_parse_shape, metavar="NAME=1x3x224x224",
        help="static shape of a model input (repeat for several inputs)",
    )  # fmt: skip
    compile_parser.add_argument("--device-map", help="JSON file mapping node names to devices")
    compile_parser.add_argument("--default-device", default="x64:0", help="device of unmapped nodes (x64:0)")
    compile_parser.add_argument("--no-optimize", action="store_true", help="skip the optimization passes")
    info_parser = commands.add_parser("info", help="summarize a model folder")
    info_parser.add_argument("model_dir")
    _add_tool_parsers(commands)
    args = parser.parse_args(argv)
    if args.command == "compile":
        return _compile(args)
    if args.command == "info":
        return _info(args)
    return _run_tool(args)


if __name__ == "__main__":
    sys.exit(main())
