"""The int8 ops of a transformer block (the PP-OCRv3 recogniser's SVTR neck): transpose and
non-view reshapes (transpose_s8), softmax on any axis, dense over a sequence, MatMul of two
tensors (TFLite BATCH_MATMUL), integer layer norm, a scalar Mul as a table, and the split_heads
pass for Paddle's 5-D q/k/v split.

Hand-computed integer cases pin the arithmetic (ties, saturation); a Paddle-style attention block
runs float vs onnxruntime and int8 simulator vs the generated C on the host, bit for bit, at a few
shapes. tests/test_kernels_c.py runs each kernel against its numpy reference on random shapes, and
tests/test_onnx_node_suite.py the ONNX backend node tests of Transpose, Softmax, MatMul and
LayerNormalization through the float frontend; `test_onnx_node_cases_in_int8` runs those cases
through the int8 path too.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from mnv3c.codegen import host
from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.compiler import build_project, resolve_board, run_project, write_project
from mnv3c.codegen.generate import generate
from mnv3c.errors import UnsupportedModelError
from mnv3c.frontend import load_onnx
from mnv3c.ir.graph import Graph, Node, Tensor
from mnv3c.passes import optimize
from mnv3c.plan.strides import gather_box
from mnv3c.quant import intops
from mnv3c.quant.batch_matmul import batch_matmul_s8
from mnv3c.quant.layer_norm import layer_norm_params, layer_norm_s8
from mnv3c.quant.mixed import all_int16, rebuild
from mnv3c.quant.quantize import quantize, quantize_with_float
from mnv3c.quant.simulate import dequantize_output, dequantize_tensor, quantize_input, quantize_tensor, simulate
from mnv3c.quant.softmax import softmax_params, softmax_s8
from mnv3c.reference.float_exec import run_float

ort = pytest.importorskip("onnxruntime")


# --- hand-computed integer cases -------------------------------------------------------------------
def test_batch_matmul_ties_and_saturation() -> None:
    """(a - za)·(b - zb) summed, times 1/2 by MBQM: 3/2 -> 2 and -3/2 -> -1 (SRDHM rounds ties up, as
    TFLite's kernels do); big sums clamp."""
    m, s = intops.quantize_multiplier(0.5)
    a = np.array([[[2, 1], [0, -1]]], np.int8)  # za = 1: [[1, 0], [-1, -2]]
    b = np.array([[[4, 1], [1, 1]]], np.int8)  # zb = 1: [[3, 0], [0, 0]]
    y = batch_matmul_s8(a, 1, b, 1, m, s, 0)
    np.testing.assert_array_equal(y, [[[2, 0], [-1, 0]]])
    big = np.full((1, 1, 64), 127, np.int8)
    np.testing.assert_array_equal(batch_matmul_s8(big, -128, big.transpose(0, 2, 1), -128, m, s, 0), [[[127]]])
    np.testing.assert_array_equal(batch_matmul_s8(big, -128, -big.transpose(0, 2, 1), 127, m, s, 0), [[[-128]]])


def test_layer_norm_hand_cases() -> None:
    """[0, 2]: mean 1, var 1 -> (-1, 1); output scale 1/64 -> codes -64, 64 (+ zero point 3).
    A constant row normalises to 0 (beta alone); a tiny output scale saturates."""
    p = layer_norm_params(2, 0.0, 0.1, 1 / 64, np.ones(2), np.zeros(2))
    np.testing.assert_array_equal(layer_norm_s8(np.array([[0, 2]], np.int8), zy=3, **p), [[-61, 67]])
    p = layer_norm_params(4, 1e-5, 0.1, 1 / 64, np.ones(4), np.array([0.5, -0.5, 0.25, 2.0]))
    np.testing.assert_array_equal(layer_norm_s8(np.full((1, 4), 9, np.int8), zy=0, **p), [[32, -32, 16, 127]])
    p = layer_norm_params(3, 1e-5, 0.1, 1 / 1024, np.ones(3), np.zeros(3))
    np.testing.assert_array_equal(layer_norm_s8(np.array([[-5, 0, 5]], np.int8), zy=0, **p), [[-128, 0, 127]])


def test_layer_norm_matches_float_to_an_output_step() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, (50, 120)).astype(np.int8)
    sx, sy, eps = 0.05, 0.03, 1e-5
    gamma, beta = rng.normal(1, 0.3, 120), rng.normal(0, 0.2, 120)
    p = layer_norm_params(120, eps, sx, sy, gamma, beta)
    y = layer_norm_s8(x, zy=-5, **p).astype(np.float64)
    xf = x * sx
    want = (xf - xf.mean(-1, keepdims=True)) / np.sqrt(xf.var(-1, keepdims=True) + eps) * gamma + beta
    ok = np.abs(want / sy) < 127
    assert np.abs((y + 5) - want / sy)[ok].max() <= 0.5 + 1e-3  # the rounding of the output, nothing else


