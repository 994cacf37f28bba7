"""Cross toolchains: find them, compile and link a board image in one gcc call, report its size.

The linker script is generated from the board registry (MEMORY plus region aliases) followed by
the shared c/sections.ld, so memory sizes live in exactly one place. A link that overflows a
region is the authoritative "model does not fit the board" check and raises MnvError.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mnv3c.boards.elf import read_elf
from mnv3c.boards.registry import ROLES, Board
from mnv3c.errors import MnvError, ToolTimeout
from mnv3c.subprocesses import run_group

C_DIR = Path(__file__).parent / "c"

# Executable -> Debian package that provides it (for the error message).
TOOL_PACKAGES = {
    "arm-none-eabi-gcc": "gcc-arm-none-eabi",
    "riscv64-unknown-elf-gcc": "gcc-riscv64-unknown-elf",
    "qemu-system-arm": "qemu-system-arm",
    "qemu-system-riscv32": "qemu-system-misc",
    "xtensa-lx106-elf-gcc": "gcc-xtensa-lx106",
    "qemu-system-xtensa": "qemu-system-misc",
    "gcc": "gcc",
}
# Built by a script of the repository instead (no Debian package has a windowed-ABI Xtensa GCC).
XTENSA_ESP32_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-xtensa-esp32.sh"
_BUILT_TOOLS = {"xtensa-esp32-elf-gcc": XTENSA_ESP32_SCRIPT}

_COMPILER = {"cortex-m": "arm-none-eabi-gcc", "riscv32": "riscv64-unknown-elf-gcc", "xtensa": "xtensa-lx106-elf-gcc",
             "host": "gcc"}

_ENTRY = {"cortex-m": "Reset_Handler", "riscv32": "_start", "xtensa": "_start"}

BUILD_TIMEOUT_S = 600.0  # one compiler call; a whole MobileNet at 224x224 builds in seconds


class BuildError(MnvError):
    """The C build failed; `log` holds the full compiler output."""

    def __init__(self, message: str, log: str = ""):
        super().__init__(message)
        self.log = log


@dataclass(frozen=True)
class BuildResult:
    elf: Path
    flash_bytes: int
    ram_bytes: int
    region_usage: dict[str, int]  # region -> bytes used, as the linker's --print-memory-usage says


def tool_env_var(name: str) -> str:
    """Environment variable that overrides where `name` is found, e.g. MNV3C_QEMU_SYSTEM_ARM."""
    return "MNV3C_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def which_tool(name: str) -> str | None:
    """Absolute path of executable `name`, or None; the environment variable tool_env_var(name) may
    name a different executable (path or PATH name)."""
    return shutil.which(os.environ.get(tool_env_var(name), name))


def find_tool(name: str) -> str:
    """which_tool(name), or a one-line MnvError saying what to install."""
    found = which_tool(name)
    if found is None:
        wanted = os.environ.get(tool_env_var(name), name)
        via = f" (from ${tool_env_var(name)})" if wanted != name else ""
        if name in _BUILT_TOOLS:
            raise MnvError(f"{wanted}{via} not found; build it once per machine with: {_BUILT_TOOLS[name]} "
                           "(about 25 min; scripts/install.sh runs it)")
        raise MnvError(f"{wanted}{via} not found; install it with: apt-get install {TOOL_PACKAGES.get(name, name)}")
    return found


def xtensa_esp32_prefix() -> Path | None:
    """Where scripts/build-xtensa-esp32.sh installed its toolchain on this machine, or None. The
    script names the directory after a hash of its own non-comment lines (as `grep -v` sees them),
    under $MNV3C_TOOLCHAIN_CACHE, else /opt/mnv3c or ~/.cache/mnv3c."""
    if not XTENSA_ESP32_SCRIPT.exists():
        return None
    lines = XTENSA_ESP32_SCRIPT.read_text().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    code = "".join(line + "\n" for line in lines if not re.match(r"[ \t\r\v\f]*#", line))
    name = "xtensa-esp32-" + hashlib.sha256(code.encode()).hexdigest()[:12]
    if os.environ.get("MNV3C_TOOLCHAIN_CACHE"):
        roots = [Path(os.environ["MNV3C_TOOLCHAIN_CACHE"])]
    else:
        roots = [Path("/opt/mnv3c"), Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mnv3c"]
    return next((root / name for root in roots if (root / name / ".complete").exists()), None)


def run_tool(cmd: list[str], timeout_s: float | None = None, cwd: Path | None = None,
             remove_on_timeout: tuple[Path, ...] = ()) -> subprocess.CompletedProcess:
    """Run a build tool in its own process group with a time limit (default BUILD_TIMEOUT_S). On
    timeout the group (cc1, as, ld, ...) is killed, ``remove_on_timeout`` files are deleted, and
    ToolTimeout names what was running."""
    timeout_s = BUILD_TIMEOUT_S if timeout_s is None else timeout_s
    try:
        return run_group(cmd, timeout=timeout_s, cwd=cwd, text=True)
    except subprocess.TimeoutExpired:
        for path in remove_on_timeout:
            path.unlink(missing_ok=True)
        raise ToolTimeout(f"{Path(cmd[0]).name} did not finish within {timeout_s:g} s and was killed "
                          f"(running: {' '.join(map(str, cmd))[:300]})") from None


def compiler_name(board: Board) -> str:
    """The board's cross compiler: a PATH name, or the absolute path of one our scripts built
    (unless its environment variable, tool_env_var, names another)."""
    name = board.compiler or _COMPILER[board.arch]
    if name in _BUILT_TOOLS and tool_env_var(name) not in os.environ and shutil.which(name) is None:
        prefix = xtensa_esp32_prefix()
        if prefix is not None and (prefix / "bin" / name).exists():
            return str(prefix / "bin" / name)
    return name


def required_tools(board: Board) -> list[str]:
    """The executables building and running on ``board`` takes: its compiler first, then the
    emulator and the host gcc that builds the emulator's instruction-count plugin."""
    if board.arch == "esp-idf":
        return []  # built by the user's ESP-IDF
    tools = [compiler_name(board)]
    if board.emulated:
        tools += [board.qemu_binary, "gcc"]
    return tools


