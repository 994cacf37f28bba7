"""Board registry: the single source of truth for each board's CPU flags, emulator and memory map.

The linker script, the memory-fit check and the QEMU command line are all derived from these
entries, so a board is added by adding one `Board` here (see ../../shared/TOOLCHAIN-FACTS.md
for where the QEMU numbers come from).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mnv3c.errors import MnvError, shown

KiB = 1024
MiB = 1024 * KiB
APP_PARTITION_BYTES = 4 * MiB - 64 * KiB  # ESP-IDF factory app partition at 0x10000 (esp_idf.py partitions.csv)

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


# QEMU 7.2 riscv32 CPU with exactly the ESP32-C3's RV32IMC (+ Zicsr, Zifencei): no A/F/D and none of the
# Zba/Zbb/Zbc/Zbs extensions QEMU enables by default (property names from QEMU 7.2 target/riscv/cpu.c).
STRICT_RV32IMC_CPU = "rv32,a=false,f=false,d=false,zba=false,zbb=false,zbc=false,zbs=false"

# Board support C files (in c/) linked into every image, per kind of board.
QEMU_CORTEXM_SOURCES = ("cortexm.c", "cortexm_fault.c", "rt_start.c", "io_common.c", "markers.c",
                        "semihost_input.c")
QEMU_RISCV_SOURCES = ("riscv_start.S", "riscv.c", "rt_start.c", "io_common.c", "markers.c", "semihost_input.c")
# Xtensa reads input.bin through its own simcall ABI (xtensa.c), not the Arm/RISC-V semihosting calls.
QEMU_XTENSA_SOURCES = ("xtensa_start.S", "xtensa.c", "rt_start.c", "io_common.c", "markers.c")
QEMU_XTENSA_WINDOWED_SOURCES = ("xtensa_win_start.S", "xtensa.c", "rt_start.c", "io_common.c", "markers.c")
HOST_SOURCES = ("host_io.c", "io_common.c", "markers.c")
# Real Cortex-M7 boards: no semihosting (cortexm.c) and no QEMU markers; add the board's console
# file. Their inputs are embedded (input_embedded.c reads input_data.c).
CORTEXM7_HW_SOURCES = ("cortexm7_hw.c", "cortexm_fault.c", "rt_start.c", "io_common.c", "input_embedded.c")


@dataclass(frozen=True)
class Board:
    """A build/run target.

    arch selects the compiler and entry point: "cortex-m", "riscv32", "xtensa", "host", or "esp-idf" (built by
    the user's ESP-IDF from the project mnv3c.boards.esp_idf writes, never by build()).
    Real boards (not emulated, not the host) are build-only here: there is no hardware to run on.
    """

    name: str
    target: str
    arch: str
    description: str
    cpu_flags: tuple[str, ...]
    sources: tuple[str, ...] = ()  # board support C files in c/, linked into every image
    # C files in c/ with the libgcc routines the toolchain lacks: linked into every image too, and
    # compiled with the model when its stack is measured (the model's arithmetic calls them)
    libgcc_helpers: tuple[str, ...] = ()
    qemu_binary: str | None = None
    qemu_machine: tuple[str, ...] = ()
    regions: tuple[MemoryRegion, ...] = ()
    placement: dict[str, str] = field(default_factory=dict, hash=False)  # role (ROLES) -> region name
    openocd_config: str | None = None  # `openocd -f <this>` flashes the board
    pyocd_target: str | None = None  # `pyocd flash -t <this>` flashes the board
    idf_target: str | None = None  # ESP-IDF target name (`idf.py set-target <this>`)
    compiler: str | None = None  # the cross compiler, when not the arch's usual one (toolchain.py)

    @property
    def emulated(self) -> bool:
        return self.qemu_binary is not None

    @property
    def hardware(self) -> bool:
        """A real board: built here, flashed and run by its owner."""
        return not self.emulated and self.arch != "host"

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
        sources=QEMU_CORTEXM_SOURCES,
        qemu_binary="qemu-system-arm",
        qemu_machine=("-M", machine),
        regions=(MemoryRegion("FLASH", flash, 4 * MiB, "flash"), MemoryRegion("RAM", ram, 4 * MiB, "ram")),
        placement={"CODE": "FLASH", "RODATA": "FLASH", "WEIGHTS": "FLASH", "DATA": "RAM", "ARENA": "RAM"},
    )


def _esp(name: str, target: str, chip: str, drom: int, dram: int, dram_bytes: int,
         psram: tuple[int, int] | None = None, idf_target: str | None = None) -> Board:
    """An ESP-IDF board. The regions are the chip's, for the fit check, not a linker script: flash is
    the factory app partition of the generated project (partitions.csv: 4 MiB flash less 64 KiB),
    DRAM the internal RAM ESP-IDF can link static data (.data/.bss) into, and, on modules with
    PSRAM, the external RAM ESP-IDF maps for static .bss (psram: origin, bytes), which then holds
    the activation arena. ESP-IDF's own static data shares DRAM, so the ESP-IDF link stays the
    authoritative check."""
    regions = [MemoryRegion("APP", drom, APP_PARTITION_BYTES, "flash"), MemoryRegion("DRAM", dram, dram_bytes, "ram")]
    if psram is not None:
        regions.append(MemoryRegion("PSRAM", psram[0], psram[1], "ram"))
    memory = f"{dram_bytes // KiB} KiB static DRAM" + (f", {psram[1] // MiB} MiB PSRAM (arena)" if psram else "")
    return Board(
        name=name,
        target=target,
        arch="esp-idf",
        description=f"{chip} (real hardware, build-only with the user's ESP-IDF): app partition "
        f"{APP_PARTITION_BYTES // KiB} KiB, {memory}",
        cpu_flags=(),
        regions=tuple(regions),
        placement={"CODE": "APP", "RODATA": "APP", "WEIGHTS": "APP", "DATA": "DRAM",
                   "ARENA": "PSRAM" if psram else "DRAM"},
        idf_target=idf_target or name,
    )


# ESP32 figures. ESP32 Series Datasheet (v4.x, section 4.1 "CPU and Memory"): 520 KB internal SRAM,
# 448 KB ROM; external SRAM (PSRAM) is mapped into the data space, 4 MB of it at 0x3F800000 (ESP32
# Technical Reference Manual, "System and Memory", external memory 0x3F80_0000-0x3FBF_FFFF). Of the
# 320 KB of DRAM, ESP-IDF can allocate at most 160 KB statically (ESP-IDF Programming Guide,
# "Memory Types", DRAM note); the rest is heap only. ESP32-WROVER-E modules carry 8 MB of PSRAM.
ESP32_STATIC_DRAM = 160 * KiB
ESP32_PSRAM = (0x3F800000, 4 * MiB)
# ESP32-S3 Series Datasheet (v1.x, section 4.1): 512 KB internal SRAM, 384 KB ROM, external flash and
# PSRAM through the cache, which maps 32 MB of external memory into the data bus at 0x3C000000.
# ESP-IDF's dram0_0_seg (components/esp_system/ld/esp32s3/memory.ld.in) runs from 0x3FC88000 to
# 0x3FCDB700 = 341,760 B, shared with the IRAM code of the same SRAM. ESP32-S3-WROOM-1-N8R8 modules
# carry 8 MB of octal PSRAM, which ESP-IDF maps into that window after the flash pages (the origin
# here is where it lands behind the 4 MiB app partition).
ESP32S3_STATIC_DRAM = 0x3FCDB700 - 0x3FC88000
ESP32S3_PSRAM = (0x3C000000 + 4 * MiB, 8 * MiB)
# ESP32-C3 Series Datasheet (v1.x, section 4.1): 400 KB internal SRAM, 16 KB of which is flash cache;
# no PSRAM. ESP-IDF's dram0_0_seg (components/esp_system/ld/esp32c3/memory.ld.in) runs from 0x3FC80000
# (after the 16 KB cache) to 0x3FCD0000 (the 2nd-stage bootloader above it), shared with IRAM code.
ESP32C3_STATIC_DRAM = 0x3FCD0000 - 0x3FC80000


_BOARDS: dict[str, Board] = {
    b.name: b
    for b in (
        Board(
            name="host",
            target="host",
            arch="host",
            description="native executable built with the host gcc (no instruction count)",
            cpu_flags=(),
            sources=HOST_SOURCES,
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
            sources=QEMU_CORTEXM_SOURCES,
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
        # is the PMP stack guard under the stack at the bottom of the RAM that follows. QEMU 7.2's
        # rv32 CPU enables Zba/Zbb/Zbc/Zbs by default; the ESP32-C3 has none of them, so they are
        # off (STRICT_RV32IMC_CPU): a bit-manipulation instruction traps as on the chip.
        Board(
            name="virt",
            target="riscv32",
            arch="riscv32",
            description="QEMU riscv32 virt, rv32imc (ESP32-C3 ISA class); flash 8 MiB - 4 KiB @ 0x80000000, "
            "RAM 8 MiB @ 0x80800000",
            cpu_flags=("-march=rv32imc", "-mabi=ilp32"),
            sources=QEMU_RISCV_SOURCES,
            qemu_binary="qemu-system-riscv32",
            qemu_machine=("-M", "virt", "-cpu", STRICT_RV32IMC_CPU, "-bios", "none"),
            regions=(
                MemoryRegion("FLASH", 0x80000000, 8 * MiB - 4 * KiB, "flash"),
                MemoryRegion("RAM", 0x80800000, 8 * MiB, "ram"),
            ),
            placement={"CODE": "FLASH", "RODATA": "FLASH", "WEIGHTS": "FLASH", "DATA": "RAM", "ARENA": "RAM"},
        ),
        # ESP8266 ISA (Xtensa LX106, call0 ABI, no MUL32_HIGH/DIV32) on QEMU's `sim` machine, whose
        # memory map is the lx106 core's local memories plus system ROM/RAM (QEMU 7.2
        # target/xtensa/core-lx106/core-isa.h), not the ESP8266's: QEMU starts at the reset vector
        # 0x50000000 in the 64 MiB system ROM, which holds code, rodata and weights; data ROM 0 and
        # data RAM 1 and 0 (0x3FF40000, 256 KiB each, contiguous, all writable in QEMU) hold the stack,
        # .data and .bss, with nothing mapped below 0x3FF40000, so a stack overflow faults; the arena
        # is in the system RAM at 0x60000000 (-m 16M). The chip itself has 80 KiB of user DRAM and maps
        # at most 1 MiB of flash.
        Board(
            name="sim-lx106",
            target="esp8266",
            arch="xtensa",
            description="QEMU xtensa sim, lx106 core (ESP8266 ISA, call0 ABI); code+rodata+weights in sysrom "
            "64 MiB @ 0x50000000, data/stack in local data memory 768 KiB @ 0x3FF40000, arena in sysram 16 MiB @ 0x60000000",
            cpu_flags=(),
            sources=QEMU_XTENSA_SOURCES,
            libgcc_helpers=("xtensa_libgcc.c",),
            qemu_binary="qemu-system-xtensa",
            qemu_machine=("-M", "sim", "-cpu", "lx106", "-m", "16M", "-semihosting"),
            regions=(
                MemoryRegion("SYSROM", 0x50000000, 64 * MiB, "flash"),
                MemoryRegion("DRAM", 0x3FF40000, 768 * KiB, "ram"),
                MemoryRegion("SYSRAM", 0x60000000, 16 * MiB, "ram"),
            ),
            placement={"CODE": "SYSROM", "RODATA": "SYSROM", "WEIGHTS": "SYSROM", "DATA": "DRAM", "ARENA": "SYSRAM"},
        ),
        # ESP32 ISA class (windowed ABI, as Xtensa LX6/LX7) on QEMU's `sim` machine with the de233_fpu
        # core, built with the xtensa-esp32-elf GCC of scripts/build-xtensa-esp32.sh (no MUL32_HIGH,
        # MAC16 or FP instructions: see that script). QEMU starts at the reset vector 0xFE000000 in the
        # 32 MiB system ROM, which holds code, rodata and weights; the 64 MiB system RAM (physical 0,
        # -m 64M) is seen at 0x40000000 through a data-TLB entry the reset code writes
        # (xtensa_win_start.S), so the stack at its bottom has unmapped memory below it. Not the ESP32's
        # memory map (520 KiB SRAM; its fit check is the esp32 board's).
        Board(
            name="sim-de233",
            target="esp32",
            arch="xtensa",
            description="QEMU xtensa sim, de233_fpu core (ESP32 ISA class, windowed ABI); code+rodata+weights "
            "in sysrom 32 MiB @ 0xFE000000, data/stack/arena in sysram 64 MiB seen @ 0x40000000",
            cpu_flags=(),
            sources=QEMU_XTENSA_WINDOWED_SOURCES,
            # libgcc has these, but without frame sizes: ours let the model's stack be bounded (stack.py)
            libgcc_helpers=("xtensa_libgcc.c",),
            qemu_binary="qemu-system-xtensa",
            qemu_machine=("-M", "sim", "-cpu", "de233_fpu", "-m", "64M", "-semihosting"),
            regions=(
                MemoryRegion("SYSROM", 0xFE000000, 32 * MiB, "flash"),
                MemoryRegion("SYSRAM", 0x40000000, 64 * MiB, "ram"),
            ),
            placement={"CODE": "SYSROM", "RODATA": "SYSROM", "WEIGHTS": "SYSROM", "DATA": "SYSRAM",
                       "ARENA": "SYSRAM"},
            compiler="xtensa-esp32-elf-gcc",
        ),
        # --- Real boards: built and linked here, never run here (no hardware). -----------------
        # STM32H743: .data/.bss/stack in the 128 KiB DTCM (zero wait states, not cached); the arena
        # in the 512 KiB AXI SRAM (DTCM is too small for MobileNet activations).
        Board(
            name="nucleo-h743zi",
            target="cortex-m7",
            arch="cortex-m",
            description="NUCLEO-H743ZI (real hardware, build-only here): STM32H743 Cortex-M7 DP FPU; "
            "flash 2 MiB, DTCM 128 KiB (data, stack), AXI SRAM 512 KiB (arena); console USART3 (ST-LINK VCP)",
            cpu_flags=("-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard"),
            sources=(*CORTEXM7_HW_SOURCES, "stm32h743_console.c"),
            regions=(
                MemoryRegion("FLASH", 0x08000000, 2 * MiB, "flash"),
                MemoryRegion("DTCM", 0x20000000, 128 * KiB, "ram"),
                MemoryRegion("AXISRAM", 0x24000000, 512 * KiB, "ram"),
            ),
            placement={"CODE": "FLASH", "RODATA": "FLASH", "WEIGHTS": "FLASH", "DATA": "DTCM", "ARENA": "AXISRAM"},
            openocd_config="board/st_nucleo_h743zi.cfg",
            pyocd_target="stm32h743zitx",
        ),
        # STM32F746: DTCM 64 KiB + SRAM1 240 KiB + SRAM2 16 KiB are contiguous: one 320 KiB region.
        Board(
            name="stm32f746g-disco",
            target="cortex-m7",
            arch="cortex-m",
            description="STM32F746G-DISCO (real hardware, build-only here): STM32F746 Cortex-M7 SP FPU; "
            "flash 1 MiB, SRAM 320 KiB; console USART1 (ST-LINK VCP)",
            cpu_flags=("-mcpu=cortex-m7", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"),
            sources=(*CORTEXM7_HW_SOURCES, "stm32f746_console.c"),
            regions=(
                MemoryRegion("FLASH", 0x08000000, 1 * MiB, "flash"),
                MemoryRegion("SRAM", 0x20000000, 320 * KiB, "ram"),
            ),
            placement={"CODE": "FLASH", "RODATA": "FLASH", "WEIGHTS": "FLASH", "DATA": "SRAM", "ARENA": "SRAM"},
            openocd_config="board/stm32f746g-disco.cfg",
            pyocd_target="stm32f746nghx",
        ),
        _esp("esp32", "esp32", "ESP32 (Xtensa LX6, 240 MHz) dev board", drom=0x3F400000, dram=0x3FFB0000,
             dram_bytes=ESP32_STATIC_DRAM),
        _esp("esp32-psram", "esp32", "ESP32-WROVER-E (Xtensa LX6, 240 MHz, 8 MB PSRAM) dev board", drom=0x3F400000,
             dram=0x3FFB0000, dram_bytes=ESP32_STATIC_DRAM, psram=ESP32_PSRAM, idf_target="esp32"),
        _esp("esp32s3", "esp32s3", "ESP32-S3 (Xtensa LX7, 240 MHz) dev board", drom=0x3C000000, dram=0x3FC88000,
             dram_bytes=ESP32S3_STATIC_DRAM),
        _esp("esp32s3-psram", "esp32s3", "ESP32-S3-WROOM-1-N8R8 (Xtensa LX7, 240 MHz, 8 MB octal PSRAM) dev board",
             drom=0x3C000000, dram=0x3FC88000, dram_bytes=ESP32S3_STATIC_DRAM, psram=ESP32S3_PSRAM,
             idf_target="esp32s3"),
        _esp("esp32c3", "riscv32", "ESP32-C3 (RISC-V rv32imc, 160 MHz) dev board", drom=0x3C000000, dram=0x3FC80000,
             dram_bytes=ESP32C3_STATIC_DRAM),
    )
}

_DEFAULT_BOARD = {
    "host": "host",
    "cortex-m4": "mps2-an386",
    "cortex-m7": "mps2-an500",
    "cortex-m33": "mps2-an505",
    "cortex-m55": "mps3-an547",
    "esp8266": "sim-lx106",
    "riscv32": "virt",  # stays the QEMU machine; the ESP32-C3 is --board esp32c3
    "esp32": "esp32",
    "esp32s3": "esp32s3",
}


def get_board(name: str) -> Board:
    """The board called `name`; MnvError listing the known boards otherwise."""
    try:
        return _BOARDS[name]
    except KeyError:
        raise MnvError(f"unknown board {shown(name)}; known boards: {', '.join(sorted(_BOARDS))}") from None


def default_board(target: str) -> Board:
    """The board a target builds for when --board is not given."""
    try:
        return _BOARDS[_DEFAULT_BOARD[target]]
    except KeyError:
        raise MnvError(
            f"no board for target {target!r}; targets with a board: {', '.join(_DEFAULT_BOARD)}"
        ) from None


# Targets whose default board is real hardware but which QEMU emulates: `mnv3c run` runs there.
_RUN_BOARD = {"esp32": "sim-de233"}


def resolve_board(target: str, board: str | None, run: bool = False) -> Board:
    """--board, or the target's default (for ``run``: its emulated board, if the default is real
    hardware); the board must be built for ``target``."""
    if board is None and run and target in _RUN_BOARD:
        board = _RUN_BOARD[target]
    b = get_board(board) if board is not None else default_board(target)
    if b.target != target:
        raise MnvError(f"board {b.name} is a {b.target} board, not {target}; pick a {target} board or omit --board")
    return b


def all_boards() -> list[Board]:
    return list(_BOARDS.values())


def qemu_boards() -> list[Board]:
    return [b for b in _BOARDS.values() if b.emulated]
