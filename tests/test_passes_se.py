"""Squeeze-and-excite recognition: the 1x1-conv form and the dense-between-views form, gates with
any hard-sigmoid parameters, and the look-alikes that must stay as they are."""

from __future__ import annotations

import pytest

from mnv3c.passes.squeeze_excite import recognize_squeeze_excite
from passes_builder import Builder, op_counts, rewrite

RELU = {"act": "relu", "act_params": {}}


def gate(alpha: float = 1 / 6) -> dict:
    return {"act": "hard_sigmoid", "act_params": {"alpha": alpha, "beta": 0.5}}


def se_block(b: Builder, x: str, form: str, alpha: float = 1 / 6, mul_first: bool = False, prefix: str = "/blk/se") -> str:
    n, c = b.g.tensors[x].shape[:2]
    pooled = b.op("global_avg_pool", x, name=f"{prefix}/avgpool")
    if form == "dense":
        h = b.op("reshape", pooled, shape=(n, c), name=f"{prefix}/flatten")
        s = b.op("dense", h, b.rand(2, c), b.rand(2), name=f"{prefix}/fc1", **RELU)
        s = b.op("dense", s, b.rand(c, 2), b.rand(c), name=f"{prefix}/fc2", **gate(alpha))
        s = b.op("reshape", s, shape=(n, c, 1, 1), name=f"{prefix}/unflatten")
    else:
        s = b.conv(pooled, 2, 1, name=f"{prefix}/fc1", **RELU)
        s = b.conv(s, c, 1, name=f"{prefix}/fc2", bias=False, **gate(alpha))
    return b.op("mul", *((s, x) if mul_first else (x, s)), name=f"{prefix}/mul")


@pytest.mark.parametrize("form", ["conv", "dense"])
@pytest.mark.parametrize("mul_first", [False, True])
@pytest.mark.parametrize("alpha", [1 / 6, 0.2])
def test_squeeze_excite(form, mul_first, alpha):
    b = Builder(2, 8, 5, 5)
    x = b.conv("x", 8, 3, group=8, name="/blk/dw")
    y = b.conv(se_block(b, x, form, alpha, mul_first), 4, 1, name="/blk/project")
    out = rewrite(recognize_squeeze_excite, b.finish(y))
    assert op_counts(out) == {"depthwise_conv2d": 1, "squeeze_excite": 1, "conv2d": 1}
    se = out.nodes[1]
    assert se.name == "/blk/se" and se.inputs[0] == x
    assert [out.tensors[i].shape for i in se.inputs[1:]] == [(2, 8), (2,), (8, 2), (8,)]
    assert se.attrs["act1"] == "relu" and se.attrs["act2"] == "hard_sigmoid"
    assert se.attrs["act2_params"]["alpha"] == pytest.approx(alpha)
    if form == "conv":
        assert not out.const(se.inputs[4]).any()  # fc2 had no bias: zeros
    assert se.fused[0] == "global_avg_pool" and se.fused[-1] == "mul"


def test_two_blocks_get_distinct_names():
    b = Builder(1, 8, 4, 4)
    y = se_block(b, se_block(b, "x", "conv", prefix="/a/se"), "conv", prefix="/a/se")
    out = rewrite(recognize_squeeze_excite, b.finish(y))
    assert op_counts(out) == {"squeeze_excite": 2}
    assert len({n.name for n in out.nodes}) == 2


@pytest.mark.parametrize("case", ["no_gate", "other_tensor", "pool_shared", "strided_fc", "fc_output_shared"])
def test_squeeze_excite_lookalikes_stay(case):
    b = Builder(1, 8, 4, 4)
    x = b.op("relu", "x")
    pooled = b.op("global_avg_pool", x)
    outs = []
    s = b.conv(pooled, 2, 1, **RELU)
    if case == "fc_output_shared":
        outs.append(s)
    s = b.conv(s, 8, 1, **({} if case == "no_gate" else gate()), **({"strides": (2, 2)} if case == "strided_fc" else {}))
    y = b.op("mul", "x" if case == "other_tensor" else x, s)
    if case == "pool_shared":
        outs.append(pooled)
    out = rewrite(recognize_squeeze_excite, b.finish(y, *outs))
    assert "squeeze_excite" not in op_counts(out)
