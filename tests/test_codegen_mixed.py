"""Mixed int8/int16 (16x8) models in C: host builds (with sanitizers) bit-exact with the simulator for
every placement of the int8/int16 boundaries, and the report says each layer's precision."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mnv3c import cli
from mnv3c.codegen import host
from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.compiler import build_project, resolve_board, run_project, write_project
from mnv3c.codegen.generate import generate
from mnv3c.quant.mixed import all_int16, rebuild
from mnv3c.quant.quantize import quantize_with_float
from mnv3c.quant.simulate import quantize_input, simulate
from mnv3c.zoo import mnist
from quant_graphs import _Builder, attention_graph, calib_inputs, data_movement_graph, tiny_mobilenet

NARROW = Path(mnist.DATA_DIR) / "narrow" / "mnv3_small_x035_hsig02_mnist.onnx"


def _standalone_lut_graph():
    """conv -> standalone h-sigmoid (Paddle's alpha 0.2) -> standalone h-swish -> pool -> dense: the
    table kernels outside a fused layer."""
    b = _Builder(np.random.default_rng(5), (1, 3, 8, 8))
    x = b.conv("input", 8, k=3)
    s = b.op("hard_sigmoid", [x], b.shapes[x], alpha=0.2, beta=0.5)
    h = b.op("hard_swish", [s], b.shapes[s])
    gp = b.op("global_avg_pool", [h], (1, 8, 1, 1))
    f = b.op("reshape", [gp], (1, 8), shape=(1, 8), view=True)
    b.g.outputs = [b.dense(f, 4)]
    b.g.validate()
    return b.g


GRAPHS = {"tiny_mobilenet": lambda: tiny_mobilenet(seed=3), "standalone_luts": _standalone_lut_graph,
          "data_movement": data_movement_graph, "attention": attention_graph}
PLACEMENTS = ("all", "odd", "even", "none")


def _precision(ref, placement: str) -> dict[str, str]:
    names = [n.name for n in ref.nodes]
    return {"all": all_int16(ref), "odd": {n: "int16" for n in names[1::2]},
            "even": {n: "int16" for n in names[::2]}, "none": {}}[placement]


@pytest.mark.parametrize("graph", sorted(GRAPHS))
@pytest.mark.parametrize("placement", PLACEMENTS)
def test_mixed_model_bit_exact_on_host_under_sanitizers(graph: str, placement: str, tmp_path: Path) -> None:
    g = GRAPHS[graph]()
    shape = g.tensors[g.inputs[0]].shape[1:]
    ref, qg = quantize_with_float(g, calib_inputs(32, seed=4, shape=shape), progress=False)
    q = rebuild(ref, qg, _precision(ref, placement))
    x = quantize_input(q, calib_inputs(5, seed=8, shape=shape))
    report = generate(q, tmp_path / "out")
    np.testing.assert_array_equal(host.build_and_run(tmp_path / "out", x, sanitize=True), simulate(q, x))
    kernels = [layer["kernel"] for layer in report["layers"]]
    precisions = {layer["precision"] for layer in report["layers"]}
    if graph == "data_movement" and placement == "all":
        assert {"concat_s16", "slice_s16", "transpose_s16"} <= set(kernels)
    if graph in ("attention", "tiny_mobilenet") and placement == "all":  # the attention's and the trailing one
        assert kernels.count("softmax_s16") == (2 if graph == "attention" else 1) and "softmax_s8" not in kernels
    if placement == "none":
        assert precisions == {"int8"} and not any(k.endswith("_s16") or "requantize" in k for k in kernels)
    else:
        assert "int16" in precisions and "requantize_s8_s16" in kernels and "requantize_s16_s8" in kernels
        assert all(k.endswith("_s16") for k, layer in zip(kernels, report["layers"])
                   if layer["precision"] == "int16" and layer["op"] != "requantize")


QEMU_GRAPHS = {"data_movement": (data_movement_graph, {"concat_s16", "slice_s16", "transpose_s16"}),
               "attention": (attention_graph, {"batch_matmul_s16", "softmax_s16"}),
               "tiny_mobilenet": (lambda: tiny_mobilenet(seed=3), {"conv2d_s16", "depthwise_conv2d_s16"})}


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.parametrize("graph", sorted(QEMU_GRAPHS))
@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "riscv32", "esp8266"])
def test_int16_kernels_bit_exact_under_qemu(graph: str, target: str, tmp_path: Path) -> None:
    """Every layer int16 on the emulated targets: the data movement (concat_s16 with copied and
    requantized inputs, slice_s16, transpose_s16), and an attention whose softmax over strided rows
    (softmax_s16) sits between two batch_matmul_s16 and whose trailing softmax is int16 before the
    int8 output, and tiny_mobilenet's convolutions with the computed hard-swish (mnv3c_hswish16's
    64-bit steps); the device output is the simulator's, byte for byte."""
    build_graph, wanted = QEMU_GRAPHS[graph]
    g = build_graph()
    shape = g.tensors[g.inputs[0]].shape[1:]
    ref, qg = quantize_with_float(g, calib_inputs(16, seed=4, shape=shape), progress=False)
    q = rebuild(ref, qg, all_int16(ref))
    x = quantize_input(q, calib_inputs(2, seed=8, shape=shape))
    x_c = nchw_to_nhwc(x)
    report = write_project(q, target, resolve_board(target, None), tmp_path / "out", force=False, inputs_int8=x_c)
    assert wanted <= {layer["kernel"] for layer in report["layers"]}
    _, image = build_project(tmp_path / "out")
    ran = run_project(tmp_path / "out", image, x_c)
    want = nchw_to_nhwc(simulate(q, x)).reshape(len(x), -1)  # the device writes its NHWC storage
    np.testing.assert_array_equal(ran.outputs.reshape(len(x), -1), want)


def test_compile_precision_int16_marks_every_layer(tmp_path: Path, capsys) -> None:
    """compile --precision int16 on a trained narrow network: every computing layer runs 16x8, the
    int8 input and output each get one converter."""
    calib = tmp_path / "calib.npy"
    np.save(calib, mnist.load_split("calib")[0][:24])
    assert cli.main(["compile", str(NARROW), "--target", "host", "--calib", str(calib), "-o", str(tmp_path / "o"),
                     "--precision", "int16"]) == 0
    capsys.readouterr()
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    layers = report["layers"]
    assert {x["precision"] for x in layers if x["op"] != "requantize"} == {"int16"}
    assert [x["kernel"] for x in layers if x["op"] == "requantize"] == ["requantize_s8_s16", "requantize_s16_s8"]
    assert layers[0]["kernel"] == "requantize_s8_s16" and layers[-1]["kernel"] == "requantize_s16_s8"
