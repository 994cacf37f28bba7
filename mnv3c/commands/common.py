"""Steps shared by several commands: load and optimize a model, its input shape."""

from __future__ import annotations

from typing import Callable

from mnv3c.arrays import parse_input_shape
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
