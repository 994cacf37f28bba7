"""load_onnx on hand-built models: each imported graph, run by the float reference, must match
onnxruntime, and the IR must have the expected static form (resolved pads, folded shape math)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnv3c.frontend import load_onnx
from mnv3c.reference.float_exec import run_float

RNG = np.random.default_rng(0)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def make_model(nodes, in_shape, out_shape=None, inits=(), opset=13, in_name="x", out_name="y", graph_inputs=None):
    """A float32 model with one runtime input ``x`` and one output ``y``."""
    inputs = graph_inputs or [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, in_shape)]
    outputs = [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)]
    graph = helper.make_graph(nodes, "g", inputs, outputs, [numpy_helper.from_array(v, k) for k, v in dict(inits).items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def check_against_ort(model: onnx.ModelProto, x: np.ndarray, **kwargs):
    """Import, run both, compare; return the graph for structural checks."""
    graph = load_onnx(model, **kwargs)
    got = run_float(graph, {graph.inputs[0]: x})[graph.outputs[0]]
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    assert graph.tensors[graph.outputs[0]].shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return graph


def ops(graph) -> list[str]:
    return [n.op for n in graph.nodes]


# --- Conv --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "attrs, expected_pads",
    [
        ({"auto_pad": "SAME_LOWER", "strides": [2, 2]}, (2, 2, 1, 1)),
        ({"auto_pad": "SAME_UPPER", "strides": [2, 2]}, (1, 1, 2, 2)),
        ({"auto_pad": "VALID", "strides": [2, 1]}, (0, 0, 0, 0)),
        ({"pads": [0, 1, 2, 3], "strides": [2, 1], "dilations": [2, 1]}, (0, 1, 2, 3)),
    ],
)
def test_conv_pads_resolved(attrs, expected_pads):
    w, b = rand(5, 3, 4, 4), rand(5)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", **attrs)
    g = check_against_ort(make_model([node], [1, 3, 9, 9], inits={"w": w, "b": b}), rand(1, 3, 9, 9))
    (conv,) = g.nodes
    assert conv.op == "conv2d" and conv.attrs["pads"] == expected_pads and conv.name == "conv"


@pytest.mark.parametrize("c_out, group, ir_op", [(4, 4, "depthwise_conv2d"), (8, 4, "depthwise_conv2d"), (6, 2, "conv2d")])
def test_grouped_and_depthwise_conv(c_out, group, ir_op):
    w = rand(c_out, 4 // group, 3, 3)
    node = helper.make_node("Conv", ["x", "w"], ["y"], group=group, pads=[1, 1, 1, 1])
    g = check_against_ort(make_model([node], [1, 4, 6, 6], inits={"w": w}), rand(1, 4, 6, 6))
    assert ops(g) == [ir_op]
    assert g.nodes[0].name == "Conv_0"  # unnamed ONNX node
    if ir_op == "conv2d":
        assert g.nodes[0].attrs["group"] == group


# --- normalisation and activations --------------------------------------------------------------
@pytest.mark.parametrize("opset", [9, 15])
def test_batch_norm(opset):
    c = 3
    inits = {"s": rand(c), "bb": rand(c), "m": rand(c), "v": np.abs(rand(c)) + 0.5}
    node = helper.make_node("BatchNormalization", ["x", "s", "bb", "m", "v"], ["y"], epsilon=1e-3)
    g = check_against_ort(make_model([node], [1, c, 4, 4], inits=inits, opset=opset), rand(1, c, 4, 4))
    assert ops(g) == ["batch_norm"] and g.nodes[0].attrs["epsilon"] == pytest.approx(1e-3)


def test_clip_input_form_with_absent_min():
    node = helper.make_node("Clip", ["x", "", "hi"], ["y"])
    g = check_against_ort(make_model([node], [1, 2, 3, 3], inits={"hi": np.float32(0.5)}, opset=13), rand(1, 2, 3, 3))
    assert g.nodes[0].attrs == {"min": -np.inf, "max": 0.5}


def test_clip_attribute_form():
    node = helper.make_node("Clip", ["x"], ["y"], min=0.0, max=6.0)
    g = check_against_ort(make_model([node], [1, 2, 3, 3], opset=6), 4 * rand(1, 2, 3, 3))
    assert g.nodes[0].attrs == {"min": 0.0, "max": 6.0}


def test_hard_sigmoid_hard_swish_sigmoid_relu():
    nodes = [
        helper.make_node("HardSigmoid", ["x"], ["a"], alpha=0.3),
        helper.make_node("HardSwish", ["a"], ["b"]),
        helper.make_node("Sigmoid", ["b"], ["c"]),
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    g = check_against_ort(make_model(nodes, [1, 2, 3, 3], opset=14), 4 * rand(1, 2, 3, 3))
    assert ops(g) == ["hard_sigmoid", "hard_swish", "sigmoid", "relu"]
    assert g.nodes[0].attrs == {"alpha": pytest.approx(0.3), "beta": 0.5}


@pytest.mark.parametrize("opset, axis", [(11, 1), (11, -3), (11, 3), (13, 1), (13, -1)])
def test_softmax_semantics_per_opset(opset, axis):
    """Opset < 13 normalises over everything from ``axis`` on; 13+ over ``axis`` only."""
    node = helper.make_node("Softmax", ["x"], ["y"], axis=axis)
    check_against_ort(make_model([node], [1, 3, 2, 2], opset=opset), rand(1, 3, 2, 2))


# --- Gemm / MatMul -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "attrs, c_shape",
    [({}, (5,)), ({"transA": 1, "transB": 1, "alpha": 0.5, "beta": 2.0}, (1, 5)), ({"beta": 0.5}, (2, 5)), ({}, None)],
)
def test_gemm_constant_b_is_dense(attrs, c_shape):
    a_shape = (4, 2) if attrs.get("transA") else (2, 4)
    b = rand(5, 4) if attrs.get("transB") else rand(4, 5)
    inits = {"b": b} | ({"c": rand(*c_shape)} if c_shape else {})
    node = helper.make_node("Gemm", ["x", "b"] + (["c"] if c_shape else []), ["y"], **attrs)
    g = check_against_ort(make_model([node], list(a_shape), inits=inits), rand(*a_shape), require_image_input=False)
    assert "dense" in ops(g) and "matmul" not in ops(g)


def test_gemm_runtime_b_decomposes():
    b_in = helper.make_tensor_value_info("b", TensorProto.FLOAT, [5, 4])
    x_in = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    node = helper.make_node("Gemm", ["x", "b", "c"], ["y"], transB=1, alpha=2.0, beta=0.5)
    model = make_model([node], None, inits={"c": rand(5)}, graph_inputs=[x_in, b_in])
    g = load_onnx(model, require_image_input=False)
    assert ops(g) == ["transpose", "matmul", "mul", "add"]
    x, b = rand(2, 4), rand(5, 4)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(run_float(g, {"x": x, "b": b})["y"], sess.run(None, {"x": x, "b": b})[0], rtol=1e-5)


def test_matmul_constant_2d_is_dense_else_matmul():
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    g = check_against_ort(make_model([node], [3, 4], inits={"w": rand(4, 6)}), rand(3, 4), require_image_input=False)
    assert ops(g) == ["dense"] and g.tensors[g.nodes[0].inputs[1]].shape == (6, 4)
    g = check_against_ort(make_model([node], [2, 3, 4], inits={"w": rand(4, 6)}), rand(2, 3, 4), require_image_input=False)
    assert ops(g) == ["matmul"]


# --- pooling and reductions ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "op, attrs",
    [
        ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}),
        ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
        ("MaxPool", {"kernel_shape": [2, 2], "dilations": [2, 2], "pads": [1, 0, 0, 1]}),
        ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "count_include_pad": 1}),
        ("AveragePool", {"kernel_shape": [3, 2], "strides": [2, 1], "pads": [1, 1, 1, 1], "ceil_mode": 1}),
        ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_LOWER"}),
    ],
)
def test_pooling(op, attrs):
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    g = check_against_ort(make_model([node], [1, 2, 8, 7], opset=13), rand(1, 2, 8, 7))
    assert g.nodes[0].attrs["kernel"] == tuple(attrs["kernel_shape"])


@pytest.mark.parametrize("opset, keepdims", [(13, 1), (13, 0), (18, 1), (18, 0)])
def test_reduce_mean_axes_attribute_and_input(opset, keepdims):
    if opset < 18:
        node, inits = helper.make_node("ReduceMean", ["x"], ["y"], axes=[-1, 2], keepdims=keepdims), {}
    else:
        node = helper.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=keepdims)
        inits = {"axes": np.array([-1, 2], np.int64)}
    g = check_against_ort(make_model([node], [1, 3, 4, 5], inits=inits, opset=opset), rand(1, 3, 4, 5))
    assert g.nodes[0].attrs == {"axes": (2, 3), "keepdims": bool(keepdims)}


def test_global_average_pool():
    g = check_against_ort(make_model([helper.make_node("GlobalAveragePool", ["x"], ["y"])], [1, 3, 4, 5]), rand(1, 3, 4, 5))
    assert ops(g) == ["global_avg_pool"]


# --- shape manipulation and folding --------------------------------------------------------------
def test_shape_subgraph_folds_into_static_reshape():
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, the usual exporter flatten, becomes one reshape."""
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Constant", [], ["i0"], value_int=0),
        helper.make_node("Gather", ["s", "i0"], ["n"]),
        helper.make_node("Constant", [], ["ax"], value_ints=[0]),
        helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]),
        helper.make_node("Constant", [], ["m1"], value=numpy_helper.from_array(np.array([-1], np.int64))),
        helper.make_node("Concat", ["n1", "m1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"]),
    ]
    g = check_against_ort(make_model(nodes, [1, 8, 2, 2], opset=13), rand(1, 8, 2, 2))
    assert ops(g) == ["reshape"] and g.nodes[0].attrs["shape"] == (1, 32)


