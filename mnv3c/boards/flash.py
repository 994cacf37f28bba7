"""`mnv3c flash OUTDIR [--board BOARD] [--dry-run]`: put a built image on a real board.

Nothing here has touched real hardware: the commands are the boards' documented ones, and
--dry-run prints them exactly. What is flashed:
- ST boards: OUTDIR/app.elf, with openocd (its board config), else pyocd if only pyocd is installed.
- ESP32 boards: the ESP-IDF project in OUTDIR/esp-idf (mnv3c.boards.esp_idf) with `idf.py flash`,
  which builds first; without ESP-IDF, esptool with the project's build/flash_args if it was built.
- QEMU machines and the host: nothing to flash (MnvError: use `mnv3c run`).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

from mnv3c.boards.registry import Board, get_board
from mnv3c.boards.toolchain import which_tool
from mnv3c.errors import MnvError

ELF_NAME = "app.elf"  # the firmware `mnv3c build` leaves in OUTDIR for a real Cortex-M board
ESP_IDF_DIR = "esp-idf"  # the ESP-IDF project inside OUTDIR for an ESP32 board

INSTALL_HINTS = {
    "openocd": "apt-get install openocd",
    "pyocd": "pip install pyocd",
    "idf.py": "install ESP-IDF >= 5.0 (https://docs.espressif.com/projects/esp-idf/) and source its export.sh "
    "(or build the project elsewhere, then `mnv3c flash` uses esptool.py with its build/flash_args)",
    "esptool.py": "pip install esptool",
}


def flash_commands(outdir: Path, board: Board) -> list[list[str]]:
    """The commands that flash OUTDIR's image to `board`, in order (tools named as on PATH)."""
    outdir = Path(outdir).resolve()
    if not board.hardware:
        what = "the host" if board.arch == "host" else "a QEMU machine"
        raise MnvError(f"board {board.name} is {what}: there is nothing to flash; run the model with `mnv3c run`")
    if board.idf_target is not None:
        return _esp_commands(outdir / ESP_IDF_DIR, board.idf_target)
    elf = outdir / ELF_NAME
    if board.openocd_config and (which_tool("openocd") or not which_tool("pyocd")):
        return [["openocd", "-f", board.openocd_config, "-c", f"program {elf} verify reset exit"]]
    return [["pyocd", "flash", "-t", str(board.pyocd_target), str(elf)]]


def _esp_commands(project: Path, chip: str) -> list[list[str]]:
    """idf.py when ESP-IDF is installed (the honest command for an ESP-IDF project); otherwise
    esptool with the addresses ESP-IDF wrote to build/flash_args, if the project was built."""
    port = os.environ.get("ESPPORT")  # idf.py reads it too; without it both tools probe the ports
    port_args = ["-p", port] if port else []
    flash_args = project / "build" / "flash_args"
    if which_tool("idf.py") or not (which_tool("esptool.py") and flash_args.exists()):
        return [["idf.py", "-C", str(project), *port_args, "flash"]]
    # flash_args: one line of options, then "<offset> <path relative to build/>" per image.
    lines = flash_args.read_text().splitlines()
    images = []
    for line in lines[1:]:
        if line.strip():
            offset, path = line.split(maxsplit=1)
            images += [offset, str(flash_args.parent / path)]
    return [["esptool.py", "--chip", chip, *port_args, "write_flash", *lines[0].split(), *images]]


def run_flash(outdir: Path, board: Board, dry_run: bool) -> list[list[str]]:
    """Run the flash commands (a dry run only returns them); MnvError with an install hint if a tool
    is missing."""
    commands = flash_commands(outdir, board)
    if dry_run:
        return commands
    elf = Path(outdir) / ELF_NAME
    if board.idf_target is None and not elf.exists():
        raise MnvError(f"{elf} does not exist; build it first with `mnv3c build {outdir}`")
    for cmd in commands:
        exe = which_tool(cmd[0])
        if exe is None:
            raise MnvError(f"{cmd[0]} not found (needed to flash {board.name}); {INSTALL_HINTS[cmd[0]]}")
        proc = subprocess.run([exe, *cmd[1:]])
        if proc.returncode != 0:
            raise MnvError(f"flashing {board.name} failed: {cmd[0]} exited with status {proc.returncode}")
    return commands


def flash(outdir: Path, board_name: str | None, dry_run: bool) -> dict:
    """`mnv3c flash`: the board is --board, else the "board" field of OUTDIR/report.json."""
    outdir = Path(outdir)
    if board_name is None:
        report = outdir / "report.json"
        try:
            board_name = json.loads(report.read_text()).get("board")
        except (OSError, ValueError, AttributeError):
            board_name = None
        if not board_name:
            raise MnvError(f"no --board given and {report} names no board")
    board = get_board(board_name)
    commands = run_flash(outdir, board, dry_run)
    return {"board": board.name, "dry_run": dry_run, "commands": [shlex.join(c) for c in commands]}
