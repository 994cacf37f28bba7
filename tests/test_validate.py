"""The model check at import (frontend/validate.py): invalid models are refused by every command
the same way, exit 2 with one line naming what and where, before any later stage can raise.

Each case is a small valid network with one defect (issue 16.8 and 16.3's model side, and each
crash the fuzzer found); the unmodified network must pass, so the cases cannot pass vacuously.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnv3c import cli
from mnv3c.frontend import validate


def net(**edit) -> onnx.ModelProto:
    """x[1,3,8,8] -> Conv 3x3 (4 ch) -> BatchNormalization -> Relu -> GlobalAveragePool -> Flatten -> Gemm (5)."""
    rng = np.random.default_rng(0)
    inits = {
        "w": rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "b": np.zeros(4, np.float32),
        "s": np.ones(4, np.float32), "bb": np.zeros(4, np.float32), "m": np.zeros(4, np.float32),
        "v": np.ones(4, np.float32), "W": rng.standard_normal((5, 4)).astype(np.float32),
        "B": np.zeros(5, np.float32),
    }
    inits.update(edit.pop("inits", {}))
    conv_attrs = {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1], **edit.pop("conv", {})}
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", **conv_attrs),
        helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"], name="bn",
                         epsilon=edit.pop("epsilon", 1e-5)),
        helper.make_node("Relu", ["n"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", **{"kernel_shape": [1, 1], **edit.pop("pool", {})}),
        helper.make_node("GlobalAveragePool", ["p"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "W", "B"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "net", [helper.make_tensor_value_info("x", TensorProto.FLOAT, edit.pop("shape", [1, 3, 8, 8]))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", edit.pop("opset", 13))])
    assert not edit, edit
    return model


def _w(value: float) -> np.ndarray:
    w = np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype(np.float32)
    w[1, 2, 0, 0] = value
    return w


CASES = {  # name -> (model, fragments the one-line message must contain)
    # a negative dim_value is a symbolic dimension (older Paddle2ONNX exports): refused until --input-shape fixes it
    "input_dim_minus_one": (lambda: net(shape=[1, 3, -1, 8]), ["'x'", "[1, 3, -1, 8]", "symbolic", "--input-shape"]),
    "input_dim_zero": (lambda: net(shape=[1, 0, 8, 8]), ["'x'", "positive"]),
    "batch_2_pow_40": (lambda: net(shape=[2**40, 3, 8, 8]), ["'x'", "1099511627776", "elements"]),
    "negative_stride": (lambda: net(conv={"strides": [-1, 1]}), ["'conv'", "strides [-1, 1]", "positive"]),
    "zero_stride": (lambda: net(conv={"strides": [0, 1]}), ["'conv'", "strides", "positive"]),
    "negative_pads": (lambda: net(conv={"pads": [-1, 0, 0, 0]}), ["'conv'", "pads", "non-negative"]),
    "zero_kernel": (lambda: net(pool={"kernel_shape": [0, 1]}), ["'pool'", "kernel_shape [0, 1]"]),
    "kernel_rank": (lambda: net(pool={"kernel_shape": [2, 2], "strides": [1, 1, 1]}), ["'pool'", "spatial axes"]),
    "kernel_shape_vs_weight": (lambda: net(conv={"kernel_shape": [5, 5]}), ["'conv'", "kernel_shape [5, 5]",
                                                                            "[4, 3, 3, 3]"]),
    "gemm_weight_mismatch": (lambda: net(inits={"W": np.ones((5, 3), np.float32)}), ["'fc'", "[5, 3]"]),
    "bias_longer_than_channels": (lambda: net(inits={"b": np.zeros(5, np.float32)}), ["'conv'", "'b'", "[5]", "[4]"]),
    "bn_param_length": (lambda: net(inits={"m": np.zeros(3, np.float32)}), ["'bn'", "'m'", "[3]"]),
    "opset_1": (lambda: net(opset=1), ["opset 1 ", "not supported"]),
    "opset_99": (lambda: net(opset=99), ["opset 99 ", "not supported"]),
    "nan_weight": (lambda: net(inits={"w": _w(np.nan)}), ["'w'", "NaN or infinite"]),
    "inf_weight": (lambda: net(inits={"w": _w(np.inf)}), ["'w'", "NaN or infinite"]),
    "bn_negative_variance": (lambda: net(inits={"v": np.array([1, -2, 1, 1], np.float32)}),
                             ["'bn'", "variance + epsilon"]),
    "bn_negative_epsilon": (lambda: net(epsilon=-1e-3), ["'bn'", "epsilon"]),
    "bn_zero_variance_zero_epsilon": (lambda: net(inits={"v": np.zeros(4, np.float32)}, epsilon=0.0),
                                      ["'bn'", "variance + epsilon"]),
    "attribute_of_wrong_type": (lambda: _retype(net(), "conv", "strides", onnx.AttributeProto.FLOAT),
                                ["'conv'", "'strides'", "INTS"]),
    "unknown_attribute": (lambda: _add_attr(net(), "relu", helper.make_attribute("alpha", 0.1)), ["'relu'", "'alpha'"]),
    "missing_required_attribute": (lambda: _drop_attr(net(), "pool", "kernel_shape"), ["'pool'", "kernel_shape"]),
    "constant_value_of_wrong_type": (lambda: _string_constant(), ["Constant", "'value'", "TENSOR"]),  # fuzzer find
    "too_many_inputs": (lambda: _extra_input(net(), "relu"), ["'relu'", "2 inputs"]),
}


def _node(model: onnx.ModelProto, name: str) -> onnx.NodeProto:
    return next(n for n in model.graph.node if n.name == name)


def _retype(model, node, attr, new_type):
    a = next(a for a in _node(model, node).attribute if a.name == attr)
    a.type = new_type
    return model


def _add_attr(model, node, attr):
    _node(model, node).attribute.append(attr)
    return model


def _drop_attr(model, node, attr):
    n = _node(model, node)
    n.attribute.remove(next(a for a in n.attribute if a.name == attr))
    return model


def _extra_input(model, node):
    _node(model, node).input.append("x")
    return model


def _string_constant():
    model = net()
    const = helper.make_node("Constant", [], ["k"], name="k", value=helper.make_tensor("t", TensorProto.FLOAT, [], [1.0]))
    const.attribute[0].type = onnx.AttributeProto.STRING
    model.graph.node.insert(0, const)
    return model


@pytest.fixture(autouse=True)
def _quiet(monkeypatch) -> None:
    """No progress lines: stderr holds only what the command has to say."""
    monkeypatch.setenv("MNV3C_QUIET", "1")


def _main(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def test_the_unmodified_network_is_accepted(tmp_path: Path, capsys) -> None:
    path = tmp_path / "net.onnx"
    onnx.save(net(), path)
    code, err = _main(capsys, "inspect", str(path))
    assert (code, err) == (0, "")


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_model_is_refused_at_import(case: str, tmp_path: Path, capsys) -> None:
    build, fragments = CASES[case]
    path = tmp_path / "bad.onnx"
    path.write_bytes(build().SerializeToString())
    code, err = _main(capsys, "inspect", str(path))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


@pytest.mark.parametrize("case", ["negative_stride", "nan_weight", "bn_negative_variance"])
def test_compile_refuses_the_same_models_and_writes_nothing(case: str, tmp_path: Path, capsys) -> None:
    build, fragments = CASES[case]
    path = tmp_path / "bad.onnx"
    path.write_bytes(build().SerializeToString())
    code, err = _main(capsys, "compile", str(path), "--target", "host", "-o", str(tmp_path / "out"))
    assert code == 2 and err.count("\n") == 1 and all(f in err for f in fragments), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.onnx"]


COMMANDS = {
    "inspect": [],
    "compile": ["--target", "host", "-o", "OUT"],
    "run": ["--target", "host"],
    "eval": ["--calib", "CALIB", "--data", "CALIB", "--labels", "LABELS"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("defect", ["missing", "not_onnx", "truncated", "directory"])
def test_every_command_reads_models_the_same_way(command: str, defect: str, tmp_path: Path, capsys) -> None:
    path = tmp_path / "model.onnx"
    if defect == "not_onnx":
        path.write_bytes(b"\x08\x07garbage" * 50)
    elif defect == "truncated":
        data = net().SerializeToString()
        path.write_bytes(data[: len(data) // 2])
    elif defect == "directory":
        path.mkdir()
    np.save(tmp_path / "calib.npy", np.zeros((2, 3, 8, 8), np.float32))
    np.save(tmp_path / "labels.npy", np.zeros(2, np.int64))
    subst = {"OUT": str(tmp_path / "out"), "CALIB": str(tmp_path / "calib.npy"), "LABELS": str(tmp_path / "labels.npy")}
    code, err = _main(capsys, command, str(path), *[subst.get(a, a) for a in COMMANDS[command]])
    assert code == 2 and err.count("\n") == 1 and str(path) in err, err
    assert not (tmp_path / "out").exists()


# --- external data ----------------------------------------------------------------------------------
def _external(tmp_path: Path, location: str, offset: int = 0, length: int | None = None) -> Path:
    model = net()
    w = next(t for t in model.graph.initializer if t.name == "w")
    data = w.raw_data
    (tmp_path / "w.bin").write_bytes(data)
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length or len(data)))):
        entry = w.external_data.add()
        entry.key, entry.value = key, value
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def test_external_data_inside_the_folder_is_read(tmp_path: Path, capsys) -> None:
    (tmp_path / "sub").mkdir()
    assert _main(capsys, "inspect", str(_external(tmp_path, "w.bin")))[0] == 0
    assert _main(capsys, "inspect", str(_external(tmp_path, "sub/../w.bin")))[0] == 0


@pytest.mark.parametrize("location, fragment", [
    ("/etc/passwd", "relative path inside the model's folder"),
    ("../../../../etc/passwd", "outside the model's folder"),
    ("link/passwd", "outside the model's folder"),  # a symlink out of the folder
    ("missing.bin", "not found"),
    ("", "relative path"),
])
def test_external_data_outside_the_folder_is_refused(location: str, fragment: str, tmp_path: Path, capsys) -> None:
    (tmp_path / "link").symlink_to("/etc")
    code, err = _main(capsys, "inspect", str(_external(tmp_path, location)))
    assert code == 2 and "initializer 'w'" in err and fragment in err and err.count("\n") == 1, err


def test_external_data_absolute_path_inside_the_folder_is_still_refused(tmp_path: Path, capsys) -> None:
    code, err = _main(capsys, "inspect", str(_external(tmp_path, str(tmp_path / "w.bin"))))
    assert code == 2 and "relative path" in err


@pytest.mark.parametrize("offset, length", [(10_000, None), (-1, None), (0, 2**40)])
def test_external_data_range_outside_the_file_is_refused(offset: int, length: int | None, tmp_path: Path,
                                                         capsys) -> None:
    code, err = _main(capsys, "inspect", str(_external(tmp_path, "w.bin", offset, length)))
    assert code == 2 and "outside the" in err, err


def test_an_unknown_external_data_key_is_refused(tmp_path: Path, capsys) -> None:
    """Fuzzer find (v1_dynamo case 4131, a bit flip turning 'length' into 'lengTh'): onnx printed a
    UserWarning on stderr and ignored the key; a second stderr line broke the one-line contract."""
    path = _external(tmp_path, "w.bin")
    path.write_bytes(path.read_bytes().replace(b"length", b"lengTh"))
    code, err = _main(capsys, "inspect", str(path))
    assert code == 2 and err.count("\n") == 1 and "initializer 'w'" in err and "'lengTh'" in err, err


def test_oversized_model_file_is_refused_before_parsing(tmp_path: Path, capsys, monkeypatch) -> None:
    path = tmp_path / "model.onnx"
    onnx.save(net(), path)
    monkeypatch.setattr(validate, "MAX_MODEL_BYTES", os.path.getsize(path) - 1)
    code, err = _main(capsys, "inspect", str(path))
    assert code == 2 and "at most" in err


def test_a_weight_too_large_for_int8_fails_the_compile_cleanly(tmp_path: Path, capsys) -> None:
    """Fuzzer find (v3_small case 361): a finite weight of 3e38 on an input channel that is always
    zero, so every activation stays finite, but no int8 requantization multiplier can represent
    that channel's scale; exit 2 in one line naming the layer, not an internal error."""
    path = tmp_path / "big.onnx"
    path.write_bytes(net(inits={"w": _w(3e38)}).SerializeToString())
    calib = np.random.default_rng(0).standard_normal((4, 3, 8, 8)).astype(np.float32)
    calib[:, 2] = 0  # the channel the huge weight reads
    np.save(tmp_path / "calib.npy", calib)
    code, err = _main(capsys, "compile", str(path), "--target", "host", "-o", str(tmp_path / "out"),
                      "--calib", str(tmp_path / "calib.npy"))
    assert code == 2 and err.count("\n") == 1 and "'conv'" in err and "cannot be quantized" in err, err
    assert not (tmp_path / "out").exists()


