"""The project's own small graph IR (see graph.py and ops.py)."""

from mnv3c.ir.graph import Graph, GraphError, Node, QuantParams, Tensor
from mnv3c.ir.ops import ACTIVATIONS, OPS

__all__ = ["ACTIVATIONS", "OPS", "Graph", "GraphError", "Node", "QuantParams", "Tensor"]
