"""Drop `identity` nodes (ONNX Identity, and Dropout at inference) and casts to the type the tensor
already has (Paddle2ONNX casts float attention queries to float): they compute nothing and would
otherwise stand between layers and the activations, scales and batch norms fused into them."""

from __future__ import annotations

from mnv3c.ir.graph import Graph, Node
from mnv3c.passes.match import bypass


def remove_identity(graph: Graph) -> Graph:
    g = graph.copy()
    for node in [n for n in g.nodes if n.op == "identity" or _same_type_cast(g, n)]:
        bypass(g, node)
    g.remove_unused_tensors()
    return g


def _same_type_cast(g: Graph, n: Node) -> bool:
    return n.op == "cast" and str(n.attrs["to"]) == str(g.tensors[n.inputs[0]].dtype)
