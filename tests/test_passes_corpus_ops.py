"""The passes real exported models need beyond the zoo's (issue 9): GELU from Erf, LayerNorm from
its 7-op chain, the affine HardSigmoid and Max/Min clamps (also in ONNX's own function bodies), constant scales/shifts after activations folded forward
into the next layer or left as `affine`. Each rewrite is checked numerically (relative error <=
1e-4, `passes_builder.rewrite`) and by the op counts it leaves."""

from __future__ import annotations

import math
import os

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from mnv3c.frontend import load_onnx
from mnv3c.passes.affine_from_constants import affine_from_constant_ops
from mnv3c.passes.clip_from_max_min import clip_from_max_min
from mnv3c.passes.fold_scale_forward import fold_scale_into_next_layer
from mnv3c.passes.gelu import recognize_gelu
from mnv3c.passes.hard_sigmoid import recognize_hard_sigmoid
from mnv3c.passes.layer_norm import recognize_layer_norm
from mnv3c.passes.pipeline import optimize
from mnv3c.reference.float_exec import run_float
from passes_builder import Builder, assert_equivalent, op_counts, rewrite

SQRT2 = math.sqrt(2.0)
GATES = {  # 1 + erf(x / sqrt 2), as exporters write it
    "div_sqrt2": lambda b, x: b.op("add", b.op("erf", b.op("div", x, SQRT2)), 1.0),
    "mul_inv_sqrt2": lambda b, x: b.op("add", 1.0, b.op("erf", b.op("mul", x, 1 / SQRT2))),
    "five_digits": lambda b, x: b.op("add", b.op("erf", b.op("div", x, 1.414214)), 1.0),
}
PRODUCTS = {  # x * 0.5 * gate in its exported orderings
    "torch": lambda b, x, g: b.op("mul", b.op("mul", x, g), 0.5),
    "half_gate_first": lambda b, x, g: b.op("mul", x, b.op("mul", 0.5, g)),
    "half_x_first": lambda b, x, g: b.op("mul", b.op("mul", x, 0.5), g),
    "div2": lambda b, x, g: b.op("div", b.op("mul", g, x), 2.0),
}


@pytest.mark.parametrize("gate", sorted(GATES))
@pytest.mark.parametrize("form", sorted(PRODUCTS))
def test_gelu_from_erf(gate: str, form: str) -> None:
    b = Builder(2, 8, 3, 3)
    x = b.conv("x", 8, 1)
    out = rewrite(recognize_gelu, b.finish(PRODUCTS[form](b, x, GATES[gate](b, x))))
    assert op_counts(out) == {"conv2d": 1, "gelu": 1}


@pytest.mark.parametrize("case", ["wrong_half", "not_sqrt2", "gate_of_other_tensor", "erf_read_elsewhere"])
def test_gelu_lookalikes_stay(case: str) -> None:
    b = Builder(2, 8, 3, 3)
    x = b.conv("x", 8, 1)
    other = b.op("relu", x)
    erf = b.op("erf", b.op("div", other if case == "gate_of_other_tensor" else x,
                          2.0 if case == "not_sqrt2" else SQRT2))
    y = b.op("mul", b.op("mul", x, b.op("add", erf, 1.0)), 0.4 if case == "wrong_half" else 0.5)
    outs = (y, erf) if case == "erf_read_elsewhere" else (y,)
    out = rewrite(recognize_gelu, b.finish(*outs))
    if case == "erf_read_elsewhere":  # fused, but the erf a second output reads stays
        assert op_counts(out)["gelu"] == 1 and op_counts(out)["erf"] == 1
    else:
        assert "gelu" not in op_counts(out)


def _layer_norm_chain(b: Builder, x: str, square: str, divide: str, axes: tuple[int, ...]) -> str:
    mean = b.op("reduce_mean", x, axes=axes, keepdims=True)
    d = b.op("sub", x, mean)
    sq = b.op("pow", d, 2.0) if square == "pow" else b.op("mul", d, d)
    var = b.op("reduce_mean", sq, axes=axes, keepdims=True)
    root = b.op("sqrt", b.op("add", var, 1e-5))
    return b.op("div", d, root) if divide == "div" else b.op("mul", d, b.op("div", 1.0, root))


