"""Calibration, input, data and label arrays are checked once, the same way for every command
(issue 16.3 and 12.1): wrong shape or dtype, pickled objects (refused without unpickling), no
samples, NaN or infinite values, labels outside the model's classes. Each gives one line naming
the file and exit 2, never an accuracy or an output computed from nonsense. Also the flag quirks
of 16.9 and --json's strict JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mnv3c import cli
from test_cli import CLASSES, SHAPE, _tiny_model, assert_one_line_error, mnv3c

SAMPLE = SHAPE[1:]


@pytest.fixture(scope="module")
def d(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("arrays")
    _tiny_model(d / "tiny.onnx")
    rng = np.random.default_rng(3)
    good = rng.standard_normal((6, *SAMPLE)).astype(np.float32)
    np.save(d / "good.npy", good)
    np.save(d / "labels.npy", rng.integers(0, CLASSES, 6))
    with_nan = good.copy()
    with_nan[2, 1, 3, 4] = np.nan
    arrays = {
        "nan": with_nan,
        "all_nan": np.full((4, *SAMPLE), np.nan, np.float32),
        "inf": np.where(np.arange(good.size).reshape(good.shape) == 7, np.inf, good).astype(np.float32),
        "beyond_float32": good.astype(np.float64) * np.where(np.arange(good.size).reshape(good.shape) == 9, 1e300, 1),
        "empty": np.zeros((0, *SAMPLE), np.float32),
        "int": rng.integers(0, 255, (2, *SAMPLE)).astype(np.uint8),
        "complex": good.astype(np.complex64),
        "wrong_channels": rng.standard_normal((2, 1, 16, 16)).astype(np.float32),
        "scalar": np.float32(1.0),
        "structured": np.zeros(2, dtype=[("a", np.float32), ("b", np.int32)]),
    }
    for name, a in arrays.items():
        np.save(d / f"{name}.npy", a)
    np.save(d / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.savez(d / "nan.npz", with_nan)
    return d


CASES = {  # array file -> fragments of the error line
    "nan": ["1 non-finite value", "NaN at sample 2, index [1, 3, 4]"],
    "nan.npz": ["1 non-finite value", "NaN"],
    "all_nan": ["3,072 non-finite values", "NaN at sample 0"],  # used to give a degenerate scale and exit 0
    "inf": ["1 non-finite value", "infinite"],
    "beyond_float32": ["1 non-finite value", "beyond float32"],
    "empty": ["has no samples"],
    "int": ["dtype uint8", "float32"],
    "complex": ["dtype complex64"],
    "wrong_channels": ["[2, 1, 16, 16]", "[N, 3, 16, 16]"],
    "scalar": ["shape []"],
    "structured": ["structured dtype"],
    "objects": ["Python objects", "without unpickling"],
}


def _file(d: Path, case: str) -> Path:
    return d / (case if case.endswith(".npz") else f"{case}.npy")


@pytest.mark.parametrize("flag", ["--calib", "--input", "--data"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_array_is_one_line_naming_the_file(case, flag, d, tmp_path, capsys) -> None:
    bad = _file(d, case)
    if flag == "--calib":
        argv = ["compile", d / "tiny.onnx", "--target", "host", "--calib", bad, "-o", tmp_path / "out"]
    elif flag == "--input":
        argv = ["run", d / "tiny.onnx", "--target", "host", "--calib", d / "good.npy", "--input", bad]
    else:
        argv = ["eval", d / "tiny.onnx", "--calib", d / "good.npy", "--data", bad, "--labels", d / "labels.npy"]
    code, out, err = mnv3c(capsys, *argv)
    assert_one_line_error(code, err, f"{flag} file '{bad}'", *CASES[case])
    assert out == "" and list(tmp_path.iterdir()) == []


def test_inspect_refuses_a_non_finite_input(d, capsys) -> None:
    """inspect --input used to print up to 10 NumPy warning lines and a float_output of NaN."""
    code, out, err = mnv3c(capsys, "inspect", d / "tiny.onnx", "--input", d / "nan.npy")
    assert_one_line_error(code, err, "--input file", "NaN")


def test_pickled_objects_are_never_unpickled(d, tmp_path, capsys) -> None:
    """A .npy whose pickle would run code on load: refused, and the code never runs."""
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    evil = tmp_path / "evil.npy"
    np.save(evil, np.array([Payload()], dtype=object), allow_pickle=True)
    code, _, err = mnv3c(capsys, "compile", d / "tiny.onnx", "--target", "host", "--calib", evil,
                         "-o", tmp_path / "out")  # fmt: skip
    assert_one_line_error(code, err, "Python objects")
    assert not marker.exists() and not (tmp_path / "out").exists()


LABELS = {  # labels -> fragment; 6 samples, 10 classes
    "ten_of_ten": (np.array([0, 1, 2, 10, 4, 5]), "label 10 of sample 3 is outside the model's 10 classes (0..9)"),
    "negative": (np.array([0, -1, 2, 3, 4, 5]), "label -1 of sample 1"),
    "wrapping_uint64": (np.array([0, 1, 2, 3, 4, 2**64 - 1], np.uint64), f"label {2**64 - 1} of sample 5"),
    "float": (np.zeros(6, np.float32), "1-D integer array"),
    "two_d": (np.zeros((6, 1), np.int64), "1-D integer array"),
    "bool": (np.zeros(6, bool), "1-D integer array"),
}


@pytest.mark.parametrize("case", sorted(LABELS))
def test_eval_labels_outside_the_classes_are_refused(case, d, tmp_path, capsys) -> None:
    """Used to print an accuracy computed against impossible labels, exit 0."""
    labels, fragment = LABELS[case]
    np.save(tmp_path / "y.npy", labels)
    code, out, err = mnv3c(capsys, "eval", d / "tiny.onnx", "--calib", d / "good.npy", "--data", d / "good.npy",
                           "--labels", tmp_path / "y.npy")  # fmt: skip
    assert_one_line_error(code, err, "--labels file", fragment)
    assert out == ""


def test_eval_accepts_every_class_including_the_last(d, tmp_path, capsys) -> None:
    np.save(tmp_path / "y.npy", np.array([0, 9, 9, 0, 5, 1], np.uint8))
    code, out, err = mnv3c(capsys, "eval", d / "tiny.onnx", "--calib", d / "good.npy", "--data", d / "good.npy",
                           "--labels", tmp_path / "y.npy", "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["samples"] == 6


# --- flag quirks (16.9) ----------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["1,3,１６,16", "1,3,1_6,16", "1,3,+16,16", "1,3,16.0,16", "1,3,16,16,", "1,3,٣,16"])
def test_input_shape_takes_ascii_digits_only(text, d, capsys) -> None:
    """int() accepts fullwidth and Arabic-Indic digits and underscores; --input-shape must not."""
    code, _, err = mnv3c(capsys, "inspect", d / "tiny.onnx", "--input-shape", text)
    assert_one_line_error(code, err, "--input-shape", "comma-separated integers")


def test_input_shape_with_spaces_after_commas_still_works(d, capsys) -> None:
    code, out, err = mnv3c(capsys, "inspect", d / "tiny.onnx", "--input-shape", "1, 3, 16, 16", "--json")
    assert code == 0, err
    assert json.loads(out)["inputs"][0]["shape"] == list(SHAPE)


@pytest.mark.parametrize("command", ["compile", "run", "flash"])
def test_empty_board_is_refused(command, d, tmp_path, capsys) -> None:
    """`--board ""` used to mean the target's default board."""
    argv = {"compile": ["compile", d / "tiny.onnx", "--target", "host", "-o", tmp_path / "out"],
            "run": ["run", d / "tiny.onnx", "--target", "host"], "flash": ["flash", tmp_path]}[command]
    code, _, err = mnv3c(capsys, *argv, "--board", "")
    assert_one_line_error(code, err, "--board", "must not be empty")
    assert list(tmp_path.iterdir()) == []


# --- strict JSON (16.3) ------------------------------------------------------------------------------
def _strict_loads(text: str) -> object:
    def refuse(token: str) -> None:
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_json_output_never_has_nan_or_infinity_tokens(capsys) -> None:
    """RFC 8259 has no NaN/Infinity; Python's json module prints them unless told not to."""
    cli._emit({"cosine": float("nan"), "rows": [[1.5, float("inf")], [float("-inf")]], "n": 3}, True, "")
    out = capsys.readouterr().out
    assert _strict_loads(out) == {"cosine": None, "rows": [[1.5, None], [None]], "n": 3}
