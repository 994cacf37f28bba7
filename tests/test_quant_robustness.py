"""Quantization on valid but hostile models (issue 16.1, 16.2): activations that overflow to
infinity are refused naming the tensor instead of hanging the histogram, and a depthwise
convolution with a channel multiplier is equalized correctly instead of crashing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnv3c.errors import MnvError
from mnv3c.quant.equalize import equalize, find_pairs
from mnv3c.quant.evaluate import load_float_graph
from mnv3c.quant.quantize import quantize
from mnv3c.quant.ranges import Histogram
from mnv3c.reference.float_exec import run_float
from test_cli import assert_one_line_error, mnv3c, mnv3c_json

SHAPE = (1, 3, 8, 8)


def _model(path: Path, first_depthwise: bool = False, multiplier: int = 2, big_weight: float | None = None) -> Path:
    """stem (conv 3->4, or depthwise 3->3) + relu, depthwise with ``multiplier`` outputs per channel
    + relu, global pool, dense -> 5. ``big_weight``: one stem weight of that (finite) value."""
    rng = np.random.default_rng(7)
    c = 3 if first_depthwise else 4
    inits = {
        "w1": 0.4 * rng.standard_normal((c, 1 if first_depthwise else 3, 3, 3)),
        "b1": 0.1 * rng.standard_normal(c),
        # channel ranges far apart, so equalization has something to do
        "w2": 0.4 * rng.standard_normal((c * multiplier, 1, 3, 3)) * np.repeat(np.geomspace(0.05, 4, c), multiplier)[:, None, None, None],
        "b2": 0.1 * rng.standard_normal(c * multiplier),
        "wf": 0.4 * rng.standard_normal((5, c * multiplier)), "bf": 0.1 * rng.standard_normal(5),
    }  # fmt: skip
    if big_weight is not None:
        inits["w1"][0, 0, 1, 1] = big_weight
    stem = {"group": 3} if first_depthwise else {}
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="stem", pads=[1, 1, 1, 1], **stem),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="dw", group=c, pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(nodes, "multiplier", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(SHAPE))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()])  # fmt: skip
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


@pytest.fixture(scope="module")
def d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("quant-robustness")
    rng = np.random.default_rng(8)
    np.save(d / "calib.npy", rng.standard_normal((16, *SHAPE[1:])).astype(np.float32))
    np.save(d / "labels.npy", rng.integers(0, 5, 16))
    _model(d / "overflow.onnx", big_weight=3e38)
    return d


# --- 16.1: non-finite values in calibration ------------------------------------------------------
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_histogram_refuses_non_finite_values_instead_of_hanging(value) -> None:
    """`while mag >= width * bins` doubled the width forever when mag was inf."""
    h = Histogram()
    h.add(np.array([0.5, -1.0], np.float32))
    with pytest.raises(ValueError, match="non-finite"):
        h.add(np.array([1.0, value], np.float32))


def test_non_finite_calibration_samples_are_refused_naming_the_input(tmp_path) -> None:
    """Calibration samples given as an array (the library path, not checked by a file loader)."""
    graph, _ = load_float_graph(_model(tmp_path / "m.onnx"))
    calib = np.random.default_rng(0).standard_normal((4, *SHAPE[1:])).astype(np.float32)
    calib[3, 0, 0, 0] = np.inf
    with pytest.raises(MnvError, match=r"calibration: tensor 'x' has non-finite values .* sample 3"):
        quantize(graph, calib, progress=False)


@pytest.mark.parametrize("command", ["compile", "run", "eval"])
def test_overflowing_activations_are_exit_2_naming_the_tensor(command, d, tmp_path, capsys) -> None:
    """One weight of 3e38: the stem's output overflows to inf. Used to hang in `Histogram.add`."""
    model, calib = d / "overflow.onnx", d / "calib.npy"
    argv = {"compile": ["compile", model, "--target", "host", "--calib", calib, "-o", tmp_path / "out"],
            "run": ["run", model, "--target", "host", "--calib", calib],
            "eval": ["eval", model, "--calib", calib, "--data", calib, "--labels", d / "labels.npy"]}[command]
    code, out, err = mnv3c(capsys, *argv)
    assert_one_line_error(code, err, "calibration: tensor 'r1' (output of node 'stem') has non-finite values")
    assert out == "" and list(tmp_path.iterdir()) == []


