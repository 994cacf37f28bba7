"""Progress and the order of the work: the cheap checks (OUTDIR, tools, board fit) fail before any
slow stage starts, which the stage lines on stderr show; --quiet, --version, help, `mnv3c boards`.

The stage lines are the log of what ran, so a test can assert that calibration never started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnv3c import cli
from mnv3c.boards.registry import all_boards
from mnv3c.progress import STAGES
from test_cli import _tiny_model


def _mnv3c(*argv: object, quiet: bool = False, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("MNV3C_DEBUG", "MNV3C_QUIET")}
    if quiet:
        environ["MNV3C_QUIET"] = "1"
    return subprocess.run([sys.executable, "-m", "mnv3c", *map(str, argv)], capture_output=True, text=True,
                          env={**environ, **(env or {})}, timeout=300)


def _stages(stderr: str) -> list[str]:
    """The stages a run went through, in order, from its stderr (non-terminal format)."""
    names = []
    for line in stderr.splitlines():
        head = line.removeprefix("mnv3c: ").partition(":")[0]
        if line.startswith("mnv3c: ") and head in STAGES:
            names.append(head)
    return names


def _error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if _stages(ln) == []]
    assert len(lines) == 1 and lines[0].startswith("mnv3c: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("progress")
    return {"tiny": _tiny_model(d / "tiny.onnx"), "symbolic": _tiny_model(d / "symbolic.onnx", ("N", 3, "H", "W"))}


def test_compile_reports_each_stage_in_order_on_stderr_and_nothing_with_quiet(models, tmp_path) -> None:
    proc = _mnv3c("compile", models["tiny"], "--target", "cortex-m7", "-o", tmp_path / "a")
    assert proc.returncode == 0, proc.stderr
    assert _stages(proc.stderr) == ["import", "plan", "calibrate", "quantize", "codegen", "report"]
    assert proc.stdout.startswith("compiled ")  # the result stays on stdout
    for flag in ("--quiet", "-q"):
        quiet = _mnv3c("compile", models["tiny"], "--target", "cortex-m7", "-o", tmp_path / flag, flag)
        assert quiet.returncode == 0 and _stages(quiet.stderr) == [], quiet.stderr
        assert "warning" in quiet.stderr  # --quiet hides progress, not warnings


def test_input_too_big_for_the_board_fails_from_the_plan_before_calibration(models, tmp_path) -> None:
    """Issue 16.6: 1x3x4096x4096 on cortex-m7 used to allocate 12 GiB in calibration (MemoryError,
    exit 3); the memory plan says it does not fit before any sample is run."""
    proc = _mnv3c("compile", models["symbolic"], "--input-shape", "1,3,4096,4096", "--target", "cortex-m7",
                  "-o", tmp_path / "out")
    assert proc.returncode == 2
    # the arena holds the 4096x4096x3 input (50,331,648 B) and, the first layers running in row bands
    # (the stem's halo rows kept), their bands and the depthwise output (layer by layer the stem's whole
    # output: 83,918,848 B)
    assert "model does not fit mps2-an500: needs 50,413,568 B RAM" in _error_line(proc.stderr)
    assert _stages(proc.stderr) == ["import", "plan"]  # never reached calibrate
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []


def test_fit_from_the_plan_equals_the_generated_code(models, tmp_path) -> None:
    """The early check plans a placeholder int8 graph: its arena and weight bytes must be what the
    calibrated graph's C code reports."""
    from mnv3c.codegen.generate import memory_needs
    from mnv3c.compiler import load_model
    from mnv3c.quant.quantize import placeholder_int8

    proc = _mnv3c("compile", models["tiny"], "--target", "cortex-m55", "-o", tmp_path / "out", "--json", quiet=True)
    report = json.loads(proc.stdout)
    graph, _ = load_model(str(models["tiny"]), None)
    assert memory_needs(placeholder_int8(graph), "cortex-m55") == (report["arena_bytes"], report["weights_bytes"])


def test_calibration_never_runs_when_the_model_does_not_fit(models, tmp_path, monkeypatch, capsys) -> None:
    """The same order, seen from inside: the calibration function is never called."""
    import mnv3c.quant.quantize as quantize

    calls: list[str] = []
    monkeypatch.setattr(quantize, "collect", lambda *a, **k: calls.append("collect"))
    code = cli.main(["compile", str(models["symbolic"]), "--input-shape", "1,3,4096,4096", "--target", "cortex-m7",
                     "-o", str(tmp_path / "out")])
    assert code == 2 and "does not fit" in capsys.readouterr().err
    assert calls == []


