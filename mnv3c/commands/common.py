"""Steps shared by several commands: load and optimize a model, read its sample arrays."""

from __future__ import annotations

from typing import Callable

import numpy as np

from mnv3c.arrays import load_images, parse_input_shape
from mnv3c.frontend import load_onnx
from mnv3c.ir import Graph
from mnv3c.passes.pipeline import optimize


def load_optimized(model: str, input_shape: str | None,
                   trace: Callable[[str, Graph], None] | None = None) -> Graph:
    """ONNX file -> canonical, fused float graph."""
    graph = load_onnx(model, input_shape=parse_input_shape(input_shape))
    return optimize(graph, trace=trace)


def input_shape_of(graph: Graph) -> tuple[int, ...]:
    return tuple(graph.tensors[graph.inputs[0]].shape)


def load_samples(shape: tuple[int, ...], path: str, what: str) -> np.ndarray:
    """Float32 NCHW samples from ``path`` checked against the model input ``shape``."""
    return load_images(path, what, shape)
