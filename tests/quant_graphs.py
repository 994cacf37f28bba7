"""Small hand-built canonical graphs for the quantization tests (MobileNetV3-like building blocks)."""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph, Node, Tensor

HSIG = {"alpha": 1 / 6, "beta": 0.5}


class _Builder:
    def __init__(self, rng: np.random.Generator, shape: tuple[int, ...]) -> None:
        self.g, self.rng, self.k = Graph("tiny"), rng, 0
        self.g.add_tensor(Tensor("input", shape))
        self.g.inputs = ["input"]
        self.shapes = {"input": shape}

    def _name(self, base: str) -> str:
        self.k += 1
        return f"{base}{self.k}"

    def _out(self, name: str, shape: tuple[int, ...]) -> str:
        self.g.add_tensor(Tensor(name, shape))
        self.shapes[name] = shape
        return name

    def const(self, base: str, data: np.ndarray) -> str:
        return self.g.add_const(self._name(base), np.asarray(data, np.float32)).name

    def conv(self, x: str, cout: int, k: int = 1, stride: int = 1, act: str = "none", dw: bool = False,
             act_params: dict | None = None) -> str:
        n, c, h, w = self.shapes[x]
        cin = 1 if dw else c
        cout = c if dw else cout
        fan = cin * k * k
        wt = self.const("w", self.rng.normal(0, 1.5 / np.sqrt(fan), (cout, cin, k, k)))
        b = self.const("b", self.rng.normal(0, 0.2, cout))
        p = k // 2
        ho, wo = (h + 2 * p - k) // stride + 1, (w + 2 * p - k) // stride + 1
        name = self._name("dw" if dw else "conv")
        y = self._out(f"{name}_out", (n, cout, ho, wo))
        attrs = {"strides": (stride, stride), "pads": (p, p, p, p), "dilations": (1, 1), "group": c if dw else 1,
                 "act": act, "act_params": act_params or {}}
        self.g.add_node(Node(name, "depthwise_conv2d" if dw else "conv2d", [x, wt, b], [y], attrs))
        return y

    def se(self, x: str, r: int) -> str:
        n, c, h, w = self.shapes[x]
        w1 = self.const("se_w1", self.rng.normal(0, 1 / np.sqrt(c), (r, c)))
        b1 = self.const("se_b1", self.rng.normal(0, 0.1, r))
        w2 = self.const("se_w2", self.rng.normal(0, 1 / np.sqrt(r), (c, r)))
        b2 = self.const("se_b2", self.rng.normal(0, 0.1, c))
        name = self._name("se")
        y = self._out(f"{name}_out", (n, c, h, w))
        self.g.add_node(Node(name, "squeeze_excite", [x, w1, b1, w2, b2], [y],
                             {"act1": "relu", "act1_params": {}, "act2": "hard_sigmoid", "act2_params": HSIG}))
        return y

    def op(self, op: str, ins: list[str], out_shape: tuple[int, ...], **attrs) -> str:
        name = self._name(op)
        y = self._out(f"{name}_out", out_shape)
        self.g.add_node(Node(name, op, ins, [y], attrs))
        return y

    def dense(self, x: str, m: int, act: str = "none") -> str:
        n, k = self.shapes[x]
        wt = self.const("fc_w", self.rng.normal(0, 1 / np.sqrt(k), (m, k)))
        b = self.const("fc_b", self.rng.normal(0, 0.1, m))
        return self.op("dense", [x, wt, b], (n, m), act=act, act_params={})


def tiny_mobilenet(seed: int = 0, softmax: bool = True) -> Graph:
    """conv(h-swish) -> dw(relu) -> SE -> project -> residual add -> dw(h-swish) -> pools -> dense."""
    b = _Builder(np.random.default_rng(seed), (1, 3, 16, 16))
    x = b.conv("input", 8, k=3, stride=2, act="hard_swish")
    e = b.conv(x, 16, act="relu")
    d = b.conv(e, 0, k=3, act="relu", dw=True)
    s = b.se(d, 4)
    p = b.conv(s, 8)
    a = b.op("add", [p, x], b.shapes[p], act="none", act_params={})
    d2 = b.conv(a, 0, k=3, act="hard_swish", dw=True)
    m = b.op("max_pool", [d2], (1, 8, 4, 4), kernel=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0), dilations=(1, 1))
    av = b.op("avg_pool", [m], (1, 8, 4, 4), kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1), count_include_pad=0)
    gp = b.op("global_avg_pool", [av], (1, 8, 1, 1))
    f = b.op("reshape", [gp], (1, 8), shape=(1, 8), view=True)
    h = b.dense(f, 16, act="hard_swish")
    out = b.dense(h, 10)
    if softmax:
        out = b.op("softmax", [out], (1, 10), axis=-1)
    b.g.outputs = [out]
    b.g.validate()
    return b.g


