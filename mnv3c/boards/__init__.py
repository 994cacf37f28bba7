"""Board support: startup code, linker scripts, toolchains and the QEMU runner.

Independent of the model code: a model is linked in behind `mnv3c_harness_run()` (c/harness_main.c).
"""

from mnv3c.boards.esp_idf import write_esp_idf_project
from mnv3c.boards.fit import check_fit
from mnv3c.boards.flash import flash, flash_commands, run_flash
from mnv3c.boards.harness import HARNESS_MAIN, parse_outputs, write_input_data
from mnv3c.boards.qemu import GuestFault, GuestTimeout, RunResult, run_elf
from mnv3c.boards.registry import Board, MemoryRegion, all_boards, default_board, get_board, qemu_boards
from mnv3c.boards.toolchain import BuildError, BuildResult, build, find_tool, size_report

__all__ = [
    "write_esp_idf_project", "check_fit", "flash", "flash_commands", "run_flash",
    "HARNESS_MAIN", "parse_outputs", "write_input_data",
    "GuestFault", "GuestTimeout", "RunResult", "run_elf",
    "Board", "MemoryRegion", "all_boards", "default_board", "get_board", "qemu_boards",
    "BuildError", "BuildResult", "build", "find_tool", "size_report",
]  # fmt: skip