def check_tools(board: Board) -> None:
    """Every executable building and running on ``board`` needs, found before any slow work."""
    for tool in required_tools(board):
        find_tool(tool)


def board_sources(board: Board) -> list[Path]:
    """Startup, I/O and run-time C files the board contributes to every image (from the registry)."""
    return [C_DIR / f for f in (*board.sources, *board.libgcc_helpers)]


def compile_flags(board: Board, opt: str = "-O2") -> list[str]:
    """Compiler flags for code that runs on `board` (model code included)."""
    flags = [opt, "-g", "-std=gnu11", "-Wall", "-ffunction-sections", "-fdata-sections", f"-I{C_DIR}"]
    if board.arch == "host":
        return flags
    flags += ["-ffreestanding", "-fno-common", *board.cpu_flags]
    if board.arch == "cortex-m":
        flags.append("-mthumb")
    return flags


def linker_script_text(board: Board) -> str:
    """The board's linker script: MEMORY and region aliases from the registry, then c/sections.ld
    with its INCLUDEs written out, so the script is complete on its own (OUTDIR/app.ld)."""
    lines = [f"/* Generated by mnv3c.boards.toolchain for board {board.name}. */", f"ENTRY({_ENTRY[board.arch]})", "", "MEMORY", "{"]
    for r in board.regions:
        access = "rx" if r.kind == "flash" else "rwx"
        lines.append(f"    {r.name:<6} ({access}) : ORIGIN = {r.origin:#010x}, LENGTH = {r.length:#x}")
    lines += ["}", ""]
    lines += [f"REGION_ALIAS(\"REGION_{role}\", {board.placement[role]});" for role in ROLES]
    lines += ["", _inlined(C_DIR / "sections.ld"), ""]
    return "\n".join(lines)


