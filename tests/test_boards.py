"""Board support under QEMU: harness protocol, exact instruction counts, fault reports, tool errors.

Uses the test-only programs in mnv3c/boards/selftest/ (a fake model, a known loop, faults).
Skips only when a cross compiler or emulator is really not installed.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mnv3c.boards import (
    HARNESS_MAIN,
    BuildError,
    GuestFault,
    GuestTimeout,
    build,
    default_board,
    get_board,
    parse_outputs,
    qemu_boards,
    run_elf,
    write_input_data,
)
from mnv3c.boards.toolchain import C_DIR, compile_flags, compiler_name, linker_script_text, tool_env_var
from mnv3c.errors import CheckFailed, MnvError

SELFTEST = Path(__file__).resolve().parents[1] / "mnv3c" / "boards" / "selftest"
SAMPLES, INPUT_BYTES, OUTPUT_BYTES = 3, 300, 130  # 130 output bytes: more than one io_write_hex chunk
BOARD_NAMES = [b.name for b in qemu_boards()]


def _require_tools(board) -> None:
    for tool in (compiler_name(board), board.qemu_binary):
        if tool and shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (needed for board {board.name})")


@pytest.fixture(scope="module")
def harness_inputs(tmp_path_factory) -> tuple[Path, np.ndarray]:
    d = tmp_path_factory.mktemp("inputs")
    x = np.random.default_rng(7).integers(-128, 128, size=(SAMPLES, INPUT_BYTES), dtype=np.int8)
    write_input_data(d, x, OUTPUT_BYTES)
    return d, x


def _build_fake_model(board, inputs_dir: Path, out: Path):
    """The harness and the fake model; the samples are streamed (run_elf's input_bytes)."""
    return build(board, [HARNESS_MAIN, SELFTEST / "fake_model.c"], out, include_dirs=(inputs_dir,))


@pytest.fixture(scope="module")
def host_outputs(harness_inputs, tmp_path_factory) -> np.ndarray:
    host = get_board("host")
    _require_tools(host)
    inputs_dir, _ = harness_inputs
    image = _build_fake_model(host, inputs_dir, tmp_path_factory.mktemp("host") / "app")
    result = run_elf(host, image.elf, timeout_s=10, input_bytes=harness_inputs[1].tobytes())
    assert result.instructions is None
    return parse_outputs(result.stdout_lines, SAMPLES, OUTPUT_BYTES)


def test_default_boards_follow_the_spec():
    expected = {"cortex-m4": "mps2-an386", "cortex-m7": "mps2-an500", "cortex-m33": "mps2-an505",
                "cortex-m55": "mps3-an547", "riscv32": "virt", "esp8266": "sim-lx106", "host": "host"}  # fmt: skip
    assert {t: default_board(t).name for t in expected} == expected
    with pytest.raises(MnvError, match="unknown board"):
        get_board("nucleo-f401re")
    with pytest.raises(MnvError, match="no board for target"):
        default_board("cortex-m0")


def test_linker_script_comes_from_the_registry():
    board = get_board("mps3-an547")
    text = linker_script_text(board)
    assert "QSPI   (rx) : ORIGIN = 0x38000000, LENGTH = 0x800000" in text
    assert 'REGION_ALIAS("REGION_WEIGHTS", QSPI);' in text
    assert board.flash_size == 512 * 1024 + 8 * 1024 * 1024


@pytest.mark.qemu
@pytest.mark.parametrize("name", BOARD_NAMES)
def test_fake_model_matches_host_and_counts_are_stable(name, harness_inputs, host_outputs, tmp_path):
    board = get_board(name)
    _require_tools(board)
    image = _build_fake_model(board, harness_inputs[0], tmp_path / "app.elf")
    assert 0 < image.flash_bytes <= board.flash_size
    assert 32 * 1024 <= image.ram_bytes <= board.ram_size  # includes the 32 KiB stack

    stream = harness_inputs[1].tobytes()
    first, second = (run_elf(board, image.elf, timeout_s=20, input_bytes=stream) for _ in range(2))
    np.testing.assert_array_equal(parse_outputs(first.stdout_lines, SAMPLES, OUTPUT_BYTES), host_outputs)
    assert first.stdout_lines == second.stdout_lines
    assert len(first.instructions_per_sample) == SAMPLES
    assert first.instructions_per_sample == second.instructions_per_sample
    # At least one load-multiply-accumulate per input byte per output byte.
    assert INPUT_BYTES * OUTPUT_BYTES <= first.instructions <= 20 * INPUT_BYTES * OUTPUT_BYTES


def test_riscv_semihosting_sequence_never_straddles_a_page(harness_inputs, tmp_path):
    """QEMU takes slli/ebreak/srai as a semihosting call only when the three lie in one 4 KiB page;
    otherwise the ebreak is a plain breakpoint (mcause 3 in mnv3c_semihost: MobileNetV2 64x64x0.35
    with in-place depthwise put the slli at 0x80003ffc). riscv.c starts them on a 16-byte boundary,
    so no placement of the function can split them: its object's section is 16-byte aligned (without
    the .balign: 2-byte; the linker then trims the padding to reach the boundary), and in the linked
    image the marker sits at a multiple of 16."""
    board = get_board("virt")
    _require_tools(board)
    objdump = compiler_name(board).removesuffix("gcc") + "objdump"

    def markers(elf: Path) -> list[int]:
        asm = subprocess.run([objdump, "-d", str(elf)], capture_output=True, text=True, check=True).stdout
        words = {int(a, 16): w for a, w in re.findall(r"^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s", asm, re.M)}
        found = [a for a, w in words.items() if w == "01f01013"]
        assert found and all((words.get(a + 4), words.get(a + 8)) == ("00100073", "40705013") for a in found)
        return found

    obj = tmp_path / "riscv.o"
    subprocess.run([compiler_name(board), *compile_flags(board), "-c", str(C_DIR / "riscv.c"), "-o", str(obj)],
                   check=True)
    sections = subprocess.run([objdump, "-h", str(obj)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"\.text\.mnv3c_semihost\s.*\s2\*\*([4-9]|1\d)\s*$", sections, re.M), sections
    image = _build_fake_model(board, harness_inputs[0], tmp_path / "app.elf")
    assert all(a % 16 == 0 and a // 4096 == (a + 8) // 4096 for a in markers(image.elf))


@pytest.mark.qemu
@pytest.mark.parametrize("name", BOARD_NAMES)
def test_known_loop_count_is_exact(name, tmp_path):
    """A 2-instruction loop run N times must count 2*N plus the same small marker overhead for every N."""
    board = get_board(name)
    _require_tools(board)
    overheads = set()
    for n in (1_000_000, 2_000_000):
        image = build(board, [SELFTEST / "known_loop.c"], tmp_path / f"loop{n}.elf",
                      defines={"MNV3C_LOOP_ITERATIONS": f"{n}u"})  # fmt: skip
        result = run_elf(board, image.elf, timeout_s=20, icount=board.arch == "riscv32")
        assert result.instructions_per_sample == [result.instructions]
        overheads.add(result.instructions - 2 * n)
        if board.arch == "riscv32":  # independent check: minstret, exact under -icount shift=0
            minstret = int(next(ln for ln in result.stdout_lines if ln.startswith("MINSTRET")).split()[1])
            assert 2 * n <= minstret <= 2 * n + 4
    assert len(overheads) == 1 and 0 <= overheads.pop() <= 8


@pytest.mark.qemu
@pytest.mark.parametrize("name", BOARD_NAMES)
def test_faults_are_reported_with_registers(name, tmp_path):
    board = get_board(name)
    _require_tools(board)
    undef = build(board, [SELFTEST / "fault.c"], tmp_path / "undef.elf", defines={"MNV3C_FAULT_UNDEF": "1"})
    with pytest.raises(GuestFault) as fault:
        run_elf(board, undef.elf, timeout_s=10)
    message = str(fault.value)
    if board.arch == "riscv32":
        assert "mcause=0x00000002" in message and "mepc=0x" in message  # illegal instruction
    elif board.arch == "xtensa":
        assert "EXCCAUSE=0x00000000" in message and "illegal-instruction" in message and "EXCVADDR=0x" in message
    else:
        assert "CFSR=0x00010000" in message and "HFSR=0x40000000" in message  # UNDEFINSTR, forced
    assert re.search(r"\(PC in main\+0x[0-9a-f]+ at fault\.c:\d+\)", message), message  # addr2line's line

    overflow = build(board, [SELFTEST / "fault.c"], tmp_path / "stack.elf",
                     defines={"MNV3C_FAULT_STACK_OVERFLOW": "1"})  # fmt: skip
    with pytest.raises(GuestFault, match="stack-overflow"):
        run_elf(board, overflow.elf, timeout_s=10)


@pytest.mark.qemu
@pytest.mark.parametrize("name", BOARD_NAMES)
def test_a_fault_the_handler_cannot_take_never_hangs(name, tmp_path):
    """Cortex-M: the handler, on its own stack, still reports the registers (no frame: PC unknown),
    exit 1; a RISC-V or Xtensa trap loop (the trap vector itself unmapped) is killed at the time
    limit (GuestTimeout, exit 3). Either way one line, in seconds, and no emulator left behind."""
    board = get_board(name)
    _require_tools(board)
    image = build(board, [SELFTEST / "fault.c"], tmp_path / "lockup.elf", defines={"MNV3C_FAULT_IN_HANDLER": "1"})
    with pytest.raises(CheckFailed) as info:
        run_elf(board, image.elf, timeout_s=3)
    message = str(info.value)
    assert "\n" not in message and board.name in message
    if board.arch in ("riscv32", "xtensa"):
        assert isinstance(info.value, GuestTimeout) and info.value.exit_code == 3
    else:
        assert isinstance(info.value, GuestFault) and info.value.exit_code == 1
        assert "CFSR=" in message and "SP=0xefffffe0" in message and "no exception frame" in message
    assert not [p for p in Path("/proc").glob("[0-9]*") if str(image.elf).encode() in _cmdline(p)]


@pytest.mark.qemu
@pytest.mark.parametrize("name, expected", [
    ("mps2-an500", r"CFSR=0x00008200 .*BFAR=0xf0000000"),  # PRECISERR | BFARVALID
    ("sim-lx106", r"EXCCAUSE=0x0000000f .*EXCVADDR=0xf0000000 load-store-to-unmapped-address"),
])  # fmt: skip
def test_unmapped_read_reports_the_address(name, expected, tmp_path):
    board = get_board(name)
    _require_tools(board)
    image = build(board, [SELFTEST / "fault.c"], tmp_path / "bus.elf", defines={"MNV3C_FAULT_READ_ADDR": "0xF0000000u"})
    with pytest.raises(GuestFault, match=expected):
        run_elf(board, image.elf, timeout_s=10)


@pytest.mark.qemu
def test_a_hanging_guest_is_killed(tmp_path):
    board = get_board("virt")
    _require_tools(board)
    image = build(board, [SELFTEST / "known_loop.c"], tmp_path / "forever.elf",
                  defines={"MNV3C_LOOP_ITERATIONS": "0xFFFFFFFFu"})  # fmt: skip
    with pytest.raises(GuestTimeout, match="did not finish within 1 s") as info:
        run_elf(board, image.elf, timeout_s=1)
    assert info.value.exit_code == 3  # mnv3c's own image hung: an internal error, not a failed check
    assert not [p for p in Path("/proc").glob("[0-9]*") if str(image.elf).encode() in _cmdline(p)]  # QEMU is gone


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:  # the process ended meanwhile
        return b""


@pytest.mark.qemu
def test_weights_that_do_not_fit_fail_the_link(tmp_path):
    board = get_board("mps2-an386")
    _require_tools(board)
    source = tmp_path / "big.c"
    source.write_text(
        "#include <stdint.h>\n"
        'const int8_t big[5u << 20] __attribute__((section(".rodata.mnv3c_weights"))) = {1};\n'
        "int main(void) { volatile uint32_t i = 12345u; return big[i]; }\n"
    )
    with pytest.raises(BuildError, match=r"does not fit board mps2-an386: FLASH \(4194304 bytes\) overflowed"):
        build(board, [source], tmp_path / "big.elf")


def test_missing_emulator_is_a_clear_error(monkeypatch, tmp_path):
    board = get_board("mps2-an386")
    monkeypatch.setenv(tool_env_var("qemu-system-arm"), "qemu-system-arm-not-installed")
    elf = tmp_path / "app.elf"
    elf.write_bytes(b"")  # never read: the emulator lookup fails first
    with pytest.raises(MnvError, match=r"qemu-system-arm-not-installed .*apt-get install qemu-system-arm$"):
        run_elf(board, elf)


def test_missing_compiler_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(tool_env_var("riscv64-unknown-elf-gcc"), "/nonexistent/riscv64-unknown-elf-gcc")
    with pytest.raises(MnvError, match="apt-get install gcc-riscv64-unknown-elf"):
        build(get_board("virt"), [SELFTEST / "known_loop.c"], tmp_path / "x.elf")


def test_guest_nonzero_exit_is_check_failed(tmp_path):
    board = get_board("host")
    _require_tools(board)
    source = tmp_path / "exit5.c"
    source.write_text('#include "mnv3c_io.h"\nint main(void) { io_write("bye\\n"); io_exit(5); }\n')
    image = build(board, [source], tmp_path / "exit5")
    with pytest.raises(CheckFailed, match="exited with status 5"):
        run_elf(board, image.elf)
    assert run_elf(board, image.elf, check=False).exit_code == 5


@pytest.mark.qemu
def test_strict_esp32c3_core_traps_on_zbb(tmp_path):
    """The riscv32 core is the ESP32-C3's RV32IMC: QEMU 7.2 enables Zba/Zbb/Zbc/Zbs by default, the
    board turns them off, so a Zbb `clz` is an illegal instruction (a reported fault, exit 1) where
    QEMU's default core would have computed clz(1) = 31."""
    board = get_board("virt")
    _require_tools(board)
    image = build(board, [SELFTEST / "fault.c"], tmp_path / "zbb.elf", defines={"MNV3C_FAULT_ZBB": "1"})
    with pytest.raises(GuestFault) as fault:
        run_elf(board, image.elf, timeout_s=10)
    assert fault.value.exit_code == 1
    assert "mcause=0x00000002" in str(fault.value)  # illegal instruction
    mtval = int(re.search(r"mtval=0x([0-9a-f]+)", str(fault.value)).group(1), 16)
    assert mtval & 0xFFF0707F == 0x60001013  # the trapping instruction is clz rd, rs1
    assert re.search(r"\(PC in main\+0x[0-9a-f]+ at fault\.c:\d+\)", str(fault.value))

    default_cpu = tuple("rv32" if arg.startswith("rv32,") else arg for arg in board.qemu_machine)
    lenient = run_elf(dataclasses.replace(board, qemu_machine=default_cpu), image.elf, timeout_s=10)
    assert "clz(1) = 31" in lenient.stdout_lines