def test_softmax_on_a_middle_axis_is_the_last_axis_softmax_moved() -> None:
    rng = np.random.default_rng(2)
    x = rng.integers(-128, 128, (2, 7, 5)).astype(np.int8)
    m, s, d = softmax_params(0.1)
    np.testing.assert_array_equal(softmax_s8(x, m, s, d, axis=1), softmax_s8(x.transpose(0, 2, 1), m, s, d).transpose(0, 2, 1))
    tie = softmax_s8(np.array([[5, 5]], np.int8), m, s, d)
    np.testing.assert_array_equal(tie, [[0, 0]])  # 1/2 = 128/256, minus 128


def _box(x: tuple[int, ...], y: tuple[int, ...], op: str, **attrs) -> tuple[list[int], list[int]] | None:
    g = Graph()
    g.add_tensor(Tensor("x", x))
    g.add_tensor(Tensor("y", y))
    return gather_box(Node("n", op, ["x"], ["y"], attrs), g)


def test_gather_boxes_of_the_attention_moves() -> None:
    """[N, T, H·E] <-> [N, T, H, E] (stored NHWC: H, E, T) and the head transposes are strided boxes."""
    assert _box((1, 20, 120), (1, 20, 8, 15), "reshape", shape=(1, 20, 8, 15)) == ([1, 1, 120, 20], [0, 0, 1, 120])
    assert _box((1, 20, 8, 15), (1, 20, 120), "reshape", shape=(1, 20, 120)) == ([1, 1, 20, 120], [0, 0, 1, 20])
    assert _box((1, 8, 20, 15), (1, 8, 15, 20), "transpose", perm=(0, 1, 3, 2)) == ([1, 15, 20, 8], [0, 8, 120, 1])
    assert _box((2, 3), (3, 2), "transpose", perm=(1, 0)) is None  # moves the batch axis


