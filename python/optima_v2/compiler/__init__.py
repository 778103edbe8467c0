"""ONNX -> OptimaV2 model folder compiler (needs the ``onnx`` package: ``pip install optima-v2-runtime[compiler]``).

Passes, one module each, run by :func:`compile_onnx` in this order: :mod:`.loading` (read, check,
name nodes, Constant nodes -> constants), :mod:`.shapes` (static input shapes, shape inference),
:mod:`.simplify` (Identity/Dropout removal), :mod:`.folding` (constant folding),
:mod:`.dead_code` (dead-node removal), :mod:`.ops` (native backend support check),
:mod:`.placement` (devices, subgraph split) and :mod:`.export` (model folder writer).
"""

from __future__ import annotations

from .api import compile_onnx, write_device_map_template
from .errors import CompileError
from .ops import NATIVE_OPS
from .placement import FRAMEWORK_BY_DEVICE_KIND

__all__ = ["FRAMEWORK_BY_DEVICE_KIND", "NATIVE_OPS", "CompileError", "compile_onnx", "write_device_map_template"]
