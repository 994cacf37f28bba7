"""Drop `identity` nodes (ONNX Identity, and Dropout at inference): they compute nothing and would
otherwise stand between layers and the activations, scales and batch norms fused into them."""

from __future__ import annotations

from mnv3c.ir.graph import Graph
from mnv3c.passes.match import bypass


def remove_identity(graph: Graph) -> Graph:
    g = graph.copy()
    for node in [n for n in g.nodes if n.op == "identity"]:
        bypass(g, node)
    g.remove_unused_tensors()
    return g