def test_names_that_are_not_utf8_are_refused(tmp_path: Path, capsys) -> None:
    """Fuzzer find (v1_dynamo case 5111, a bit flip in an op type): protobuf hands invalid UTF-8
    strings through as bytes, which onnx's schema lookup cannot take (an internal error before)."""
    data = net().SerializeToString()
    assert data.count(b"Relu") == 1
    path = tmp_path / "bad.onnx"
    path.write_bytes(data.replace(b"Relu", b"R\xfflu"))
    code, err = _main(capsys, "inspect", str(path))
    assert code == 2 and err.count("\n") == 1 and "op type" in err and "UTF-8" in err, err


def test_string_attributes_that_are_not_utf8_are_refused(tmp_path: Path, capsys) -> None:
    """Fuzzer find (an `auto_pad` of b'\\xff'): string attribute values are bytes in the proto and were
    decoded on import, so invalid UTF-8 escaped as an internal error."""
    model = _add_attr(net(), "conv", helper.make_attribute("auto_pad", b"\xff"))
    path = tmp_path / "bad.onnx"
    path.write_bytes(model.SerializeToString())
    code, err = _main(capsys, "inspect", str(path))
    assert code == 2 and err.count("\n") == 1 and "'conv'" in err and "'auto_pad'" in err and "UTF-8" in err, err


def test_a_bias_too_large_for_the_accumulator_fails_the_compile_cleanly(tmp_path: Path, capsys) -> None:
    """Fuzzer find (bundled case 4200, a bias of -3e38 before a Relu): every activation stays finite,
    but the bias in steps of its scale wrapped in the int64 cast and compiled silently to garbage."""
    path = tmp_path / "big.onnx"
    path.write_bytes(net(inits={"b": np.array([0, -3e38, 0, 0], np.float32)}).SerializeToString())
    code, err = _main(capsys, "compile", str(path), "--target", "host", "-o", str(tmp_path / "out"))
    assert code == 2 and err.splitlines()[-1].startswith("mnv3c: error:") and "'conv'" in err and "'b'" in err, err
    assert "accumulator" in err and all(ln.startswith("mnv3c: ") for ln in err.splitlines())
    assert not (tmp_path / "out").exists()

