"""ONNX -> OptimaV2 model folder compiler (needs the ``onnx`` package: ``pip install optima-v2-runtime[compiler]``).

Passes, one module each, run by :func:`compile_onnx` in this order: :mod:`.loading` (read, check,
name nodes, Constant nodes -> constants), :mod:`.freezing` (``input_values`` -> constants),
:mod:`.ops` (what the model format cannot hold), :mod:`.shapes` (static input shapes, shape
inference) and :mod:`.shape_eval` (shapes onnx leaves unknown), :mod:`.simplify` (Identity/Dropout
removal), :mod:`.folding` (constant folding),
:mod:`.dead_code` (dead-node removal), :mod:`.fold_batchnorm` (BatchNorm into Conv/Gemm/MatMul
weights), :mod:`.fuse_activation` (activations into Conv/Gemm/MatMul on Native devices),
:mod:`.placement` (devices, subgraph split),
:mod:`.export` (model folder) and :mod:`.runtime_check` (the runtime loads the folder before it
is put in place: the backends decide what runs).
"""

from __future__ import annotations

from .api import compile_onnx, write_device_map_template
from .errors import CompileError
from .freezing import SHAPE_VALUE_INPUTS, shape_value_inputs
from .placement import FRAMEWORK_BY_DEVICE_KIND
from .torch_export import compile_torch

__all__ = [
    "FRAMEWORK_BY_DEVICE_KIND",
    "SHAPE_VALUE_INPUTS",
    "CompileError",
    "compile_onnx",
    "compile_torch",
    "shape_value_inputs",
    "write_device_map_template",
]
