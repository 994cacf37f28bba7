"""Build the generated C with the host compiler and run it: the bit-exactness check without a board.

The executable is the generated example/main.c: it reads raw int8 NHWC samples from a file and
writes raw int8 outputs to stdout, so the only conversions here are NCHW -> NHWC and bytes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from mnv3c.boards.qemu import GuestTimeout
from mnv3c.boards.toolchain import BuildError, run_tool
from mnv3c.codegen.generate import EXAMPLE_DIR, HOST_MAIN
from mnv3c.errors import MnvError
from mnv3c.outdir import read_report
from mnv3c.subprocesses import run_group

STRICT_FLAGS = ("-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic")
# Without the section attributes, so AddressSanitizer puts redzones around the arena and the weights.
SANITIZE_FLAGS = ("-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover")
SANITIZE_EMPTY_MACROS = ("ARENA_ATTR", "WEIGHTS_ATTR")


class HostBuildError(BuildError):
    """The host compiler rejected the generated code; `log` holds its full output."""


def host_cc() -> str:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise HostBuildError("no host C compiler found (set CC)")
    return cc


def build(outdir: str | Path, sanitize: bool = False, extra_flags: Sequence[str] = ()) -> Path:
    """Compile the library and example/main.c into ``outdir/example/NAME_example`` (``..._asan``).

    The kernels' scratch queries are checked against the memory plan at run time
    (NAME_CHECK_SCRATCH), so a kernel needing more scratch than planned fails loudly.
    """
    outdir = Path(outdir)
    report = read_report(outdir)
    name = report["name"]
    exe = outdir / EXAMPLE_DIR / f"{name}_example{'_asan' if sanitize else ''}"
    sources = [f"{EXAMPLE_DIR}/{HOST_MAIN}", *report["sources"]]
    macros = [f"-D{name.upper()}_{m}=" for m in SANITIZE_EMPTY_MACROS] if sanitize else []
    flags = [*STRICT_FLAGS, *(SANITIZE_FLAGS if sanitize else ()), *macros, f"-D{name.upper()}_CHECK_SCRATCH",
             f"-I{name}", *extra_flags]
    cmd = [host_cc(), *flags, "-o", str(exe.relative_to(outdir)), *sources]
    proc = run_tool(cmd, cwd=outdir, remove_on_timeout=(exe,))
    if proc.returncode != 0:
        first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr.strip()[-300:])
        raise HostBuildError(f"host build in {outdir} failed: {first}", f"{' '.join(map(str, cmd))}\n{proc.stderr}")
    return exe


def run(exe: str | Path, x_nhwc: np.ndarray, output_size: int, timeout: float = 600) -> np.ndarray:
    """Run ``exe`` on int8 samples ``x_nhwc[N, ...]``; return int8 outputs ``[N, output_size]``."""
    x = np.ascontiguousarray(x_nhwc, dtype=np.int8)
    exe = Path(exe).resolve()
    with tempfile.TemporaryDirectory(prefix="mnv3c_") as tmp:
        input_file = Path(tmp) / "input.bin"
        input_file.write_bytes(x.tobytes())
        try:
            proc = run_group([exe, input_file], timeout=timeout)
        except subprocess.TimeoutExpired:
            raise GuestTimeout(f"host: {exe.name} did not finish within {timeout:g} s (killed)") from None
    if proc.returncode != 0:
        raise MnvError(f"{exe.name} exited with {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    out = np.frombuffer(proc.stdout, dtype=np.int8)
    if out.size != x.shape[0] * output_size:
        raise MnvError(f"{exe.name} wrote {out.size} bytes, expected {x.shape[0]} x {output_size}")
    return out.reshape(x.shape[0], output_size).copy()


def build_and_run(outdir: str | Path, x: np.ndarray, sanitize: bool = False) -> np.ndarray:
    """Build the project generate() wrote to ``outdir``, run it on int8 inputs ``x`` in the graph's
    layout (NCHW) and return the int8 outputs in the graph's layout too, batch first."""
    c_shape = read_report(outdir)["output"]["c_shape"]
    y = run(build(outdir, sanitize), nchw_to_nhwc(x), int(np.prod(c_shape[1:])))
    return c_to_graph_layout(y, c_shape)


def nchw_to_nhwc(x: np.ndarray) -> np.ndarray:
    """The C model's layout of an image batch; tensors of other ranks are already in C order."""
    return np.transpose(x, (0, 2, 3, 1)) if x.ndim == 4 else x


def c_to_graph_layout(y: np.ndarray, c_shape: Sequence[int]) -> np.ndarray:
    """Flat per-sample outputs ``y[N, ...]`` of the C model (report's ``c_shape``: NHWC for images)
    back in the graph's layout (NCHW), batch first."""
    y = y.reshape(len(y), *c_shape[1:])
    return np.transpose(y, (0, 3, 1, 2)) if y.ndim == 4 else y