@pytest.mark.parametrize(
    "starts, ends, axes, steps",
    [([0, -1], [2, -100], [1, 3], [1, -2]), ([1], [1000], [2], [2]), ([-100, 5], [100, 0], [-1, 2], [1, -1])],
)
def test_slice_forms(starts, ends, axes, steps):
    inits = {k: np.array(v, np.int64) for k, v in zip(["st", "en", "ax", "sp"], [starts, ends, axes, steps])}
    node = helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"])
    check_against_ort(make_model([node], [1, 3, 6, 7], inits=inits), rand(1, 3, 6, 7))


def test_squeeze_unsqueeze_flatten_transpose_opset11():
    nodes = [
        helper.make_node("Unsqueeze", ["x"], ["u"], axes=[0, -1]),
        helper.make_node("Squeeze", ["u"], ["s"], axes=[0]),
        helper.make_node("Transpose", ["s"], ["t"], perm=[0, 2, 3, 1, 4]),
        helper.make_node("Flatten", ["t"], ["y"], axis=-2),
    ]
    g = check_against_ort(make_model(nodes, [1, 3, 4, 5], opset=11), rand(1, 3, 4, 5))
    assert ops(g) == ["reshape", "reshape", "transpose", "reshape"]


def test_reshape_zero_and_minus_one():
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    g = check_against_ort(make_model([node], [1, 3, 4, 5], inits={"shape": np.array([0, -1, 5], np.int64)}), rand(1, 3, 4, 5))
    assert g.nodes[0].attrs["shape"] == (1, 12, 5)


