"""Child processes (compilers, emulators, the host executable) run in their own process group, so
a timeout, Ctrl-C, SIGTERM or SIGHUP kills the whole tree (gcc's cc1/as/ld, anything an emulator
spawns) instead of leaving it running and writing into a folder being removed."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Sequence


def run_group(cmd: Sequence[str | os.PathLike], timeout: float | None = None, cwd: str | Path | None = None,
              text: bool = False) -> subprocess.CompletedProcess:
    """Run ``cmd`` (stdin closed, stdout/stderr captured) as the leader of a new process group.
    On timeout (subprocess.TimeoutExpired) or any exception while waiting, the group is killed
    and reaped before the exception propagates."""
    proc = subprocess.Popen([os.fspath(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=cwd, text=text, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:  # still running: timeout or interrupt
            kill_group(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``'s process group (``proc`` leads it and is not yet reaped) and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()
