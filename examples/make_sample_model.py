"""Write the user's guide's SampleModel into examples/sample_model/ (or the folder given).

    output_1 = Conv2d(input_1, W, 3x3, stride 1, pad 1, no bias) + input_2

input_1: F32 [1, 3, 32, 32], input_2: F32 [1, 1, 32, 32], output_1: F32 [1, 1, 32, 32]; W is
[1, 3, 3, 3], drawn from numpy.random.default_rng(0) so the folder is reproducible.

Usage: python examples/make_sample_model.py [OUTPUT_FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

try:
    from optima_v2.model_folder import Graph, ModelFolder
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
    from optima_v2.model_folder import Graph, ModelFolder

SEED = 0


def sample_weights() -> np.ndarray:
    """The Conv weights [out=1, in=3, 3, 3] of the sample model."""
    return np.random.default_rng(SEED).standard_normal((1, 3, 3, 3)).astype(np.float32)


def build() -> ModelFolder:
    graph = Graph()
    graph.add_input("input_1", "F32", (1, 3, 32, 32))
    graph.add_input("input_2", "F32", (1, 1, 32, 32))
    graph.add_constant("conv.weight", sample_weights())
    graph.add_tensor("conv_out", "F32", (1, 1, 32, 32))
    graph.add_tensor("output_1", "F32", (1, 1, 32, 32))
    graph.add_node(
        "Conv",
        ["input_1", "conv.weight"],
        ["conv_out"],
        name="conv",
        attributes={"kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1], "dilations": [1, 1], "group": 1},
    )
    graph.add_node("Add", ["conv_out", "input_2"], ["output_1"], name="add")
    graph.add_output("output_1")
    model = ModelFolder("SampleModel")
    model.add_subgraph(graph, framework="Native", device="X64:0")
    return model


def main(argv: list[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "sample_model"
    build().write(target, overwrite=True)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
