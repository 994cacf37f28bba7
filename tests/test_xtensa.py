"""The esp8266 target's own run time (mnv3c/boards/c/xtensa*.c) on QEMU's lx106 core: the libgcc
helpers Debian's lx106 libgcc lacks, checked against Python on edge values.

Whole networks on the target are in test_targets.py, the board's faults and counts in test_boards.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mnv3c.boards import build, get_board, run_elf

pytestmark = pytest.mark.qemu

SELFTEST = Path(__file__).resolve().parents[1] / "mnv3c" / "boards" / "selftest"
M64, M32 = (1 << 64) - 1, (1 << 32) - 1
EDGES = [0, 1, 2, 3, 7, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0x80000001, M32, 1 << 32, (1 << 32) + 1,
         0x7FFFFFFFFFFFFFFF, 1 << 63, (1 << 63) + 1, M64 - 1, M64, 0x123456789ABCDEF0, 0xFEDCBA9876543210]


def _signed(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) & 1 else v


def _div(a: int, b: int, bits: int, signed: bool) -> tuple[int, int]:
    """C's truncating a / b and a % b at `bits`, as two's complement words; b == 0 gives all ones
    and the dividend (the helpers' documented convention, c/xtensa_libgcc.c)."""
    mask = (1 << bits) - 1
    if b == 0:
        return mask, a
    x, y = (_signed(a, bits), _signed(b, bits)) if signed else (a, b)
    q = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)
    return q & mask, (x - q * y) & mask


def _expected(a: int, b: int) -> list[int]:
    a32, b32 = a & M32, b & M32
    q32s = _div(a32, b32, 32, True)[0] if b32 else M32  # __divsi3: -1 for a zero divisor
    return [a * b & M64, *_div(a, b, 64, False), *_div(a, b, 64, True), *_div(a32, b32, 32, False), q32s,
            _signed(a32, 32) * _signed(b32, 32) & M64]


def test_libgcc_helpers_match_python(tmp_path: Path) -> None:
    board = get_board("sim-lx106")
    if shutil.which("xtensa-lx106-elf-gcc") is None or shutil.which("qemu-system-xtensa") is None:
        pytest.skip("the lx106 toolchain or qemu-system-xtensa is not installed")
    rng = np.random.default_rng(15)
    pairs = [(a, b) for a in EDGES for b in EDGES]
    pairs += [(int(a), int(b)) for a, b in rng.integers(0, 1 << 63, size=(200, 2), dtype=np.uint64) * 2 + 1]
    pairs += [(int(a), int(b) >> int(s)) for a, b, s in zip(rng.integers(0, 1 << 63, 100, dtype=np.uint64) * 2,
                                                             rng.integers(0, 1 << 63, 100, dtype=np.uint64) * 2,
                                                             rng.integers(1, 63, 100))]  # fmt: skip
    (tmp_path / "pairs.h").write_text(
        f"#define MNV3C_PAIRS {len(pairs)}u\nstatic const uint64_t mnv3c_pairs[MNV3C_PAIRS][2] = {{\n"
        + "".join(f"    {{{a:#x}ull, {b:#x}ull}},\n" for a, b in pairs) + "};\n")  # fmt: skip
    image = build(board, [SELFTEST / "libgcc_check.c"], tmp_path / "libgcc.elf", include_dirs=(tmp_path,))
    lines = [ln for ln in run_elf(board, image.elf, timeout_s=30).stdout_lines if ln.startswith("R ")]
    assert len(lines) == len(pairs)
    for (a, b), line in zip(pairs, lines):
        assert [int(v, 16) for v in line.split()[1:]] == _expected(a, b), (hex(a), hex(b))
