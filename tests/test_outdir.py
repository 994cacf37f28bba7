"""The output folder never loses the user's data (issue 16.4, 16.9): OUTDIR is created in one
rename that fails if it appeared meanwhile, --force replaces only an empty or mnv3c-written folder
that holds none of the command's inputs, links, full disks and signals give one line and leave
nothing behind, the umask is honoured, and an edited report.json is a clear error.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mnv3c import compiler
from test_cli import _tiny_model, assert_one_line_error, mnv3c, mnv3c_json, tree


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("outdir-model")
    np.save(d / "calib.npy", np.random.default_rng(0).standard_normal((4, 3, 16, 16)).astype(np.float32))
    return _tiny_model(d / "tiny.onnx")


def _compile(capsys, model: Path, out: Path | str, *extra: object) -> tuple[int, str, str]:
    return mnv3c(capsys, "compile", model, "--target", "host", "--calib", model.parent / "calib.npy", "-o", out, *extra)


def test_a_folder_that_appears_during_the_compile_is_not_replaced(model, tmp_path, monkeypatch, capsys) -> None:
    """Another process (or a second compile) creates OUTDIR while this one generates C: the final
    rename must fail instead of deleting it (write_project used to rmtree it and exit 0)."""
    out = tmp_path / "out"
    generate = compiler.generate

    def generate_then_race(*args, **kwargs):
        report = generate(*args, **kwargs)
        out.mkdir()
        (out / "theirs.txt").write_text("theirs")
        return report

    monkeypatch.setattr(compiler, "generate", generate_then_race)
    code, stdout, err = _compile(capsys, model, out)
    assert_one_line_error(code, err, str(out))
    assert stdout == "" and tree(tmp_path) == {"out/theirs.txt": b"theirs"}  # untouched, no staging left


def test_an_empty_folder_appearing_during_the_compile_is_not_replaced(model, tmp_path, monkeypatch, capsys) -> None:
    """rename(2) silently replaces an empty folder; renameat2's RENAME_NOREPLACE does not."""
    out = tmp_path / "out"
    generate = compiler.generate
    monkeypatch.setattr(compiler, "generate", lambda *a, **k: (generate(*a, **k), out.mkdir())[0])
    code, _, err = _compile(capsys, model, out)
    assert_one_line_error(code, err, str(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and not any(out.iterdir())


@pytest.mark.parametrize("inside", ["model", "calib"])
def test_force_never_deletes_the_commands_own_inputs(inside, files_in, tmp_path, capsys) -> None:
    """`compile sand/model.onnx -o sand --force` used to delete model.onnx and the user's files."""
    sand = tmp_path / "sand"
    before = tree(tmp_path)
    argv = ["compile", files_in["model"] if inside == "model" else files_in["outside_model"], "--target", "host",
            "--calib", files_in["calib"], "-o", sand, "--force"]  # fmt: skip
    code, _, err = mnv3c(capsys, *argv)
    assert_one_line_error(code, err, "refusing to replace", "input file")
    assert tree(tmp_path) == before


@pytest.fixture
def files_in(tmp_path: Path) -> dict[str, Path]:
    """A user's folder `sand/` with a model, calibration data and a file of their own, plus a
    model outside it."""
    sand = tmp_path / "sand"
    sand.mkdir()
    (sand / "notes.txt").write_text("mine")
    np.save(sand / "calib.npy", np.random.default_rng(0).standard_normal((4, 3, 16, 16)).astype(np.float32))
    return {"model": _tiny_model(sand / "model.onnx"), "calib": sand / "calib.npy",
            "outside_model": _tiny_model(tmp_path / "other.onnx")}  # fmt: skip


def test_force_refuses_a_folder_mnv3c_did_not_write(model, tmp_path, capsys) -> None:
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"\xff\xd8")
    code, _, err = _compile(capsys, model, out, "--force")
    assert_one_line_error(code, err, str(out), "not an mnv3c output folder")
    assert tree(tmp_path) == {"photos/holiday.jpg": b"\xff\xd8"}


def test_force_accepts_an_empty_folder(model, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    r = mnv3c_json(capsys, "compile", model, "--target", "host", "--calib", model.parent / "calib.npy", "-o", out,
                   "--force")  # fmt: skip
    assert json.loads((out / "report.json").read_text()) == r
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("link", ["to_folder", "dangling"])
def test_symlinked_outdir_is_exit_2_and_touches_nothing(link, force, model, tmp_path, capsys) -> None:
    """Used to be exit 3 (`Cannot call rmtree on a symbolic link`, `NotADirectoryError`)."""
    real = tmp_path / "real"
    if link == "to_folder":
        real.mkdir()
        (real / "mine.txt").write_text("keep")
    out = tmp_path / "out"
    out.symlink_to(real)
    before = tree(tmp_path)
    code, _, err = _compile(capsys, model, out, *(["--force"] if force else []))
    assert_one_line_error(code, err, str(out), "symbolic link")
    assert tree(tmp_path) == before and out.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out", *(["real"] if link == "to_folder" else [])])


def test_empty_outdir_flag_is_refused(model, tmp_path, monkeypatch, capsys) -> None:
    """`-o ""` used to mean the current directory."""
    monkeypatch.chdir(tmp_path)
    code, _, err = _compile(capsys, model, "")
    assert_one_line_error(code, err, "-o/--output", "must not be empty")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("mask", [0o022, 0o027])
def test_outdir_honours_the_umask(mask, model, tmp_path, capsys) -> None:
    """The staging folder came from mkdtemp, so OUTDIR was always 0700."""
    old = os.umask(mask)
    try:
        mnv3c_json(capsys, "compile", model, "--target", "host", "--calib", model.parent / "calib.npy",
                   "-o", tmp_path / "out")  # fmt: skip
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((tmp_path / "out" / "report.json").stat().st_mode) == 0o666 & ~mask


def _python(code: str, *argv: object, limit_file_bytes: int | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter (``sys.argv[1:]`` = ``argv``), without MNV3C_DEBUG."""
    env = {k: v for k, v in os.environ.items() if k != "MNV3C_DEBUG"}

    def limit() -> None:
        if limit_file_bytes is not None:  # writes past the limit fail with EFBIG, as on a full disk
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_bytes, limit_file_bytes))

    return subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True, env=env,
                          timeout=timeout, preexec_fn=limit)  # fmt: skip


CLI = "import sys; from mnv3c import cli; sys.exit(cli.main(sys.argv[1:]))"


def test_a_full_disk_is_exit_2_and_leaves_nothing(model, tmp_path) -> None:
    """A write that fails half-way (ENOSPC; here EFBIG from a file-size limit, the same OSError
    path) used to be exit 3 with a traceback-worthy message."""
    out = tmp_path / "work" / "out"
    out.parent.mkdir()
    proc = _python(CLI, "compile", model, "--target", "host", "--calib", model.parent / "calib.npy", "-o", out,
                   limit_file_bytes=2048)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mnv3c: error: cannot write output folder"), proc.stderr
    assert "File too large" in lines[0]
    assert list(out.parent.iterdir()) == []


# SIGTERM/SIGHUP at the worst moment: the project is generated in the staging folder, not yet renamed.
SIGNAL_DURING_WRITE = """
import os, signal, sys
from mnv3c import cli, compiler
generate = compiler.generate
def generate_then_signal(*args, **kwargs):
    report = generate(*args, **kwargs)
    os.kill(os.getpid(), signal.{sig})
    return report
compiler.generate = generate_then_signal
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_during_compile_leave_no_staging_folder(sig, model, tmp_path) -> None:
    out = tmp_path / "work" / "out"
    out.parent.mkdir()
    proc = _python(SIGNAL_DURING_WRITE.format(sig=sig), "compile", model, "--target", "host",
                   "--calib", model.parent / "calib.npy", "-o", out)  # fmt: skip
    assert proc.returncode == 128 + getattr(signal, sig), proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"mnv3c: interrupted ({sig})"
    assert list(out.parent.iterdir()) == []


# --- report.json as `build` reads it back ---------------------------------------------------------
@pytest.fixture
def compiled(model, tmp_path, capsys) -> Path:
    out = tmp_path / "out"
    mnv3c_json(capsys, "compile", model, "--target", "host", "--calib", model.parent / "calib.npy", "-o", out)
    return out


@pytest.mark.parametrize("field", ["board", "sources", "target", "output"])
def test_build_with_a_report_lacking_a_field_names_it(field, compiled, capsys) -> None:
    """Used to be exit 3 (KeyError)."""
    report = json.loads((compiled / "report.json").read_text())
    del report[field]
    (compiled / "report.json").write_text(json.dumps(report))
    code, _, err = mnv3c(capsys, "build", compiled)
    assert_one_line_error(code, err, f"lacks the field '{field}'", "report.json")


@pytest.mark.parametrize("edit", [
    {"sources": "mnv3c_model.c"}, {"sources": ["../../etc/passwd"]}, {"sources": ["/etc/passwd"]},
    {"board": ""}, {"board": 7}, {"output": {"shape": [1, 10]}},
])  # fmt: skip
def test_build_with_a_malformed_report_field_is_exit_2(edit, compiled, capsys) -> None:
    report = {**json.loads((compiled / "report.json").read_text()), **edit}
    (compiled / "report.json").write_text(json.dumps(report))
    code, _, err = mnv3c(capsys, "build", compiled)
    assert_one_line_error(code, err, "report.json", f"'{next(iter(edit))}")
    assert not (compiled / "mnv3c_model").exists()


@pytest.mark.parametrize("text", ["[1, 2]", "{not json", "\"a string\""])
def test_build_with_a_report_that_is_not_a_json_object_is_exit_2(text, compiled, capsys) -> None:
    (compiled / "report.json").write_text(text)
    code, _, err = mnv3c(capsys, "build", compiled)
    assert_one_line_error(code, err, "report.json")
