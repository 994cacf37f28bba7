"""Nothing keeps running or stays behind after a signal or a timeout (issue 16.4, 16.5): SIGTERM
during a QEMU run kills the emulator's whole process group and removes the temporary folders;
a hanging host executable is killed at its time limit and reported like a hanging guest.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from mnv3c.boards.qemu import GuestTimeout
from mnv3c.codegen import host
from mnv3c.errors import CheckFailed
from test_cli import _tiny_model


def _processes_in_group(pgid: int) -> list[tuple[int, str]]:
    """(pid, state) of the live processes in process group ``pgid`` (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append((int(entry.name), fields[0]))
    return found


def _find_process(*cmdline_parts: str, timeout_s: float) -> int | None:
    """The pid of a process whose command line contains every one of ``cmdline_parts``."""
    deadline = time.monotonic() + timeout_s
    while True:
        for entry in Path("/proc").iterdir():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace") if entry.name.isdigit() else ""
            except OSError:
                continue
            if cmdline and all(part in cmdline for part in cmdline_parts):
                return int(entry.name)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


@pytest.mark.qemu
def test_sigterm_during_a_qemu_run_kills_the_emulator_group_and_cleans_up(tmp_path) -> None:
    """The emulator starts paused (-S: it would never finish) and has a child of its own; SIGTERM
    to mnv3c must take both down and leave the temporary folders removed (it used to leave QEMU
    running and two folders behind)."""
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    model = _tiny_model(tmp_path / "tiny.onnx")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    wrapper = tmp_path / "paused-qemu"
    marker = f"300.{os.getpid()}"  # a unique sleep duration to find the child by
    wrapper.write_text(f'#!/bin/sh\nsleep {marker} &\nexec {shutil.which("qemu-system-arm")} -S "$@"\n')
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "MNV3C_DEBUG"}
    env.update(TMPDIR=str(tmp), MNV3C_QEMU_SYSTEM_ARM=str(wrapper))
    proc = subprocess.Popen([sys.executable, "-m", "mnv3c", "run", str(model), "--target", "cortex-m7"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    qemu = None
    try:
        qemu = _find_process("qemu-system-arm", f"{tmp}/mnv3c-run-", timeout_s=240)
        assert qemu is not None, "QEMU never started"
        assert _find_process(marker, timeout_s=10) is not None  # the emulator's own child is up too
        assert len(_processes_in_group(qemu)) == 2
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        left = _processes_in_group(qemu) if qemu else []
        for pid, _ in left:  # never leak a paused emulator from a failing run
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "mnv3c: interrupted (SIGTERM)"
    assert left == []
    assert list(tmp.iterdir()) == []


def test_a_hanging_host_executable_is_a_clean_timeout(tmp_path) -> None:
    """Used to escape as subprocess.TimeoutExpired (a traceback); now a GuestTimeout like QEMU's: one
    line, exit 3, since mnv3c's own generated code did not finish (issue 12.3)."""
    source = tmp_path / "forever.c"
    source.write_text("int main(void) { for (;;) { } }\n")
    exe = tmp_path / "forever"
    subprocess.run([host.host_cc(), "-O0", "-o", str(exe), str(source)], check=True)
    start = time.monotonic()
    with pytest.raises(GuestTimeout, match=r"host: forever did not finish within 0\.5 s \(killed\)") as info:
        host.run(exe, np.zeros((1, 4), np.int8), 4, timeout=0.5)
    assert isinstance(info.value, CheckFailed) and info.value.exit_code == 3
    assert time.monotonic() - start < 30
    assert _find_process(str(exe), timeout_s=0) is None  # killed, not left spinning
