"""The range of a tensor only a softmax reads starts at its smallest row maximum minus
`ranges.softmax_margin` (int8 and int16): values further below move no probability by half a
step of 1/32768, so a far-low tail of the logits (PP-OCRv3's recogniser: -36 under maxima of 4..13)
stops costing the rest of the range its resolution."""

from __future__ import annotations

import numpy as np
import pytest
from quant_graphs import _Builder

from mnv3c.ir.graph import Graph
from mnv3c.quant.calibrate import softmax_rows
from mnv3c.quant.evaluate import layer_sqnr
from mnv3c.quant.mixed import apply_precision, fidelity
from mnv3c.quant.quantize import prepare, quant_report, quantize_with_float
from mnv3c.quant.ranges import SOFTMAX_RESOLUTION, softmax_floor, softmax_margin
from mnv3c.quant.simulate import host_output, quantize_input, simulate
from mnv3c.reference.float_exec import run_float

TAIL = -60.0  # the far-low class's bias: the logits' minimum without being any row's maximum


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _tailed_logits(softmax: str) -> Graph:
    """dense(8 -> 16) whose class 0 sits ~60 below the others, then a softmax: trailing
    ("trailing"), inside the graph before a dense ("inner"), or inside behind a reshape into rows of
    8 ("view", the rule lands on the dense output the reshape aliases)."""
    b = _Builder(np.random.default_rng(2), (1, 8))
    logits = b.dense("input", 16)
    b.g.tensors[b.g.nodes[0].inputs[1]].data *= 3  # rows of a few likely classes, as a classifier's
    b.g.tensors[b.g.nodes[0].inputs[2]].data[0] = TAIL
    if softmax == "trailing":
        b.g.outputs = [b.op("softmax", [logits], (1, 16), axis=-1)]
    elif softmax == "inner":
        b.g.outputs = [b.dense(b.op("softmax", [logits], (1, 16), axis=-1), 4)]
    else:
        rows = b.op("reshape", [logits], (1, 2, 8), shape=(1, 2, 8), view=True)
        att = b.op("softmax", [rows], (1, 2, 8), axis=-1)
        b.g.outputs = [b.dense(b.op("reshape", [att], (1, 16), shape=(1, 16), view=True), 4)]
    b.g.validate()
    return b.g


def _calib(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (n, 8)).astype(np.float32)


def test_margin_moves_no_probability_by_half_a_step():
    """The justification of the margin, checked on the worst row: every other value of the row sits
    just below the floor (at its maximum minus the margin) and is raised to it."""
    for row in (2, 20, 6625):
        m = softmax_margin(row)
        assert m == pytest.approx(np.log(2 * (row - 1) * 32768))
        below = np.concatenate([[0.0], np.full(row - 1, -m - 30.0)])
        raised = np.concatenate([[0.0], np.full(row - 1, -m)])
        assert np.abs(_softmax(raised) - _softmax(below)).max() <= SOFTMAX_RESOLUTION / 2
    assert softmax_margin(6625) == pytest.approx(19.89, abs=0.01) and softmax_margin(2) == pytest.approx(11.09, abs=0.01)


def test_only_softmax_read_tensors_have_rows():
    g = prepare(_tailed_logits("trailing"))  # stripped: the logits are the output, the host's softmax reads them
    assert softmax_rows(g) == {g.outputs[0]: 1}
    inner = _tailed_logits("inner")
    assert softmax_rows(inner) == {inner.nodes[0].outputs[0]: 1}
    shared = _tailed_logits("inner")  # the logits also read by another layer: every value matters
    shared.nodes[-1].inputs[0] = shared.nodes[0].outputs[0]
    assert softmax_rows(shared) == {}


@pytest.mark.parametrize("softmax", ["trailing", "inner", "view"])
def test_range_starts_at_the_smallest_row_maximum_minus_the_margin(softmax):
    g = _tailed_logits(softmax)
    calib = _calib(64, 1)
    _, qg = quantize_with_float(g, calib, "minmax", progress=False, softmax=softmax != "trailing")
    logits = g.nodes[0].outputs[0]
    f = run_float(g, {g.inputs[0]: calib}, keep_all=True)[logits]
    rows = f.reshape(len(calib), -1, 8 if softmax == "view" else 16)
    floor = softmax_floor(float(rows.max(axis=-1).min()), rows.shape[-1])
    r = qg.meta["quant"]["ranges"][logits]
    assert r["min"] < TAIL + 5 < floor and r["softmax_floor"] == pytest.approx(floor, rel=1e-6)
    assert r["lo"] == pytest.approx(floor, rel=1e-6) and r["int16_bound"] == pytest.approx(max(-floor, r["max"]), rel=1e-6)
    assert float(qg.tensors[logits].quant.scale) == pytest.approx((r["max"] - floor) / 255, rel=1e-6)
    assert all(v["softmax_floor"] is None for k, v in qg.meta["quant"]["ranges"].items() if k != logits and "lo" in v)
    assert [row["tensor"] for row in quant_report(qg)["softmax_floors"]] == [logits]  # report.json's quantization


@pytest.mark.parametrize("precision", ["int8", "int16"])
def test_probabilities_of_tailed_logits_keep_their_resolution(precision):
    """The host's softmax of the dequantized logits (on the calibration inputs, so that only the
    logits' range is at stake): within 0.03 of float's, int8 and 16x8 (the min/max range, -67..10
    in 255 steps, misses by 0.05; the floor is at -12.6)."""
    g = _tailed_logits("trailing")
    calib = data = _calib(64, 1)
    ref, qg = quantize_with_float(g, calib, "minmax", progress=False, softmax=False)
    if precision == "int16":
        qg = apply_precision(ref, qg, calib, "int16")[0]
    q = host_output(qg, simulate(qg, quantize_input(qg, data)))
    want = run_float(g, {g.inputs[0]: data})[g.outputs[0]]
    assert np.abs(q - want).max() < 0.03


def test_the_mixed_search_scores_logits_as_the_softmax_reads_them():
    """Logit SQNR against float logits raised to the floor too: the clipped tail (class 0, ~55 below
    the floor) is no error the softmax sees; counted, it holds 16x8 at 2 dB instead of 42."""
    g = _tailed_logits("trailing")
    calib = _calib(64, 1)
    ref, qg = quantize_with_float(g, calib, "minmax", progress=False, softmax=False)
    assert fidelity(ref, apply_precision(ref, qg, calib, "int16")[0], calib)["sqnr_db"] > 25


def test_per_layer_sqnr_scores_the_logits_as_the_softmax_reads_them():
    """`eval --per-layer` / report.json's layer SQNR of the floored logits: against float raised to
    the floor, as the mixed search scores them (counted, the clipped tail holds 16x8 near 2 dB)."""
    g = _tailed_logits("trailing")
    calib = _calib(64, 1)
    ref, qg = quantize_with_float(g, calib, "minmax", progress=False, softmax=False)
    q16 = apply_precision(ref, qg, calib, "int16")[0]
    assert layer_sqnr(ref, q16, calib)[q16.nodes[-1].name] > 25
