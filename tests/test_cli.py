"""The command line's outside, as ../shared/SPEC.md fixes it: JSON fields, report.json, exit
codes, one-line errors, OUTDIR handling and deterministic output.

Most tests call `mnv3c.cli.main([...])` in-process (fast); a few run `python -m mnv3c` as a
subprocess to check what a shell script sees. The models are tiny hand-built ONNX graphs
(conv + hard-swish, depthwise + relu, pooling, dense), so every command takes about a second.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from mnv3c import cli

CLASSES = 10
SHAPE = (1, 3, 16, 16)
INSPECT_LAYER_KEYS = {"name", "op", "inputs", "outputs", "output_shape", "macs", "params", "fused"}
COMPILE_KEYS = {"target", "board", "arena_bytes", "arena_lower_bound_bytes", "weights_bytes", "macs", "params",
                "input", "output", "layers"}  # fmt: skip
COMPILE_LAYER_KEYS = {"name", "op", "macs", "params", "arena_offset", "out_bytes"}
RUN_KEYS = {"target", "board", "input_file", "samples", "output", "output_int8", "sim_output_int8", "float_output",
            "bit_exact", "instructions", "profile", "arena_bytes", "flash_bytes", "ram_bytes"}  # fmt: skip
EVAL_KEYS = {"samples", "float_top1", "int8_top1", "agreement", "mean_abs_err", "cosine"}


def _tiny_model(path: Path, shape: tuple = SHAPE, op: str = "HardSwish", k: int = 8) -> Path:
    """conv 3x3/2 to ``k`` channels + ``op``, depthwise 3x3 + relu, global average pool, flatten,
    dense -> 10."""
    rng = np.random.default_rng(0)
    inits = {
        "w1": 0.3 * rng.standard_normal((k, 3, 3, 3)), "b1": 0.1 * rng.standard_normal(k),
        "w2": 0.3 * rng.standard_normal((k, 1, 3, 3)),
        "wf": 0.3 * rng.standard_normal((CLASSES, k)), "bf": 0.1 * rng.standard_normal(CLASSES),
    }  # fmt: skip
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="stem", strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node(op, ["c1"], ["h1"], name="act"),
        helper.make_node("Conv", ["h1", "w2"], ["c2"], name="dw", group=k, pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu"),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v.astype(np.float32), k) for k, v in inits.items()],
    )  # fmt: skip
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Models and arrays shared by the tests (read-only)."""
    d = tmp_path_factory.mktemp("cli-files")
    rng = np.random.default_rng(1)

    def save(name: str, a: np.ndarray) -> Path:
        np.save(d / name, a)
        return d / name

    return {
        "model": _tiny_model(d / "tiny.onnx"),
        "symbolic": _tiny_model(d / "symbolic.onnx", ("N", 3, "H", "W")),
        "unsupported": _tiny_model(d / "leaky.onnx", op="LeakyRelu"),
        # two live 64x64x64 activations: a 512 KiB arena, more than the F746's 320 KiB SRAM.
        "big": _tiny_model(d / "big.onnx", (1, 3, 144, 144), k=64),
        "big_calib": save("big_calib.npy", rng.standard_normal((1, 3, 144, 144)).astype(np.float32)),
        "input": save("x.npy", rng.standard_normal((2, *SHAPE[1:])).astype(np.float32)),
        "calib": save("calib.npy", rng.standard_normal((8, *SHAPE[1:])).astype(np.float32)),
        "data": save("data.npy", rng.standard_normal((20, *SHAPE[1:])).astype(np.float32)),
        "labels": save("labels.npy", rng.integers(0, CLASSES, 20)),
        "wrong_shape": save("wrong.npy", rng.standard_normal((2, 3, 8, 8)).astype(np.float32)),
    }