def test_inspect_refuses_an_input_whose_float_output_overflows(d, capsys) -> None:
    """`inspect --input` printed a float output of NaNs (and argmax 0) for the same model."""
    code, out, err = mnv3c(capsys, "inspect", d / "overflow.onnx", "--input", d / "calib.npy")
    assert_one_line_error(code, err, "--input: tensor 'r1' (output of node 'stem') has NaN or infinite values")
    assert out == ""


# --- 16.2: depthwise channel multiplier in cross-layer equalization ----------------------------
@pytest.mark.parametrize("first_depthwise", [False, True], ids=["conv_then_dw_x2", "dw_then_dw_x2"])
def test_equalization_with_a_channel_multiplier_keeps_the_float_function(first_depthwise, tmp_path) -> None:
    """Used to crash: `operands could not be broadcast together with shapes (8,1,3,3) (4,1,1,1)`."""
    graph, _ = load_float_graph(_model(tmp_path / "m.onnx", first_depthwise))
    rng = np.random.default_rng(9)
    calib, data = (rng.standard_normal((n, *SHAPE[1:])).astype(np.float32) for n in (16, 8))
    pairs = find_pairs(graph)
    assert [(graph.node(p.first).op, graph.node(p.second).op) for p in pairs] == [
        ("depthwise_conv2d" if first_depthwise else "conv2d", "depthwise_conv2d")]
    eq, report = equalize(graph, calib)
    before, after = run_float(graph, {"x": data}, keep_all=True), run_float(eq, {"x": data}, keep_all=True)
    np.testing.assert_allclose(after[graph.outputs[0]], before[graph.outputs[0]], rtol=1e-4, atol=1e-5)
    # the activation between the pair is divided channel-wise and the depthwise output is unchanged
    stem_out, dw_out = pairs[0].tensor, graph.node(pairs[0].second).outputs[0]
    np.testing.assert_allclose(after[dw_out], before[dw_out], rtol=1e-4, atol=1e-5)
    assert not np.allclose(after[stem_out], before[stem_out])
    assert report[0]["range_spread_after"] < report[0]["range_spread_before"]


@pytest.mark.parametrize("first_depthwise", [False, True], ids=["conv_then_dw_x2", "dw_then_dw_x2"])
def test_a_channel_multiplier_model_runs_bit_exact_on_the_host(first_depthwise, d, tmp_path, capsys) -> None:
    model = _model(tmp_path / "m.onnx", first_depthwise)
    r = mnv3c_json(capsys, "run", model, "--target", "host", "--calib", d / "calib.npy", "--input", d / "calib.npy")
    assert r["bit_exact"] is True and r["samples"] == 16
    assert np.argmax(r["output"], axis=1).tolist() == np.argmax(r["float_output"], axis=1).tolist()


def test_a_weight_channel_too_small_for_a_float32_scale_quantizes_to_zeros() -> None:
    """Fuzzer find (v2_bn case 6682, a depthwise channel of 1e-45 weights): absmax/127 underflowed to
    a zero scale, the codes came from NaN (int8 garbage) and the bias scale divided by zero."""
    from mnv3c.quant.weight_rounding import quantize_weights_per_channel

    w = np.random.default_rng(0).standard_normal((3, 1, 3, 3)).astype(np.float32)
    w[1] = 1e-45
    q, scale = quantize_weights_per_channel(w)
    assert np.all(q[1] == 0) and np.all(np.isfinite(scale)) and np.all(scale > 0)
    assert np.abs(q[[0, 2]]).max() == 127
