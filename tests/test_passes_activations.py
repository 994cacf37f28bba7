"""Hard-sigmoid and hard-swish recognition in every spelling, and activation fusion: float
equivalence (relative error <= 1e-4) and the rewritten op counts."""

from __future__ import annotations

import pytest

from mnv3c.passes.fuse_activation import fuse_activation
from mnv3c.passes.hard_sigmoid import recognize_hard_sigmoid
from mnv3c.passes.hard_swish import recognize_hard_swish
from passes_builder import Builder, op_counts, rewrite


def relu6_x_plus_3(b: Builder, x: str, add_order: str) -> str:
    s = b.op("add", *((x, 3.0) if add_order == "x3" else (3.0, x)))
    return b.op("clip", s, min=0.0, max=6.0)


# --- hard sigmoid --------------------------------------------------------------------------------
@pytest.mark.parametrize("add_order", ["x3", "3x"])
@pytest.mark.parametrize("scale", ["div6", "mul_sixth", "sixth_mul"])
def test_hard_sigmoid_from_relu6(add_order, scale):
    b = Builder(2, 4, 3, 3)
    r = relu6_x_plus_3(b, "x", add_order)
    y = {"div6": lambda: b.op("div", r, 6.0), "mul_sixth": lambda: b.op("mul", r, 1 / 6),
         "sixth_mul": lambda: b.op("mul", 1 / 6, r)}[scale]()
    out = rewrite(recognize_hard_sigmoid, b.finish(y))
    assert op_counts(out) == {"hard_sigmoid": 1}
    (node,) = out.nodes
    assert node.inputs == ["x"]
    assert node.attrs["alpha"] == pytest.approx(1 / 6) and node.attrs["beta"] == pytest.approx(0.5)


def test_hard_sigmoid_keeps_paddle_alpha():
    b = Builder(2, 4, 3, 3)
    y = b.op("hard_sigmoid", "x", alpha=0.2, beta=0.5)
    out = rewrite(recognize_hard_sigmoid, b.finish(y))
    assert out.nodes[0].attrs == {"alpha": 0.2, "beta": 0.5}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 6 / relu6(x + 3) divides by zero
@pytest.mark.parametrize("case", ["wrong_divisor", "clip_min", "runtime_shift", "reversed_div"])
def test_hard_sigmoid_lookalikes_stay(case):
    b = Builder(2, 4, 3, 3)
    shift = b.op("relu", "x") if case == "runtime_shift" else 3.0
    r = b.op("clip", b.op("add", "x", shift), min=-1.0 if case == "clip_min" else 0.0, max=6.0)
    y = b.op("div", 6.0, r) if case == "reversed_div" else b.op("div", r, 5.0 if case == "wrong_divisor" else 6.0)
    out = rewrite(recognize_hard_sigmoid, b.finish(y))
    assert "hard_sigmoid" not in op_counts(out)


# --- hard swish ----------------------------------------------------------------------------------
def hswish_pipeline(g):
    return recognize_hard_swish(recognize_hard_sigmoid(g))


FORMS = {
    # ONNX HardSigmoid(alpha=1/6) times x, both orders (PyTorch legacy export)
    "x*hsig": lambda b, x, r: b.op("mul", x, b.op("hard_sigmoid", x, alpha=1 / 6, beta=0.5)),
    "hsig*x": lambda b, x, r: b.op("mul", b.op("hard_sigmoid", x, alpha=1 / 6, beta=0.5), x),
    # (x * relu6(x+3)) / 6 and friends
    "(x*r)/6": lambda b, x, r: b.op("div", b.op("mul", x, r()), 6.0),
    "(r*x)/6": lambda b, x, r: b.op("div", b.op("mul", r(), x), 6.0),
    "(x*r)*1/6": lambda b, x, r: b.op("mul", b.op("mul", x, r()), 1 / 6),
    "1/6*(r*x)": lambda b, x, r: b.op("mul", 1 / 6, b.op("mul", r(), x)),
    "x*(r/6)": lambda b, x, r: b.op("mul", x, b.op("div", r(), 6.0)),
    "(r/6)*x": lambda b, x, r: b.op("mul", b.op("div", r(), 6.0), x),
    "x*(r*1/6)": lambda b, x, r: b.op("mul", x, b.op("mul", r(), 1 / 6)),
    "(x/6)*r": lambda b, x, r: b.op("mul", b.op("div", x, 6.0), r()),
    "r*(x*1/6)": lambda b, x, r: b.op("mul", r(), b.op("mul", x, 1 / 6)),
}