def mnv3c(capsys: pytest.CaptureFixture, *argv: object) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def mnv3c_json(capsys: pytest.CaptureFixture, *argv: object) -> dict:
    """Run a command with --json that must succeed; its stdout must be exactly one JSON object."""
    code, out, err = mnv3c(capsys, *argv, "--json")
    assert code == 0, err
    assert out.count("\n") == 1 and out.endswith("\n")
    return json.loads(out)


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mnv3c: error: "), err
    assert not lines[0].startswith("mnv3c: error: mnv3c"), err  # the prefix is said once
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative path -> bytes)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# --- inspect -------------------------------------------------------------------------------------
def test_inspect_json_fields_and_float_output_matches_onnxruntime(files, capsys) -> None:
    """inspect's float_output is the project's own float execution: it must agree with ORT."""
    ort = pytest.importorskip("onnxruntime")
    r = mnv3c_json(capsys, "inspect", files["model"], "--input", files["input"])
    assert r["inputs"] == [{"name": "x", "shape": list(SHAPE)}]
    assert r["outputs"] == [{"name": "y", "shape": [1, CLASSES]}]
    assert all(set(layer) >= INSPECT_LAYER_KEYS for layer in r["layers"])
    by_name = {layer["name"]: layer for layer in r["layers"]}
    assert by_name["stem"]["op"] == "conv2d" and by_name["stem"]["fused"] == ["hard_swish"]
    assert by_name["dw"]["op"] == "depthwise_conv2d" and by_name["dw"]["fused"] == ["relu"]
    assert by_name["fc"]["op"] == "dense" and by_name["fc"]["output_shape"] == [1, CLASSES]
    assert by_name["stem"]["macs"] == 8 * 8 * 8 * 3 * 3 * 3 and by_name["stem"]["params"] == 8 * 27 + 8
    assert r["macs"] == sum(layer["macs"] for layer in r["layers"])
    assert r["params"] == sum(layer["params"] for layer in r["layers"])

    x = np.load(files["input"])[:1]
    expected = ort.InferenceSession(str(files["model"])).run(None, {"x": x})[0].reshape(-1)
    np.testing.assert_allclose(r["float_output"], expected, rtol=1e-5, atol=1e-5)


def test_inspect_passes_prints_the_graph_after_each_pass(files, capsys) -> None:
    code, out, _ = mnv3c(capsys, "inspect", files["model"], "--passes")
    assert code == 0
    dumps = [line for line in out.splitlines() if line.startswith("# after ")]
    r = mnv3c_json(capsys, "inspect", files["model"], "--passes")
    assert len(dumps) == len(r["passes"]) > 1
    assert "float_output" not in r  # only with --input


