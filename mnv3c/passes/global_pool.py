"""Canonicalise a mean over H and W (ReduceMean, as some exporters write adaptive average pooling)
into `global_avg_pool`, so the squeeze-excite matcher and the back end see one form.

Without keepdims the pooled [N,C,1,1] tensor is followed by a view to [N,C].
"""

from __future__ import annotations

from mnv3c.ir.graph import Graph, Node, Tensor


def global_pool_from_reduce_mean(graph: Graph) -> Graph:
    g = graph.copy()
    for node in [n for n in g.nodes if n.op == "reduce_mean"]:
        shape = g.tensors[node.inputs[0]].shape
        axes = node.attrs.get("axes")
        if len(shape) != 4 or axes is None or sorted(int(a) % 4 for a in axes) != [2, 3]:
            continue
        keepdims = bool(node.attrs.get("keepdims", True))
        node.op, node.attrs = "global_avg_pool", {}
        if keepdims:
            continue
        out = node.outputs[0]
        pooled = g.add_tensor(Tensor(g.unique_name(f"{out}_pooled"), shape[:2] + (1, 1), g.tensors[out].dtype))
        node.outputs = [pooled.name]
        view = Node(g.unique_name(f"{node.name}/flatten"), "reshape", [pooled.name], [out], {"shape": shape[:2]})
        g.nodes.insert(g.nodes.index(node) + 1, view)
    return g
