"""Unit tests of the structural and folding passes on minimal hand-built graphs: each proves the
rewritten graph computes the same (float reference, relative error <= 1e-4) and that the pattern
is gone (op counts)."""

from __future__ import annotations

import numpy as np
import pytest

from mnv3c.passes import PIPELINE, optimize
from mnv3c.passes.canonical_bias import canonicalize_bias
from mnv3c.passes.dead_nodes import eliminate_dead_nodes
from mnv3c.passes.dense_from_matmul import dense_from_matmul
from mnv3c.passes.fold_batch_norm import fold_batch_norm
from mnv3c.passes.fold_constants import fold_constants
from mnv3c.passes.fold_pad import fold_pad_into_conv
from mnv3c.passes.fold_scale import fold_scale_into_conv
from mnv3c.passes.global_pool import global_pool_from_reduce_mean
from mnv3c.passes.remove_identity import remove_identity
from mnv3c.passes.simplify_views import simplify_views
from passes_builder import Builder, assert_equivalent, fingerprint, op_counts, rewrite


# --- fold_constants, remove_identity, dead nodes -----------------------------------------------
def test_fold_constants_evaluates_constant_subgraphs():
    b = Builder(1, 4, 5, 5)
    bias = b.op("reshape", b.op("mul", b.rand(4), 2.0), shape=(1, 4, 1, 1))
    y = b.op("add", "x", bias)
    out = rewrite(fold_constants, b.finish(y))
    assert op_counts(out) == {"add": 1}


def test_remove_identity_including_graph_output():
    b = Builder(1, 3, 4, 4)
    y = b.op("identity", b.op("relu", b.op("identity", "x")))
    g = b.finish(y)
    out = rewrite(remove_identity, g)
    assert op_counts(out) == {"relu": 1}
    assert out.outputs == g.outputs  # the output keeps its name


def test_remove_identity_drops_casts_to_the_same_type_only():
    b = Builder(1, 3, 4, 4)
    y = b.op("cast", b.op("relu", b.op("cast", "x", to="float32")), to="float16")
    out = rewrite(remove_identity, b.finish(y))
    assert op_counts(out) == {"relu": 1, "cast": 1}


def test_remove_identity_keeps_input_to_output_identity():
    b = Builder(1, 3)
    out = rewrite(remove_identity, b.finish(b.op("identity", "x")))
    assert op_counts(out) == {"identity": 1}


def test_eliminate_dead_nodes():
    b = Builder(1, 3, 4, 4)
    dead = b.op("relu", "x")
    b.op("sigmoid", dead)
    y = b.op("hard_swish", "x")
    out = rewrite(eliminate_dead_nodes, b.finish(y))
    assert op_counts(out) == {"hard_swish": 1}


# --- views ---------------------------------------------------------------------------------------
def test_simplify_views_collapses_chains_and_drops_noops():
    b = Builder(2, 8, 1, 1)
    r = b.op("reshape", b.op("reshape", "x", shape=(2, 8)), shape=(2, 2, 4))
    noop = b.op("reshape", b.op("relu", r), shape=(2, 2, 4))
    out = rewrite(simplify_views, b.finish(b.op("sigmoid", noop)))
    assert op_counts(out) == {"reshape": 1, "relu": 1, "sigmoid": 1}
    (view,) = [n for n in out.nodes if n.op == "reshape"]
    assert view.inputs == ["x"] and view.attrs["view"] is True


def test_simplify_views_transpose_of_unit_dims_is_a_view():
    b = Builder(1, 8, 1, 1)
    t = b.op("transpose", "x", perm=(0, 2, 3, 1))  # NCHW -> NHWC with H = W = 1: no data moves
    real = b.op("transpose", b.op("reshape", t, shape=(1, 2, 4)), perm=(0, 2, 1))  # does move data
    out = rewrite(simplify_views, b.finish(real))
    assert op_counts(out) == {"reshape": 1, "transpose": 1}


def test_reduce_mean_over_hw_becomes_global_avg_pool():
    b = Builder(2, 6, 5, 7)
    keep = b.op("reduce_mean", "x", axes=(2, 3), keepdims=True)
    flat = b.op("reduce_mean", "x", axes=(-1, -2), keepdims=False)
    other = b.op("reduce_mean", "x", axes=(1,), keepdims=True)
    out = rewrite(global_pool_from_reduce_mean, b.finish(keep, flat, other))
    assert op_counts(out) == {"global_avg_pool": 2, "reshape": 1, "reduce_mean": 1}


