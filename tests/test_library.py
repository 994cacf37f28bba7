"""OUTDIR as a drop-in library: the model folder builds alone with a cross toolchain through CMake,
links into a foreign firmware whose vendor-style linker script knows nothing of mnv3c (no arena
bytes in its flash image), runs there bit-exact, and compiles CubeIDE-style (every .c of the
folder); with --name, two models link into one program."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mnv3c.boards.elf import read_elf
from mnv3c.boards.qemu import run_elf
from mnv3c.boards.registry import get_board
from mnv3c.cli import main
from mnv3c.codegen.generate import generate
from mnv3c.compiler import build_project, run_project, write_project
from mnv3c.codegen.host import STRICT_FLAGS, host_cc
from mnv3c.ir.graph import Graph
from mnv3c.quant.quantize import quantize
from mnv3c.quant.simulate import simulate
from quant_graphs import calib_inputs, tiny_mobilenet

ROOT = Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "docs" / "integration" / "cmake"
TOOLCHAIN_FILE = FIRMWARE / "arm-none-eabi.cmake"
CROSS = "arm-none-eabi-gcc"


def _require(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="module")
def qgraph() -> Graph:
    return quantize(tiny_mobilenet(seed=2), calib_inputs(4), method="minmax", progress=False)


@pytest.fixture(scope="module")
def outdir(qgraph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lib") / "out"
    generate(qgraph, out, "cortex-m7")
    return out


def _cmake(source: Path, build: Path, *defines: str) -> None:
    """A firmware's usual optimized build (MinSizeRel)."""
    subprocess.run(["cmake", "-S", str(source), "-B", str(build), f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAIN_FILE}",
                    "-DCMAKE_BUILD_TYPE=MinSizeRel", *defines], check=True, capture_output=True)  # fmt: skip
    proc = subprocess.run(["cmake", "--build", str(build)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_layout_keeps_the_library_apart_from_the_example(outdir: Path) -> None:
    lib = {p.name for p in (outdir / "mnv3c").iterdir()}
    assert {"mnv3c_model.h", "mnv3c_model.c", "mnv3c_weights.c", "mnv3c_arena.c", "CMakeLists.txt", "mnv3c.mk",
            "mnv3c_sections.ld"} <= lib  # fmt: skip
    assert {"main.c", "mnv3c_harness.c"} <= {p.name for p in (outdir / "example").iterdir()}
    assert not any("main(" in p.read_text() for p in (outdir / "mnv3c").glob("*.c"))
    readme = (outdir / "README.md").read_text()
    assert "add_subdirectory(mnv3c)" in readme and "include mnv3c/mnv3c.mk" in readme
    assert "mnv3c_model_invoke(input, output)" in readme


def test_library_cross_builds_alone_through_cmake(outdir: Path, tmp_path: Path) -> None:
    _require("cmake", CROSS, "arm-none-eabi-nm")
    _cmake(outdir / "mnv3c", tmp_path / "build")
    archive = tmp_path / "build" / "libmnv3c_model.a"
    nm = subprocess.run(["arm-none-eabi-nm", "-g", "--defined-only", str(archive)], capture_output=True, text=True,
                        check=True).stdout  # fmt: skip
    defined = {line.split()[-1] for line in nm.splitlines() if line.count(" ") == 2}
    assert {"mnv3c_model_run", "mnv3c_model_invoke"} <= defined and any(s.startswith("mnv3c_conv") for s in defined)
    assert "main" not in defined


def test_firmware_with_a_stock_linker_script_has_no_arena_bytes_and_runs_bit_exact(
        outdir: Path, qgraph: Graph, tmp_path: Path) -> None:
    _require("cmake", CROSS, "arm-none-eabi-objcopy", "qemu-system-arm")
    build = tmp_path / "build"
    _cmake(FIRMWARE, build, f"-DMNV3C_LIBRARY={outdir / 'mnv3c'}")
    elf = read_elf(build / "firmware.elf")
    arena_bytes = json.loads((outdir / "report.json").read_text())["arena_bytes"]
    arena = elf.symbols["mnv3c_arena"]
    holder = next(s for s in elf.sections if s.alloc and s.addr <= arena < s.addr + s.size)
    assert holder.name == ".bss" and holder.nobits and holder.size >= arena_bytes > 0
    # The image is exactly the flash-resident bytes: code, rodata (weights included), .data's values.
    loaded = [s for s in elf.sections if s.alloc and not s.nobits and s.size]
    assert all(s.lma < 0x20000000 for s in loaded)
    image = (build / "firmware.bin").read_bytes()
    assert len(image) == max(s.lma + s.size for s in loaded) - min(s.lma for s in loaded) < 64 * 1024

    result = run_elf(get_board("mps2-an500"), build / "firmware.elf", timeout_s=20)
    got = np.frombuffer(bytes.fromhex(result.stdout_lines[-1].removeprefix("OUT ")), np.int8)
    x_nhwc = (np.arange(16 * 16 * 3) * 7).astype(np.uint8).view(np.int8).reshape(1, 16, 16, 3)  # as main.c
    np.testing.assert_array_equal(got, simulate(qgraph, np.transpose(x_nhwc, (0, 3, 1, 2))).reshape(-1))


def _link_every_c_file(outdir: Path, script: Path, elf: Path) -> None:
    """What an IDE project does with a dropped-in folder: compile all of its .c, link with the app."""
    flags = ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-O2", "-std=c99", "-Wall",
             "-Werror", "-ffunction-sections", "-fdata-sections"]  # fmt: skip
    sources = [*sorted((outdir / "mnv3c").glob("*.c")), FIRMWARE / "startup.c", FIRMWARE / "main.c"]
    cmd = [CROSS, *flags, f"-I{outdir / 'mnv3c'}", *map(str, sources), "-nostdlib", f"-T{script}",
           f"-L{outdir / 'mnv3c'}", "-Wl,--gc-sections", "-lgcc", "-o", str(elf)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_every_c_file_of_the_library_compiles_and_links_together(outdir: Path, tmp_path: Path) -> None:
    _require(CROSS)
    _link_every_c_file(outdir, FIRMWARE / "stock.ld", tmp_path / "ide.elf")
    assert "mnv3c_model_invoke" in read_elf(tmp_path / "ide.elf").symbols


def test_sections_snippet_places_weights_and_arena(outdir: Path, tmp_path: Path) -> None:
    """The stock script plus the two aliases and the INCLUDE of docs/INTEGRATION.md."""
    _require(CROSS)
    stock = (FIRMWARE / "stock.ld").read_text()
    script = tmp_path / "with_snippet.ld"
    script.write_text(stock.replace("SECTIONS\n{\n", 'REGION_ALIAS("REGION_WEIGHTS", FLASH);\n'
                                    'REGION_ALIAS("REGION_ARENA", RAM);\nSECTIONS\n{\n    INCLUDE mnv3c_sections.ld\n'))
    _link_every_c_file(outdir, script, tmp_path / "placed.elf")
    elf = read_elf(tmp_path / "placed.elf")
    sections = {s.name: s for s in elf.sections}
    weights, arena = sections[".mnv3c_weights"], sections[".mnv3c_arena"]
    assert weights.size >= json.loads((outdir / "report.json").read_text())["weights_bytes"] > 0
    assert weights.addr < 0x20000000 and not weights.nobits  # in FLASH, loaded
    assert arena.nobits and arena.addr % 16 == 0 and arena.addr <= elf.symbols["mnv3c_arena"] < arena.addr + arena.size


TWO_MODELS_MAIN = """\
#include <stdio.h>
#include "kws_model.h"
#include "vww_model.h"

static int8_t in_a[KWS_INPUT_SIZE], out_a[KWS_OUTPUT_SIZE], in_b[VWW_INPUT_SIZE], out_b[VWW_OUTPUT_SIZE];
static uint8_t arena_b[VWW_ARENA_BYTES] VWW_ARENA_ATTR;

static void print(const int8_t *y, unsigned n)
{
    for (unsigned i = 0; i < n; i++) printf("%02x", (unsigned)(uint8_t)y[i]);
    printf("\\n");
}

int main(void)
{
    for (unsigned i = 0; i < KWS_INPUT_SIZE; i++) in_a[i] = (int8_t)(i * 7u);
    for (unsigned i = 0; i < VWW_INPUT_SIZE; i++) in_b[i] = (int8_t)(i * 13u + 5u);
    if (kws_model_invoke(in_a, out_a) != 0 || vww_model_run(in_b, out_b, arena_b) != 0) return 1;
    print(out_a, KWS_OUTPUT_SIZE);
    print(out_b, VWW_OUTPUT_SIZE);
    return 0;
}
"""


def test_two_named_models_link_into_one_program_and_both_run(qgraph: Graph, tmp_path: Path) -> None:
    """--name kws / vww: every .c of both folders and a main in one compile; each model bit-exact."""
    other = quantize(tiny_mobilenet(seed=5, softmax=False), calib_inputs(4, seed=3), method="minmax", progress=False)
    generate(qgraph, tmp_path / "a", "host", name="kws")
    generate(other, tmp_path / "b", "host", name="vww")
    for lib in (tmp_path / "a" / "kws", tmp_path / "b" / "vww"):
        text = "".join(p.read_text() for p in lib.rglob("*") if p.is_file())
        assert not re.search(r"(?<![.\w])(mnv3c_|MNV3C_)", text.replace("mnv3c_weights", "").replace("mnv3c_arena", ""))
    (tmp_path / "main.c").write_text(TWO_MODELS_MAIN)
    sources = [tmp_path / "main.c", *sorted((tmp_path / "a" / "kws").glob("*.c")),
               *sorted((tmp_path / "b" / "vww").glob("*.c"))]  # fmt: skip
    cmd = [host_cc(), *STRICT_FLAGS, f"-I{tmp_path / 'a' / 'kws'}", f"-I{tmp_path / 'b' / 'vww'}",
           *map(str, sources), "-o", str(tmp_path / "two")]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = subprocess.run([str(tmp_path / "two")], capture_output=True, text=True, check=True).stdout.split()
    x_a = (np.arange(16 * 16 * 3) * 7).astype(np.uint8).view(np.int8).reshape(1, 16, 16, 3)
    x_b = (np.arange(16 * 16 * 3) * 13 + 5).astype(np.uint8).view(np.int8).reshape(1, 16, 16, 3)
    for line, g, x in ((lines[0], qgraph, x_a), (lines[1], other, x_b)):
        expected = simulate(g, np.transpose(x, (0, 3, 1, 2))).reshape(-1)
        np.testing.assert_array_equal(np.frombuffer(bytes.fromhex(line), np.int8), expected)


@pytest.mark.parametrize("name", ["9lives", "has-dash", "_reserved", "example", "x" * 33])
def test_bad_name_is_one_line_and_writes_nothing(name: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["compile", str(tmp_path / "missing.onnx"), "--target", "host", "-o", str(tmp_path / "out"),
                 "--name", name])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--name" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_named_model_builds_and_runs_on_a_board(qgraph: Graph, tmp_path: Path) -> None:
    """`mnv3c build`/`run`'s path with --name: the board harness reaches kws_model_invoke."""
    board = get_board("mps2-an500")
    _require(CROSS, "qemu-system-arm")
    x = np.random.default_rng(4).integers(-128, 128, (2, 16, 16, 3), dtype=np.int8)
    write_project(qgraph, "cortex-m7", board, tmp_path / "out", force=False, inputs_int8=x, name="kws")
    report, image = build_project(tmp_path / "out")
    assert report["name"] == "kws" and all(s.startswith("kws/") for s in report["sources"])
    ran = run_project(tmp_path / "out", image, x)
    device, instructions = ran.outputs, ran.instructions
    np.testing.assert_array_equal(device, simulate(qgraph, np.transpose(x, (0, 3, 1, 2))).reshape(2, -1))
    assert instructions and instructions > 0


@pytest.mark.parametrize(("board_name", "samples"), [("mps2-an386", 6000), ("virt", 20)])
def test_run_streams_more_samples_than_flash_holds(qgraph: Graph, tmp_path: Path, board_name: str,
                                                   samples: int) -> None:
    """`mnv3c run`'s path: the samples reach the guest through semihosting file reads, so 6000 of
    them (4.6 MB) run on a board with 4 MiB of flash, and flash_bytes is the model's own."""
    board = get_board(board_name)
    _require(*((CROSS, "qemu-system-arm") if board.arch == "cortex-m" else ("riscv64-unknown-elf-gcc",
                                                                            "qemu-system-riscv32")))
    x = np.random.default_rng(samples).integers(-128, 128, (samples, 16, 16, 3), dtype=np.int8)
    write_project(qgraph, board.target, board, tmp_path / "out", force=False, inputs_int8=x[:1])
    report, image = build_project(tmp_path / "out")
    ran = run_project(tmp_path / "out", image, x)
    device, instructions = ran.outputs, ran.instructions
    np.testing.assert_array_equal(device, simulate(qgraph, np.transpose(x, (0, 3, 1, 2))).reshape(samples, -1))
    assert instructions and report["flash_bytes"] < 256 * 1024
    if samples == 6000:
        assert x.nbytes > board.region("FLASH").length
