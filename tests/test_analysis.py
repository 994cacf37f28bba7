"""MAC and parameter counts against hand-computed values on a small conv/depthwise/SE/dense graph."""

from __future__ import annotations

import numpy as np
import pytest

from mnv3c.analysis import layer_stats, totals
from mnv3c.errors import MnvError
from mnv3c.ir import Graph, Node, Tensor
from mnv3c.reference.float_exec import run_float

RNG = np.random.default_rng(1)


def _w(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def small_graph() -> Graph:
    g = Graph("small")
    g.add_tensor(Tensor("x", (2, 3, 16, 16)))
    g.inputs.append("x")
    for name, shape in (("c", (2, 8, 8, 8)), ("d", (2, 16, 8, 8)), ("bn", (2, 16, 8, 8)), ("se", (2, 16, 8, 8)),
                        ("p", (2, 16, 1, 1)), ("f", (2, 16)), ("y", (2, 10))):
        g.add_tensor(Tensor(name, shape))
    consts = {"cw": _w(8, 3, 3, 3), "cb": _w(8), "dw": _w(16, 1, 3, 3), "db": _w(16),
              "s1": _w(16), "s2": _w(16), "s3": _w(16), "s4": np.abs(_w(16)) + 0.5,
              "w1": _w(8, 16), "b1": _w(8), "w2": _w(16, 8), "b2": _w(16), "fw": _w(10, 16), "fb": _w(10)}
    for name, arr in consts.items():
        g.add_const(name, arr)
    pad1 = {"pads": (1, 1, 1, 1)}
    g.add_node(Node("conv", "conv2d", ["x", "cw", "cb"], ["c"], {"strides": (2, 2), **pad1, "act": "relu"},
                    fused=["batch_norm", "relu"]))
    g.add_node(Node("dw", "depthwise_conv2d", ["c", "dw", "db"], ["d"], pad1))  # channel multiplier 2
    g.add_node(Node("bn", "batch_norm", ["d", "s1", "s2", "s3", "s4"], ["bn"], {"epsilon": 1e-5}))
    g.add_node(Node("se", "squeeze_excite", ["bn", "w1", "b1", "w2", "b2"], ["se"],
                    {"act1": "relu", "act2": "hard_sigmoid", "act2_params": {"alpha": 1 / 6, "beta": 0.5}}))
    g.add_node(Node("gap", "global_avg_pool", ["se"], ["p"]))
    g.add_node(Node("flat", "reshape", ["p"], ["f"], {"shape": (2, 16)}))
    g.add_node(Node("fc", "dense", ["f", "fw", "fb"], ["y"]))
    g.outputs.append("y")
    g.validate()
    return g


EXPECTED = {  # name: (macs, params)
    "conv": (2 * 8 * 8 * 8 * 3 * 3 * 3, 8 * 27 + 8),
    "dw": (2 * 8 * 8 * 16 * 3 * 3, 16 * 9 + 16),
    "bn": (0, 4 * 16),
    "se": (2 * (8 * 16 + 16 * 8 + 8 * 8 * 16), 8 * 16 + 8 + 16 * 8 + 16),
    "gap": (0, 0),
    "flat": (0, 0),
    "fc": (2 * 10 * 16, 10 * 16 + 10),
}


def test_layer_stats_hand_computed():
    rows = {r["name"]: r for r in layer_stats(small_graph())}
    assert list(rows) == list(EXPECTED)
    assert {k: (r["macs"], r["params"]) for k, r in rows.items()} == EXPECTED
    conv = rows["conv"]
    assert conv == {"name": "conv", "op": "conv2d", "inputs": ["x"], "outputs": ["c"], "output_shape": [2, 8, 8, 8],
                    "macs": 27648, "params": 224, "fused": ["batch_norm", "relu"]}


def test_totals():
    assert totals(small_graph()) == {"macs": sum(m for m, _ in EXPECTED.values()),
                                     "params": sum(p for _, p in EXPECTED.values())}


def test_output_shapes_agree_with_the_float_executor():
    g = small_graph()
    env = run_float(g, {"x": _w(2, 3, 16, 16)}, keep_all=True)
    for row in layer_stats(g):
        assert list(env[row["outputs"][0]].shape) == row["output_shape"]


def test_grouped_conv_and_matmul_macs():
    g = Graph("grouped")
    g.add_tensor(Tensor("x", (1, 8, 10, 10)))
    g.add_tensor(Tensor("a", (3, 4, 5)))
    g.inputs += ["x", "a"]
    g.add_const("w", _w(12, 2, 3, 3))  # group 4: C/group = 2
    g.add_const("m", _w(5, 6))
    g.add_tensor(Tensor("y", (1, 12, 5, 5)))
    g.add_tensor(Tensor("z", (3, 4, 6)))
    g.add_node(Node("g", "conv2d", ["x", "w"], ["y"], {"group": 4, "strides": (2, 2), "pads": (1, 1, 1, 1)}))
    g.add_node(Node("mm", "matmul", ["a", "m"], ["z"]))
    rows = layer_stats(g)
    assert [(r["macs"], r["params"]) for r in rows] == [(5 * 5 * 12 * 2 * 9, 12 * 2 * 9), (3 * 4 * 6 * 5, 30)]


def test_shared_weights_count_once_in_totals():
    g = Graph("shared")
    g.add_tensor(Tensor("x", (1, 4)))
    g.inputs.append("x")
    g.add_const("w", _w(4, 4))
    for name in ("h", "y"):
        g.add_tensor(Tensor(name, (1, 4)))
    g.add_node(Node("fc1", "dense", ["x", "w"], ["h"]))
    g.add_node(Node("fc2", "dense", ["h", "w"], ["y"]))
    assert [r["params"] for r in layer_stats(g)] == [16, 16]
    assert totals(g) == {"macs": 32, "params": 16}


def test_unknown_shape_is_an_error_not_a_wrong_count():
    g = Graph("bad")
    g.add_tensor(Tensor("x", (1, 3, 4, 4)))
    g.inputs.append("x")
    g.add_const("w", _w(2, 3, 1, 1))
    g.add_tensor(Tensor("y", ()))
    g.add_node(Node("conv", "conv2d", ["x", "w"], ["y"]))
    with pytest.raises(MnvError, match="conv"):
        layer_stats(g)
