"""Detector/segmentation neck ops (Resize, ConvTranspose, Split, Concat, Sigmoid) end to end:
the frontend's attribute and input forms against onnxruntime, the int8 rules (TFLite semantics,
pinned on worked examples), and one small network of all of them bit-exact in C on the host.

The ONNX backend node tests for these ops run in tests/test_onnx_node_suite.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from mnv3c.codegen import host
from mnv3c.codegen.generate import generate
from mnv3c.errors import UnsupportedModelError
from mnv3c.frontend import load_onnx
from mnv3c.passes import optimize
from mnv3c.quant import intops
from mnv3c.quant.quantize import quantize
from mnv3c.quant.simulate import dequantize_output, quantize_input, simulate
from mnv3c.reference.float_exec import run_float

ort = pytest.importorskip("onnxruntime")
RNG = np.random.default_rng(0)


def _model(nodes: list, x_shape: tuple[int, ...], inits: dict[str, np.ndarray], opset: int,
           outputs: tuple[str, ...] = ("y",)) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, list(x_shape))
    g = helper.make_graph(nodes, "m", [x], [onnx.ValueInfoProto(name=o) for o in outputs],
                          initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def _check_against_ort(model: onnx.ModelProto, x: np.ndarray, outputs: tuple[str, ...] = ("y",)) -> None:
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    graph = load_onnx(model, require_image_input=False)
    got = run_float(graph, {"x": x})
    for name, w in zip(outputs, want):
        assert got[name].shape == w.shape
        np.testing.assert_allclose(got[name], w, rtol=1e-5, atol=1e-5 * float(np.abs(w).max()), err_msg=name)


# --- Resize: modes, coordinate transforms, nearest modes, scales vs sizes, opsets ------------------
COORDS = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


@pytest.mark.parametrize("opset", [11, 13, 18, 19])
@pytest.mark.parametrize("coord", COORDS)
@pytest.mark.parametrize("mode,nearest", [("linear", "round_prefer_floor")] + [("nearest", m) for m in NEAREST])
@pytest.mark.parametrize("how", ["scales_up", "scales_down", "sizes_odd"])
def test_resize_matches_onnxruntime(opset: int, coord: str, mode: str, nearest: str, how: str) -> None:
    x = RNG.standard_normal((1, 3, 5, 7)).astype(np.float32)
    inits: dict[str, np.ndarray] = {"roi": np.zeros(0, np.float32)}
    if how == "sizes_odd":
        inits.update(sizes=np.array([1, 3, 9, 4], np.int64), scales=np.zeros(0, np.float32))
        ins = ["x", "roi", "scales" if opset < 13 else "", "sizes"]
    else:
        inits["scales"] = np.array([1, 1, 2, 3] if how == "scales_up" else [1, 1, 0.6, 0.5], np.float32)
        ins = ["x", "roi", "scales"]
    node = helper.make_node("Resize", ins, ["y"], mode=mode, coordinate_transformation_mode=coord,
                            nearest_mode=nearest)
    model = _model([node], x.shape, inits, opset)
    if coord == "align_corners" and how == "scales_down":
        # 7·0.5 = 3.5: the ONNX spec (and its node test test_resize_downsample_scales_linear_align_corners)
        # divides by the unrounded length in·scale - 1, onnxruntime by the output size - 1; we follow the spec
        with pytest.raises(AssertionError):
            _check_against_ort(model, x)
        return
    _check_against_ort(model, x)


@pytest.mark.parametrize("policy", ["not_larger", "not_smaller"])
def test_resize_opset18_axes_and_aspect_policy(policy: str) -> None:
    x = RNG.standard_normal((1, 2, 4, 6)).astype(np.float32)
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="nearest", axes=[3, 2],
                            keep_aspect_ratio_policy=policy)
    _check_against_ort(_model([node], x.shape, {"sizes": np.array([9, 5], np.int64)}, 18), x)


@pytest.mark.parametrize("op,opset", [("Upsample", 9), ("Resize", 10)])
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_legacy_upsample_forms(op: str, opset: int, mode: str) -> None:
    x = RNG.standard_normal((1, 2, 3, 4)).astype(np.float32)
    node = helper.make_node(op, ["x", "scales"], ["y"], mode=mode)
    _check_against_ort(_model([node], x.shape, {"scales": np.array([1, 1, 2, 2], np.float32)}, opset), x)


@pytest.mark.parametrize("attrs,why", [
    ({"mode": "cubic"}, "mode 'cubic'"),
    ({"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize"}, "tf_crop_and_resize"),
    ({"mode": "linear", "antialias": 1}, "antialias"),
])
def test_resize_unsupported_forms_are_named(attrs: dict, why: str) -> None:
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], **attrs)
    model = _model([node], (1, 1, 4, 4), {"scales": np.array([1, 1, 0.5, 0.5], np.float32)}, 18)
    with pytest.raises(UnsupportedModelError, match=why):
        load_onnx(model, require_image_input=False)


# --- ConvTranspose, Split, Concat, Sigmoid ----------------------------------------------------------
@pytest.mark.parametrize("attrs", [
    {"strides": [2, 2]},
    {"strides": [2, 2], "pads": [1, 0, 0, 1], "output_padding": [1, 1]},
    {"strides": [3, 2], "dilations": [2, 1], "pads": [1, 1, 2, 0]},
    {"strides": [2, 2], "output_shape": [9, 8]},
    {"strides": [2, 2], "auto_pad": "SAME_UPPER"},
    {"strides": [2, 2], "auto_pad": "SAME_LOWER"},
    {"strides": [1, 1], "group": 2},
])
def test_conv_transpose_matches_onnxruntime(attrs: dict) -> None:
    x = RNG.standard_normal((1, 4, 4, 3)).astype(np.float32)
    group = attrs.get("group", 1)
    inits = {"w": RNG.standard_normal((4, 6 // group, 3, 3)).astype(np.float32), "b": RNG.standard_normal(6).astype(np.float32)}
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)
    _check_against_ort(_model([node], x.shape, inits, 17), x)


@pytest.mark.parametrize("opset,split", [(11, None), (11, [1, 3]), (13, [3, 1]), (18, "num_outputs")])
def test_split_then_concat_sigmoid(opset: int, split) -> None:
    x = RNG.standard_normal((1, 4, 3, 5)).astype(np.float32)
    inits: dict[str, np.ndarray] = {}
    kwargs: dict = {"axis": 1}
    ins = ["x"]
    if split == "num_outputs":
        kwargs["num_outputs"] = 2
    elif split is not None and opset < 13:
        kwargs["split"] = split
    elif split is not None:
        inits["split"] = np.array(split, np.int64)
        ins.append("split")
    nodes = [helper.make_node("Split", ins, ["a", "b"], **kwargs), helper.make_node("Sigmoid", ["b"], ["s"]),
             helper.make_node("Concat", ["s", "x", "a"], ["y"], axis=1)]
    _check_against_ort(_model(nodes, x.shape, inits, opset), x)


# --- int8 rules -------------------------------------------------------------------------------------
def test_bilinear_taps_are_tflites_worked_example() -> None:
    """2 -> 4 with half-pixel centres: scale_10 = 512, coordinates 512·x + 256 - 512 (1/1024 units)."""
    coords = intops.tflite_bilinear_coords(4, 2, align_corners=False, half_pixel=True)
    np.testing.assert_array_equal(coords, [-256, 256, 768, 1280])
    i0, i1, frac = intops.bilinear_taps(4, 2, coords)
    np.testing.assert_array_equal(i0, [0, 0, 0, 1])
    np.testing.assert_array_equal(i1, [0, 1, 1, 1])
    np.testing.assert_array_equal(frac, [-256, 256, 768, 256])
    x = np.array([[[[10, -20], [30, 41]]]], np.int8)  # [1,1,2,2]
    y = intops.resize_bilinear(x, (i0, i1, frac), (i0, i1, frac))
    # (2, 2): 0.25·0.25·10 + 0.25·0.75·(-20) + 0.75·0.25·30 + 0.75·0.75·41 = 25.5625 -> 26;
    # (1, 1): 0.75·0.75·10 + 0.75·0.25·(-20) + 0.25·0.75·30 + 0.25·0.25·41 = 10.0625 -> 10
    assert y[0, 0, 2, 2] == 26 and y[0, 0, 1, 1] == 10 and y[0, 0, 0, 0] == 10 and y[0, 0, 3, 3] == 41
    # an exact half rounds away from zero: (10 - 20) / 2 = -5, (-19 + 0) / 2 = -9.5 -> -10
    half = intops.resize_bilinear(np.array([[[[-19, 0]]]], np.int8), (np.array([0]), np.array([0]), np.array([0])),
                                  (np.array([0]), np.array([1]), np.array([512])))
    assert half[0, 0, 0, 0] == -10


def test_requantize_copy_is_tflites_requantize() -> None:
    m, s = intops.quantize_multiplier(0.5)
    y = intops.requantize_copy(np.array([-128, -3, 0, 3, 127], np.int8), 1, m, s, -2)
    np.testing.assert_array_equal(y, [-66, -4, -2, -1, 61])  # MBQM(x - 1) + (-2): SRDHM rounds -64.5 to -64, -0.5 to 0


class _Neck:
    """A small network of every neck op: conv stem, transposed conv 2x2 s2, resize, split,
    sigmoid, channel concat with the raw graph input (requantized) and a 1x1 head."""

    def __init__(self, mode: str) -> None:
        import torch

        class Net(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.stem = torch.nn.Conv2d(3, 8, 3, 2, 1)
                self.up = torch.nn.ConvTranspose2d(8, 6, 2, 2)
                self.side = torch.nn.Conv2d(8, 4, 1)
                self.head = torch.nn.Conv2d(13, 5, 1)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                a = torch.relu(self.stem(x))
                extra = {} if mode == "nearest" else {"align_corners": False}
                b = torch.nn.functional.interpolate(self.side(a), scale_factor=2, mode=mode, **extra)
                p, q = torch.split(b, [1, 3], dim=1)
                return self.head(torch.cat([self.up(a), p, torch.sigmoid(q), x], 1))

        torch.manual_seed(0)
        self.net, self.x = Net().eval(), torch.randn(1, 3, 16, 12)

    def export(self, path: Path) -> Path:
        import torch

        torch.onnx.export(self.net, (self.x,), str(path), opset_version=13, dynamo=False)
        return path


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_neck_network_int8_bit_exact_in_c(mode: str, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    neck = _Neck(mode)
    path = neck.export(tmp_path / "neck.onnx")
    x = neck.x.numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    g = optimize(load_onnx(str(path)))
    np.testing.assert_allclose(run_float(g, {g.inputs[0]: x})[g.outputs[0]], want, atol=1e-4 * np.abs(want).max())
    rng = np.random.default_rng(5)
    calib = np.concatenate([x, rng.standard_normal((7, *x.shape[1:])).astype(np.float32)])
    qg = quantize(g, calib, progress=False)
    concat = next(n for n in qg.nodes if n.op == "concat")
    # the transposed conv and the sigmoid write the concat's quantization; the resized split part
    # (a view of the resize input) and the raw graph input keep theirs and are requantized by the
    # kernel unless the calibrated ranges happen to coincide
    y_q = qg.tensors[concat.outputs[0]].quant
    for i, r in zip(concat.inputs, concat.attrs["requant"]):
        q_in = qg.tensors[i].quant
        assert (r is None) == ((float(q_in.scale), int(q_in.zero_point)) == (float(y_q.scale), int(y_q.zero_point)))
    assert concat.attrs["requant"][0] is None and concat.attrs["requant"][2] is None
    assert concat.attrs["requant"][1] is not None
    xq = np.concatenate([quantize_input(qg, x), rng.integers(-128, 128, (1, *x.shape[1:]), dtype=np.int8)])
    sim = simulate(qg, xq)
    y = dequantize_output(qg, sim[:1])
    assert np.corrcoef(y.ravel(), want.ravel())[0, 1] > 0.99
    report = generate(qg, tmp_path / "c")
    assert {"conv_transpose_s8", "concat_s8", "slice_s8", f"resize_{mode}_s8", "lut_s8"} <= \
        {layer["kernel"] for layer in report["layers"]}
    np.testing.assert_array_equal(host.build_and_run(tmp_path / "c", xq, sanitize=True), sim)


@pytest.mark.parametrize("perm,view", [((0, 3, 4, 1, 2), True), ((0, 4, 3, 1, 2), False)])
def test_head_flattening_becomes_a_view_only_when_it_is_one(perm: tuple, view: bool, tmp_path: Path) -> None:
    """SSD heads' (N, A·K, H, W) -> (N, H·W·A, K) is the NHWC storage order; swapping H and W is not."""
    x = RNG.standard_normal((1, 3, 4, 5)).astype(np.float32)
    inits = {"w": RNG.standard_normal((12, 3, 1, 1)).astype(np.float32), "s5": np.array([1, 3, 4, 4, 5], np.int64),
             "s3": np.array([1, -1, 4], np.int64)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("Reshape", ["c", "s5"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=list(perm)), helper.make_node("Reshape", ["t", "s3"], ["y"])]
    model = _model(nodes, x.shape, inits, 13)
    _check_against_ort(model, x)
    g = optimize(load_onnx(model, require_image_input=False))
    ops = [n.op for n in g.nodes]
    assert ("channels_last_reshape" in ops) == view and ("transpose" in ops) != view
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.testing.assert_allclose(run_float(g, {"x": x})["y"], want, rtol=1e-5, atol=1e-5)
    if view:
        qg = quantize(g, np.concatenate([x, -x]), progress=False)
        report = generate(qg, tmp_path / "c")
        assert [layer["kernel"] for layer in report["layers"]] == ["conv1x1_s8"]  # the flattening costs nothing


def test_int16_keeps_ops_without_a_16x8_kernel_in_int8(tmp_path: Path) -> None:
    """--precision int16 on a network with ops that have no 16x8 kernel (transposed conv, resize):
    they stay int8 between converters, the rest (the concat of their outputs too) is int16, and the
    C is bit-exact."""
    pytest.importorskip("torch")
    from mnv3c.quant.mixed import all_int16, rebuild

    neck = _Neck("nearest")
    g = optimize(load_onnx(str(neck.export(tmp_path / "neck.onnx"))))
    x = neck.x.numpy()
    rng = np.random.default_rng(5)
    calib = np.concatenate([x, rng.standard_normal((7, *x.shape[1:])).astype(np.float32)])
    qg = rebuild(g, quantize(g, calib, progress=False), all_int16(g))
    dtypes = {n.op: qg.tensors[n.outputs[0]].dtype for n in qg.nodes}
    assert dtypes["conv_transpose"] == dtypes["resize"] == "int8"
    assert dtypes["conv2d"] == dtypes["concat"] == "int16" and any(n.op == "requantize" for n in qg.nodes)
    xq = quantize_input(qg, x)
    sim = simulate(qg, xq)
    generate(qg, tmp_path / "c")
    np.testing.assert_array_equal(host.build_and_run(tmp_path / "c", xq), sim)