@pytest.mark.parametrize("add_order", ["x3", "3x"])
@pytest.mark.parametrize("form", sorted(FORMS))
def test_hard_swish_forms(form, add_order):
    b = Builder(2, 4, 3, 3)
    x = b.conv("x", 4, 1, name="conv")
    y = FORMS[form](b, x, lambda: relu6_x_plus_3(b, x, add_order))
    out = rewrite(hswish_pipeline, b.finish(y))
    assert op_counts(out) == {"conv2d": 1, "hard_swish": 1}
    assert out.nodes[1].inputs == out.nodes[0].outputs


def test_hard_swish_on_graph_input_and_output():
    b = Builder(2, 4, 3, 3)
    g = b.finish(b.op("div", b.op("mul", relu6_x_plus_3(b, "x", "x3"), "x"), 6.0))
    out = rewrite(hswish_pipeline, g)
    assert op_counts(out) == {"hard_swish": 1}
    assert out.outputs == g.outputs


def test_hard_swish_keeps_intermediates_that_others_read():
    b = Builder(2, 4, 3, 3)
    r = relu6_x_plus_3(b, "x", "x3")
    y = b.op("div", b.op("mul", "x", r), 6.0)
    out = rewrite(hswish_pipeline, b.finish(y, r))
    assert op_counts(out) == {"hard_swish": 1, "add": 1, "clip": 1}


@pytest.mark.parametrize("case", ["paddle_hsig", "wrong_factor", "other_tensor", "shift_2"])
def test_hard_swish_lookalikes_stay(case):
    b = Builder(2, 4, 3, 3)
    x = b.conv("x", 4, 1)
    if case == "paddle_hsig":
        y = b.op("mul", x, b.op("hard_sigmoid", x, alpha=0.2, beta=0.5))
    elif case == "wrong_factor":
        y = b.op("div", b.op("mul", x, relu6_x_plus_3(b, x, "x3")), 5.0)
    elif case == "other_tensor":
        y = b.op("div", b.op("mul", "x", relu6_x_plus_3(b, x, "x3")), 6.0)
    else:
        r = b.op("clip", b.op("add", x, 2.0), min=0.0, max=6.0)
        y = b.op("div", b.op("mul", x, r), 6.0)
    out = rewrite(hswish_pipeline, b.finish(y))
    assert "hard_swish" not in op_counts(out)


# --- fusion --------------------------------------------------------------------------------------
ACTS = [
    ("relu", {}, "relu", {}),
    ("clip", {"min": 0.0, "max": 6.0}, "clip", {"min": 0.0, "max": 6.0}),
    ("clip", {"min": 0.0, "max": float("inf")}, "relu", {}),
    ("hard_swish", {}, "hard_swish", {}),
    ("hard_sigmoid", {"alpha": 0.2, "beta": 0.5}, "hard_sigmoid", {"alpha": 0.2, "beta": 0.5}),
    ("sigmoid", {}, "sigmoid", {}),
]


@pytest.mark.parametrize("op,attrs,act,params", ACTS)
@pytest.mark.parametrize("layer", ["conv2d", "depthwise_conv2d", "dense", "add", "affine"])
def test_fuse_activation(layer, op, attrs, act, params):
    b = Builder(2, 4, 5, 5) if layer != "dense" else Builder(2, 4)
    if layer == "dense":
        y = b.dense("x", 3, name="layer")
    elif layer == "add":
        y = b.op("add", "x", b.conv("x", 4, 3), name="layer")
    elif layer == "affine":
        y = b.op("affine", "x", b.rand(4), b.rand(4), name="layer")
    else:
        y = b.conv("x", 4, 3, group=4 if layer == "depthwise_conv2d" else 1, name="layer")
    out = rewrite(fuse_activation, b.finish(b.op(op, y, **attrs)))
    assert op not in op_counts(out) or op == layer
    node = out.node("layer")
    assert node.attrs["act"] == act and node.attrs["act_params"] == params and node.fused == [op]


@pytest.mark.parametrize("case", ["shared", "already_fused", "after_pool", "graph_output"])
def test_fuse_activation_refuses(case):
    b = Builder(2, 4, 5, 5)
    outs = []
    if case == "after_pool":
        y = b.op("global_avg_pool", "x")
    else:
        y = b.conv("x", 4, 3, **({"act": "relu", "act_params": {}} if case == "already_fused" else {}))
    if case in ("shared", "graph_output"):
        outs.append(y if case == "graph_output" else b.op("sigmoid", y))
    out = rewrite(fuse_activation, b.finish(b.op("relu", y), *outs))
    assert op_counts(out)["relu"] == 1
