"""Board registry: the single source of truth for each board's CPU flags, emulator and memory map.

The linker script, the memory-fit check and the QEMU command line are all derived from these
entries, so a board is added by adding one `Board` here (see ../../shared/TOOLCHAIN-FACTS.md
for where the QEMU numbers come from).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mnv3c.errors import MnvError

KiB = 1024
MiB = 1024 * KiB

# Section roles a board places into its regions; the linker sees them as REGION_<role> (c/sections.ld).
ROLES = ("CODE", "RODATA", "WEIGHTS", "DATA", "ARENA")


@dataclass(frozen=True)
class MemoryRegion:
    """One linker MEMORY region. kind: "flash" (read-only at run time) or "ram"."""

    name: str
    origin: int
    length: int
    kind: str

    def contains(self, addr: int) -> bool:
        return self.origin <= addr < self.origin + self.length


@dataclass(frozen=True)
class Board:
    """A build/run target. arch selects the startup code: "cortex-m", "riscv32" or "host"."""

    name: str
    target: str
    arch: str
    description: str
    cpu_flags: tuple[str, ...]
    qemu_binary: str | None = None
    qemu_machine: tuple[str, ...] = ()
    regions: tuple[MemoryRegion, ...] = ()
    placement: dict[str, str] = field(default_factory=dict, hash=False)  # role (ROLES) -> region name

    @property
    def emulated(self) -> bool:
        return self.qemu_binary is not None

    @property
    def flash_size(self) -> int:
        return sum(r.length for r in self.regions if r.kind == "flash")

    @property
    def ram_size(self) -> int:
        return sum(r.length for r in self.regions if r.kind == "ram")

    def region(self, name: str) -> MemoryRegion:
        return next(r for r in self.regions if r.name == name)


def _mps(name: str, target: str, cpu_flags: str, flash: int, ram: int, machine: str, note: str) -> Board:
    """An MPS2 FPGA image: one 4 MiB SSRAM plays flash (code, rodata, weights), another is RAM."""
    return Board(
        name=name,
        target=target,
        arch="cortex-m",
        description=f"QEMU {machine}: {note}; flash 4 MiB @ {flash:#010x}, RAM 4 MiB @ {ram:#010x}",
        cpu_flags=tuple(cpu_flags.split()),
        qemu_binary="qemu-system-arm",
        qemu_machine=("-M", machine),
        regions=(MemoryRegion("FLASH", flash, 4 * MiB, "flash"), MemoryRegion("RAM", ram, 4 * MiB, "ram")),
        placement={"CODE": "FLASH", "RODATA": "FLASH", "WEIGHTS": "FLASH", "DATA": "RAM", "ARENA": "RAM"},
    )


_BOARDS: dict[str, Board] = {
    b.name: b
    for b in (
        Board(
            name="host",
            target="host",
            arch="host",
            description="native executable built with the host gcc (no instruction count)",
            cpu_flags=(),
        ),
        _mps("mps2-an386", "cortex-m4", "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard",
             0x00000000, 0x20000000, "mps2-an386", "Cortex-M4F"),
        _mps("mps2-an500", "cortex-m7", "-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard",
             0x00000000, 0x20000000, "mps2-an500", "Cortex-M7 (DP FPU)"),
        # AN505 boots in the Secure state: use the Secure aliases of SSRAM1 and SSRAM2/3.
        _mps("mps2-an505", "cortex-m33", "-mcpu=cortex-m33 -mfpu=fpv5-sp-d16 -mfloat-abi=hard",
             0x10000000, 0x38000000, "mps2-an505", "Cortex-M33, Secure state"),
        # AN547: the vector table and code run from ITCM (the reset VTOR), rodata and weights sit
        # in the read-only QSPI flash window the ELF loader fills, .data/.bss/stack in DTCM and the
        # activation arena in the 4 MiB SRAM.
        Board(
            name="mps3-an547",
            target="cortex-m55",
            arch="cortex-m",
            description="QEMU mps3-an547: Cortex-M55 with MVE; code in ITCM 512 KiB, rodata+weights in "
            "QSPI 8 MiB, data/stack in DTCM 512 KiB, arena in SRAM 4 MiB",
            cpu_flags=("-mcpu=cortex-m55", "-mfloat-abi=hard"),
            qemu_binary="qemu-system-arm",
            qemu_machine=("-M", "mps3-an547"),
            regions=(
                MemoryRegion("ITCM", 0x10000000, 512 * KiB, "flash"),
                MemoryRegion("QSPI", 0x38000000, 8 * MiB, "flash"),
                MemoryRegion("DTCM", 0x30000000, 512 * KiB, "ram"),
                MemoryRegion("SRAM", 0x31000000, 4 * MiB, "ram"),
            ),
            placement={"CODE": "ITCM", "RODATA": "QSPI", "WEIGHTS": "QSPI", "DATA": "DTCM", "ARENA": "SRAM"},
        ),
        # ESP32-C3 ISA class (RV32IMC, no FPU, no atomics). virt has plain DRAM at 0x80000000, where
        # QEMU -bios none starts execution: its first 8 MiB play flash, except the last 4 KiB, which
        # is the PMP stack guard under the stack at the bottom of the RAM that follows.
        Board(
            name="virt",
            target="riscv32",
            arch="riscv32",
            description="QEMU riscv32 virt, rv32imc (ESP32-C3 ISA class); flash 8 MiB - 4 KiB @ 0x80000000, "
            "RAM 8 MiB @ 0x80800000",
            cpu_flags=("-march=rv32imc", "-mabi=ilp32"),
            qemu_binary="qemu-system-riscv32",
            qemu_machine=("-M", "virt", "-cpu", "rv32,a=false,f=false,d=false", "-bios", "none"),
            regions=(
                MemoryRegion("FLASH", 0x80000000, 8 * MiB - 4 * KiB, "flash"),
                MemoryRegion("RAM", 0x80800000, 8 * MiB, "ram"),
            ),
            placement={"CODE": "FLASH", "RODATA": "FLASH", "WEIGHTS": "FLASH", "DATA": "RAM", "ARENA": "RAM"},
        ),
    )
}

_DEFAULT_BOARD = {
    "host": "host",
    "cortex-m4": "mps2-an386",
    "cortex-m7": "mps2-an500",
    "cortex-m33": "mps2-an505",
    "cortex-m55": "mps3-an547",
    "riscv32": "virt",
}


def get_board(name: str) -> Board:
    """The board called `name`; MnvError listing the known boards otherwise."""
    try:
        return _BOARDS[name]
    except KeyError:
        raise MnvError(f"unknown board {name!r}; known boards: {', '.join(sorted(_BOARDS))}") from None


def default_board(target: str) -> Board:
    """The board a target builds for when --board is not given."""
    try:
        return _BOARDS[_DEFAULT_BOARD[target]]
    except KeyError:
        raise MnvError(
            f"no board for target {target!r}; targets with a board: {', '.join(_DEFAULT_BOARD)}"
        ) from None


def all_boards() -> list[Board]:
    return list(_BOARDS.values())


def qemu_boards() -> list[Board]:
    return [b for b in _BOARDS.values() if b.emulated]