@pytest.mark.parametrize("square", ["pow", "mul"])
@pytest.mark.parametrize("divide", ["div", "mul_reciprocal"])
@pytest.mark.parametrize("affine", ["none", "scale", "scale_shift"])
def test_layer_norm_from_chain(square: str, divide: str, affine: str) -> None:
    b = Builder(1, 6, 16)  # [N, tokens, channels], as in SVTR
    y = _layer_norm_chain(b, "x", square, divide, (2,))
    if affine != "none":
        y = b.op("mul", y, b.rand(16))
    if affine == "scale_shift":
        y = b.op("add", y, b.rand(16))
    out = rewrite(recognize_layer_norm, b.finish(y))
    assert op_counts(out) == {"layer_norm": 1}
    (node,) = out.nodes
    assert node.attrs["axis"] == 2 and node.attrs["epsilon"] == pytest.approx(1e-5)
    assert len(node.inputs) == (3 if affine == "scale_shift" else 2)


def test_layer_norm_over_several_trailing_axes_and_lookalikes() -> None:
    b = Builder(2, 4, 3, 3)
    y = _layer_norm_chain(b, "x", "pow", "div", (1, 2, 3))
    out = rewrite(recognize_layer_norm, b.finish(y))
    assert op_counts(out) == {"layer_norm": 1} and out.nodes[0].attrs["axis"] == 1
    b = Builder(2, 4, 3, 3)
    y = _layer_norm_chain(b, "x", "pow", "div", (2,))  # not the trailing axes: not a LayerNorm
    assert "layer_norm" not in op_counts(rewrite(recognize_layer_norm, b.finish(y)))


@pytest.mark.parametrize("order", ["mul_add", "div_add", "add_only"])
def test_hard_sigmoid_affine_clip(order: str) -> None:
    b = Builder(2, 4, 3, 3)
    t = {"mul_add": lambda: b.op("mul", "x", 0.2), "div_add": lambda: b.op("div", "x", 6.0),
         "add_only": lambda: "x"}[order]()
    y = b.op("clip", b.op("add", t, 0.5), min=0.0, max=1.0)
    out = rewrite(recognize_hard_sigmoid, b.finish(y))
    assert op_counts(out) == {"hard_sigmoid": 1}
    want = {"mul_add": 0.2, "div_add": 1 / 6, "add_only": 1.0}[order]
    assert out.nodes[0].attrs["alpha"] == pytest.approx(want) and out.nodes[0].attrs["beta"] == pytest.approx(0.5)


# --- constant scales and shifts after activations -------------------------------------------------
def test_paddle_dropout_scale_folds_into_the_classifier() -> None:
    """conv -> hard_swish -> Mul(0.8) -> flatten -> dense: the 0.8 moves into the dense weights."""
    b = Builder(2, 8, 1, 1)
    h = b.op("hard_swish", b.conv("x", 16, 1))
    y = b.dense(b.op("reshape", b.op("mul", h, 0.8), shape=(2, 16)), 4)
    out = rewrite(fold_scale_into_next_layer, b.finish(y))
    assert op_counts(out) == {"conv2d": 1, "hard_swish": 1, "reshape": 1, "dense": 1}


@pytest.mark.parametrize("layer", ["conv1x1", "depthwise_unpadded", "dense_after_pool", "flatten_dense"])
def test_per_channel_scale_and_shift_fold_into_next_layer(layer: str) -> None:
    b = Builder(2, 4, 5, 5)
    a = b.op("relu", b.conv("x", 6, 3))
    y = b.op("add", b.op("mul", a, b.rand(1, 6, 1, 1)), b.rand(1, 6, 1, 1))  # a * act(x) + b
    if layer == "conv1x1":
        z = b.conv(y, 5, 1)
    elif layer == "depthwise_unpadded":
        z = b.conv(y, 6, 3, group=6, pads=(0, 0, 0, 0))
    elif layer == "dense_after_pool":
        z = b.dense(b.op("reshape", b.op("global_avg_pool", y), shape=(2, 6)), 3)
    else:
        z = b.dense(b.op("reshape", y, shape=(2, 150)), 3)
    out = rewrite(fold_scale_into_next_layer, b.finish(z))
    assert not {"mul", "add"} & set(op_counts(out))


