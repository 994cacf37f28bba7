"""The int8 softmax: TFLite semantics (TFLM's goldens, float softmax within one step of 1/256) and
the choice (int8 kernel or --no-softmax logits) visible in the report, the header and the command
line. The C kernel is checked byte for byte against mnv3c.quant.softmax in tests/test_kernels_c.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnv3c.cli import main
from mnv3c.codegen.generate import generate
from mnv3c.quant.quantize import quantize
from mnv3c.quant.softmax import softmax_params, softmax_s8
from quant_graphs import calib_inputs, tiny_mobilenet

SCALES = (0.002, 0.02, 0.0625, 0.1, 0.37, 1.0, 4.0)


def _float_softmax_codes(x: np.ndarray, scale: float) -> np.ndarray:
    v = x.astype(np.float64) * scale
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return np.clip(np.round(e / e.sum(axis=-1, keepdims=True) * 256) - 128, -128, 127)


def test_tflm_goldens() -> None:
    """TFLM's softmax_test 1D/2D int8 cases (input scale 0.1, zero point 0), with its tolerance of 1."""
    golden = np.array([0.011656231, 0.031684921, 0.086128544, 0.234121657, 0.636408647])
    x = np.array([[10, 20, 30, 40, 50], [-10, -20, -30, -40, -50]], np.int8)
    expected = np.round(np.stack([golden, golden[::-1]]) * 256) - 128
    y = softmax_s8(x, *softmax_params(0.1))
    assert np.abs(y.astype(int) - expected).max() <= 1
    assert softmax_params(0.1) == (1717986918, 23, -248)


@pytest.mark.parametrize("scale", SCALES)
def test_within_one_step_of_the_float_softmax(scale: float) -> None:
    x = np.random.default_rng(int(scale * 1000)).integers(-128, 128, (500, 10)).astype(np.int8)
    y = softmax_s8(x, *softmax_params(scale)).astype(int)
    assert np.abs(y - _float_softmax_codes(x, scale)).max() <= 1
    assert (y >= -128).all() and (y[np.arange(500), x.argmax(axis=1)] == y.max(axis=1)).all()


def test_the_choice_is_in_the_report_and_the_header(tmp_path: Path) -> None:
    for softmax, expected, words in ((True, "int8", "probabilities"), (False, "host", "LOGITS")):
        qg = quantize(tiny_mobilenet(seed=1), calib_inputs(4), method="minmax", progress=False, softmax=softmax)
        assert (qg.nodes[-1].op == "softmax") is softmax
        report = generate(qg, tmp_path / expected)
        header = (tmp_path / expected / "mnv3c" / "mnv3c_model.h").read_text()
        assert report["softmax"] == expected and words in header
        assert f"#define MNV3C_OUTPUT_SOFTMAX {int(softmax)}" in header
    assert report["output"]["scale"] != 1 / 256 and qg.meta["quant"]["host_softmax_axis"] in (1, -1)
    no_softmax = generate(quantize(tiny_mobilenet(seed=1, softmax=False), calib_inputs(4), method="minmax",
                                   progress=False), tmp_path / "none")  # fmt: skip
    assert no_softmax["softmax"] is None


def _classifier_onnx(path: Path) -> Path:
    """conv -> relu -> global pool -> flatten -> gemm -> softmax, seeded."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.normal(0, 0.5, (10, 4)).astype(np.float32), "fc")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "fc"], ["z"], transB=1), helper.make_node("Softmax", ["z"], ["y"], axis=1)]
    graph = helper.make_graph(nodes, "cls", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_command_line_flag(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = _classifier_onnx(tmp_path / "cls.onnx")
    seen = {}
    for flags in ([], ["--no-softmax"]):
        out = tmp_path / f"out{len(flags)}"
        assert main(["compile", str(model), "--target", "host", "-o", str(out), "--json", *flags]) == 0
        seen[json.loads(capsys.readouterr().out)["softmax"]] = json.loads((out / "report.json").read_text())["softmax"]
    assert seen == {"int8": "int8", "host": "host"}
    assert main(["run", str(model), "--target", "host", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["bit_exact"] and r["softmax"] == "int8" and abs(sum(r["output"][0]) - 1) < 10 / 256
    assert max(abs(a - b) for a, b in zip(r["output"][0], r["float_output"][0])) < 0.1
