"""The Xtensa targets' own run time (mnv3c/boards/c/xtensa*.c): on QEMU's lx106 core (esp8266) the
libgcc helpers Debian's lx106 libgcc lacks, checked against Python on edge values; on the de233_fpu
core (the emulated esp32, board sim-de233, built with scripts/build-xtensa-esp32.sh) the windowed
startup and spill handlers, `mnv3c run --target esp32` bit-exact on whole networks, guest faults.

The esp8266's whole networks are in test_targets.py; every QEMU board's faults and counts (sim-de233
included) in test_boards.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mnv3c import cli
from mnv3c.boards import GuestFault, build, get_board, run_elf
from mnv3c.boards.registry import resolve_board
from mnv3c.boards.toolchain import XTENSA_ESP32_SCRIPT, compiler_name, xtensa_esp32_prefix

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


# --- the LX106 kernel variants' output stage (runtime_c/xtensa/mnv3c_xt_gemm.h): no int64 ------------------

RUNTIME = Path(__file__).resolve().parents[1] / "mnv3c" / "runtime_c"


def _c_words(name: str, values: np.ndarray) -> str:
    body = ", ".join(f"{int(v)}" if v != -(1 << 31) else "INT32_MIN" for v in values)
    return f"static const int32_t {name}[] = {{{body}}};"


def test_xtensa_output_stage_matches_python(tmp_path: Path) -> None:
    """mnv3c_xt_mulhi is floor(a * m / 2^32) for every int32 a and m in [0, 2^31); mnv3c_xt_mbqm is
    intops.mbqm on every shift in [-31, 30]; the short form (mnv3c_xt_finish) is MBQM + zp within its
    proof (shift in [-21, -1], |acc| < 2^29) — edge values, RDBP ties and random values, on the lx106."""
    from mnv3c.quant import intops as q

    if shutil.which("xtensa-lx106-elf-gcc") is None or shutil.which("qemu-system-xtensa") is None:
        pytest.skip("the lx106 toolchain or qemu-system-xtensa is not installed")
    rng = np.random.default_rng(16)
    edges = np.array([0, 1, -1, 2, -2, 0xFFFF, 0x10000, -0x10000, -0x10001, 0x7FFF, 0x8000, -0x8000,
                      (1 << 31) - 1, -(1 << 31), -(1 << 31) + 1, (1 << 29) - 1, -(1 << 29) + 1], np.int64)
    a = np.concatenate([np.repeat(edges, 6), rng.integers(-(1 << 31), 1 << 31, 300)])
    m = np.concatenate([np.tile([0, 1, 0xFFFF, 1 << 30, (1 << 31) - 1, 0x7FFF0001], len(edges)),
                        rng.integers(0, 1 << 31, 300)])
    hi = (a * m) >> 32
    # general MBQM: x * 2^max(shift, 0) fits int32 (the quantizer's guarantee)
    shift = rng.integers(-31, 31, len(a))
    mult = rng.integers(1 << 30, 1 << 31, len(a))
    x = np.where(shift > 0, a >> np.maximum(shift, 0), a)
    general = q.mbqm(x, mult, shift)
    # the short form, with its ties: acc whose SRDHM sits at or next to an RDBP tie
    rs = rng.integers(1, 22, len(a))
    zps = rng.integers(-128, 128, len(a))
    ties = ((1 << (rs - 1)) + rng.integers(-4, 4, len(a)) * (1 << rs)) << 31
    acc = np.clip(ties // mult + rng.integers(-1, 2, len(a)), -(1 << 29) + 1, (1 << 29) - 1)
    acc[::3] = rng.integers(-(1 << 29) + 1, 1 << 29, len(acc[::3]))
    short = np.clip(q.mbqm(acc, mult, -rs) + zps, -128, 127)
    n = len(a)
    src = "\n".join([
        "#include <stdint.h>", '#include "mnv3c_io.h"', '#include "mnv3c_xt_gemm.h"', f"#define N {n}u",
        _c_words("a", a), _c_words("m", m), _c_words("hi", hi), _c_words("x", x), _c_words("mult", mult),
        _c_words("shift", shift), _c_words("general", general), _c_words("acc", acc), _c_words("rs", rs),
        _c_words("zps", zps), _c_words("short_v", short),
        "int main(void)", "{", "    uint32_t i, failed = 0;",
        "    for (i = 0; i < N; ++i) {",
        "        const int8_t sh = (int8_t)-rs[i];",
        "        const mnv3c_xt_out s = mnv3c_xt_out_init(0, &mult[i], &sh, zps[i], -128, 127, 0, 1);",
        "        const mnv3c_xt_chan c = mnv3c_xt_chan_of(&s, 0, 1);",
        "        if (mnv3c_xt_mulhi(a[i], m[i] >> 16, m[i] & 0xFFFF) != hi[i]) { io_write(\"mulhi \"); ++failed; }",
        "        if (mnv3c_xt_mbqm(x[i], mult[i], shift[i]) != general[i]) { io_write(\"mbqm \"); ++failed; }",
        "        if (mnv3c_xt_finish(&s, &c, acc[i], 1) != short_v[i]) { io_write(\"short \"); ++failed; }",
        "    }",
        "    io_write_u32(3 * N - failed);", '    io_write(" passed, ");', "    io_write_u32(failed);",
        '    io_write(" failed\\n");', "    return 0;", "}", ""])
    (tmp_path / "xt_stage.c").write_text(src)
    board = get_board("sim-lx106")
    image = build(board, [tmp_path / "xt_stage.c"], tmp_path / "xt_stage.elf",
                  include_dirs=(RUNTIME, RUNTIME / "xtensa"))
    lines = run_elf(board, image.elf, timeout_s=30).stdout_lines
    assert f"{3 * n} passed, 0 failed" in lines, "\n".join(lines[-4:])


def test_xtensa_depthwise_unaligned_input(tmp_path: Path) -> None:
    """depthwise_conv2d_s8_xtensa reads four inputs per L32I where the input is 4-byte aligned (every
    buffer of a generated model); any other input takes its byte-load loop, which gives the same bytes:
    random cases with the input moved to an odd address."""
    from test_kernel_variants import RUNTIME as VRUNTIME
    from test_kernel_variants import _driver, variant_cases

    from mnv3c.plan.kernels import KERNELS

    if shutil.which("xtensa-lx106-elf-gcc") is None or shutil.which("qemu-system-xtensa") is None:
        pytest.skip("the lx106 toolchain or qemu-system-xtensa is not installed")
    kernels = [KERNELS["depthwise_conv2d_s8_xtensa"], KERNELS["depthwise_conv2d_s8_xtensa_short"]]
    cases = [(k, c) for k in kernels for c in variant_cases(k.name, 8)]
    src = _driver(cases)
    largest = max(c.inputs[0].size for _, c in cases)
    for i in range(len(cases)):  # the call's input becomes a copy at an odd address
        src = src.replace(f"(&c{i}_p, c{i}_in0, out", f"(&c{i}_p, odd_copy(c{i}_in0, sizeof c{i}_in0), out")
    assert src.count("odd_copy(") == len(cases)
    helper = (f"static int8_t odd[{largest + 4}] __attribute__((aligned(4)));\n"
              "static const int8_t *odd_copy(const int8_t *s, uint32_t n)\n"
              "{\n    uint32_t k;\n    for (k = 0; k < n; ++k) odd[k + 1] = s[k];\n    return odd + 1;\n}\n")
    src = src.replace("static int case0(void)", helper + "static int case0(void)", 1)
    (tmp_path / "driver.c").write_text(src)
    board = get_board("sim-lx106")
    sources = [tmp_path / "driver.c", VRUNTIME / "xtensa" / "depthwise_conv2d_s8_xtensa.c"]
    image = build(board, sources, tmp_path / "driver.elf", include_dirs=(VRUNTIME, VRUNTIME / "xtensa"))
    lines = run_elf(board, image.elf, timeout_s=60).stdout_lines
    assert f"{len(cases)} passed, 0 failed" in lines, "\n".join(lines[-8:])


# --- the emulated ESP32 (windowed ABI) on QEMU's de233_fpu core ----------------------------------------

BUNDLED = Path(__file__).resolve().parents[1] / "mnv3c" / "data" / "mnv3_small_mnist.onnx"


def _de233():
    """The sim-de233 board, or a skip naming what is missing (the toolchain is built by install.sh)."""
    board = get_board("sim-de233")
    if shutil.which(compiler_name(board)) is None:
        pytest.skip(f"xtensa-esp32-elf-gcc is not built on this machine: run {XTENSA_ESP32_SCRIPT}")
    if shutil.which("qemu-system-xtensa") is None:
        pytest.skip("qemu-system-xtensa is not installed")
    return board


def test_toolchain_lookup_agrees_with_the_build_script(tmp_path: Path, monkeypatch) -> None:
    """toolchain.py finds the directory the script says it installs into (same hash of its code)."""
    monkeypatch.setenv("MNV3C_TOOLCHAIN_CACHE", str(tmp_path))
    printed = subprocess.run([str(XTENSA_ESP32_SCRIPT), "--print-prefix"], capture_output=True, text=True,
                             check=True, env=os.environ).stdout.strip()
    assert Path(printed).parent == tmp_path and xtensa_esp32_prefix() is None  # not built there
    Path(printed).mkdir()
    (Path(printed) / ".complete").touch()
    assert xtensa_esp32_prefix() == Path(printed)


def test_run_on_esp32_picks_the_emulated_board_and_compile_the_esp_idf_one() -> None:
    assert resolve_board("esp32", None, run=True).name == "sim-de233"
    assert resolve_board("esp32", None).name == "esp32"  # compile: the ESP-IDF dev board, as before
    assert resolve_board("esp32", "esp32-psram", run=True).name == "esp32-psram"


def test_windowed_spills_and_reloads_keep_every_frame(tmp_path: Path) -> None:
    """Recursion 300 calls deep (far more frames than the 32 physical registers hold) through call8
    (GCC's calls) with live values on both sides of each call: every window overflow and underflow
    must restore them exactly; the result is checked against Python."""
    board = _de233()
    (tmp_path / "deep.c").write_text("\n".join([
        "#include <stdint.h>", '#include "mnv3c_io.h"',
        "static uint32_t __attribute__((noinline)) deep(uint32_t n, uint32_t a, uint32_t b, uint32_t c)",
        "{", "    if (n == 0u) return a ^ b ^ c;",
        "    const uint32_t r = deep(n - 1u, a * 3u + n, b + (a >> 3), c ^ (b << 1));",
        "    return r * 7u + a - b + (c >> 2) + n;", "}",
        "int main(void)", "{", "    io_write(\"R \");", "    io_write_u32(deep(300u, 1u, 2u, 3u));",
        "    io_write(\"\\n\");", "    return 0;", "}", ""]))
    image = build(board, [tmp_path / "deep.c"], tmp_path / "deep.elf")
    m = 0xFFFFFFFF

    def deep(n: int, a: int, b: int, c: int) -> int:
        if n == 0:
            return a ^ b ^ c
        r = deep(n - 1, (a * 3 + n) & m, (b + (a >> 3)) & m, (c ^ (b << 1)) & m)
        return (r * 7 + a - b + (c >> 2) + n) & m

    assert f"R {deep(300, 1, 2, 3)}" in run_elf(board, image.elf, timeout_s=20).stdout_lines


def test_guest_fault_reports_registers_and_exits_1(tmp_path: Path) -> None:
    board = _de233()
    image = build(board, [SELFTEST / "fault.c"], tmp_path / "bus.elf", defines={"MNV3C_FAULT_READ_ADDR": "0x80000000u"})
    with pytest.raises(GuestFault) as info:
        run_elf(board, image.elf, timeout_s=10)
    assert info.value.exit_code == 1
    assert re.search(r"EXCCAUSE=0x[0-9a-f]{8} PC=0x[0-9a-f]{8} EXCVADDR=0x80000000", str(info.value)), str(info.value)


def _no_mul32_high(board, outdir: Path, tmp: Path) -> None:
    """The de233_fpu core lacks MULSH/MULUH (MUL32_HIGH): the compiler emits none for the model's C
    (checked in its assembly: a disassembly would read literal pools as instructions)."""
    from mnv3c.boards.toolchain import compile_flags

    sources = sorted((outdir / "mnv3c").glob("*.c"))
    assert sources
    for source in sources:
        asm = tmp / (source.stem + ".s")
        subprocess.run([compiler_name(board), *compile_flags(board), f"-I{outdir / 'mnv3c'}", "-S", str(source),
                        "-o", str(asm)], check=True)
        assert not re.search(r"^\s*mul(s|u)h\s", asm.read_text(), re.M), source.name


def _run_twice(qgraph, x_c: np.ndarray, sim: np.ndarray, outdir: Path) -> int:
    from mnv3c.compiler import build_project, run_project, write_project

    board = resolve_board("esp32", None, run=True)
    write_project(qgraph, "esp32", board, outdir, force=False, inputs_int8=x_c[:1], html=False)
    report, image = build_project(outdir)
    assert report["board"] == "sim-de233"
    ran = run_project(outdir, image, x_c)
    np.testing.assert_array_equal(ran.outputs.reshape(sim.shape), sim)  # bit-exact, every sample
    again = run_elf(board, image, timeout_s=120, input_bytes=x_c.tobytes())
    assert ran.instructions > 0 and again.instructions_per_sample[0] == ran.instructions  # deterministic
    assert sum(row["instructions"] for row in ran.profile) == ran.instructions
    _no_mul32_high(board, outdir, outdir.parent)
    return ran.instructions


def test_mnv3c_run_esp32_bundled_model_bit_exact(tmp_path: Path, capsys) -> None:
    """`mnv3c run --target esp32` runs on the emulated core and matches the integer simulator."""
    _de233()
    code = cli.main(["run", str(BUNDLED), "--target", "esp32", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["bit_exact"] is True and result["board"] == "sim-de233"
    assert result["instructions"] > 0


def test_v3_small_on_emulated_esp32_bit_exact_and_deterministic(zoo_model, tmp_path: Path) -> None:
    """MobileNetV3-Small 1.0 at 96x96 (1000 classes, seeded init), two samples."""
    from mnv3c.codegen.host import nchw_to_nhwc
    from mnv3c.compiler import quantize_model
    from mnv3c.quant.simulate import quantize_input, simulate

    _de233()
    path = zoo_model("mobilenet_v3_small", "legacy17", resolution=96)
    calib = np.random.default_rng(0).standard_normal((4, 3, 96, 96)).astype(np.float32)
    x = np.random.default_rng(1).standard_normal((2, 3, 96, 96)).astype(np.float32)
    q = quantize_model(str(path), None, calib, progress=False)
    x_q = quantize_input(q.qgraph, x)
    _run_twice(q.qgraph, nchw_to_nhwc(x_q), simulate(q.qgraph, x_q).reshape(len(x), -1), tmp_path / "out")