def test_shift_before_padded_conv_becomes_one_affine() -> None:
    """Zero padding would not be shifted, so the scale and shift stay: merged into one `affine`."""
    b = Builder(2, 4, 5, 5)
    a = b.op("relu", b.conv("x", 6, 3))
    y = b.op("add", b.op("mul", a, b.rand(1, 6, 1, 1)), 0.25)
    g = b.finish(b.conv(y, 6, 3))
    folded = rewrite(fold_scale_into_next_layer, g)
    assert op_counts(folded)["add"] == 1  # the shift stays; the scale alone could have moved, but not past it
    out = rewrite(affine_from_constant_ops, folded)
    assert op_counts(out)["affine"] == 1 and not {"mul", "add"} & set(op_counts(out))


def test_affine_keeps_an_activation_fused_into_the_add() -> None:
    """DBNet's head: conv_transpose-like output + per-channel bias Add + Sigmoid; fuse_activation puts
    the sigmoid into the add, which must survive becoming an affine."""
    b = Builder(1, 4, 5, 5)
    a = b.op("relu", b.conv("x", 6, 3))
    y = b.op("add", a, b.rand(1, 6, 1, 1), act="sigmoid")
    out = rewrite(affine_from_constant_ops, b.finish(y))
    assert op_counts(out)["affine"] == 1 and out.nodes[-1].attrs["act"] == "sigmoid"


def test_whole_pipeline_leaves_only_quantizable_ops_for_scaled_activations() -> None:
    b = Builder(1, 3, 8, 8)
    h = b.op("hard_swish", b.conv("x", 8, 3))
    y = b.conv(b.op("add", b.op("mul", h, 1.5), -0.5), 8, 3)
    z = b.dense(b.op("reshape", b.op("mul", b.op("global_avg_pool", b.op("relu", y)), 0.8), shape=(1, 8)), 4)
    g = b.finish(z)
    out = optimize(g)
    assert_equivalent(g, out)
    assert set(op_counts(out)) <= {"conv2d", "affine", "global_avg_pool", "reshape", "dense"}
    assert op_counts(out)["affine"] == 1


# --- ONNX's own function bodies (the backend tests' "_expanded" models) ------------------------------
EXPANDED = {"test_gelu_default_1_expanded": "gelu", "test_gelu_default_2_expanded": "gelu",
            "test_hardsigmoid_expanded_ver18": "hard_sigmoid", "test_hardsigmoid_default_expanded_ver18": "hard_sigmoid",
            "test_hardsigmoid_example_expanded_ver18": "hard_sigmoid"}


@pytest.mark.parametrize("case", sorted(EXPANDED))
def test_onnx_function_bodies_are_recognized(case: str) -> None:
    """ONNX spells Gelu and HardSigmoid out in their function bodies; the pipeline must put the
    single op back and still give the test's expected output."""
    case_dir = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node", case)
    graph = load_onnx(onnx.load(os.path.join(case_dir, "model.onnx")), require_image_input=False)
    out = optimize(graph)
    assert op_counts(out) == {EXPANDED[case]: 1}, op_counts(out)
    x, y = (numpy_helper.to_array(onnx.load_tensor(os.path.join(case_dir, "test_data_set_0", f"{k}_0.pb")))
            for k in ("input", "output"))
    np.testing.assert_allclose(run_float(out, {out.inputs[0]: x})[out.outputs[0]], y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", ["max_then_min", "min_then_max", "max_only"])
def test_clip_from_max_min(case: str) -> None:
    b = Builder(2, 4, 3, 3)
    y = {"max_then_min": lambda: b.op("min", b.op("max", "x", 0.0), 6.0),
         "min_then_max": lambda: b.op("max", -1.0, b.op("min", "x", 1.0)),
         "max_only": lambda: b.op("max", "x", -1.0)}[case]()
    out = rewrite(clip_from_max_min, b.finish(y))
    assert op_counts(out) == {"clip": 1}