def test_existing_outdir_and_missing_emulator_fail_before_the_model_is_read(models, tmp_path) -> None:
    (tmp_path / "out").mkdir()
    proc = _mnv3c("compile", models["tiny"], "--target", "cortex-m7", "-o", tmp_path / "out")
    assert proc.returncode == 2 and "--force" in _error_line(proc.stderr)
    assert _stages(proc.stderr) == []

    proc = _mnv3c("run", models["tiny"], "--target", "cortex-m4", env={"MNV3C_QEMU_SYSTEM_ARM": "/nonexistent/qemu"})
    assert proc.returncode == 2 and "/nonexistent/qemu" in _error_line(proc.stderr)
    assert _stages(proc.stderr) == []


@pytest.mark.parametrize("case", ["outdir", "board", "name", "tool"])
def test_flag_errors_come_before_onnx_and_the_compiler_are_imported(models, tmp_path, case) -> None:
    """The checks that need no model (commands.prechecks) run before the command's imports (onnx alone
    takes ~1 s to import), so these errors are immediate: onnx is not even loaded when they are said."""
    (tmp_path / "out").mkdir()
    argv = {"outdir": ["compile", models["tiny"], "--target", "cortex-m7", "-o", tmp_path / "out"],
            "board": ["compile", models["tiny"], "--target", "cortex-m7", "--board", "virt", "-o", tmp_path / "o2"],
            "name": ["run", models["tiny"], "--target", "host", "--name", "9lives"],
            "tool": ["run", models["tiny"], "--target", "cortex-m4"]}[case]
    code = ("import sys; from mnv3c.cli import main; rc = main(sys.argv[1:]); "
            "print(rc, 'onnx' in sys.modules, 'mnv3c.compiler' in sys.modules)")
    env = {**os.environ, "MNV3C_QEMU_SYSTEM_ARM": "/nonexistent/qemu"}
    proc = subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.stdout.split() == ["2", "False", "False"], proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "o2").exists()


def test_a_terminal_gets_a_live_display(models, tmp_path) -> None:
    """On a TTY, rich draws the stages (with a tick when done) instead of plain lines."""
    master, slave = os.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("MNV3C_QUIET", "MNV3C_DEBUG")}
    proc = subprocess.run([sys.executable, "-m", "mnv3c", "compile", str(models["tiny"]), "--target", "host",
                           "-o", str(tmp_path / "out")], stdout=subprocess.PIPE, stderr=slave,
                          env={**environ, "COLUMNS": "120"}, timeout=300)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    screen = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "\x1b[" in screen and "✓" in screen  # drawn, and finished
    assert "calibrate: 32 samples" in screen and "mnv3c: calibrate:" not in screen


def test_version_and_help_for_every_flag(capsys) -> None:
    from mnv3c import __version__

    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"mnv3c {__version__}"
    parser = cli._build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"inspect", "compile", "build", "run", "eval", "flash", "demo", "boards", "report", "calib"} <= set(commands)
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.help and action.help.strip(), f"{name} {action.option_strings or action.dest}"


def test_boards_lists_every_board_with_its_memory(capsys) -> None:
    code = cli.main(["boards", "--json"])
    listed = json.loads(capsys.readouterr().out)["boards"]
    assert code == 0 and [b["name"] for b in listed] == [b.name for b in all_boards()]
    by_name = {b["name"]: b for b in listed}
    assert by_name["stm32f746g-disco"]["ram_bytes"] == 320 * 1024
    assert by_name["stm32f746g-disco"]["flash_bytes"] == 1024 * 1024
    assert by_name["mps2-an500"]["default"] and by_name["mps2-an500"]["runs"] == "under QEMU"
    assert not by_name["nucleo-h743zi"]["default"]
    code = cli.main(["boards"])
    text = capsys.readouterr().out
    for b in all_boards():
        assert b.name in text
    assert "320 KiB" in text and "1,024 KiB" in text


def test_tables_print_full_layer_names(models, tmp_path, capsys) -> None:
    """Names used to be cut at 40 characters; a table is as wide as its longest name."""
    import onnx

    model = onnx.load(str(models["tiny"]))
    long_name = "features.12.block.3.squeeze_excite.fc2/" + "x" * 90
    model.graph.node[0].name = long_name
    onnx.save(model, str(tmp_path / "long.onnx"))
    assert cli.main(["inspect", str(tmp_path / "long.onnx")]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith(long_name + " ") for line in out.splitlines()), out
