"""Generated C is bit-exact with the integer simulator, layer by layer, on random geometries.

Each case builds a tiny float graph around one layer (random channel counts including odd ones,
kernel sizes, strides, asymmetric pads, dilations, fused activations), quantizes it on a few
random samples, generates C, builds it with the host compiler under -Werror and compares its
int8 output with `simulate` on random int8 inputs covering the whole range.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnv3c.codegen import host
from mnv3c.codegen.generate import generate
from mnv3c.ir.graph import Graph
from mnv3c.quant.quantize import quantize
from mnv3c.quant.simulate import quantize_input, simulate
from passes_builder import Builder
from quant_graphs import calib_inputs, tiny_mobilenet

ACTS = ("none", "relu", "clip", "hard_swish", "hard_sigmoid")
HSIG = {"alpha": 1 / 6, "beta": 0.5}
CASES = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _act(act: str) -> dict:
    params = {"clip": {"min": 0.0, "max": 6.0}, "hard_sigmoid": HSIG}.get(act, {})
    return {"act": act, "act_params": params}


def check_bit_exact(g: Graph, workdir: Path, seed: int = 0, samples: int = 4) -> dict:
    """Quantize, generate, build, run; assert C == simulator; return the report."""
    shape = g.tensors[g.inputs[0]].shape[1:]
    calib = calib_inputs(4, seed, shape) * 2
    qg = quantize(g, calib, method="minmax", progress=False)
    rng = np.random.default_rng(seed)
    x = np.concatenate([quantize_input(qg, calib[:2]), rng.integers(-128, 128, (samples,) + shape, dtype=np.int8)])
    report = generate(qg, workdir)
    got = host.build_and_run(workdir, x)
    want = simulate(qg, x)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert report["arena_bytes"] >= report["arena_lower_bound_bytes"]
    return report


def _image(draw: st.DrawFn, kernel: tuple[int, int], dil: int, seed: int) -> Builder:
    c = draw(st.integers(1, 9))
    h = draw(st.integers(dil * (kernel[0] - 1) + 1, 11))
    w = draw(st.integers(dil * (kernel[1] - 1) + 1, 11))
    return Builder(1, c, h, w, seed=seed)


@st.composite
def conv_graphs(draw: st.DrawFn) -> Graph:
    """conv2d or depthwise with random geometry; the output of the conv is the graph output."""
    depthwise = draw(st.booleans())
    k = (draw(st.sampled_from([1, 3, 5])), draw(st.sampled_from([1, 3])))
    dil = draw(st.sampled_from([1, 1, 2]))
    b = _image(draw, k, dil, draw(st.integers(0, 1000)))
    c = b.g.tensors["x"].shape[1]
    pads = tuple(draw(st.integers(0, kk - 1)) for kk in (k[0], k[1], k[0], k[1]))
    attrs = {"strides": (draw(st.sampled_from([1, 2])), draw(st.sampled_from([1, 2]))), "pads": pads,
             "dilations": (dil, dil), **_act(draw(st.sampled_from(ACTS)))}
    if depthwise:
        m = draw(st.sampled_from([1, 1, 2]))
        y = b.op("depthwise_conv2d", "x", b.rand(c * m, 1, *k), b.rand(c * m), group=c, **attrs)
    else:
        cout = draw(st.integers(1, 9))
        y = b.op("conv2d", "x", b.rand(cout, c, *k), b.rand(cout), group=1, **attrs)
    return b.finish(y)


@st.composite
def pool_graphs(draw: st.DrawFn) -> Graph:
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    b = _image(draw, k, 1, draw(st.integers(0, 1000)))
    pads = tuple(draw(st.integers(0, kk - 1)) for kk in (k[0], k[1], k[0], k[1]))
    attrs = {"kernel": k, "strides": (draw(st.integers(1, 2)), draw(st.integers(1, 2))), "pads": pads,
             "ceil_mode": 0}
    if draw(st.booleans()):
        y = b.op("max_pool", "x", dilations=(1, 1), **attrs)
    else:
        y = b.op("avg_pool", "x", count_include_pad=0, **attrs)
    return b.finish(y)


@st.composite
def head_graphs(draw: st.DrawFn) -> Graph:
    """global_avg_pool -> reshape (a view) -> dense, optionally with a hidden fused layer."""
    b = _image(draw, (1, 1), 1, draw(st.integers(0, 1000)))
    c = b.g.tensors["x"].shape[1]
    p = b.op("global_avg_pool", "x")
    f = b.op("reshape", p, shape=(1, c))
    if draw(st.booleans()):
        hidden = draw(st.integers(1, 9))
        f = b.op("dense", f, b.rand(hidden, c), b.rand(hidden), **_act(draw(st.sampled_from(ACTS))))
    m = draw(st.integers(1, 12))
    y = b.op("dense", f, b.rand(m, b.g.tensors[f].shape[1]), b.rand(m), **_act(draw(st.sampled_from(ACTS))))
    return b.finish(y)


@st.composite
def block_graphs(draw: st.DrawFn) -> Graph:
    """Residual add and squeeze-excite (both in-place kernels), and a standalone LUT activation."""
    b = _image(draw, (1, 1), 1, draw(st.integers(0, 1000)))
    c = b.g.tensors["x"].shape[1]
    kind = draw(st.sampled_from(["add", "squeeze_excite", "lut"]))
    t = b.op("conv2d", "x", b.rand(c, c, 1, 1), b.rand(c), group=1, strides=(1, 1), pads=(0, 0, 0, 0),
             dilations=(1, 1), **_act(draw(st.sampled_from(ACTS))))
    if kind == "add":
        y = b.op("add", t, "x", **_act(draw(st.sampled_from(["none", "relu", "hard_swish"]))))
    elif kind == "squeeze_excite":
        r = draw(st.integers(1, 5))
        y = b.op("squeeze_excite", t, b.rand(r, c), b.rand(r), b.rand(c, r), b.rand(c), act1="relu", act1_params={},
                 act2="hard_sigmoid", act2_params=HSIG)
    else:
        y = b.op(draw(st.sampled_from(["hard_swish", "relu", "sigmoid"])), t)
    return b.finish(y)


@pytest.mark.parametrize("strategy", [conv_graphs, pool_graphs, head_graphs, block_graphs],
                         ids=["conv", "pool", "head", "block"])
def test_single_layers_bit_exact(strategy: Callable[[], st.SearchStrategy[Graph]],
                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    @CASES
    @given(strategy())
    def run(g: Graph) -> None:
        check_bit_exact(g, tmp_path_factory.mktemp("gen"))

    run()


def test_tiny_mobilenet_bit_exact_and_deterministic(tmp_path: Path) -> None:
    g = tiny_mobilenet(seed=3)
    report = check_bit_exact(g, tmp_path / "a", samples=8)
    ops = {layer["op"] for layer in report["layers"]}
    assert {"conv2d", "depthwise_conv2d", "squeeze_excite", "add", "max_pool", "avg_pool", "dense"} <= ops
    generate(quantize(g, calib_inputs(4, 0, (3, 16, 16)) * 2, method="minmax", progress=False), tmp_path / "b")
    first, second = ({str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()
                      and not p.name.startswith("mnv3c_example")} for d in (tmp_path / "a", tmp_path / "b"))
    assert "mnv3c/mnv3c_model.c" in first and first == second


@pytest.mark.parametrize("tool", ["make", "cmake"])
def test_shipped_build_files_build_the_same_program(tool: str, tmp_path: Path) -> None:
    """The example's Makefile and CMakeLists.txt (over the library's mnv3c.mk and CMakeLists.txt)
    build a program that prints what host.build's does."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed")
    qg = quantize(tiny_mobilenet(seed=2), calib_inputs(4), method="minmax", progress=False)
    src = tmp_path / "src"
    generate(qg, src)
    if tool == "make":
        subprocess.run(["make", "-s"], cwd=src / "example", check=True, capture_output=True)
        exe = src / "example" / "mnv3c_example"
    else:
        build = tmp_path / "build"
        subprocess.run(["cmake", "-S", str(src / "example"), "-B", str(build)], check=True, capture_output=True)
        subprocess.run(["cmake", "--build", str(build)], check=True, capture_output=True)
        exe = build / "mnv3c_example"
    x = np.random.default_rng(0).integers(-128, 128, (3, 3, 16, 16), dtype=np.int8)
    got = host.run(exe, host.nchw_to_nhwc(x), 10)
    np.testing.assert_array_equal(got, simulate(qg, x))
