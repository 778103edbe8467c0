"""The benchmark model set, built with onnx.helper + numpy (fixed seeds, no downloads, no torch).

Each builder returns an ``onnx.ModelProto`` (opset 17, IR version 8, float32, static shapes) laid
out the way a PyTorch export lays it out (Gemm with ``transB=1`` for Linear layers,
BatchNormalization after every Conv, GELU spelled with Erf, attention with
MatMul/Reshape/Transpose/Softmax), so the runtimes see the patterns they meet in practice.
Builders take size parameters so tests can run reduced variants (narrower, shallower, smaller
inputs) of the big models.

:data:`MODELS` is the suite's model set: name -> :class:`ModelSpec` (builder with the full-size
arguments, and what one inference costs in FLOPs where that is simple to state).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # what ONNX Runtime and OpenVINO releases of the last years all read


class _Graph:
    """Accumulates nodes and initializers with unique names; weights come from one seeded RNG."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._count: dict[str, int] = {}

    def name(self, prefix: str) -> str:
        index = self._count.get(prefix, 0)
        self._count[prefix] = index + 1
        return f"{prefix}_{index}"

    def const(self, prefix: str, value: np.ndarray) -> str:
        name = self.name(prefix)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: Sequence[str], prefix: Optional[str] = None, **attrs: Any) -> str:
        """Adds a one-output node; returns its output's name."""
        name = self.name(prefix or op.lower())
        self.nodes.append(helper.make_node(op, list(inputs), [name], name=name, **attrs))
        return name

    def weight(self, shape: Sequence[int], fan_in: int, gain: float = 2.0) -> np.ndarray:
        """He-style init: keeps activations of order one through deep stacks."""
        return (self.rng.standard_normal(tuple(shape)) * math.sqrt(gain / fan_in)).astype(np.float32)

    def model(self, name: str, inputs: list[onnx.ValueInfoProto], out_shape: Sequence[int]) -> onnx.ModelProto:
        """The graph whose output, named ``output``, is the last node's (builders end on it)."""
        self.nodes[-1].output[0] = "output"
        graph = helper.make_graph(
            self.nodes,
            name,
            inputs,
            [helper.make_tensor_value_info("output", TensorProto.FLOAT, list(out_shape))],
            self.inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="optima-bench")
        model.ir_version = IR_VERSION
        return model

    # --- layers ---------------------------------------------------------------------------------
    def linear(self, x: str, fan_in: int, fan_out: int) -> str:
        """torch.nn.Linear on a 2-D input: Gemm(x, W[out, in], b, transB=1)."""
        w = self.const("fc_w", self.weight((fan_out, fan_in), fan_in))
        b = self.const("fc_b", (self.rng.standard_normal(fan_out) * 0.01).astype(np.float32))
        return self.node("Gemm", [x, w, b], "fc", transB=1)

    def conv(
        self, x: str, c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1, bias: bool = False
    ) -> str:
        fan_in = c_in // groups * kernel * kernel
        inputs = [x, self.const("conv_w", self.weight((c_out, c_in // groups, kernel, kernel), fan_in))]
        if bias:
            inputs.append(self.const("conv_b", (self.rng.standard_normal(c_out) * 0.01).astype(np.float32)))
        pad = kernel // 2
        # Depthwise and pointwise convs get their own name prefix so profiles can tell them apart.
        prefix = "dwconv" if groups > 1 and groups == c_in == c_out else ("pwconv" if kernel == 1 else "conv")
        return self.node(
            "Conv",
            inputs,
            prefix,
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
            pads=[pad, pad, pad, pad],
            group=groups,
            dilations=[1, 1],
        )

    def batchnorm(self, x: str, channels: int) -> str:
        rng = self.rng
        scale = self.const("bn_scale", rng.uniform(0.5, 1.0, channels).astype(np.float32))
        bias = self.const("bn_bias", (rng.standard_normal(channels) * 0.1).astype(np.float32))
        mean = self.const("bn_mean", (rng.standard_normal(channels) * 0.1).astype(np.float32))
        var = self.const("bn_var", rng.uniform(0.5, 1.5, channels).astype(np.float32))
        return self.node("BatchNormalization", [x, scale, bias, mean, var], "bn", epsilon=1e-5, momentum=0.9)

    def relu(self, x: str) -> str:
        return self.node("Relu", [x])

    def relu6(self, x: str) -> str:
        """torch.nn.ReLU6 as exported at opset >= 11: Clip with min/max inputs."""
        low = self.const("clip_min", np.array(0.0, np.float32))
        high = self.const("clip_max", np.array(6.0, np.float32))
        return self.node("Clip", [x, low, high], "clip")


def _image_input(shape: Sequence[int]) -> list[onnx.ValueInfoProto]:
    return [helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))]


# --- MLP and LeNet -------------------------------------------------------------------------------
def build_mlp(sizes: Sequence[int] = (784, 512, 512, 10), batch: int = 1, seed: int = 1) -> onnx.ModelProto:
    """Gemm+Relu layers 784-512-512-10 (no Relu after the last)."""
    g = _Graph(seed)
    x = "input"
    for i in range(len(sizes) - 1):
        x = g.linear(x, sizes[i], sizes[i + 1])
        if i < len(sizes) - 2:
            x = g.relu(x)
    return g.model("mlp", _image_input((batch, sizes[0])), (batch, sizes[-1]))


def build_lenet(resolution: int = 28, seed: int = 2) -> onnx.ModelProto:
    """LeNet-5 style: Conv5x5(6, pad 2)-Relu-MaxPool2, Conv5x5(16)-Relu-MaxPool2, 120-84-10 Gemms."""
    g = _Graph(seed)
    x = g.conv("input", 1, 6, 5, bias=True)
    x = g.node("MaxPool", [g.relu(x)], "pool", kernel_shape=[2, 2], strides=[2, 2])
    w = g.const("conv_w", g.weight((16, 6, 5, 5), 6 * 25))
    b = g.const("conv_b", (g.rng.standard_normal(16) * 0.01).astype(np.float32))
    x = g.node("Conv", [x, w, b], "conv", kernel_shape=[5, 5])  # no padding, like LeNet's C3
    x = g.node("MaxPool", [g.relu(x)], "pool", kernel_shape=[2, 2], strides=[2, 2])
    side = (resolution // 2 - 4) // 2
    x = g.node("Flatten", [x], axis=1)
    x = g.relu(g.linear(x, 16 * side * side, 120))
    x = g.relu(g.linear(x, 120, 84))
    g.linear(x, 84, 10)
    return g.model("lenet", _image_input((1, 1, resolution, resolution)), (1, 10))


# --- ResNet-18 -----------------------------------------------------------------------------------
def build_resnet18(
    width: int = 64,
    resolution: int = 224,
    blocks: Sequence[int] = (2, 2, 2, 2),
    classes: int = 1000,
    seed: int = 3,
) -> onnx.ModelProto:
    """torchvision resnet18 layout (BasicBlocks, Conv+BatchNorm, 1x1 strided downsample)."""
    g = _Graph(seed)
    x = g.relu(g.batchnorm(g.conv("input", 3, width, 7, stride=2), width))
    x = g.node("MaxPool", [x], "pool", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c_in = width
    for stage, count in enumerate(blocks):
        c_out = width * 2**stage
        for block in range(count):
            stride = 2 if stage > 0 and block == 0 else 1
            y = g.relu(g.batchnorm(g.conv(x, c_in, c_out, 3, stride), c_out))
            y = g.batchnorm(g.conv(y, c_out, c_out, 3), c_out)
            shortcut = x
            if stride != 1 or c_in != c_out:
                shortcut = g.batchnorm(g.conv(x, c_in, c_out, 1, stride), c_out)
            x = g.relu(g.node("Add", [y, shortcut]))
            c_in = c_out
    x = g.node("Flatten", [g.node("GlobalAveragePool", [x], "gap")], axis=1)
    g.linear(x, c_in, classes)
    return g.model("resnet18", _image_input((1, 3, resolution, resolution)), (1, classes))


# --- MobileNetV2 ---------------------------------------------------------------------------------
#: torchvision's inverted-residual settings: expansion t, channels c, repeats n, first stride s.
MOBILENET_V2_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _make_divisible(value: float, divisor: int = 8) -> int:
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def build_mobilenetv2(
    width_mult: float = 1.0,
    resolution: int = 224,
    settings: Sequence[tuple[int, int, int, int]] = MOBILENET_V2_SETTINGS,
    classes: int = 1000,
    seed: int = 4,
) -> onnx.ModelProto:
    """torchvision mobilenet_v2 layout: depthwise 3x3 convs, Conv+BatchNorm+Clip(0, 6), residuals."""
    g = _Graph(seed)
    c_in = _make_divisible(32 * width_mult)
    x = g.relu6(g.batchnorm(g.conv("input", 3, c_in, 3, stride=2), c_in))
    for t, c, n, s in settings:
        c_out = _make_divisible(c * width_mult)
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = c_in * t
            y = x
            if t != 1:
                y = g.relu6(g.batchnorm(g.conv(y, c_in, hidden, 1), hidden))
            y = g.relu6(g.batchnorm(g.conv(y, hidden, hidden, 3, stride, groups=hidden), hidden))
            y = g.batchnorm(g.conv(y, hidden, c_out, 1), c_out)
            x = g.node("Add", [x, y]) if stride == 1 and c_in == c_out else y
            c_in = c_out
    last = _make_divisible(1280 * max(1.0, width_mult))
    x = g.relu6(g.batchnorm(g.conv(x, c_in, last, 1), last))
    x = g.node("Flatten", [g.node("GlobalAveragePool", [x], "gap")], axis=1)
    g.linear(x, last, classes)
    return g.model("mobilenetv2", _image_input((1, 3, resolution, resolution)), (1, classes))


# --- BERT-style encoder --------------------------------------------------------------------------
def build_bert(
    layers: int = 6, hidden: int = 384, heads: int = 12, seq: int = 128, ffn: int = 1536, seed: int = 5
) -> onnx.ModelProto:
    """Post-LN transformer encoder as torch exports BERT at opset 17 (no embeddings, no mask).

    Input: float embeddings [1, seq, hidden]. Per layer: Q/K/V MatMul+Add, Reshape to heads,
    Transpose, MatMul, Div by sqrt(head size), Softmax, MatMul, Transpose, Reshape, output
    MatMul+Add, residual Add, LayerNormalization; FFN MatMul+Add, GELU as
    x * 0.5 * (1 + Erf(x / sqrt 2)) (Div, Erf, Add, Mul, Mul), MatMul+Add, residual, LayerNorm.
    """
    if hidden % heads:
        raise ValueError(f"hidden {hidden} is not a multiple of heads {heads}")
    head = hidden // heads
    g = _Graph(seed)
    rng = g.rng

    def dense(x: str, fan_in: int, fan_out: int) -> str:
        w = g.const("w", g.weight((fan_in, fan_out), fan_in, gain=1.0))
        b = g.const("b", (rng.standard_normal(fan_out) * 0.02).astype(np.float32))
        return g.node("Add", [g.node("MatMul", [x, w]), b])

    def layernorm(x: str) -> str:
        scale = g.const("ln_scale", rng.uniform(0.8, 1.2, hidden).astype(np.float32))
        bias = g.const("ln_bias", (rng.standard_normal(hidden) * 0.02).astype(np.float32))
        return g.node("LayerNormalization", [x, scale, bias], "ln", axis=-1, epsilon=1e-12)

    split_shape = g.const("shape_heads", np.array([1, seq, heads, head], np.int64))
    merge_shape = g.const("shape_hidden", np.array([1, seq, hidden], np.int64))
    sqrt_head = g.const("sqrt_head", np.array(math.sqrt(head), np.float32))
    sqrt2 = g.const("sqrt2", np.array(math.sqrt(2.0), np.float32))
    one = g.const("one", np.array(1.0, np.float32))
    half = g.const("half", np.array(0.5, np.float32))

    x = "input"
    for _ in range(layers):
        q = g.node("Transpose", [g.node("Reshape", [dense(x, hidden, hidden), split_shape])], perm=[0, 2, 1, 3])
        k = g.node("Transpose", [g.node("Reshape", [dense(x, hidden, hidden), split_shape])], perm=[0, 2, 3, 1])
        v = g.node("Transpose", [g.node("Reshape", [dense(x, hidden, hidden), split_shape])], perm=[0, 2, 1, 3])
        scores = g.node("Div", [g.node("MatMul", [q, k]), sqrt_head])
        probs = g.node("Softmax", [scores], axis=-1)
        context = g.node("Transpose", [g.node("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        attention = dense(g.node("Reshape", [context, merge_shape]), hidden, hidden)
        x = layernorm(g.node("Add", [attention, x]))
        h = dense(x, hidden, ffn)
        erf = g.node("Erf", [g.node("Div", [h, sqrt2])])
        h = g.node("Mul", [g.node("Mul", [h, g.node("Add", [erf, one])]), half])
        x = layernorm(g.node("Add", [dense(h, ffn, hidden), x]))
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, seq, hidden])]
    return g.model("bert", inputs, (1, seq, hidden))


# --- a single MatMul -----------------------------------------------------------------------------
def build_matmul(m: int = 1024, k: int = 1024, n: int = 1024, seed: int = 6) -> onnx.ModelProto:
    """Y[m, n] = X[m, k] @ B[k, n] with B a constant (a weight)."""
    g = _Graph(seed)
    b = g.const("B", g.weight((k, n), k, gain=1.0))
    g.node("MatMul", ["input", b])
    return g.model("matmul", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [m, k])], (m, n))


# --- the suite's set ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelSpec:
    """One model of the suite: how to build it at full size and its input shape."""

    name: str
    description: str
    build: Callable[..., onnx.ModelProto]
    input_shape: tuple[int, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: FLOPs of one inference when simple to state (multiply-add = 2), for GFLOP/s columns.
    flops: Optional[float] = None
    #: A model that takes long per inference: fewer minimum iterations in --quick.
    large: bool = False

    def make(self) -> onnx.ModelProto:
        return self.build(**self.kwargs)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("mlp", "MLP 784-512-512-10, batch 1 (Gemm+Relu)", build_mlp, (1, 784)),
        ModelSpec("lenet", "LeNet-style CNN, 1x1x28x28", build_lenet, (1, 1, 28, 28)),
        ModelSpec("resnet18", "ResNet-18, 1x3x224x224, Conv+BatchNorm", build_resnet18, (1, 3, 224, 224), large=True),
        ModelSpec(
            "mobilenetv2",
            "MobileNetV2, 1x3x224x224, depthwise, Clip(0,6), BatchNorm",
            build_mobilenetv2,
            (1, 3, 224, 224),
            large=True,
        ),
        ModelSpec(
            "bert",
            "BERT-style encoder: 6 layers, hidden 384, 12 heads, seq 128, FFN 1536",
            build_bert,
            (1, 128, 384),
            large=True,
        ),
        ModelSpec(
            "matmul",
            "MatMul 1024x1024 @ 1024x1024 (constant B)",
            build_matmul,
            (1024, 1024),
            flops=2.0 * 1024**3,
            large=True,
        ),
    )
}


def make_input(shape: Sequence[int], seed: int = 1234) -> np.ndarray:
    """The benchmark input of a model: standard normal float32 from a fixed seed."""
    return np.random.default_rng(seed).standard_normal(tuple(shape), dtype=np.float32)
