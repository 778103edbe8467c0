"""``optima-v2 run``: one inference with given or random inputs; output summaries, optional .npz."""

from __future__ import annotations

import argparse
import time

import numpy as np

from ._common import load_model, model_inputs, open_context, parse_input_files, summarize


def run(args: argparse.Namespace) -> int:
    context = open_context(args.extension, args.threads, profile=False)
    model = load_model(context, args.model_dir)
    given = parse_input_files(args.input)
    inputs = model_inputs(model, given, seed=args.seed)
    request = model.create_request()
    request.set_inputs(inputs)
    begin = time.perf_counter()
    request.infer()
    request.wait()
    elapsed = time.perf_counter() - begin
    names = [info.name for info in model.output_tensors_info]
    outputs = dict(zip(names, request.get_outputs()))
    print("inputs:" + ("" if given else " (random)"))
    for name, array in inputs.items():
        print(f"  {summarize(name, array)}" + ("" if name in given else " (random)"))
    print("outputs:")
    for name, array in outputs.items():
        print(f"  {summarize(name, array)}")
    print(f"inference: {elapsed * 1e3:.3f} ms")
    if args.output:
        np.savez(args.output, **outputs)
        print(f"wrote {args.output}")
    return 0
