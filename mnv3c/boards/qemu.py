"""Run a board image under QEMU (or natively for the host board) with a hard timeout.

The exact per-inference instruction count comes from a small TCG plugin (plugin/insn_count.c)
that QEMU loads with the addresses of mnv3c_marker_begin/end from the ELF's symbol table; it is
compiled with the host gcc on first use into a cache directory. Guest faults, CPU lockups and
timeouts become CheckFailed errors carrying the fault registers; nothing here can hang.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mnv3c.boards.elf import read_elf
from mnv3c.boards.registry import Board
from mnv3c.boards.toolchain import compiler_name, find_tool, run_tool, which_tool
from mnv3c.errors import CheckFailed, MnvError
from mnv3c.subprocesses import run_group

PLUGIN_SOURCE = Path(__file__).parent / "plugin" / "insn_count.c"

# Arm output and exit go through semihosting; without it BKPT locks the core up.
_SEMIHOSTING = (
    "-semihosting-config", "enable=on,target=native,chardev=mnv3c_out",
    "-chardev", "stdio,id=mnv3c_out",
    "-serial", "none",
)  # fmt: skip
_UART_STDIO = ("-serial", "stdio")
# RISC-V prints on the UART; semihosting only reads the input file.
_SEMIHOSTING_FILES = ("-semihosting-config", "enable=on,target=native")
INPUT_FILE = "input.bin"  # the guest's input stream, in the emulator's working directory (c/semihost_input.c)


class GuestFault(CheckFailed):
    """The guest took a HardFault / trap; the message carries the fault registers."""


class GuestTimeout(CheckFailed):
    """The emulator did not finish within the time limit and was killed. The image is mnv3c's own
    code, so a hang is an mnv3c bug: exit code 3."""

    exit_code = 3


@dataclass(frozen=True)
class RunResult:
    stdout_lines: list[str]
    exit_code: int
    instructions: int | None  # first inference; None on the host
    instructions_per_sample: list[int]
    stderr: str
    # per sample, the counts (from the begin marker) at which mnv3c_model_run was entered and at
    # which each of its calls returned; empty when the image has no mnv3c_model_run
    marks_per_sample: tuple[tuple[int, ...], ...] = ()


def cache_dir() -> Path:
    """Where built helper binaries go: $MNV3C_CACHE_DIR, else ~/.cache/mnv3c."""
    root = os.environ.get("MNV3C_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mnv3c"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def plugin_path() -> Path:
    """The instruction-count plugin, compiled once per source version (atomic, safe under pytest -n)."""
    source = PLUGIN_SOURCE.read_bytes()
    target = cache_dir() / f"insn_count-{hashlib.sha256(source).hexdigest()[:12]}.so"
    if not target.exists():
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        cmd = [find_tool("gcc"), "-shared", "-fPIC", "-O2", "-Wall", "-o", str(tmp), str(PLUGIN_SOURCE)]
        proc = run_tool(cmd, remove_on_timeout=(tmp,))
        if proc.returncode != 0:
            raise MnvError(f"cannot build the QEMU instruction-count plugin: {proc.stderr.strip()}")
        os.replace(tmp, target)
    return target


def qemu_command(board: Board, elf: Path, insn_log: Path, icount: bool = False,
                 model_run: str = "mnv3c_model_run") -> list[str]:
    """Full QEMU command line for `elf` on `board`, counting marked instructions into `insn_log`
    (per layer too: ``model_run`` is the model's run function, `--name`_model_run)."""
    cmd = [find_tool(board.qemu_binary), *board.qemu_machine, "-display", "none", "-monitor", "none"]
    cmd += _SEMIHOSTING if board.arch == "cortex-m" else (*_UART_STDIO, *_SEMIHOSTING_FILES)
    if icount:
        cmd += ["-icount", "shift=0"]
    functions = read_elf(elf).functions
    if "mnv3c_marker_begin" in functions and "mnv3c_marker_end" in functions:  # else garbage-collected: unused
        # Thumb function symbols have bit 0 set; the instruction address does not.
        begin, end = functions["mnv3c_marker_begin"] & ~1, functions["mnv3c_marker_end"] & ~1
        plugin = f"{plugin_path()},begin={begin:#x},end={end:#x},out={insn_log}"
        glue = function_range(functions, model_run)
        if glue is not None:
            plugin += f",glue={glue[0]:#x}-{glue[1]:#x}"
        cmd += ["-plugin", plugin]
    cmd += ["-kernel", str(elf)]
    return cmd


def function_range(functions: dict[str, int], name: str) -> tuple[int, int] | None:
    """[start, end) of a function's code: up to the next function symbol (Thumb bit cleared)."""
    if name not in functions:
        return None
    start = functions[name] & ~1
    later = [a & ~1 for a in functions.values() if a & ~1 > start]
    return (start, min(later)) if later else None


def run_elf(board: Board, elf: Path, timeout_s: float = 60.0, check: bool = True, icount: bool = False,
            input_bytes: bytes = b"", model_run: str = "mnv3c_model_run") -> RunResult:
    """Run an image built for `board` and collect its output, exit code and instruction counts.

    check: raise CheckFailed when the program exits non-zero. Faults, lockups and timeouts raise
    regardless. icount: also run QEMU with -icount shift=0 (virtual time = instruction count, which
    makes guest timers and RISC-V minstret deterministic; the plugin count does not need it).
    input_bytes: the guest's input stream (io_read_input), the file input.bin in the directory it
    runs in, so no sample needs to be linked into the image.
    """
    if board.hardware:
        raise MnvError(f"{board.name} is real hardware: images for it are built here but not run; "
                       f"flash it with `mnv3c flash OUTDIR --board {board.name}`")
    elf = Path(elf).resolve()
    with tempfile.TemporaryDirectory(prefix="mnv3c-run-") as tmp:
        insn_log = Path(tmp) / "insn.txt"
        (Path(tmp) / INPUT_FILE).write_bytes(input_bytes)
        if board.emulated:
            cmd = qemu_command(board, elf, insn_log, icount, model_run)
        else:
            cmd = [str(elf)]
        try:
            proc = run_group(cmd, timeout=timeout_s, cwd=tmp)  # an interrupt kills the emulator's whole group too
        except subprocess.TimeoutExpired:
            raise GuestTimeout(f"{board.name}: {elf.name} did not finish within {timeout_s:g} s (killed)") from None
        out, err = proc.stdout, proc.stderr
        log = insn_log.read_text().splitlines() if insn_log.exists() else []
        counts = [int(ln.split()[1]) for ln in log if ln.startswith("INSN ")]
        marks = tuple(tuple(int(v) for v in ln.split()[1:] if v.isdigit()) for ln in log if ln.startswith("MARKS"))

    lines = out.decode(errors="replace").splitlines()
    stderr = err.decode(errors="replace")
    fault = next((ln for ln in lines if ln.startswith("FAULT")), None)
    if fault is not None:
        raise GuestFault(f"{board.name}: guest fault: {fault[len('FAULT '):]}{_symbolize(fault, elf, board)}")
    if board.emulated and ("Lockup" in stderr or proc.returncode == -signal.SIGABRT):  # QEMU aborts on lockup
        raise CheckFailed(
            f"{board.name}: CPU lockup (fault while handling a fault, e.g. stack overflow): {stderr.strip()[:300]}"
        )
    if check and proc.returncode != 0:
        detail = stderr.strip().splitlines()[-1] if stderr.strip() else (lines[-1] if lines else "no output")
        raise CheckFailed(f"{board.name}: {elf.name} exited with status {proc.returncode}: {detail}")
    return RunResult(lines, proc.returncode, counts[0] if counts else None, counts, stderr, marks)


def _symbolize(fault_line: str, elf: Path, board: Board) -> str:
    """' (PC in func+0xoff at file.c:line)' for the faulting PC / mepc: the function from the
    ELF symbol table, the source line from the toolchain's addr2line (when it is installed)."""
    fields = dict(f.split("=", 1) for f in fault_line.split() if "=" in f)
    pc_text = fields.get("PC") or fields.get("mepc")
    if pc_text is None:
        return ""
    pc = int(pc_text, 16)
    best = None
    for name, addr in read_elf(elf).functions.items():
        addr &= ~1
        if addr <= pc and (best is None or addr > best[1]):
            best = (name, addr)
    if best is None:
        return ""
    return f" (PC in {best[0]}+{pc - best[1]:#x}{_source_line(board, elf, pc)})"


def _source_line(board: Board, elf: Path, pc: int) -> str:
    """' at file.c:line' from addr2line (arm-none-eabi-, riscv64-unknown-elf- or the host's)."""
    tool = which_tool(compiler_name(board).removesuffix("gcc") + "addr2line")
    if tool is None:
        return ""
    proc = subprocess.run([tool, "-e", str(elf), f"{pc:#x}"], capture_output=True, text=True, timeout=30)
    where = proc.stdout.strip().split(" (discriminator")[0]
    if proc.returncode != 0 or not where or where.startswith("??"):
        return ""
    return f" at {Path(where.rsplit(':', 1)[0]).name}:{where.rsplit(':', 1)[1]}"
