"""``optima-v2 profile``: per-layer and per-kind statistics over many runs; trace and plot files."""

from __future__ import annotations

import argparse
import json

from ..profiling import ProfileStats, collect, plot_latency_histogram, plot_layers, write_trace
from ._common import ToolError, load_model, model_inputs, open_context


def run(args: argparse.Namespace) -> int:
    if args.runs < 1:
        raise ToolError(f"-n/--runs must be at least 1, got {args.runs}")
    context = open_context(args.extension, args.threads, profile=True)
    model = load_model(context, args.model_dir)
    runs = collect(model, args.runs, model_inputs(model, seed=0), warmup=args.warmup)
    stats = ProfileStats(runs)
    print(json.dumps(stats.to_dicts(), indent=2) if args.json else stats.format_table(top=args.top))
    if args.trace:
        write_trace(args.trace, runs, model_name=model.name)
        print(f"wrote {args.trace}")
    if args.plot:
        plot_layers(stats, args.plot)
        print(f"wrote {args.plot}")
    if args.histogram:
        plot_latency_histogram([run.latency * 1e3 for run in runs], args.histogram)
        print(f"wrote {args.histogram}")
    return 0