# --- dense, pad ----------------------------------------------------------------------------------
@pytest.mark.parametrize("bias_first", [False, True])
def test_dense_from_matmul_with_bias(bias_first):
    b = Builder(3, 10)
    w = b.op("transpose", b.rand(6, 10), perm=(1, 0))  # a weight behind a transpose...
    mm = b.op("matmul", "x", w)
    y = b.op("add", *((b.rand(6), mm) if bias_first else (mm, b.rand(6))))
    g = fold_constants(b.finish(y))  # ...becomes a constant first
    out = rewrite(dense_from_matmul, g)
    assert op_counts(out) == {"dense": 1}
    (dense,) = out.nodes
    assert dense.fused == ["bias_add"] and len(dense.inputs) == 3


def test_dense_from_matmul_keeps_runtime_weights():
    b = Builder(3, 4)
    y = b.op("matmul", "x", b.op("transpose", "x", perm=(1, 0)))
    assert op_counts(rewrite(dense_from_matmul, b.finish(y))) == {"matmul": 1, "transpose": 1}


@pytest.mark.parametrize("consumer", ["conv2d", "depthwise_conv2d", "avg_pool", "avg_pool_nopad_count", "max_pool"])
def test_fold_pad(consumer):
    b = Builder(1, 4, 7, 8)
    value = -np.inf if consumer == "max_pool" else 0.0
    p = b.op("pad", "x", pads=(0, 0, 1, 0, 0, 0, 2, 1), mode="constant", value=value)
    if consumer == "conv2d":
        y = b.conv(p, 5, 3)
    elif consumer == "depthwise_conv2d":
        y = b.conv(p, 4, 3, group=4)
    elif consumer == "max_pool":
        y = b.op("max_pool", p, kernel=(3, 3), strides=(2, 2), pads=(1, 1, 1, 1), dilations=(1, 1), ceil_mode=False)
    else:
        counts = consumer == "avg_pool"
        y = b.op("avg_pool", p, kernel=(3, 3), strides=(2, 2), pads=(1, 1, 1, 1) if counts else (0, 0, 0, 0),
                 count_include_pad=counts, ceil_mode=False)
    out = rewrite(fold_pad_into_conv, b.finish(y))
    assert "pad" not in op_counts(out)
    assert out.nodes[0].fused == ["pad"]


@pytest.mark.parametrize("case", ["nonzero_value", "channel_pad", "two_readers", "avg_pool_excludes_pad", "reflect"])
def test_fold_pad_refuses(case):
    b = Builder(1, 4, 7, 8)
    pads = (0, 1, 1, 0, 0, 0, 2, 1) if case == "channel_pad" else (0, 0, 1, 0, 0, 0, 2, 1)
    p = b.op("pad", "x", pads=pads, mode="reflect" if case == "reflect" else "constant",
             value=1.0 if case == "nonzero_value" else 0.0)
    outs = [b.conv(p, 5, 3)] if case != "avg_pool_excludes_pad" else [
        b.op("avg_pool", p, kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1), count_include_pad=False, ceil_mode=False)]
    if case == "two_readers":
        outs.append(b.op("relu", p))
    out = rewrite(fold_pad_into_conv, b.finish(*outs))
    assert op_counts(out)["pad"] == 1


# --- batch norm ----------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", ["conv2d", "depthwise_conv2d", "dense", "conv_no_bias"])
def test_fold_batch_norm_into_layer(layer):
    b = Builder(2, 6, 5, 5) if layer != "dense" else Builder(2, 6)
    if layer == "dense":
        y = b.dense("x", 4, name="fc")
    else:
        y = b.conv("x", 6, 3, group=6 if layer == "depthwise_conv2d" else 1, bias=layer != "conv_no_bias", name="fc")
    out = rewrite(fold_batch_norm, b.finish(b.op("relu", b.batch_norm(y))))
    assert "batch_norm" not in op_counts(out) and len(out.nodes) == 2
    assert out.nodes[0].name == "fc" and out.nodes[0].fused == ["batch_norm"]


@pytest.mark.parametrize("case", ["no_layer", "shared_output", "fused_act"])
def test_batch_norm_that_cannot_fold_becomes_affine(case):
    b = Builder(2, 6, 5, 5)
    outs = []
    if case == "no_layer":
        src = b.op("relu", "x")
    elif case == "shared_output":
        src = b.conv("x", 6, 3)
        outs.append(src)
    else:
        src = b.conv("x", 6, 3, act="relu", act_params={})
    outs.append(b.batch_norm(src, name="bn"))
    out = rewrite(fold_batch_norm, b.finish(*outs))
    counts = op_counts(out)
    assert counts["affine"] == 1 and "batch_norm" not in counts
    assert out.node("bn").fused == ["batch_norm"]