# --- compile / build -----------------------------------------------------------------------------
def test_compile_json_has_spec_fields_and_equals_report_json(files, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    r = mnv3c_json(capsys, "compile", files["model"], "--target", "cortex-m7", "--calib", files["calib"], "-o", out)
    assert set(r) >= COMPILE_KEYS
    assert (r["target"], r["board"]) == ("cortex-m7", "mps2-an500")
    assert r["input"]["shape"] == list(SHAPE) and r["output"]["shape"] == [1, CLASSES]
    for io in (r["input"], r["output"]):
        assert isinstance(io["scale"], float) and io["scale"] > 0 and -128 <= io["zero_point"] <= 127
    assert r["layers"] and all(set(layer) >= COMPILE_LAYER_KEYS for layer in r["layers"])
    assert 0 < r["arena_lower_bound_bytes"] <= r["arena_bytes"]
    assert r["macs"] == 18_512 and r["params"] == 394 and r["weights_bytes"] >= r["params"]
    assert json.loads((out / "report.json").read_text()) == r


@pytest.mark.qemu
def test_build_adds_flash_and_ram_of_the_linked_image(files, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    compiled = mnv3c_json(capsys, "compile", files["model"], "--target", "cortex-m7", "--calib", files["calib"],
                          "-o", out)  # fmt: skip
    assert "flash_bytes" not in compiled
    built = mnv3c_json(capsys, "build", out)
    assert built == {**compiled, "flash_bytes": built["flash_bytes"], "ram_bytes": built["ram_bytes"]}
    assert built["flash_bytes"] > built["weights_bytes"] and built["ram_bytes"] > built["arena_bytes"]
    assert json.loads((out / "report.json").read_text()) == built


def test_existing_outdir_without_force_is_refused_and_untouched(files, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    code, stdout, err = mnv3c(capsys, "compile", files["model"], "--target", "host", "--calib", files["calib"],
                              "-o", out)  # fmt: skip
    assert_one_line_error(code, err, str(out), "--force")
    assert stdout == ""
    assert tree(out) == {"mine.txt": b"keep me"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left beside it


def test_force_replaces_an_earlier_output_folder(files, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    mnv3c_json(capsys, "compile", files["model"], "--target", "cortex-m7", "--calib", files["calib"], "-o", out)
    (out / "mine.txt").write_text("old")
    r = mnv3c_json(capsys, "compile", files["model"], "--target", "host", "--calib", files["calib"], "-o", out,
                   "--force")  # fmt: skip
    assert not (out / "mine.txt").exists() and json.loads((out / "report.json").read_text()) == r
    assert r["target"] == "host"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("outdir", ["file", "file/sub", "."])
def test_outdir_that_cannot_be_replaced_is_exit_2_and_deletes_nothing(outdir, files, tmp_path, monkeypatch,
                                                                      capsys) -> None:  # fmt: skip
    """--force replaces an output folder, never a file, nor the folder the user is working in
    (`-o . --force` used to empty the current directory, then crash)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("keep me")
    code, _, err = mnv3c(capsys, "compile", files["model"], "--target", "host", "--calib", files["calib"],
                         "-o", outdir, "--force")  # fmt: skip
    assert_one_line_error(code, err, f"'{outdir}'")
    assert tree(tmp_path) == {"file": b"keep me"}


@pytest.mark.parametrize("case", ["unsupported_op", "does_not_fit_ram"])
def test_failed_compile_leaves_no_outdir_and_no_staging(case, files, tmp_path, capsys) -> None:
    """An unsupported op fails while reading; a model too big for the board fails after the C
    was generated into the staging folder, which must be removed too."""
    out = tmp_path / "out"
    if case == "unsupported_op":
        argv = ["compile", files["unsupported"], "--target", "cortex-m7", "--calib", files["calib"], "-o", out]
        fragments = ["LeakyRelu"]
    else:
        argv = ["compile", files["big"], "--target", "cortex-m7", "--board", "stm32f746g-disco",
                "--calib", files["big_calib"], "-o", out]  # fmt: skip
        # the default schedule runs the stem and depthwise in row bands (the stem's halo rows kept), the
        # next depthwise in place
        fragments = ["does not fit stm32f746g-disco", "needs 378,368 B RAM (arena 345,600 + stack 32,768)",
                     "but SRAM has 327,680 B"]
    code, _, err = mnv3c(capsys, *argv)
    assert_one_line_error(code, err, *fragments)
    assert list(tmp_path.iterdir()) == []


def test_compiling_twice_is_byte_identical(files, tmp_path, capsys) -> None:
    for name in ("a", "b"):
        mnv3c_json(capsys, "compile", files["model"], "--target", "cortex-m55", "--calib", files["calib"],
                   "-o", tmp_path / name)  # fmt: skip
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert "report.json" in first and any(name.endswith(".c") for name in first)
    assert sorted(first) == sorted(second)
    for name in first:
        assert first[name] == second[name], name


# --- run / eval ----------------------------------------------------------------------------------
def test_run_json_on_host(files, capsys) -> None:
    """On the host: bit-exact, no instruction count (null), one output row per sample."""
    r = mnv3c_json(capsys, "run", files["model"], "--target", "host", "--calib", files["calib"],
                   "--input", files["input"])  # fmt: skip
    assert set(r) >= RUN_KEYS
    assert (r["target"], r["board"], r["input_file"], r["samples"]) == ("host", "host", str(files["input"]), 2)
    assert r["bit_exact"] is True and r["instructions"] is None
    assert r["output_int8"] == r["sim_output_int8"]
    for key in ("output", "output_int8", "sim_output_int8", "float_output"):
        assert np.shape(r[key]) == (2, CLASSES), key
    assert all(-128 <= v <= 127 for row in r["output_int8"] for v in row)
    # int8 output tracks the float graph: same top class on these inputs, small error
    assert np.argmax(r["output"], axis=1).tolist() == np.argmax(r["float_output"], axis=1).tolist()
    assert np.abs(np.subtract(r["output"], r["float_output"])).max() < 0.1
    for key in ("arena_bytes", "flash_bytes", "ram_bytes"):
        assert isinstance(r[key], int) and r[key] > 0


def test_run_without_input_uses_a_seeded_sample(files, capsys) -> None:
    first = mnv3c_json(capsys, "run", files["model"], "--target", "host", "--calib", files["calib"])
    second = mnv3c_json(capsys, "run", files["model"], "--target", "host", "--calib", files["calib"])
    assert first["input_file"] is None and first["samples"] == 1
    assert first["output_int8"] == second["output_int8"]


def test_eval_json_fields(files, capsys) -> None:
    r = mnv3c_json(capsys, "eval", files["model"], "--calib", files["calib"], "--data", files["data"],
                   "--labels", files["labels"])  # fmt: skip
    assert set(r) >= EVAL_KEYS and r["samples"] == 20
    for key in ("float_top1", "int8_top1", "agreement"):
        assert 0.0 <= r[key] <= 1.0 and round(r[key] * 20) == pytest.approx(r[key] * 20), key
    assert r["agreement"] >= 0.8  # calibrated on the same distribution: int8 rarely flips the argmax
    assert 0.0 <= r["mean_abs_err"] < 0.1 and 0.99 < r["cosine"] <= 1.0 + 1e-6


def test_calibration_flags_are_used_and_recorded(files, tmp_path, capsys) -> None:
    argv = ["eval", files["model"], "--calib", files["calib"], "--data", files["data"], "--labels", files["labels"]]
    default = mnv3c_json(capsys, *argv)["quant"]
    assert default["method"] == "auto" and default["equalize"] and default["bias_correction_enabled"]
    assert not default["adaptive_rounding"]
    r = mnv3c_json(capsys, *argv, "--calib-method", "percentile", "--percentile", "99.5", "--no-equalize",
                   "--no-bias-correction", "--per-layer", "--sensitivity")
    q = r["quant"]
    assert (q["method"], q["percentile"], q["equalize"], q["bias_correction_enabled"]) == ("percentile", 99.5, False, False)
    assert q["equalized_pairs"] == [] and q["bias_corrected_layers"] == 0 and default["bias_corrected_layers"] > 0
    assert {row["precision"] for row in r["per_layer"]} == {"int8"}
    assert all(set(row) >= {"sqnr_db", "only_sqnr_db"} for row in r["per_layer"])
    mnv3c_json(capsys, "compile", files["model"], "--target", "host", "--calib", files["calib"], "-o", tmp_path / "o",
               "--calib-method", "minmax", "--no-bias-correction", "--adaptive-rounding")
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["quantization"]["method"] == "minmax" and not report["quantization"]["bias_correction_enabled"]
    assert report["quantization"]["adaptive_rounding"]
    assert report["quantization"]["equalize"] and report["quantization"]["samples"] == 8
    assert all(layer["precision"] == "int8" for layer in report["layers"])


def test_mixed_precision_promotes_until_the_target_and_reports_costs(files, tmp_path, capsys) -> None:
    """An unreachable --target-sqnr stops at the fewest promotions within 0.5 dB of all-int16 (one
    step each), says the target was not met and what all-int16 reaches; the report and eval agree
    on the per-layer precision."""
    mnv3c_json(capsys, "compile", files["model"], "--target", "host", "--calib", files["calib"], "-o", tmp_path / "o",
               "--precision", "mixed", "--target-sqnr", "200")
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    steps = report["quantization"]["mixed_steps"]
    computing = [x for x in report["layers"] if x["op"] not in ("requantize", "reshape")]
    promoted = {x["promoted"] for x in steps[1:]}
    assert steps[0]["promoted"] is None and 1 < len(steps) <= len(computing) + 1
    assert not steps[-1]["target_met"] and steps[-1]["all_int16"]["sqnr_db"] < 200
    assert steps[-1]["sqnr_db"] >= steps[-1]["all_int16"]["sqnr_db"] - 0.5
    assert {x["name"] for x in computing if x["precision"] == "int16"} == promoted
    assert steps[-1]["extra_tensor_bytes"] > 0 and 0 < steps[-1]["int16_macs"] <= report["macs"]
    auto = steps[-1]["adaptive_rounding_auto"]  # missed: retried with adaptive rounding, recorded either way
    assert auto["tried"] and report["quantization"]["adaptive_rounding"] is auto["kept"]
    r = mnv3c_json(capsys, "eval", files["model"], "--calib", files["calib"], "--data", files["data"],
                   "--labels", files["labels"], "--precision", "mixed", "--target-agreement", "0.5", "--per-layer")
    assert r["precision"] == "mixed" and r["mixed"][-1]["target_met"] and r["mixed"][-1]["agreement"] >= 0.5
    assert {row["precision"] for row in r["per_layer"]} <= {"int8", "int16"}


# --- bad input -----------------------------------------------------------------------------------
BAD = {  # id -> (argv built from the files fixture, fragments of the one error line)
    "unknown_target": (lambda f, o: ["compile", f["model"], "--target", "cortex-m3", "-o", o], ["cortex-m3"]),
    "board_of_other_target": (
        lambda f, o: ["compile", f["model"], "--target", "cortex-m4", "--board", "mps2-an500", "-o", o],
        ["mps2-an500", "cortex-m7", "cortex-m4"],
    ),
    "bad_input_shape": (
        lambda f, o: ["inspect", f["symbolic"], "--input-shape", "1,3,x,16"], ["--input-shape", "1,3,x,16"]
    ),
    "three_dim_input_shape": (lambda f, o: ["inspect", f["symbolic"], "--input-shape", "3,16,16"], ["N,C,H,W"]),
    "missing_model": (lambda f, o: ["inspect", o / "nope.onnx"], ["nope.onnx"]),
    "missing_calib": (
        lambda f, o: ["compile", f["model"], "--target", "host", "--calib", o / "nope.npy", "-o", o / "out"],
        ["--calib", "nope.npy"],
    ),
    "wrong_input_array_shape": (
        lambda f, o: ["run", f["model"], "--target", "host", "--calib", f["calib"], "--input", f["wrong_shape"]],
        ["--input", "[2, 3, 8, 8]", "[N, 3, 16, 16]"],
    ),
    "labels_count_mismatch": (
        lambda f, o: ["eval", f["model"], "--calib", f["calib"], "--data", f["input"], "--labels", f["labels"]],
        ["--labels", "20 labels for 2 samples"],
    ),
    "missing_required_flag": (lambda f, o: ["compile", f["model"], "-o", o], ["compile: ", "--target"]),
    "percentile_out_of_range": (
        lambda f, o: ["compile", f["model"], "--target", "host", "-o", o / "out", "--percentile", "101"],
        ["--percentile", "(50, 100]"],
    ),
    "target_without_mixed": (
        lambda f, o: ["compile", f["model"], "--target", "host", "-o", o / "out", "--target-sqnr", "30"],
        ["compile: --target-sqnr/--target-agreement/--target-cosine/--search-data need --precision mixed"],
    ),
    "search_data_without_mixed": (
        lambda f, o: ["run", f["model"], "--target", "host", "--calib", f["calib"], "--search-data", f["calib"]],
        ["run: --target-sqnr/--target-agreement/--target-cosine/--search-data need --precision mixed"],
    ),
    "missing_search_data": (
        lambda f, o: ["compile", f["model"], "--target", "host", "-o", o / "out", "--calib", f["calib"],
                      "--precision", "mixed", "--search-data", o / "nope.npy"],
        ["--search-data", "nope.npy"],
    ),
    "agreement_out_of_range": (
        lambda f, o: ["compile", f["model"], "--target", "host", "-o", o / "out", "--precision", "mixed",
                      "--target-agreement", "1.5"],
        ["--target-agreement", "(0, 1]"],
    ),
    "cosine_out_of_range": (
        lambda f, o: ["compile", f["model"], "--target", "host", "-o", o / "out", "--precision", "mixed",
                      "--target-cosine", "2"],
        ["--target-cosine", "(-1, 1]"],
    ),
    "unknown_calib_method": (
        lambda f, o: ["eval", f["model"], "--calib", f["calib"], "--data", f["input"], "--labels", f["labels"],
                      "--calib-method", "kl"],
        ["--calib-method", "kl"],
    ),
    "run_on_real_hardware": (
        lambda f, o: ["run", f["model"], "--target", "cortex-m7", "--board", "nucleo-h743zi"],
        ["nucleo-h743zi is real hardware", "mnv3c flash"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_exit_2_with_one_line(case, files, tmp_path, capsys) -> None:
    argv, fragments = BAD[case]
    code, out, err = mnv3c(capsys, *argv(files, tmp_path))
    assert_one_line_error(code, err, *fragments)
    assert out == ""
    assert not (tmp_path / "out").exists()


def test_input_shape_fixes_symbolic_height_and_width(files, tmp_path, capsys) -> None:
    """SPEC: symbolic H/W without --input-shape is exit 2; with it, every command sees the shape."""
    code, _, err = mnv3c(capsys, "inspect", files["symbolic"])
    assert_one_line_error(code, err, "symbolic", "--input-shape")
    r = mnv3c_json(capsys, "inspect", files["symbolic"], "--input-shape", "1,3,24,32")
    assert r["inputs"][0]["shape"] == [1, 3, 24, 32]
    assert r["macs"] == 8 * 12 * 16 * (27 + 9) + 8 * CLASSES
    compiled = mnv3c_json(capsys, "compile", files["symbolic"], "--input-shape", "1,3,16,16", "--target", "host",
                          "--calib", files["calib"], "-o", tmp_path / "out")  # fmt: skip
    reference = mnv3c_json(capsys, "compile", files["model"], "--target", "host", "--calib", files["calib"],
                           "-o", tmp_path / "ref")  # fmt: skip
    assert compiled["input"]["shape"] == list(SHAPE)
    assert tree(tmp_path / "out") == tree(tmp_path / "ref")  # the same network once the shape is fixed


# --- through a real process (what shell scripts and CI see) ---------------------------------------
def _python_m(*argv: object) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MNV3C_DEBUG"}
    return subprocess.run([sys.executable, "-m", "mnv3c", *map(str, argv)], capture_output=True, text=True,
                          env=env, timeout=300)  # fmt: skip


def test_process_inspect_json_is_one_object_on_stdout(files) -> None:
    proc = _python_m("inspect", files["model"], "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1
    assert json.loads(proc.stdout)["outputs"] == [{"name": "y", "shape": [1, CLASSES]}]


def test_process_bad_target_is_exit_2_one_line(files, tmp_path) -> None:
    proc = _python_m("compile", files["model"], "--target", "avr", "-o", tmp_path / "out")
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1 and "avr" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.qemu
def test_process_run_json_under_qemu_counts_instructions(files) -> None:
    """`run --json --profile` on a Cortex-M target: bit-exact, an exact instruction count, and a
    per-layer profile in the JSON that sums to it, with its table (most expensive first) on stderr."""
    proc = _python_m("run", files["model"], "--target", "cortex-m7", "--calib", files["calib"], "--input",
                     files["input"], "--json", "--profile")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert set(r) >= RUN_KEYS and (r["target"], r["board"]) == ("cortex-m7", "mps2-an500")
    assert r["bit_exact"] is True and isinstance(r["instructions"], int) and r["instructions"] > 0
    assert r["output_int8"] == r["sim_output_int8"] and r["samples"] == 2
    profile = r["profile"]
    assert sum(row["instructions"] for row in profile) == r["instructions"]
    assert sum(row["macs"] for row in profile) == r["macs"]
    assert all(set(row) == {"layer", "kernel", "instructions", "macs"} for row in profile)
    rows = [ln.split() for ln in proc.stderr.splitlines() if ln.endswith(("-", "%")) or "% " in ln]
    costs = [int(w[[i for i, t in enumerate(w) if t.endswith("%")][0] - 1].replace(",", "")) for w in rows]
    assert costs[:-1] == sorted((row["instructions"] for row in profile), reverse=True)  # last: the total
    assert costs[-1] == r["instructions"]
