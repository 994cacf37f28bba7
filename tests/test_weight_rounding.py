"""Adaptive rounding of the int8 weights (`mnv3c.quant.weight_rounding`): the search, the moments
it minimises, and its use by quantize, bias correction and the command line."""

from __future__ import annotations

import numpy as np
import pytest
from quant_graphs import calib_inputs, tiny_mobilenet

from mnv3c.ir.graph import Node
from mnv3c.quant.quantize import quantize_with_float
from mnv3c.quant.simulate import quantize_input, simulate
from mnv3c.quant.weight_rounding import (MomentSums, adaptive_round, layer_weights, quantize_weights_per_channel,
                                         weight_scales)
from mnv3c.reference.float_exec import run_float, run_node


def _objective(codes: np.ndarray, target: np.ndarray, h: np.ndarray) -> np.ndarray:
    e = codes.reshape(len(codes), -1) - target
    return np.einsum("ci,cij,cj->c", e, h, e) if h.ndim == 3 else np.einsum("ci,ij,cj->c", e, h, e)


def _correlated(d: int, rng: np.random.Generator) -> np.ndarray:
    """The second moment of smooth signals: neighbouring inputs correlate."""
    x = np.cumsum(rng.standard_normal((4000, d)), axis=1) + rng.standard_normal((4000, d))
    return x.T @ x / len(x)


@pytest.mark.parametrize("per_channel", [False, True])
def test_search_is_never_worse_than_nearest_and_stays_within_one_step(per_channel) -> None:
    rng = np.random.default_rng(3)
    w = rng.standard_normal((12, 5, 3, 3)).astype(np.float32)
    w[2] = 0.0  # an all-zero channel keeps its zeros
    d = 45
    h = np.stack([_correlated(d, rng) for _ in range(12)]) if per_channel else _correlated(d, rng)
    scale = weight_scales(w)
    target = w.reshape(12, -1).astype(np.float64) / scale[:, None]
    near, _ = quantize_weights_per_channel(w)
    codes = adaptive_round(w, scale, h, per_channel)
    assert codes.dtype == np.int8 and codes.shape == w.shape
    c = codes.reshape(12, -1).astype(np.float64)
    assert np.all(c >= np.floor(target)) and np.all(c <= np.ceil(target)) and np.abs(c).max() <= 127
    assert np.all(codes[2] == 0) and np.abs(c).max(axis=1)[[0, 1, 3]].tolist() == [127, 127, 127]
    before, after = _objective(near, target, h), _objective(codes, target, h)
    assert np.all(after <= before + 1e-9) and after.sum() < 0.5 * before.sum()
    np.testing.assert_array_equal(codes, adaptive_round(w, scale, h, per_channel))  # deterministic


def test_fully_correlated_inputs_cancel_the_sum_of_errors() -> None:
    """Inputs that are all equal see only the sum of a channel's errors: the search brings it within
    half a step, where round-to-nearest lets it grow with the number of weights."""
    rng = np.random.default_rng(5)
    w = rng.uniform(-1, 1, (16, 64)).astype(np.float32)
    h = np.ones((64, 64)) + 1e-6 * np.eye(64)
    scale = weight_scales(w)
    target = w.astype(np.float64) / scale[:, None]
    codes = adaptive_round(w, scale, h, False).astype(np.float64)
    near = quantize_weights_per_channel(w)[0].astype(np.float64)
    assert np.abs((codes - target).sum(axis=1)).max() <= 0.5 + 1e-6
    assert np.abs((near - target).sum(axis=1)).max() > 1.0


def test_moments_are_those_of_the_patches_each_output_reads() -> None:
    """x·w over the moments' patches reproduces the layer: the im2col rows and the depthwise
    per-channel windows are the inputs the kernels multiply by the weights."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 7, 6)).astype(np.float32)
    attrs = {"strides": (2, 1), "pads": (1, 0, 1, 2), "dilations": (1, 1)}
    for op, w_shape in (("conv2d", (3, 4, 3, 3)), ("depthwise_conv2d", (4, 1, 3, 3))):
        w = rng.standard_normal(w_shape).astype(np.float32)
        node = Node("l", op, ["x", "w"], ["y"], dict(attrs))
        sums = MomentSums()
        sums.add(node, w_shape, x)
        m = sums.layers["l"]
        y = run_node(node, None, [x, w])[0]
        assert m.count == y.shape[0] * y.shape[2] * y.shape[3]
        flat = w.reshape(w_shape[0], -1).astype(np.float64)
        # sum over outputs of y^2 = w^T (sum x x^T) w, per output channel
        want = (y.astype(np.float64) ** 2).sum(axis=(0, 2, 3))
        got = np.einsum("ci,cij,cj->c", flat, m.xx, flat) if op == "depthwise_conv2d" else \
            np.einsum("ci,ij,cj->c", flat, m.xx, flat)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_quantize_uses_the_codes_everywhere_and_lowers_the_weight_error() -> None:
    """The int8 graph's weights are the chosen codes, bias correction corrects those codes' mean
    error, and the float network with the codes' weights tracks the float one more closely."""
    graph, calib = tiny_mobilenet(), calib_inputs(32)
    data = calib_inputs(64, seed=7)
    errors = {}
    for adaptive in (False, True):
        ref, qg = quantize_with_float(graph, calib, progress=False, adaptive_rounding=adaptive)
        assert qg.meta["quant"]["adaptive_rounding"] is adaptive
        rounded = ref.copy()
        for n in ref.nodes:
            if n.op in ("conv2d", "depthwise_conv2d", "dense"):
                codes, scale = layer_weights(ref, n.inputs[1])
                np.testing.assert_array_equal(qg.tensors[n.inputs[1]].data, codes)
                rounded.tensors[n.inputs[1]].data = (codes * scale.reshape((-1,) + (1,) * (codes.ndim - 1))).astype(np.float32)
        f = run_float(ref, {ref.inputs[0]: data})[qg.outputs[0]]
        r = run_float(rounded, {ref.inputs[0]: data})[qg.outputs[0]]
        errors[adaptive] = float(((f - r) ** 2).sum())
        assert simulate(qg, quantize_input(qg, data)).shape[0] == len(data)
    assert errors[True] < errors[False]