@pytest.mark.parametrize("opset, mode", [(11, "constant"), (11, "reflect"), (13, "edge"), (18, "constant")])
def test_pad(opset, mode):
    if opset >= 18:
        node = helper.make_node("Pad", ["x", "p", "v", "a"], ["y"], mode=mode)
        inits = {"p": np.array([1, 2, 0, 3], np.int64), "v": np.float32(1.5), "a": np.array([2, -1], np.int64)}
    else:
        node = helper.make_node("Pad", ["x", "p"], ["y"], mode=mode)
        inits = {"p": np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64)}
    check_against_ort(make_model([node], [1, 2, 4, 5], inits=inits, opset=opset), rand(1, 2, 4, 5))


def test_concat_and_binary_ops_with_constants():
    nodes = [
        helper.make_node("Mul", ["x", "k"], ["a"]),
        helper.make_node("Div", ["a", "k"], ["b"]),
        helper.make_node("Sub", ["b", "x"], ["c"]),
        helper.make_node("Add", ["c", "x"], ["d"]),
        helper.make_node("Concat", ["d", "x"], ["y"], axis=-3),
    ]
    check_against_ort(make_model(nodes, [1, 2, 3, 3], inits={"k": rand(2, 1, 1)}), rand(1, 2, 3, 3))


def test_dropout_identity_and_cast():
    nodes = [
        helper.make_node("Dropout", ["x"], ["d"]),
        helper.make_node("Identity", ["d"], ["i"]),
        helper.make_node("Cast", ["i"], ["c"], to=TensorProto.DOUBLE),
        helper.make_node("Cast", ["c"], ["y"], to=TensorProto.FLOAT),
    ]
    g = check_against_ort(make_model(nodes, [1, 2, 3, 3], opset=13), rand(1, 2, 3, 3))
    assert ops(g) == ["identity", "identity", "cast", "cast"]


def test_constant_node_forms_fold():
    nodes = [
        helper.make_node("Constant", [], ["f"], value_float=2.0),
        helper.make_node("Constant", [], ["fs"], value_floats=[1.0, 2.0]),
        helper.make_node("Mul", ["f", "fs"], ["k"]),  # constant-only: folded
        helper.make_node("Add", ["x", "k"], ["y"]),
    ]
    g = check_against_ort(make_model(nodes, [1, 2, 3, 2]), rand(1, 2, 3, 2))
    assert ops(g) == ["add"] and g.const(g.nodes[0].inputs[1]).tolist() == [2.0, 4.0]