# --- a Paddle-style attention block, float vs onnxruntime and int8 vs C ------------------------------
def _attention_block(t: int, heads: int, e: int, seed: int) -> onnx.ModelProto:
    """An image [1, H·E, 1, T] read as tokens [1, T, H·E] (a view), LayerNorm -> fused qkv MatMul + bias -> Reshape [1, T, 3, H, E] -> Transpose (2, 0, 3, 1, 4) ->
    Slice + Squeeze per part -> q·scale -> q·kᵀ -> Softmax -> ·v -> Transpose + Reshape -> projection,
    residual; then an MLP with x·sigmoid(1.702·x). As Paddle2ONNX exports SVTR."""
    rng = np.random.default_rng(seed)
    d = heads * e
    w = {k: rng.normal(0, 0.3, s).astype(np.float32) for k, s in
         (("wqkv", (d, 3 * d)), ("bqkv", (3 * d,)), ("wo", (d, d)), ("bo", (d,)), ("w1", (d, 2 * d)), ("b1", (2 * d,)),
          ("w2", (2 * d, d)), ("b2", (d,)), ("g", (d,)), ("beta", (d,)))}
    w["g"] += 1
    consts = {"shape5": np.array([1, t, 3, heads, e], np.int64), "shape3": np.array([1, t, d], np.int64),
              "axes0": np.array([0], np.int64), "scale": np.array(e ** -0.5, np.float32),
              "beta_swish": np.array([1.702], np.float32),
              **{f"s{k}": np.array([k], np.int64) for k in range(4)}}
    n = helper.make_node
    nodes = [n("LayerNormalization", ["x", "g", "beta"], ["ln"], axis=-1, epsilon=1e-5),
             n("MatMul", ["ln", "wqkv"], ["qkv0"]), n("Add", ["qkv0", "bqkv"], ["qkv"]),
             n("Reshape", ["qkv", "shape5"], ["r5"]), n("Transpose", ["r5"], ["t5"], perm=[2, 0, 3, 1, 4])]
    for k, part in enumerate("qkv"):
        nodes += [n("Slice", ["t5", f"s{k}", f"s{k + 1}", "axes0"], [f"{part}5"]),
                  n("Squeeze", [f"{part}5", "axes0"], [f"{part}_"])]
    nodes += [n("Mul", ["q_", "scale"], ["qs"]), n("Transpose", ["k_"], ["kt"], perm=[0, 1, 3, 2]),
              n("MatMul", ["qs", "kt"], ["att"]), n("Softmax", ["att"], ["p"], axis=-1),
              n("MatMul", ["p", "v_"], ["o4"]), n("Transpose", ["o4"], ["o4t"], perm=[0, 2, 1, 3]),
              n("Reshape", ["o4t", "shape3"], ["o3"]), n("MatMul", ["o3", "wo"], ["proj0"]),
              n("Add", ["proj0", "bo"], ["proj"]), n("Add", ["x", "proj"], ["res"]),
              n("MatMul", ["res", "w1"], ["h0"]), n("Add", ["h0", "b1"], ["h"]),
              n("Mul", ["h", "beta_swish"], ["hb"]), n("Sigmoid", ["hb"], ["hs"]), n("Mul", ["h", "hs"], ["sw"]),
              n("MatMul", ["sw", "w2"], ["m0"]), n("Add", ["m0", "b2"], ["m"]), n("Add", ["res", "m"], ["y"])]
    nodes = [n("Reshape", ["image", "shape3t"], ["xr"]), n("Transpose", ["xr"], ["x"], perm=[0, 2, 1])] + nodes
    consts["shape3t"] = np.array([1, d, t], np.int64)
    x = helper.make_tensor_value_info("image", onnx.TensorProto.FLOAT, [1, d, 1, t])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, t, d])
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in {**w, **consts}.items()]
    model = helper.make_model(helper.make_graph(nodes, "attn", [x], [y], initializer=inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


@pytest.mark.parametrize("t,heads,e", [(20, 8, 15), (7, 2, 5), (3, 3, 4)])
def test_attention_block_int8_bit_exact_in_c(t: int, heads: int, e: int, tmp_path: Path) -> None:
    model = _attention_block(t, heads, e, seed=t)
    rng = np.random.default_rng(t)
    x = rng.normal(0, 1, (1, heads * e, 1, t)).astype(np.float32)
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    g = optimize(load_onnx(model, require_image_input=False))
    assert all(len(tt.shape) <= 4 for tt in g.tensors.values())  # split_heads: no 5-D tensor is left
    assert {"layer_norm", "matmul", "softmax", "transpose", "dense"} <= {nd.op for nd in g.nodes}
    np.testing.assert_allclose(run_float(g, {"image": x})["y"], want, atol=1e-4 * np.abs(want).max())
    calib = rng.normal(0, 1, (16, heads * e, 1, t)).astype(np.float32)
    qg = quantize(g, calib, progress=False)
    xq = np.concatenate([quantize_input(qg, x), rng.integers(-128, 128, (1, heads * e, 1, t), dtype=np.int8)])
    sim = simulate(qg, xq)
    y = dequantize_output(qg, sim[:1])
    assert np.corrcoef(y.ravel(), want.ravel())[0, 1] > 0.98
    report = generate(qg, tmp_path / "c")
    kernels = {layer["kernel"] for layer in report["layers"]}
    assert {"layer_norm_s8", "batch_matmul_s8", "softmax_s8", "transpose_s8", "conv1x1_s8", "lut_s8"} <= kernels
    np.testing.assert_array_equal(host.build_and_run(tmp_path / "c", xq, sanitize=True), sim)


def test_matmul_with_broadcast_batch_is_named() -> None:
    g = Graph()
    for name, shape in (("x", (1, 2, 3, 4)), ("b", (1, 1, 4, 5)), ("y", (1, 2, 3, 5))):
        g.add_tensor(Tensor(name, shape))
    g.inputs, g.outputs = ["x"], ["y"]
    g.add_node(Node("r", "slice", ["x"], ["b0"], {"starts": (0,), "ends": (1,), "axes": (1,), "steps": (1,)}))
    g.add_tensor(Tensor("b0", (1, 1, 3, 4)))
    g.add_node(Node("t", "transpose", ["b0"], ["b"], {"perm": (0, 1, 3, 2)}))
    g.tensors["b"].shape = (1, 1, 4, 3)
    g.tensors["y"].shape = (1, 2, 3, 3)
    g.add_node(Node("mm", "matmul", ["x", "b"], ["y"], {}))
    with pytest.raises(UnsupportedModelError, match="node 'mm': matmul of .* equal batch dims"):
        quantize(g, np.random.default_rng(0).normal(size=(4, 2, 3, 4)).astype(np.float32), progress=False)


# --- the ONNX backend node tests of these ops, through the int8 path ---------------------------------
DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")
NODE_CASES = sorted(os.path.basename(p) for pattern in ("test_transpose_*", "test_softmax_*", "test_matmul_*",
                                                         "test_layer_normalization_*")
                    for p in glob.glob(os.path.join(DATA, pattern)) if "expanded" not in p and "integer" not in p)


def _read_pb(path: str) -> np.ndarray:
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def test_node_cases_are_found() -> None:
    assert len(NODE_CASES) >= 20


@pytest.mark.parametrize("case", NODE_CASES)
def test_onnx_node_cases_in_int8(case: str) -> None:
    """Each case's first input as the runtime tensor (the others bound as constants): int8 within
    a few output steps of the expected output, bit-exact for a transpose, or one clear error."""
    model = onnx.load(os.path.join(DATA, case, "model.onnx"))
    data = os.path.join(DATA, case, "test_data_set_0")
    inputs = [_read_pb(os.path.join(data, f"input_{i}.pb")) for i in range(len(model.graph.input))]
    want = _read_pb(os.path.join(data, "output_0.pb"))
    model.graph.initializer.extend(numpy_helper.from_array(v, i.name) for i, v in zip(model.graph.input[1:], inputs[1:]))
    del model.graph.input[1:]
    del model.graph.output[1:]  # LayerNormalization's Mean / InvStdDev outputs are not a network's
    x = inputs[0]
    try:
        g = optimize(load_onnx(model, require_image_input=False))
        qg = quantize(g, x, progress=False)  # axis 0 of these cases is not a batch: calibrate on x itself
    except UnsupportedModelError as e:
        assert "\n" not in str(e) and str(e)
        return
    sim = simulate(qg, quantize_input(qg, x))
    got = dequantize_output(qg, sim)
    step = float(qg.tensors[qg.outputs[0]].quant.scale)
    if case.startswith("test_transpose"):
        np.testing.assert_array_equal(sim, quantize_tensor(qg, qg.outputs[0], want))  # bytes move, nothing rounds
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= 6 * step + 0.02 * np.abs(want).max(), case


def _attention_block_16x8(t: int = 7, heads: int = 2, e: int = 5, samples: int = 3) -> tuple[Graph, Graph, np.ndarray]:
    """(float reference, every layer that has a 16x8 kernel in int16, int8 input codes) of the attention block."""
    rng = np.random.default_rng(11)
    g = optimize(load_onnx(_attention_block(t, heads, e, seed=3), require_image_input=False))
    ref, qg = quantize_with_float(g, rng.normal(0, 1, (16, heads * e, 1, t)).astype(np.float32), progress=False)
    q = rebuild(ref, qg, all_int16(ref))
    return ref, q, quantize_input(q, rng.normal(0, 1, (samples, heads * e, 1, t)).astype(np.float32))


def test_attention_block_16x8_sequence_dense_bit_exact_in_c(tmp_path: Path) -> None:
    """--precision int16 on the attention block: its dense layers over the token sequence run 16x8
    (conv2d_s16 over T pixels, every token, not only the first) and so does the layer norm
    (layer_norm_s16), the swish product (mul_s16), both attention products (batch_matmul_s16), the
    heads' slices/transposes and the softmax over the scores' last axis (softmax_s16, rows strided in
    the NHWC layout: no converter around it); C and simulator agree byte for byte."""
    ref, q, xq = _attention_block_16x8()
    dense = [nd for nd in q.nodes if nd.op == "dense"]
    norms = [nd for nd in q.nodes if nd.op == "layer_norm"]
    assert dense and norms and all(q.tensors[nd.outputs[0]].dtype == "int16" for nd in dense + norms)
    sim = simulate(q, xq)
    f = run_float(ref, {ref.inputs[0]: dequantize_tensor(q, q.inputs[0], xq)})[ref.outputs[0]]
    assert np.corrcoef(dequantize_output(q, sim).ravel(), f.ravel())[0, 1] > 0.98
    report = generate(q, tmp_path / "c")
    assert sum(layer["kernel"] == "conv2d_s16" for layer in report["layers"]) == len(dense)
    kernels = [layer["kernel"] for layer in report["layers"]]
    assert "layer_norm_s16" in kernels and "mul_s16" in kernels  # the MLP's x·sigmoid(1.702x) in int16
    assert kernels.count("lut_s16") >= 2  # the scalar muls (q·scale, 1.702x) and the sigmoid: int16 tables
    assert kernels.count("batch_matmul_s16") == 2  # q·kᵀ and ·v 16x16
    assert "softmax_s16" in kernels and "softmax_s8" not in kernels  # the attention softmax between them, int16
    sm = next(nd for nd in q.nodes if nd.op == "softmax")
    producers = q.producers()
    assert producers[sm.inputs[0]].op == "matmul" and all(  # no converter on either side of it
        nd.op == "matmul" for nd in q.nodes if sm.outputs[0] in nd.inputs)
    assert q.tensors[sm.outputs[0]].quant.scale == 1 / 32768 and q.tensors[sm.outputs[0]].quant.zero_point == 0
    assert "slice_s16" in kernels or "transpose_s16" in kernels  # the heads' data movement stays int16
    np.testing.assert_array_equal(host.build_and_run(tmp_path / "c", xq, sanitize=True), sim)


@pytest.mark.slow
@pytest.mark.qemu
@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "riscv32", "esp8266"])
def test_attention_block_16x8_bit_exact_under_qemu(target: str, tmp_path: Path) -> None:
    """The 16x8 sequence kernels (conv2d_s16 over tokens, layer_norm_s16, mul_s16, batch_matmul_s16,
    softmax_s16, the int16 data movement) on the emulated targets."""
    _, q, xq = _attention_block_16x8(samples=2)
    x_c = nchw_to_nhwc(xq)
    write_project(q, target, resolve_board(target, None), tmp_path / "out", force=False, inputs_int8=x_c)
    _, image = build_project(tmp_path / "out")
    ran = run_project(tmp_path / "out", image, x_c)
    np.testing.assert_array_equal(ran.outputs.reshape(len(xq), -1), simulate(q, xq).reshape(len(xq), -1))