def _inlined(script: Path) -> str:
    """A linker script file with each `INCLUDE name` line replaced by that file of c/."""
    out = []
    for line in script.read_text().splitlines():
        words = line.split()
        out.append(_inlined(C_DIR / words[1]) if words[:1] == ["INCLUDE"] else line)
    return "\n".join(out)


def link_flags(board: Board, script: Path) -> list[str]:
    if board.arch == "host":
        return ["-Wl,--gc-sections"]
    return ["-nostdlib", f"-T{script}", "-Wl,--gc-sections", "-Wl,--no-warn-rwx-segments",
            "-Wl,--print-memory-usage"]


def build(
    board: Board,
    sources: list[Path],
    out: Path,
    include_dirs: tuple[Path, ...] = (),
    defines: dict[str, str] | None = None,
    opt: str = "-O2",
) -> BuildResult:
    """Compile `sources` plus the board's own files and link them into `out` (an ELF)."""
    if board.arch == "esp-idf":
        raise MnvError(
            f"board {board.name} is built by ESP-IDF, not by mnv3c: write the project with "
            "mnv3c.boards.esp_idf.write_esp_idf_project and run `idf.py build` in it"
        )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    script = out.with_suffix(".ld")
    if board.arch != "host":
        script.write_text(linker_script_text(board))
    cmd = [find_tool(compiler_name(board)), *compile_flags(board, opt)]
    cmd += [f"-I{d}" for d in include_dirs]
    cmd += [f"-D{k}={v}" for k, v in (defines or {}).items()]
    cmd += [str(s) for s in [*sources, *board_sources(board)]]
    cmd += [*link_flags(board, script), "-o", str(out), "-lgcc"]
    proc = run_tool(cmd, remove_on_timeout=(out,))
    if proc.returncode != 0:
        log = proc.stderr + proc.stdout
        overflow = re.search(r"region `(\w+)' overflowed by (\d+) bytes", log)
        if overflow:
            region = board.region(overflow.group(1))
            raise BuildError(
                f"does not fit board {board.name}: {region.name} ({region.length} bytes) "
                f"overflowed by {overflow.group(2)} bytes",
                log,
            )
        lines = log.strip().splitlines()
        first = next((ln for ln in lines if "error" in ln), lines[-1] if lines else "no compiler output")
        raise BuildError(f"build for board {board.name} failed: {first}", log)
    flash, ram = size_report(board, out)
    return BuildResult(out, flash, ram, parse_memory_usage(proc.stdout))


_UNITS = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}


def parse_memory_usage(text: str) -> dict[str, int]:
    """Region -> used bytes from ld's --print-memory-usage table ("FLASH: 12345 B  4 MB  0.29%");
    ld prints KB/MB/GB only for exact multiples, so the numbers are exact."""
    usage = {}
    for name, size, unit in re.findall(r"^\s*(\w+):\s+(\d+) (B|KB|MB|GB)\s", text, re.M):
        usage[name] = int(size) * _UNITS[unit]
    return usage


def size_report(board: Board, elf: Path) -> tuple[int, int]:
    """(flash_bytes, ram_bytes) of a linked image.

    flash: bytes stored in flash-kind regions (code, rodata, weights, .data's initial values).
    ram: bytes occupied in RAM-kind regions (.data, .bss, arena, stack).
    The host has no regions: there flash is the file-backed read-only part, ram the writable part.
    """
    flash = ram = 0
    for s in read_elf(elf).sections:
        if not s.alloc or s.size == 0:
            continue
        if board.arch == "host":
            if s.writable:
                ram += s.size
            if not s.nobits and not s.writable:
                flash += s.size
            continue
        if not s.nobits and any(r.kind == "flash" and r.contains(s.lma) for r in board.regions):
            flash += s.size
        if any(r.kind == "ram" and r.contains(s.addr) for r in board.regions):
            ram += s.size
    return flash, ram
