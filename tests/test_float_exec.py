"""The float reference against onnxruntime, one op at a time: a one-node ONNX model next to the
hand-built equivalent IR graph (independent of the frontend, so a frontend bug cannot hide here)."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from onnx import helper, numpy_helper

ort = pytest.importorskip("onnxruntime")

from mnv3c.errors import MnvError  # noqa: E402
from mnv3c.ir import OPS, Graph, Node, Tensor  # noqa: E402
from mnv3c.reference.activations import apply_activation  # noqa: E402
from mnv3c.reference.float_exec import _OPS, run_float, run_node  # noqa: E402

RNG = np.random.default_rng(0)
OPSET = 17


def rand(*shape: int, dtype=np.float32) -> np.ndarray:
    return RNG.standard_normal(shape).astype(dtype)


# --- the two sides ----------------------------------------------------------------------------
def onnx_model(nodes: list, runtime: list[np.ndarray], inits: dict[str, np.ndarray],
               outputs: tuple[str, ...] = ("y",), opset: int = OPSET) -> onnx.ModelProto:
    """A model of ONNX ``nodes`` with graph inputs x0, x1, ... (batch dim symbolic)."""
    inputs = [helper.make_tensor_value_info(f"x{i}", helper.np_dtype_to_tensor_dtype(a.dtype),
                                            ["N", *a.shape[1:]] if a.ndim else [])
              for i, a in enumerate(runtime)]
    g = helper.make_graph(nodes, "m", inputs, [onnx.ValueInfoProto(name=o) for o in outputs],
                          initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def onnx_model_run(nodes: list, runtime: list[np.ndarray], inits: dict[str, np.ndarray],
                   outputs: tuple[str, ...] = ("y",), opset: int = OPSET) -> list[np.ndarray]:
    """Run ONNX ``nodes`` under onnxruntime."""
    model = onnx_model(nodes, runtime, inits, outputs, opset)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(list(outputs), {f"x{i}": a for i, a in enumerate(runtime)})


def onnx_run(op_type: str, runtime: list[np.ndarray], consts: list[np.ndarray | None] = (),
             opset: int = OPSET, **attrs) -> np.ndarray:
    """One ONNX node reading ``runtime`` then ``consts`` (initializers; None = empty optional input)."""
    names = [f"x{i}" for i in range(len(runtime))] + ["" if c is None else f"c{i}" for i, c in enumerate(consts)]
    inits = {f"c{i}": c for i, c in enumerate(consts) if c is not None}
    return onnx_model_run([helper.make_node(op_type, names, ["y"], **attrs)], runtime, inits, opset=opset)[0]


def ir_graph(op: str, runtime: list[np.ndarray], consts: list[np.ndarray | None] = (),
             out_shape: tuple[int, ...] = (), batch: int | None = None, **attrs) -> Graph:
    """The same single node as an IR graph; ``batch`` overrides the declared input batch."""
    g = Graph("one")
    names = []
    for i, a in enumerate(runtime):
        shape = tuple(a.shape) if batch is None or not a.ndim else (batch, *a.shape[1:])
        g.add_tensor(Tensor(f"x{i}", shape, str(a.dtype)))
        g.inputs.append(f"x{i}")
        names.append(f"x{i}")
    for i, c in enumerate(consts):
        names.append("" if c is None else g.add_const(f"c{i}", c).name)
    g.add_tensor(Tensor("y", tuple(out_shape)))
    g.add_node(Node("n", op, names, ["y"], attrs))
    g.outputs.append("y")
    g.validate()
    return g


def ir_run(op: str, runtime: list[np.ndarray], consts: list[np.ndarray | None] = (), **attrs) -> np.ndarray:
    g = ir_graph(op, runtime, consts, **attrs)
    return run_float(g, {f"x{i}": a for i, a in enumerate(runtime)})["y"]


def check(expected: np.ndarray, got: np.ndarray, rtol: float = 1e-5, atol: float = 1e-5) -> None:
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


I64 = np.int64


def test_every_ir_op_has_a_reference():
    assert set(_OPS) == set(OPS)


# --- convolution ------------------------------------------------------------------------------
CONV_CASES = [  # (C, O, group, k, strides, pads (t, l, b, r), dilations)
    (3, 8, 1, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),
    (4, 6, 1, (3, 2), (2, 1), (0, 1, 2, 0), (1, 1)),  # asymmetric pads, stride (2, 1)
    (4, 6, 2, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2)),  # grouped, dilated
    (5, 5, 5, (3, 3), (1, 2), (1, 0, 1, 2), (1, 1)),  # depthwise spelled as conv2d
    (6, 12, 1, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1)),  # pointwise
    (6, 12, 3, (5, 1), (3, 1), (2, 0, 1, 0), (1, 1)),
]


@pytest.mark.parametrize("c,o,group,k,s,p,d", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(c, o, group, k, s, p, d, bias):
    x, w = rand(2, c, 11, 9), rand(o, c // group, *k)
    consts = [w, rand(o)] if bias else [w]
    want = onnx_run("Conv", [x], consts, group=group, strides=list(s), pads=list(p), dilations=list(d))
    check(want, ir_run("conv2d", [x], consts, group=group, strides=s, pads=p, dilations=d))


@pytest.mark.parametrize("m", [1, 2])
@pytest.mark.parametrize("k,s,p,d", [((3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
                                     ((5, 5), (2, 1), (2, 1, 3, 2), (1, 1)),
                                     ((3, 3), (2, 2), (0, 1, 1, 0), (2, 1))])
def test_depthwise_conv2d(m, k, s, p, d):
    c = 4
    x, w, b = rand(2, c, 12, 10), rand(c * m, 1, *k), rand(c * m)
    want = onnx_run("Conv", [x], [w, b], group=c, strides=list(s), pads=list(p), dilations=list(d))
    check(want, ir_run("depthwise_conv2d", [x], [w, b], strides=s, pads=p, dilations=d))


@given(c=st.integers(1, 4), per_group=st.integers(1, 3), group_kind=st.sampled_from(["one", "dw", "two"]),
       kh=st.integers(1, 4), kw=st.integers(1, 4), sh=st.integers(1, 3), sw=st.integers(1, 3),
       dh=st.integers(1, 2), dw=st.integers(1, 2), pads=st.tuples(*[st.integers(0, 3)] * 4),
       h=st.integers(6, 10), w=st.integers(6, 10))
@settings(max_examples=40, deadline=None)
def test_conv2d_geometry_property(c, per_group, group_kind, kh, kw, sh, sw, dh, dw, pads, h, w):
    assume(h + pads[0] + pads[2] > dh * (kh - 1) and w + pads[1] + pads[3] > dw * (kw - 1))  # window fits
    group = {"one": 1, "dw": c, "two": 2}[group_kind]
    cin = c * group if group_kind == "two" else c
    o = group * per_group
    x, wt = rand(1, cin, h, w), rand(o, cin // group, kh, kw)
    attrs = dict(strides=(sh, sw), pads=pads, dilations=(dh, dw))
    want = onnx_run("Conv", [x], [wt], group=group, **{k: list(v) for k, v in attrs.items()})
    check(want, ir_run("conv2d", [x], [wt], group=group, **attrs))


# --- other layers with weights ----------------------------------------------------------------
@pytest.mark.parametrize("bias", [True, False])
def test_dense(bias):
    x, w = rand(3, 20), rand(7, 20)
    consts = [w, rand(7)] if bias else [w]
    want = onnx_run("Gemm", [x], consts, transB=1)
    check(want, ir_run("dense", [x], consts))


def test_matmul_two_runtime_inputs():
    a, b = rand(2, 3, 4, 5), rand(2, 3, 5, 6)
    check(onnx_run("MatMul", [a, b]), ir_run("matmul", [a, b]))


@pytest.mark.parametrize("shape", [(2, 5, 4, 3), (3, 5)])
def test_batch_norm(shape):
    c = shape[1]
    params = [rand(c), rand(c), rand(c), np.abs(rand(c)) + 0.1]
    x = rand(*shape)
    want = onnx_run("BatchNormalization", [x], params, epsilon=1e-3)
    check(want, ir_run("batch_norm", [x], params, epsilon=1e-3))


def test_affine_with_fused_act():
    x, scale, shift = rand(2, 4, 3, 3), rand(4), rand(4)
    nodes = [helper.make_node("Mul", ["x0", "s"], ["t"]), helper.make_node("Add", ["t", "b"], ["u"]),
             helper.make_node("Clip", ["u", "lo", "hi"], ["y"])]
    inits = {"s": scale.reshape(4, 1, 1), "b": shift.reshape(4, 1, 1), "lo": np.float32(0), "hi": np.float32(6)}
    want = onnx_model_run(nodes, [x], inits)[0]
    check(want, ir_run("affine", [x], [scale, shift], act="clip", act_params={"min": 0.0, "max": 6.0}))


def test_squeeze_excite():
    c, r = 8, 4
    x, w1, b1, w2, b2 = rand(3, c, 5, 4), rand(r, c), rand(r), rand(c, r), rand(c)
    nodes = [helper.make_node("GlobalAveragePool", ["x0"], ["m"]),
             helper.make_node("Conv", ["m", "w1", "b1"], ["h"]), helper.make_node("Relu", ["h"], ["hr"]),
             helper.make_node("Conv", ["hr", "w2", "b2"], ["s"]),
             helper.make_node("HardSigmoid", ["s"], ["sh"], alpha=1 / 6, beta=0.5),
             helper.make_node("Mul", ["x0", "sh"], ["y"])]
    inits = {"w1": w1.reshape(r, c, 1, 1), "b1": b1, "w2": w2.reshape(c, r, 1, 1), "b2": b2}
    want = onnx_model_run(nodes, [x], inits)[0]
    got = ir_run("squeeze_excite", [x], [w1, b1, w2, b2], act1="relu",
                 act2="hard_sigmoid", act2_params={"alpha": 1 / 6, "beta": 0.5})
    check(want, got)


# --- elementwise ------------------------------------------------------------------------------
@pytest.mark.parametrize("ir_op,onnx_op", [("add", "Add"), ("sub", "Sub"), ("mul", "Mul"), ("div", "Div")])
@pytest.mark.parametrize("b_shape", [(2, 4, 3, 5), (4, 1, 1), (1, 4, 1, 1), ()])
def test_binary_broadcasting(ir_op, onnx_op, b_shape):
    a, b = rand(2, 4, 3, 5), rand(*b_shape)
    if ir_op == "div":
        b = np.where(np.abs(b) < 0.1, np.float32(0.5), b)
    check(onnx_run(onnx_op, [a], [b]), ir_run(ir_op, [a], [b]))


def test_add_two_runtime_inputs_with_fused_relu():
    a, b = rand(2, 3, 4, 4), rand(2, 3, 4, 4)
    want = np.maximum(onnx_run("Add", [a, b]), 0)
    check(want, ir_run("add", [a, b], act="relu"))


def test_integer_div_truncates_like_onnx():
    a = np.array([7, -7, 7, -7, 6], I64)
    b = np.array([2, 2, -2, -2, 3], I64)
    check(onnx_run("Div", [a], [b]), ir_run("div", [a], [b]))


# --- activations ------------------------------------------------------------------------------
WIDE = (np.linspace(-30, 30, 2 * 3 * 50, dtype=np.float32).reshape(2, 3, 50) + rand(2, 3, 50) * 0.1)


@pytest.mark.parametrize("onnx_op,ir_op,onnx_attrs,ir_attrs", [
    ("Relu", "relu", {}, {}),
    ("HardSwish", "hard_swish", {}, {}),
    ("Sigmoid", "sigmoid", {}, {}),
    ("HardSigmoid", "hard_sigmoid", {"alpha": 0.3, "beta": 0.4}, {"alpha": 0.3, "beta": 0.4}),
    ("HardSigmoid", "hard_sigmoid", {}, {}),
    ("Softmax", "softmax", {"axis": 1}, {"axis": 1}),
    ("Softmax", "softmax", {}, {}),
])
def test_activation_ops(onnx_op, ir_op, onnx_attrs, ir_attrs):
    check(onnx_run(onnx_op, [WIDE], **onnx_attrs), ir_run(ir_op, [WIDE], **ir_attrs), atol=1e-6)


@pytest.mark.parametrize("lo,hi", [(0.0, 6.0), (-1.5, None), (None, 2.0)])
def test_clip(lo, hi):
    consts = [None if lo is None else np.float32(lo), None if hi is None else np.float32(hi)]
    attrs = {k: v for k, v in (("min", lo), ("max", hi)) if v is not None}
    check(onnx_run("Clip", [WIDE], consts), ir_run("clip", [WIDE], **attrs))


def test_clip_accepts_infinite_bounds():
    check(np.minimum(WIDE, 2), ir_run("clip", [WIDE], min=-np.inf, max=2.0))


@pytest.mark.parametrize("act,params,onnx_op,onnx_attrs", [
    ("relu", {}, "Relu", {}),
    ("clip", {"min": 0.0, "max": 6.0}, "Clip", {}),
    ("hard_swish", {}, "HardSwish", {}),
    ("hard_sigmoid", {"alpha": 1 / 6, "beta": 0.5}, "HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),
    ("sigmoid", {}, "Sigmoid", {}),
])
def test_fused_activation_on_conv(act, params, onnx_op, onnx_attrs):
    x, w, b = rand(2, 3, 8, 8), rand(4, 3, 3, 3), rand(4)
    clip_in = ["lo", "hi"] if onnx_op == "Clip" else []
    nodes = [helper.make_node("Conv", ["x0", "w", "b"], ["t"], pads=[1, 1, 1, 1]),
             helper.make_node(onnx_op, ["t", *clip_in], ["y"], **onnx_attrs)]
    inits = {"w": w, "b": b, **({"lo": np.float32(0), "hi": np.float32(6)} if clip_in else {})}
    want = onnx_model_run(nodes, [x], inits)[0]
    check(want, ir_run("conv2d", [x], [w, b], pads=(1, 1, 1, 1), act=act, act_params=params))


def test_apply_activation_identity_and_unknown():
    x = rand(3)
    assert apply_activation(x, None, None) is x and apply_activation(x, "none", {}) is x
    with pytest.raises(MnvError, match="swish"):
        apply_activation(x, "swish", {})


# --- pooling and reductions -------------------------------------------------------------------
def test_global_avg_pool():
    x = rand(3, 5, 7, 6)
    check(onnx_run("GlobalAveragePool", [x]), ir_run("global_avg_pool", [x]))


@pytest.mark.parametrize("axes,keepdims", [((2, 3), 1), ((2, 3), 0), ((1,), 1), ((-1,), 0)])
def test_reduce_mean(axes, keepdims):
    x = rand(2, 5, 7, 6)
    want = onnx_run("ReduceMean", [x], axes=list(axes), keepdims=keepdims)
    check(want, ir_run("reduce_mean", [x], axes=axes, keepdims=bool(keepdims)))


POOL_CASES = [  # (H, W, kernel, strides, pads)
    (7, 6, (3, 2), (2, 2), (1, 1, 1, 0)),
    (8, 8, (3, 3), (2, 2), (1, 1, 1, 1)),
    (5, 5, (2, 2), (2, 2), (0, 0, 1, 1)),
    (6, 7, (3, 3), (3, 2), (2, 1, 2, 1)),  # with ceil_mode the last row window would start in the pad
    (5, 5, (3, 3), (3, 3), (0, 0, 2, 2)),
    (7, 7, (7, 7), (1, 1), (0, 0, 0, 0)),
]


@pytest.mark.parametrize("h,w,k,s,p", POOL_CASES)
@pytest.mark.parametrize("ceil", [0, 1])
@pytest.mark.parametrize("cip", [0, 1])
def test_avg_pool(h, w, k, s, p, ceil, cip):
    x = rand(2, 3, h, w)
    want = onnx_run("AveragePool", [x], kernel_shape=list(k), strides=list(s), pads=list(p),
                    ceil_mode=ceil, count_include_pad=cip)
    check(want, ir_run("avg_pool", [x], kernel=k, strides=s, pads=p, ceil_mode=ceil, count_include_pad=cip))


@pytest.mark.parametrize("h,w,k,s,p", POOL_CASES)
@pytest.mark.parametrize("ceil", [0, 1])
@pytest.mark.parametrize("d", [(1, 1), (2, 1)])
def test_max_pool(h, w, k, s, p, ceil, d):
    x = rand(2, 3, 2 * h, w)
    want = onnx_run("MaxPool", [x], kernel_shape=list(k), strides=list(s), pads=list(p),
                    ceil_mode=ceil, dilations=list(d))
    check(want, ir_run("max_pool", [x], kernel=k, strides=s, pads=p, ceil_mode=ceil, dilations=d))


@given(h=st.integers(3, 9), k=st.integers(1, 4), s=st.integers(1, 4), pb=st.integers(0, 2), pe=st.integers(0, 2),
       ceil=st.integers(0, 1), cip=st.integers(0, 1), is_max=st.booleans())
@settings(max_examples=60, deadline=None)
def test_pool_geometry_property(h, k, s, pb, pe, ceil, cip, is_max):
    assume(pb < k and pe < k and h + pb + pe >= k)  # ONNX: pads smaller than the kernel, window fits
    x = rand(1, 2, h, h + 1)
    geo = dict(kernel=(k, 2), strides=(s, 1), pads=(pb, 0, pe, 0), ceil_mode=ceil)
    onnx_geo = {("kernel_shape" if a == "kernel" else a): list(v) if isinstance(v, tuple) else v
                for a, v in geo.items()}
    if is_max:
        want, got = onnx_run("MaxPool", [x], **onnx_geo), ir_run("max_pool", [x], **geo)
    else:
        want = onnx_run("AveragePool", [x], count_include_pad=cip, **onnx_geo)
        got = ir_run("avg_pool", [x], count_include_pad=cip, **geo)
    check(want, got)


# --- data movement and shape computation ------------------------------------------------------
def test_reshape_and_transpose():
    x = rand(2, 3, 4, 5)
    check(onnx_run("Reshape", [x], [np.array([2, -1, 5], I64)]), ir_run("reshape", [x], shape=(2, 12, 5)))
    check(onnx_run("Transpose", [x], perm=[0, 2, 3, 1]), ir_run("transpose", [x], perm=(0, 2, 3, 1)))
    check(onnx_run("Transpose", [x]), ir_run("transpose", [x]))


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
@pytest.mark.parametrize("pads", [(0, 0, 1, 2, 0, 0, 2, 1), (0, 1, 0, 2, 0, 0, 3, 0), (0, 0, -1, 1, 0, 0, 1, -2)])
def test_pad(mode, pads):
    x = rand(2, 3, 5, 6)
    consts = [np.array(pads, I64)] + ([np.float32(1.5)] if mode == "constant" else [])
    want = onnx_run("Pad", [x], consts, mode=mode)
    attrs = {"value": 1.5} if mode == "constant" else {}
    check(want, ir_run("pad", [x], pads=pads, mode=mode, **attrs))


def test_concat_and_identity():
    a, b = rand(2, 3, 4, 4), rand(2, 5, 4, 4)
    check(onnx_run("Concat", [a, b], axis=1), ir_run("concat", [a, b], axis=1))
    check(onnx_run("Identity", [a]), ir_run("identity", [a]))


@pytest.mark.parametrize("start,end", [(None, None), (1, None), (0, 2), (-2, None)])
def test_shape(start, end):
    x = rand(2, 3, 4, 5)
    attrs = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    check(onnx_run("Shape", [x], **attrs), ir_run("shape", [x], **attrs))


@pytest.mark.parametrize("x,indices,axis", [
    (np.array([2, 3, 4, 5], I64), np.array(1, I64), 0),
    (np.array([2, 3, 4, 5], I64), np.array([0, -1], I64), 0),
    (rand(2, 6, 3), np.array([[5, 0], [1, 1]], I64), 1),
])
def test_gather(x, indices, axis):
    check(onnx_run("Gather", [x], [indices], axis=axis), ir_run("gather", [x], [indices], axis=axis))


@pytest.mark.parametrize("starts,ends,axes,steps", [
    ((0,), (2,), None, None),
    ((1, -1), (3, -4), (1, 3), (1, -1)),
    ((-1,), (-(2 ** 63),), (2,), (-2,)),
    ((1,), (2 ** 63 - 1,), (-1,), (2,)),
])
def test_slice(starts, ends, axes, steps):
    x = rand(2, 4, 6, 5)
    consts = [np.array(starts, I64), np.array(ends, I64)]
    consts += [np.array(axes, I64) if axes is not None else None, np.array(steps, I64) if steps is not None else None]
    while consts[-1] is None:
        consts.pop()
    want = onnx_run("Slice", [x], consts)
    check(want, ir_run("slice", [x], starts=starts, ends=ends, axes=axes, steps=steps))


@pytest.mark.parametrize("x,to", [(WIDE, "int32"), (np.array([3, -2, 7], I64), "float32"),
                                  (np.array([1, 2], I64), "int32"), (WIDE, "float32")])
def test_cast(x, to):
    want = onnx_run("Cast", [x], to=helper.np_dtype_to_tensor_dtype(np.dtype(to)))
    check(want, ir_run("cast", [x], to=to))


# --- whole-graph behaviour --------------------------------------------------------------------
def test_missing_feed_names_the_input():
    g = ir_graph("relu", [rand(1, 3)])
    with pytest.raises(MnvError, match="x0"):
        run_float(g, {})


def test_feed_with_wrong_shape_is_rejected():
    g = ir_graph("relu", [rand(1, 3, 4, 4)])
    with pytest.raises(MnvError, match="x0"):
        run_float(g, {"x0": rand(1, 3, 5, 4)})


@pytest.mark.parametrize("op,attrs", [("conv2d", {}), ("max_pool", {"kernel": (4, 4)})])
def test_window_larger_than_input_is_an_error(op, attrs):
    consts = [rand(2, 3, 4, 4)] if op == "conv2d" else []
    with pytest.raises(MnvError, match="larger than"):
        ir_run(op, [rand(1, 3, 3, 3)], consts, **attrs)


def test_run_node_names_the_failing_node():
    node = Node("bad", "concat", ["a", "b"], ["y"], {"axis": 1})
    with pytest.raises(MnvError, match="bad"):
        run_node(node, Graph(), [rand(1, 2, 3), rand(1, 2, 4)])


def _small_classifier(batch: int) -> tuple[Graph, list, dict]:
    """conv -> gap -> reshape [1, 8] -> dense as IR (declared batch ``batch``) and as ONNX nodes."""
    w, b, fw, fb = rand(8, 3, 3, 3), rand(8), rand(5, 8), rand(5)
    g = Graph("cls")
    g.add_tensor(Tensor("x0", (batch, 3, 8, 8)))
    g.inputs.append("x0")
    for name, arr in (("w", w), ("b", b), ("fw", fw), ("fb", fb)):
        g.add_const(name, arr)
    for name, shape in (("c", (batch, 8, 4, 4)), ("p", (batch, 8, 1, 1)), ("f", (batch, 8)), ("y", (batch, 5))):
        g.add_tensor(Tensor(name, shape))
    g.add_node(Node("conv", "conv2d", ["x0", "w", "b"], ["c"],
                    {"strides": (2, 2), "pads": (1, 1, 1, 1), "act": "hard_swish", "act_params": {}}))
    g.add_node(Node("gap", "global_avg_pool", ["c"], ["p"]))
    g.add_node(Node("flat", "reshape", ["p"], ["f"], {"shape": (batch, 8)}))
    g.add_node(Node("fc", "dense", ["f", "fw", "fb"], ["y"]))
    g.outputs.append("y")
    g.validate()
    nodes = [helper.make_node("Conv", ["x0", "w", "b"], ["c0"], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("HardSwish", ["c0"], ["c"]), helper.make_node("GlobalAveragePool", ["c"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]), helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1)]
    return g, nodes, {"w": w, "b": b, "fw": fw, "fb": fb}


def test_batch_3_through_a_graph_declared_with_batch_1():
    g, nodes, inits = _small_classifier(1)
    x = rand(3, 3, 8, 8)
    got = run_float(g, {"x0": x})["y"]
    check(onnx_model_run(nodes, [x], inits)[0], got)
    singles = np.concatenate([run_float(g, {"x0": x[i:i + 1]})["y"] for i in range(3)])
    np.testing.assert_allclose(got, singles, rtol=1e-6, atol=1e-6)


def test_keep_all_returns_intermediates():
    g, nodes, inits = _small_classifier(1)
    x = rand(1, 3, 8, 8)
    env = run_float(g, {"x0": x}, keep_all=True)
    assert {"x0", "c", "p", "f", "y", "w"} <= set(env)
    check(onnx_model_run(nodes, [x], inits, outputs=("c",))[0], env["c"])
    assert set(run_float(g, {"x0": x})) == {"y"}


# --- a whole MobileNetV3-Large (random weights): accuracy through depth, and speed ------------
MNV3_LARGE = [  # kernel, expanded, out, se, act, stride (torchvision's table)
    (3, 16, 16, False, "relu", 1), (3, 64, 24, False, "relu", 2), (3, 72, 24, False, "relu", 1),
    (5, 72, 40, True, "relu", 2), (5, 120, 40, True, "relu", 1), (5, 120, 40, True, "relu", 1),
    (3, 240, 80, False, "hard_swish", 2), (3, 200, 80, False, "hard_swish", 1),
    (3, 184, 80, False, "hard_swish", 1), (3, 184, 80, False, "hard_swish", 1),
    (3, 480, 112, True, "hard_swish", 1), (3, 672, 112, True, "hard_swish", 1),
    (5, 672, 160, True, "hard_swish", 2), (5, 960, 160, True, "hard_swish", 1),
    (5, 960, 160, True, "hard_swish", 1),
]
_ONNX_ACT = {"relu": "Relu", "hard_swish": "HardSwish"}


class _Twin:
    """Builds the same network twice: ONNX nodes (unfused) and an IR graph (fused).

    Random weights are normalised on a calibration input the way folded BatchNorm leaves a trained
    model: every conv/dense pre-activation gets zero mean and unit spread (per channel for convs)
    plus a random shift. Plain random weights let activations grow into the hundreds, where the SE
    gates amplify float32 rounding a thousandfold -- unlike any real model.
    """

    def __init__(self, x_calib: np.ndarray, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list = []
        self.inits: dict[str, np.ndarray] = {}
        self.g = Graph("mnv3_large")
        self.g.add_tensor(Tensor("x0", x_calib.shape))
        self.g.inputs.append("x0")
        self.env = {"x0": x_calib}  # calibration values of every tensor so far
        self.n = 0

    def _name(self, base: str) -> str:
        self.n += 1
        return f"{base}{self.n}"

    def _const(self, arr: np.ndarray, in_onnx: bool = True) -> str:
        name = self._name("w")
        if in_onnx:
            self.inits[name] = arr
        self.g.add_const(name, arr)
        self.env[name] = arr
        return name

    def _ir(self, op: str, ins: list[str], attrs: dict) -> str:
        out = self._name("t")
        node = Node(self._name("n"), op, ins, [out], attrs)
        self.g.add_tensor(Tensor(out, ()))
        self.g.add_node(node)
        self.env[out] = run_node(node, self.g, [self.env[i] for i in ins])[0]
        return out

    def _normalised(self, op: str, x: np.ndarray, shape: tuple[int, ...], attrs: dict, gain: float = 1.0):
        """Random weights of ``shape`` and a bias making ``op(x)`` zero-mean with spread ``gain``."""
        w = self.rng.standard_normal(shape).astype(np.float32)
        pre = run_node(Node("calib", op, ["x", "w"], ["y"], attrs), self.g, [x, w])[0]
        axes = (0, 2, 3) if pre.ndim == 4 else None
        mean, std = pre.mean(axis=axes), pre.std(axis=axes) + np.float32(1e-3)
        scale = np.broadcast_to(gain / std, (shape[0],)).astype(np.float32)
        bias = -np.broadcast_to(mean, (shape[0],)) * scale + self.rng.standard_normal(shape[0]) * 0.3
        return w * scale.reshape((-1,) + (1,) * (len(shape) - 1)), bias.astype(np.float32)

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int, act: str, group: int = 1) -> str:
        geo = {"strides": (stride, stride), "pads": (k // 2,) * 4}
        op = "depthwise_conv2d" if group > 1 else "conv2d"
        w, b = (self._const(a) for a in self._normalised(op, self.env[x], (cout, cin // group, k, k), geo))
        y = self._ir(op, [x, w, b], {**geo, "act": act, "act_params": {}})
        self.nodes.append(helper.make_node("Conv", [x, w, b], [y + "c"], group=group, strides=[stride] * 2,
                                           pads=[k // 2] * 4))
        self._onnx_act(y + "c", y, act)
        return y

    def _onnx_act(self, src: str, dst: str, act: str) -> None:
        self.nodes.append(helper.make_node(_ONNX_ACT.get(act, "Identity"), [src], [dst]))

    def se(self, x: str, c: int) -> str:
        r = max(8, (c // 4 + 4) // 8 * 8)
        pooled = self.env[x].mean(axis=(2, 3))
        w1, b1 = self._normalised("dense", pooled, (r, c), {})
        hidden = np.maximum(pooled @ w1.T + b1, 0)
        w2, b2 = self._normalised("dense", hidden, (c, r), {}, gain=2.0)  # gates spread over hard_sigmoid's range
        names = [self._const(a, in_onnx=a.ndim == 1) for a in (w1, b1, w2, b2)]
        hs = {"alpha": 1 / 6, "beta": 0.5}
        y = self._ir("squeeze_excite", [x, *names], {"act1": "relu", "act2": "hard_sigmoid", "act2_params": hs})
        self.inits[names[0] + "4d"], self.inits[names[2] + "4d"] = w1.reshape(r, c, 1, 1), w2.reshape(c, r, 1, 1)
        self.nodes += [helper.make_node("GlobalAveragePool", [x], [y + "m"]),
                       helper.make_node("Conv", [y + "m", names[0] + "4d", names[1]], [y + "h"]),
                       helper.make_node("Relu", [y + "h"], [y + "r"]),
                       helper.make_node("Conv", [y + "r", names[2] + "4d", names[3]], [y + "s"]),
                       helper.make_node("HardSigmoid", [y + "s"], [y + "g"], **hs),
                       helper.make_node("Mul", [x, y + "g"], [y])]
        return y

    def add(self, a: str, b: str) -> str:
        y = self._ir("add", [a, b], {})
        self.nodes.append(helper.make_node("Add", [a, b], [y]))
        return y

    def head(self, x: str, c: int) -> str:
        p = self._ir("global_avg_pool", [x], {})
        f = self._ir("reshape", [p], {"shape": (1, c)})
        self.nodes += [helper.make_node("GlobalAveragePool", [x], [p]), helper.make_node("Flatten", [p], [f])]
        for cin, cout, act in ((c, 1280, "hard_swish"), (1280, 1000, "none")):
            w, b = (self._const(a) for a in self._normalised("dense", self.env[f], (cout, cin), {}))
            y = self._ir("dense", [f, w, b], {"act": act})
            self.nodes.append(helper.make_node("Gemm", [f, w, b], [y + "l"], transB=1))
            self._onnx_act(y + "l", y, act)
            f = y
        return f


def _mnv3_large(x_calib: np.ndarray, seed: int = 0) -> _Twin:
    t = _Twin(x_calib, seed)
    x, c = t.conv("x0", 3, 16, 3, 2, "hard_swish"), 16
    for k, exp, out, se, act, s in MNV3_LARGE:
        y = t.conv(x, c, exp, 1, 1, act) if exp != c else x
        y = t.conv(y, exp, exp, k, s, act, group=exp)
        y = t.se(y, exp) if se else y
        y = t.conv(y, exp, out, 1, 1, "none")
        x, c = (t.add(y, x) if s == 1 and c == out else y), out
    x = t.conv(x, c, 960, 1, 1, "hard_swish")
    t.g.outputs.append(t.head(x, 960))
    t.g.validate()
    return t


def test_mobilenet_v3_large_matches_onnxruntime():
    rng = np.random.default_rng(100)  # own generator: the network must not depend on test order
    calib, x, other_x = (rng.standard_normal((1, 3, 224, 224)).astype(np.float32) for _ in range(3))
    t = _mnv3_large(calib)
    model = onnx_model(t.nodes, [x], t.inits, outputs=tuple(t.g.outputs))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, {"x0": x})[0]
    got = run_float(t.g, {"x0": x})[t.g.outputs[0]]
    assert got.shape == want.shape == (1, 1000)
    assert np.max(np.abs(got - want)) <= 1e-5 * np.max(np.abs(want))
    other = run_float(t.g, {"x0": other_x})[t.g.outputs[0]]
    assert np.max(np.abs(other - got)) > 0.1 * np.max(np.abs(got)), "the input must still matter at the end"
