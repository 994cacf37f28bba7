"""int8 fidelity on the narrow trained networks (mnv3c/data/narrow) and the tools that locate its losses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnv3c.quant.evaluate import quantize_model, run_int8
from mnv3c.quant.quantize import build
from mnv3c.quant.sensitivity import isolated_sensitivity
from mnv3c.reference.activations import apply_activation, varying_interval
from mnv3c.reference.float_exec import run_float
from mnv3c.zoo import mnist

NARROW = Path(mnist.DATA_DIR) / "narrow"
MODELS = ("mnv3_small_x035_mnist", "mnv3_small_x035_hsig02_mnist")


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """(64 calibration inputs, 200 test inputs) of the shipped MNIST splits."""
    return mnist.load_split("calib")[0][:64], mnist.load_split("test")[0][:200]


@pytest.mark.parametrize("act,params", [("hard_swish", {}), ("hard_sigmoid", {"alpha": 1 / 6, "beta": 0.5}),
                                        ("hard_sigmoid", {"alpha": 0.2, "beta": 0.5}),
                                        ("hard_sigmoid", {"alpha": -0.25, "beta": 0.3}), ("relu", {}),
                                        ("clip", {"min": -1.0, "max": 2.0})])
def test_activation_is_constant_outside_its_varying_interval(act, params) -> None:
    a, b = varying_interval(act, params)
    x = np.linspace(-20, 20, 40001)
    y = apply_activation(x, act, params)
    ya, yb = apply_activation(np.array([a, b]), act, params) if np.isfinite(b) else (
        apply_activation(np.array([a]), act, params)[0], None)
    assert np.all(y[x < a] == ya)
    if yb is not None:
        assert np.all(y[x > b] == yb)
    inside = x[(x > a + 0.01) & (x < min(b, 20) - 0.01)]
    assert np.unique(apply_activation(inside, act, params)).size > 100  # and it does vary inside


@pytest.mark.parametrize("name", MODELS)
def test_narrow_trained_models_keep_int8_fidelity(name, digits) -> None:
    """Integer-only int8 against float on held-out digits; the SE gate of the hsig02 model is Paddle's
    HardSigmoid(alpha 0.2). Floors sit a few dB under the measured (benchmarks/README.md)."""
    calib, x = digits
    g, _, qg = quantize_model(NARROW / f"{name}.onnx", calib, progress=False)
    f = run_float(g, {g.inputs[0]: x})[g.outputs[0]]
    _, q = run_int8(qg, x)
    assert (f.argmax(1) == q.argmax(1)).mean() >= 0.98
    assert 10 * np.log10((f ** 2).sum() / ((f - q) ** 2).sum()) >= 26.0


def test_minmax_preactivation_ranges_stop_where_the_activation_is_flat(digits) -> None:
    """h-swish is 0 below -3 and the alpha-0.2 h-sigmoid is constant outside [-2.5, 2.5]: codes spent
    there are wasted, whatever the estimator (min/max used to span the whole observed range)."""
    g, _, qg = quantize_model(NARROW / "mnv3_small_x035_hsig02_mnist.onnx", digits[0][:16], method="minmax",
                              progress=False)
    ranges = qg.meta["quant"]["ranges"]
    pre = {k: v for k, v in ranges.items() if k.endswith(":pre_act")}
    gates = {k: v for k, v in ranges.items() if k.endswith(":se_gate_pre")}
    assert pre and gates
    assert all(v["lo"] >= -3.0 for v in pre.values())
    assert any(v["min"] < -3.0 for v in pre.values())  # the data did go below: the clip is what held it
    assert all(-2.5 <= v["lo"] and v["hi"] <= 2.5 for v in gates.values())


def test_isolated_sensitivity_ranks_a_coarsened_layer_lowest(digits) -> None:
    """Quantizing one layer's output 16x too coarsely must make it the most sensitive layer."""
    calib, x = digits
    _, ref, qg = quantize_model(NARROW / "mnv3_small_x035_mnist.onnx", calib[:16], progress=False)
    victim = next(n for n in qg.nodes if n.op == "conv2d" and n.attrs.get("lut") is None and "features.4" in n.name)
    params = dict(qg.meta["quant"]["params"])
    s, z = params[victim.outputs[0]]
    params[victim.outputs[0]] = (s * 16, z)
    rows = isolated_sensitivity(ref, build(ref, params), x[:16])
    worst = min(rows, key=lambda r: r["output_sqnr_db"])
    assert worst["name"] == victim.name
    good = {r["name"]: r["output_sqnr_db"] for r in isolated_sensitivity(ref, qg, x[:16])}
    assert good[victim.name] > worst["output_sqnr_db"] + 10
