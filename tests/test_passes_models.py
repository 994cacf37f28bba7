"""The pass pipeline on real exports of the zoo models, in every exporter variant.

Every pass's output is checked against onnxruntime on the original ONNX file (several inputs,
relative error <= 1e-4); the final graph must be in canonical form: MobileNetV3 as conv2d /
depthwise_conv2d / dense / add / squeeze_excite / global_avg_pool / views (+ the rewritten
variant's MaxPool and final Softmax), with every activation, batch norm, scale and bias folded;
all variants of one model must come out as the same layers.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
import pytest

from mnv3c.frontend import load_onnx
from mnv3c.ir import Graph
from mnv3c.passes import PIPELINE, optimize
from mnv3c.reference.float_exec import run_float
from passes_builder import fingerprint, rel_error

ort = pytest.importorskip("onnxruntime")

VARIANTS = ("legacy11", "legacy13", "legacy17", "legacy_nofold", "dynamo", "rewritten")
# The exports tests/test_zoo.py makes too, so a full run exports each once (the zoo_model cache).
RESOLUTION = 96
WIDTH = {"mobilenet_v3_small": 1.0, "mobilenet_v3_large": 0.5, "mobilenet_v2": 0.5, "mobilenet_v1": 0.25}
SAMPLES = 3

# The canonical layers (op, fused activation) every export variant must come out as, at WIDTH
# (width matters: at 0.5, channel rounding would make V3-Small's 40->48 block a 24->24 residual one).
# The same table for all variants is the "same layers whatever the exporter" property.
EXPECTED = {
    "mobilenet_v3_small": {
        ("conv2d", "hard_swish"): 10, ("conv2d", "relu"): 2, ("conv2d", "none"): 11,
        ("depthwise_conv2d", "hard_swish"): 8, ("depthwise_conv2d", "relu"): 3, ("squeeze_excite", "none"): 9,
        ("add", "none"): 6, ("global_avg_pool", "none"): 1, ("reshape", "none"): 1,
        ("dense", "hard_swish"): 1, ("dense", "none"): 1,
    },
    "mobilenet_v3_large": {
        ("conv2d", "hard_swish"): 11, ("conv2d", "relu"): 5, ("conv2d", "none"): 15,
        ("depthwise_conv2d", "hard_swish"): 9, ("depthwise_conv2d", "relu"): 6, ("squeeze_excite", "none"): 8,
        ("add", "none"): 10, ("global_avg_pool", "none"): 1, ("reshape", "none"): 1,
        ("dense", "hard_swish"): 1, ("dense", "none"): 1,
    },
    "mobilenet_v2": {
        ("conv2d", "clip"): 18, ("conv2d", "none"): 17, ("depthwise_conv2d", "clip"): 17, ("add", "none"): 10,
        ("global_avg_pool", "none"): 1, ("reshape", "none"): 1, ("dense", "none"): 1,
    },
    "mobilenet_v1": {
        ("conv2d", "clip"): 14, ("depthwise_conv2d", "clip"): 13,
        ("global_avg_pool", "none"): 1, ("reshape", "none"): 1, ("dense", "none"): 1,
    },
}
EXTRA_REWRITTEN = {"max_pool", "softmax"}  # what the rewritten variant's network adds (see mnv3c.zoo.export)
STANDALONE_FORBIDDEN = {"batch_norm", "affine", "relu", "clip", "hard_swish", "hard_sigmoid", "sigmoid", "mul",
                        "div", "sub", "identity", "pad", "transpose", "matmul", "reduce_mean"}


def optimize_export(zoo_model, model: str, variant: str) -> tuple[str, dict[str, Graph]]:
    """The export's path and {"import", then every pass name: the graph after that step}."""
    path = str(zoo_model(model, variant, RESOLUTION, width=WIDTH[model]))
    steps: dict[str, Graph] = {"import": load_onnx(path)}
    optimize(steps["import"], steps.__setitem__)
    return path, steps


def session(path: str):
    """onnxruntime on the model with its external data inlined (ORT's loader cannot read external
    initializers that shape inference needs, e.g. the dynamo export's ReduceMean axes)."""
    return ort.InferenceSession(onnx.load(path).SerializeToString(), providers=["CPUExecutionProvider"])


def check_canonical(model: str, variant: str, g: Graph) -> None:
    ops = Counter(n.op for n in g.nodes)
    assert not STANDALONE_FORBIDDEN & set(ops), f"left over: {STANDALONE_FORBIDDEN & set(ops)}"
    layers = Counter((n.op, n.attrs.get("act", "none")) for n in g.nodes if n.op not in EXTRA_REWRITTEN)
    assert layers == Counter(EXPECTED[model]), f"extra {layers - Counter(EXPECTED[model])}, " \
                                                f"missing {Counter(EXPECTED[model]) - layers}"
    extra = {op: ops[op] for op in EXTRA_REWRITTEN if ops[op]}
    assert extra == ({"max_pool": 1, "softmax": 1} if variant == "rewritten" else {})
    for n in g.nodes:
        if n.op == "softmax":
            assert n is g.nodes[-1] and n.outputs == g.outputs
        if n.op == "reshape":
            assert n.attrs.get("view") is True
        if n.op in ("conv2d", "depthwise_conv2d", "dense"):
            assert len(n.inputs) == 3 and g.tensors[n.inputs[2]].is_const
        if n.attrs.get("act") == "clip":
            assert n.attrs["act_params"] == {"min": 0.0, "max": 6.0}
        if n.op == "squeeze_excite":
            alpha = 0.2 if variant == "rewritten" else 1 / 6  # the rewritten network uses Paddle's gate
            assert (n.attrs["act1"], n.attrs["act2"]) == ("relu", "hard_sigmoid")
            assert n.attrs["act2_params"] == pytest.approx({"alpha": alpha, "beta": 0.5})


def check_against_onnxruntime(path: str, graphs: dict[str, Graph], samples: int) -> None:
    """Every graph in ``graphs`` (by step name) computes what onnxruntime computes on the ONNX file."""
    sess = session(path)
    first = next(iter(graphs.values()))
    x = np.random.default_rng(7).standard_normal((samples,) + first.tensors[first.inputs[0]].shape[1:])
    x = x.astype(np.float32)
    want = np.concatenate([sess.run(None, {sess.get_inputs()[0].name: x[i:i + 1]})[0] for i in range(samples)])
    previous = None
    for step, g in graphs.items():
        current = fingerprint(g)
        if current != previous:  # an unchanged graph computes the same
            got = run_float(g, {g.inputs[0]: x})[g.outputs[0]]
            assert rel_error(got, want) <= 1e-4, f"after {step}"
        previous = current


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("model", ["mobilenet_v3_small", "mobilenet_v3_large"])
def test_v3_every_pass_and_canonical_form(model, variant, zoo_model):
    path, steps = optimize_export(zoo_model, model, variant)
    check_against_onnxruntime(path, steps, SAMPLES)
    check_canonical(model, variant, steps[PIPELINE[-1][0]])


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("model", ["mobilenet_v1", "mobilenet_v2"])
def test_v1_v2_final_form(model, variant, zoo_model):
    path, steps = optimize_export(zoo_model, model, variant)
    final = steps[PIPELINE[-1][0]]
    check_against_onnxruntime(path, {"optimized": final}, 1)
    check_canonical(model, variant, final)
