"""GELU exported as Erf compiles to an exact 256-entry LUT (like h-swish): fused into the conv
that produces it, or standalone (`lut_s8`) after a layer it cannot fuse into; the C is bit-exact
with the integer simulator on the host and under QEMU Cortex-M7."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnv3c import cli
from mnv3c.quant.evaluate import load_float_graph, quantize_model, run_int8
from mnv3c.reference.activations import gelu
from mnv3c.reference.float_exec import run_float


def _gelu_model(path, standalone: bool):
    """Conv -> [MaxPool] -> x * 0.5 * (1 + erf(x / sqrt 2)) (torch's legacy export order) -> pool -> Gemm."""
    rng = np.random.default_rng(0)
    inits = {"w": rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3,
             "b": rng.standard_normal(8).astype(np.float32) * 0.1,
             "fw": rng.standard_normal((5, 8)).astype(np.float32) * 0.3, "fb": np.zeros(5, np.float32),
             "sqrt2": np.float32(math.sqrt(2)), "one": np.float32(1), "half": np.float32(0.5)}
    c = "mp" if standalone else "c"
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1])]
    if standalone:
        nodes.append(helper.make_node("MaxPool", ["c"], ["mp"], kernel_shape=[2, 2], strides=[2, 2]))
    nodes += [helper.make_node("Div", [c, "sqrt2"], ["d"]), helper.make_node("Erf", ["d"], ["e"]),
              helper.make_node("Add", ["e", "one"], ["a"]), helper.make_node("Mul", [c, "a"], ["m"]),
              helper.make_node("Mul", ["m", "half"], ["g"]),
              helper.make_node("GlobalAveragePool", ["g"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
              helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "gelu", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
    return path


def test_gelu_reference_is_the_erf_form() -> None:
    x = np.linspace(-6, 6, 101)
    want = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(gelu(x, {}), want, rtol=0, atol=1e-15)
    assert np.max(np.abs(gelu(x, {"approximate": "tanh"}) - want)) < 1e-3  # ONNX's tanh form is close, not equal


@pytest.mark.parametrize("standalone", [False, True])
def test_gelu_is_a_lut_and_close_to_float(standalone: bool, tmp_path) -> None:
    path = _gelu_model(tmp_path / "gelu.onnx", standalone)
    g, _ = load_float_graph(str(path))
    ops = [n.op for n in g.nodes]
    assert ("gelu" in ops) == standalone and "erf" not in ops
    assert standalone or g.nodes[0].attrs["act"] == "gelu"
    calib = np.random.default_rng(1).standard_normal((16, 3, 16, 16)).astype(np.float32)
    x = np.random.default_rng(2).standard_normal((8, 3, 16, 16)).astype(np.float32)
    _, _, qg = quantize_model(g, calib)
    node = next(n for n in qg.nodes if n.op == ("gelu" if standalone else "conv2d"))
    assert node.attrs["lut"].shape == (256,)
    f = run_float(g, {g.inputs[0]: x})[g.outputs[0]]
    q = run_int8(qg, x)[1]
    assert np.max(np.abs(q - f)) < 0.05 * np.max(np.abs(f))


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.parametrize("target", ["host", "cortex-m7"])
@pytest.mark.parametrize("standalone", [False, True])
def test_gelu_c_is_bit_exact(standalone: bool, target: str, tmp_path, capsys) -> None:
    path = _gelu_model(tmp_path / "gelu.onnx", standalone)
    np.save(tmp_path / "calib.npy", np.random.default_rng(1).standard_normal((8, 3, 16, 16)).astype(np.float32))
    code = cli.main(["run", str(path), "--target", target, "--calib", str(tmp_path / "calib.npy"), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["bit_exact"] is True