# --- scales and biases ---------------------------------------------------------------------------
SCALE_CASES = [
    ("mul", "scalar", False), ("mul", "channel", True), ("div", "scalar", False), ("div", "channel", False),
    ("add", "channel", True), ("add", "scalar", False), ("sub", "channel", False),
]


@pytest.mark.parametrize("op,kind,const_first", SCALE_CASES)
@pytest.mark.parametrize("layer", ["conv2d", "depthwise_conv2d", "dense"])
def test_fold_scale_into_layer(op, kind, const_first, layer):
    b = Builder(2, 6, 5, 5) if layer != "dense" else Builder(2, 6)
    y = b.dense("x", 6) if layer == "dense" else b.conv("x", 6, 3, group=6 if layer == "depthwise_conv2d" else 1)
    shape = (1,) if kind == "scalar" else ((6,) if layer == "dense" else (1, 6, 1, 1))
    c = b.rand(*shape, positive=op == "div")
    z = b.op(op, *((c, y) if const_first else (y, c)))
    out = rewrite(fold_scale_into_conv, b.finish(z))
    assert len(out.nodes) == 1
    assert out.nodes[0].fused == ["scale" if op in ("mul", "div") else "bias_add"]


def test_fold_scale_chain_with_reshape_bias_and_affine():
    """The "rewritten" exporter's form: bias-free conv, bias via Reshape + Add, then a BN that
    fold_batch_norm turned into an affine, then a scale."""
    b = Builder(1, 4, 6, 6)
    y = b.conv("x", 8, 3, bias=False, name="conv")
    y = b.op("add", y, b.op("reshape", b.rand(8), shape=(1, 8, 1, 1)))
    y = b.op("mul", b.batch_norm(y), b.rand(1, 8, 1, 1))
    g = fold_batch_norm(fold_constants(b.finish(y)))
    out = rewrite(fold_scale_into_conv, g)
    assert op_counts(out) == {"conv2d": 1}
    assert out.node("conv").fused == ["bias_add", "batch_norm", "scale"]


@pytest.mark.parametrize("case", ["reversed_div", "reversed_sub", "spatial_const", "shared", "w_axis_vector"])
def test_fold_scale_refuses(case):
    b = Builder(1, 4, 6, 6)
    y = b.conv("x", 6, 3)
    outs = []
    if case == "reversed_div":
        z = b.op("div", b.rand(1, 6, 1, 1, positive=True), y)
    elif case == "reversed_sub":
        z = b.op("sub", b.rand(1), y)
    elif case == "spatial_const":
        z = b.op("mul", y, b.rand(1, 1, 6, 6))
    elif case == "w_axis_vector":
        z = b.op("mul", y, b.rand(6))  # [C]-shaped but broadcasts over W, not channels
    else:
        z = b.op("mul", y, 2.0)
        outs.append(y)
    out = rewrite(fold_scale_into_conv, b.finish(z, *outs))
    assert len(out.nodes) == 2


def test_canonicalize_bias_adds_zero_bias():
    b = Builder(1, 4, 6, 6)
    y = b.dense(b.op("reshape", b.conv(b.conv("x", 4, 3, group=4, bias=False), 6, 1, bias=False), shape=(1, 216)),
                3, bias=False)
    out = rewrite(canonicalize_bias, b.finish(y))
    for n in out.nodes:
        if n.op != "reshape":
            assert len(n.inputs) == 3 and not out.const(n.inputs[2]).any()
            assert out.const(n.inputs[2]).shape == (out.const(n.inputs[1]).shape[0],)


def test_every_pass_leaves_its_input_alone():
    b = Builder(1, 4, 6, 6)
    y = b.op("hard_swish", b.batch_norm(b.conv("x", 4, 3, bias=False)))
    g = b.finish(b.op("identity", y))
    before = fingerprint(g)
    for _, run in PIPELINE:
        run(g)
        assert fingerprint(g) == before


def test_optimize_validates_and_traces_every_pass():
    b = Builder(1, 4, 6, 6)
    g = b.finish(b.op("relu", b.batch_norm(b.conv("x", 4, 3, bias=False, name="conv"))))
    seen: list[str] = []
    out = optimize(g, lambda name, graph: seen.append(name))
    assert seen == [name for name, _ in PIPELINE]
    assert_equivalent(g, out)
    assert op_counts(out) == {"conv2d": 1} and out.node("conv").fused == ["batch_norm", "relu"]