# --- model-level behaviour ----------------------------------------------------------------------
def test_external_data_initializer_and_meta(tmp_path):
    w = rand(4, 3, 3, 3)
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
    model = make_model([node], [1, 3, 5, 5], inits={"w": w})
    model.producer_name = "unit-test"
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location="w.bin", size_threshold=0)
    assert (tmp_path / "w.bin").exists()
    g = load_onnx(path)
    np.testing.assert_array_equal(g.const("w"), w)
    assert g.meta == {"opset": 13, "producer": "unit-test", "source": str(path)}


def test_initializer_listed_as_graph_input_is_constant():
    w = rand(4, 3, 1, 1)
    inputs = [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 2, 2]),
        helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3, 1, 1]),
    ]
    model = make_model([helper.make_node("Conv", ["x", "w"], ["y"])], None, inits={"w": w}, graph_inputs=inputs)
    g = load_onnx(model)
    assert g.inputs == ["x"] and g.tensors["w"].is_const


def test_symbolic_batch_becomes_one_and_input_shape_fixes_hw():
    node = helper.make_node("Relu", ["x"], ["y"])
    g = load_onnx(make_model([node], ["N", 3, 8, 8]))
    assert g.tensors["x"].shape == (1, 3, 8, 8) and g.tensors["y"].shape == (1, 3, 8, 8)
    g = load_onnx(make_model([node], ["N", 3, "H", "W"]), input_shape=(1, 3, 16, 12))
    assert g.tensors["y"].shape == (1, 3, 16, 12)


def test_folded_graph_output_is_written_by_a_node():
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Cast", ["s"], ["y"], to=TensorProto.FLOAT)]
    g = load_onnx(make_model(nodes, [1, 3, 4, 4], out_shape=[4]))
    assert g.outputs == ["y"] and ops(g) == ["identity"]
    np.testing.assert_array_equal(run_float(g, {"x": rand(1, 3, 4, 4)})["y"], [1, 3, 4, 4])


def test_duplicate_node_names_are_made_unique():
    nodes = [helper.make_node("Relu", ["x"], ["a"], name="n"), helper.make_node("Relu", ["a"], ["y"], name="n")]
    g = load_onnx(make_model(nodes, [1, 1, 2, 2]))
    assert [n.name for n in g.nodes] == ["n", "n_1"]


def test_nodes_out_of_order_are_sorted():
    nodes = [helper.make_node("Relu", ["a"], ["y"], name="second"), helper.make_node("Sigmoid", ["x"], ["a"], name="first")]
    g = load_onnx(make_model(nodes, [1, 1, 2, 2]))
    assert [n.name for n in g.nodes] == ["first", "second"]


def test_torch_exported_mobilenet_block(tmp_path):
    """A MobileNetV3-style block as PyTorch exports it (BN, hard-swish, depthwise, SE, flatten, linear)."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish())
            self.dw = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16), nn.ReLU6())
            self.se1, self.se2 = nn.Conv2d(16, 8, 1), nn.Conv2d(8, 16, 1)
            self.head = nn.Sequential(nn.Linear(16, 32), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(32, 10))

        def forward(self, x):
            x = self.stem(x)
            y = self.dw(x)
            y = y * nn.functional.hardsigmoid(self.se2(torch.relu(self.se1(y.mean((2, 3), keepdim=True)))))
            x = nn.functional.adaptive_avg_pool2d(x + y, 1)
            return self.head(torch.flatten(x, 1)).softmax(-1)

    torch.manual_seed(0)
    model = Block().eval()
    x = torch.randn(1, 3, 32, 32)
    path = tmp_path / "block.onnx"
    torch.onnx.export(model, (x,), str(path), opset_version=13, dynamo=False, input_names=["input"],
                      dynamic_axes={"input": {0: "N"}})
    g = check_against_ort(onnx.load(str(path)), x.numpy())
    assert {"conv2d", "depthwise_conv2d", "dense", "global_avg_pool"} <= set(ops(g))


def test_batch_norm_with_unread_extra_outputs_imports():
    """Old exporters name BN's statistics outputs even in inference; only reading them is an error."""
    inits = {k: np.ones(3, np.float32) for k in "sbmv"}
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"])
    g = load_onnx(make_model([node], [1, 3, 2, 2], inits=inits, opset=9))
    assert ops(g) == ["batch_norm"]
