"""Every compile step and emulator run has a time limit: on timeout the whole process group is
killed, nothing is left behind, and one line says what was running (exit 3: the tools run mnv3c's
own code, so a hang is an mnv3c bug)."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from mnv3c import cli
from mnv3c.boards import toolchain
from mnv3c.boards.registry import get_board
from mnv3c.boards.toolchain import tool_env_var
from mnv3c.errors import ToolTimeout


def hanging_tool(tmp_path: Path) -> tuple[Path, Path]:
    """A 'compiler' that starts a child (like gcc starts cc1) and never finishes; it records the
    child's pid so the test can prove the whole group was killed."""
    pid_file = tmp_path / "child.pid"
    script = tmp_path / "hang-cc"
    script.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\nwait\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, pid_file


def _assert_dead(pid_file: Path) -> None:
    pid = int(pid_file.read_text())
    for _ in range(100):  # the kernel reaps the orphan shortly after SIGKILL
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return
        time.sleep(0.05)
    pytest.fail(f"compiler child {pid} still running")


def test_a_hanging_board_compiler_is_killed_and_reported(tmp_path: Path, monkeypatch) -> None:
    script, pid_file = hanging_tool(tmp_path)
    monkeypatch.setenv(tool_env_var("arm-none-eabi-gcc"), str(script))
    monkeypatch.setattr(toolchain, "BUILD_TIMEOUT_S", 1.0)
    out = tmp_path / "app.elf"
    with pytest.raises(ToolTimeout, match=r"hang-cc did not finish within 1 s .*running: .*hang-cc"):
        toolchain.build(get_board("mps2-an500"), [tmp_path / "main.c"], out)
    assert not out.exists()
    _assert_dead(pid_file)


def test_mnv3c_build_with_a_hanging_host_compiler_exits_3_in_one_line(tmp_path: Path, monkeypatch, capsys) -> None:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.ones((2, 2, 1, 1), np.float32), "w")])
    model = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model)
    assert cli.main(["compile", str(model), "--target", "host", "-o", str(tmp_path / "out")]) == 0
    before = sorted(p.name for p in (tmp_path / "out").iterdir())
    script, pid_file = hanging_tool(tmp_path)
    monkeypatch.setenv("CC", str(script))
    monkeypatch.setattr(toolchain, "BUILD_TIMEOUT_S", 1.0)
    capsys.readouterr()
    assert cli.main(["build", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "hang-cc did not finish within 1 s" in err and "Traceback" not in err, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == before  # no half-built executable
    _assert_dead(pid_file)
