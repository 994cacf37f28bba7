"""Graph.copy is deep: every pass edits its copy in place, and the caller's graph must not change."""

from __future__ import annotations

import copy

import numpy as np

from mnv3c.ir.graph import Graph, Node, QuantParams, Tensor


def _graph() -> Graph:
    g = Graph("g")
    g.add_tensor(Tensor("x", (1, 2, 4, 4)))
    w = g.add_const("w", np.arange(4, dtype=np.float32).reshape(2, 2, 1, 1).copy(order="F"))
    w.quant = QuantParams(np.ones(2, np.float32), np.zeros(2, np.int32), axis=0)
    g.add_tensor(Tensor("y", (1, 2, 4, 4)))
    g.add_node(Node("conv", "conv2d", ["x", "w"], ["y"], {"strides": (1, 1), "pads": [0, 0, 0, 0], "act": None},
                    fused=["batch_norm"]))
    g.inputs, g.outputs, g.meta = ["x"], ["y"], {"opset": 13, "ranges": {"y": [0.0, 1.0]}}
    return g


def test_a_copy_shares_nothing_mutable_with_its_graph() -> None:
    g = _graph()
    before = copy.deepcopy(g)
    c = g.copy()
    c.tensors["w"].data[0, 0, 0, 0] = 99
    c.tensors["w"].quant.scale[0] = 5
    c.tensors["w"].shape = (3,)
    c.nodes[0].attrs["pads"][0] = 7
    c.nodes[0].inputs[0] = "z"
    c.nodes[0].fused.append("relu")
    c.inputs.append("z")
    c.meta["ranges"]["y"][1] = 2.0
    c.tensors["x"].name = "renamed"
    assert g.dump() == before.dump()
    assert np.array_equal(g.tensors["w"].data, before.tensors["w"].data)
    assert g.tensors["w"].quant.scale[0] == 1 and g.nodes[0].attrs["pads"] == [0, 0, 0, 0]
    assert g.nodes[0].fused == ["batch_norm"] and g.inputs == ["x"] and g.meta == before.meta
    assert g.tensors["x"].name == "x"


def test_a_copy_has_the_same_content_and_layout() -> None:
    g = _graph()
    c = g.copy()
    assert c.dump() == g.dump() and c.meta == g.meta and c.name == g.name
    assert c.tensors["w"].data.flags.f_contiguous and c.tensors["w"].data.dtype == np.float32
    assert c.tensors["w"].quant.axis == 0 and type(c) is Graph and type(c.nodes[0]) is Node
