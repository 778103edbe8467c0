"""``optima-v2 devices``: the loaded extensions and the devices they offer."""

from __future__ import annotations

import argparse

from ._common import open_context


def run(args: argparse.Namespace) -> int:
    context = open_context(args.extension, args.threads, profile=False)
    print("extensions:")
    for text in context.loaded_extensions:
        print(f"  {text}")
    print("devices:")
    for device in context.available_devices:
        framework = str(device.framework).rsplit(".", 1)[-1]
        kind = str(device.kind).rsplit(".", 1)[-1]
        where = f"{kind}:{device.index}"
        print(f"  {where:<10} {framework:<8} {device.name}" + (f" (id {device.id})" if device.id else ""))
    return 0
