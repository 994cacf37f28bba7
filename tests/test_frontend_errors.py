"""Bad models give one clear error line naming what is wrong and where, from load_onnx and from
the command line (exit code 2, no traceback)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnv3c.errors import MnvError, UnsupportedModelError
from mnv3c.frontend import ModelReadError, load_onnx


def _model(nodes, in_shape=(1, 3, 4, 4), inits=None, opset=13, out="y", opsets=None):
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()],
    )
    return helper.make_model(graph, opset_imports=opsets or [helper.make_opsetid("", opset)])


def _conv_model(in_shape=(1, 3, 4, 4)):
    w = np.ones((2, 3, 1, 1), np.float32)
    return _model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")], in_shape, {"w": w})


def _save(tmp_path, model, name="m.onnx"):
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path


# Each case: (build(tmp_path) -> path or ModelProto, load_onnx kwargs, error type, message fragments)
CASES = {
    "unsupported_op": (
        lambda p: _model([helper.make_node("LeakyRelu", ["x"], ["y"], name="lrelu")]),
        {}, UnsupportedModelError, ["'lrelu'", "LeakyRelu", "supported ONNX ops", "Conv", "HardSwish"],
    ),
    "custom_domain_op": (
        lambda p: _model(
            [helper.make_node("FusedConv", ["x"], ["y"], name="fc", domain="com.microsoft")],
            opsets=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)],
        ),
        {}, UnsupportedModelError, ["'fc'", "com.microsoft::FusedConv"],
    ),
    "qdq_not_yet": (
        lambda p: _model(
            [helper.make_node("QuantizeLinear", ["x", "s"], ["y"], name="q")], inits={"s": np.float32(0.1)}
        ),
        {}, UnsupportedModelError, ["'q'", "QuantizeLinear"],
    ),
    "truncated_file": (
        lambda p: _write_truncated(p),
        {}, ModelReadError, ["cannot read", "as an ONNX model"],
    ),
    "not_onnx_file": (
        lambda p: _write(p, "notes.onnx", b"hello, this is not a model\n" * 10),
        {}, ModelReadError, ["notes.onnx"],
    ),
    "missing_file": (
        lambda p: p / "nope.onnx",
        {}, ModelReadError, ["not found", "nope.onnx"],
    ),
    "missing_initializer": (
        lambda p: _model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")]),
        {}, UnsupportedModelError, ["'conv1'", "undefined tensor 'w'", "missing initializer"],
    ),
    "cyclic_graph": (
        lambda p: _model([
            helper.make_node("Add", ["x", "b"], ["a"], name="n1"),
            helper.make_node("Relu", ["a"], ["b"], name="n2"),
            helper.make_node("Relu", ["a"], ["y"], name="n3"),
        ]),
        {}, UnsupportedModelError, ["cycle", "'n1'"],
    ),
    "rank3_input": (
        lambda p: _model([helper.make_node("Relu", ["x"], ["y"])], in_shape=(1, 3, 4)),
        {}, UnsupportedModelError, ["'x'", "rank 3", "N,C,H,W"],
    ),
    "symbolic_hw_without_shape": (
        lambda p: _model([helper.make_node("Relu", ["x"], ["y"])], in_shape=("N", 3, "H", "W")),
        {}, UnsupportedModelError, ["'x'", "symbolic", "--input-shape"],
    ),
    "input_shape_inconsistent": (
        lambda p: _conv_model(),
        {"input_shape": (1, 4, 4, 4)}, UnsupportedModelError, ["[1, 4, 4, 4]", "'x'", "[1, 3, 4, 4]"],
    ),
    "data_dependent_reshape": (
        lambda p: _model([
            helper.make_node("ReduceMean", ["x"], ["m"], axes=[1, 2, 3], keepdims=0),
            helper.make_node("Cast", ["m"], ["shape"], to=TensorProto.INT64),
            helper.make_node("Reshape", ["x", "shape"], ["y"], name="rs"),
        ]),
        {}, UnsupportedModelError, ["'rs'", "Reshape", "shape", "must be a constant"],
    ),
    "batch_norm_training_outputs": (
        lambda p: _model(
            [helper.make_node("BatchNormalization", ["x", "s", "s", "s", "s"], ["y", "rm", "rv"], name="bn",
                              training_mode=1)],
            inits={"s": np.ones(3, np.float32)}, opset=15,
        ),
        {}, UnsupportedModelError, ["'bn'", "training"],
    ),
    "conv1d": (
        lambda p: _model([helper.make_node("Conv", ["x", "w"], ["y"], name="c1")], (1, 3, 8),
                         {"w": np.ones((2, 3, 3), np.float32)}),
        {"require_image_input": False}, UnsupportedModelError, ["'c1'", "rank 4"],
    ),
}


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _write_truncated(tmp_path):
    data = _conv_model().SerializeToString()
    return _write(tmp_path, "cut.onnx", data[: len(data) // 2])


@pytest.mark.parametrize("case", sorted(CASES))
def test_load_onnx_error(case, tmp_path):
    build, kwargs, error, fragments = CASES[case]
    with pytest.raises(error) as info:
        load_onnx(build(tmp_path), **kwargs)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_symbolic_hw_with_input_shape_is_fine():
    model = _model([helper.make_node("Relu", ["x"], ["y"])], in_shape=("N", 3, "H", "W"))
    graph = load_onnx(model, input_shape=(1, 3, 32, 24))
    assert graph.tensors["y"].shape == (1, 3, 32, 24)


def test_negative_dim_value_is_symbolic():
    """Older Paddle2ONNX exports write a dynamic batch as dim_value -1 beside dim_param '?' for H/W."""
    model = _model([helper.make_node("Relu", ["x"], ["y"])], in_shape=(-1, 3, "?", "?"))
    assert load_onnx(model, input_shape=(1, 3, 48, 192)).tensors["y"].shape == (1, 3, 48, 192)
    fixed = _model([helper.make_node("Relu", ["x"], ["y"])], in_shape=(-1, 3, 8, 8))
    assert load_onnx(fixed).tensors["y"].shape == (1, 3, 8, 8)  # a symbolic batch alone becomes 1
    with pytest.raises(UnsupportedModelError, match=r"does not match model input 'x' of shape \[-1, 3, 8, 8\]"):
        load_onnx(fixed, input_shape=(1, 3, 9, 8))


def test_every_unsupported_op_is_named_in_one_error():
    nodes = [helper.make_node("LeakyRelu", ["x"], ["a"], name="lrelu1"),
             helper.make_node("Elu", ["a"], ["b"], name="elu"),
             helper.make_node("LeakyRelu", ["b"], ["c"], name="lrelu2"),
             helper.make_node("Relu", ["c"], ["y"], name="relu")]
    with pytest.raises(UnsupportedModelError) as e:
        load_onnx(_model(nodes))
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith("unsupported 2 ops: Elu (1 node, first 'elu'), LeakyRelu (2 nodes, first 'lrelu1');"), msg
    assert "supported ONNX ops:" in msg


def test_errors_are_mnv_errors():
    assert issubclass(ModelReadError, MnvError) and issubclass(UnsupportedModelError, MnvError)


# --- the command line ----------------------------------------------------------------------------
CLI_CASES = ["unsupported_op", "custom_domain_op", "truncated_file", "not_onnx_file", "missing_file",
             "missing_initializer", "cyclic_graph", "rank3_input", "symbolic_hw_without_shape"]


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_inspect_bad_model(case, tmp_path):
    build, _, _, fragments = CASES[case]
    model = build(tmp_path)
    path = model if not isinstance(model, onnx.ModelProto) else _save(tmp_path, model)
    proc = subprocess.run([sys.executable, "-m", "mnv3c", "inspect", str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert fragments[-1] in lines[0]


def test_cli_inspect_input_shape_fixes_symbolic_hw(tmp_path):
    model = _model([helper.make_node("Relu", ["x"], ["y"])], in_shape=("N", 3, "H", "W"))
    path = _save(tmp_path, model)
    proc = subprocess.run([sys.executable, "-m", "mnv3c", "inspect", str(path), "--input-shape", "1,3,8,8", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"shape": [1, 3, 8, 8]' in proc.stdout