def data_movement_graph() -> Graph:
    """conv -> two channel slices -> concat(slice, conv(slice), graph input) -> transpose (H <-> W)
    -> a slice of columns -> conv: a concat with a copied input (the conv writes its scale) and
    requantized ones, slices inside and across the C layout's rows."""
    b = _Builder(np.random.default_rng(7), (1, 3, 6, 8))
    x = b.conv("input", 8, k=3, act="relu")
    lo = b.op("slice", [x], (1, 3, 6, 8), starts=(0,), ends=(3,), axes=(1,), steps=(1,))
    hi = b.op("slice", [x], (1, 5, 6, 8), starts=(3,), ends=(8,), axes=(1,), steps=(1,))
    c = b.conv(hi, 6, act="hard_swish")
    cat = b.op("concat", [lo, c, "input"], (1, 12, 6, 8), axis=1)
    t = b.op("transpose", [cat], (1, 12, 8, 6), perm=(0, 1, 3, 2))
    w = b.op("slice", [t], (1, 12, 8, 4), starts=(1,), ends=(5,), axes=(3,), steps=(1,))
    b.g.outputs = [b.conv(w, 4, k=3)]
    b.g.validate()
    return b.g


def attention_graph() -> Graph:
    """conv -> q, k, v (1x1 convs, 4 heads as channels) -> q·kᵀ [N, heads, T, T] -> softmax on the
    last axis (in NHWC its rows are strided by the heads) -> ·v -> conv -> pools -> dense -> a
    trailing softmax over 6 classes: the recogniser's attention with a classifier's head."""
    b = _Builder(np.random.default_rng(5), (1, 3, 5, 6))
    x = b.conv("input", 8, k=3, act="relu")
    q, k, v = (b.conv(x, 4) for _ in range(3))  # [1, 4, T=5, 6]
    kt = b.op("transpose", [k], (1, 4, 6, 5), perm=(0, 1, 3, 2))
    scores = b.op("matmul", [q, kt], (1, 4, 5, 5))
    att = b.op("softmax", [scores], (1, 4, 5, 5), axis=-1)
    y = b.conv(b.op("matmul", [att, v], (1, 4, 5, 6)), 8, k=3, act="relu")
    gp = b.op("global_avg_pool", [y], (1, 8, 1, 1))
    logits = b.dense(b.op("reshape", [gp], (1, 8), shape=(1, 8), view=True), 6)
    b.g.outputs = [b.op("softmax", [logits], (1, 6), axis=-1)]
    b.g.validate()
    return b.g


def calib_inputs(n: int, seed: int = 1, shape: tuple[int, ...] = (3, 16, 16)) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (n,) + shape).astype(np.float32)


def tiny_channel_graph(seed: int = 3) -> Graph:
    """PP-OCRv3's recogniser in small: a pointwise conv (h-swish) whose first two channels carry
    values ~50x smaller than the others (batch norm folded onto channels of tiny variance), which
    the following depthwise conv (h-swish) multiplies by 100x larger weights; then a plain 1x1 conv."""
    b = _Builder(np.random.default_rng(seed), (1, 3, 12, 12))
    x = b.conv("input", 8, act="hard_swish")
    w, bias = (b.g.tensors[i] for i in b.g.nodes[-1].inputs[1:])
    w.data[:2] *= 0.1
    bias.data[:2] *= 0.1
    w.data[2:] *= 5
    bias.data[2:] += 2
    d = b.conv(x, 0, k=3, act="hard_swish", dw=True)
    dw = b.g.tensors[b.g.nodes[-1].inputs[1]]
    dw.data[:2] *= 20
    dw.data[2:] *= 0.2
    b.g.outputs = [b.conv(d, 4)]
    b.g.validate()
    return b.g
