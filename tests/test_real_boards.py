"""Real boards, build-only: ST Cortex-M7 images link (no semihosting in them), the ESP-IDF project
host-compiles and prints what the harness does, flash commands per board, memory fit messages.

Nothing here runs on hardware (there is none on the build machines). Uses the fake model in
mnv3c/boards/selftest/ in place of generated code.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mnv3c.cli import main as cli_main

from mnv3c.boards import (
    HARNESS_MAIN,
    build,
    check_fit,
    flash,
    flash_commands,
    get_board,
    parse_outputs,
    run_elf,
    run_flash,
    write_esp_idf_project,
    write_input_data,
)
from mnv3c.boards.elf import read_elf
from mnv3c.boards.toolchain import XTENSA_ESP32_SCRIPT, compiler_name
from mnv3c.errors import MnvError

SELFTEST = Path(__file__).resolve().parents[1] / "mnv3c" / "boards" / "selftest"
SAMPLES, INPUT_BYTES, OUTPUT_BYTES = 3, 300, 130
ST_BOARDS = ["nucleo-h743zi", "stm32f746g-disco"]
ESP_BOARDS = ["esp32", "esp32-psram", "esp32s3", "esp32s3-psram", "esp32c3"]
FLASH_TOOLS = ("openocd", "pyocd", "idf.py", "esptool.py")


def _require(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")


def _inputs() -> np.ndarray:
    return np.random.default_rng(11).integers(-128, 128, size=(SAMPLES, INPUT_BYTES), dtype=np.int8)


@pytest.fixture(scope="module")
def inputs_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("inputs")
    write_input_data(d, _inputs(), OUTPUT_BYTES)
    return d


def _fake_model_sources(inputs_dir: Path) -> list[Path]:
    return [SELFTEST / "fake_model.c", inputs_dir / "input_data.c"]


@pytest.fixture(scope="module")
def st_images(inputs_dir, tmp_path_factory) -> dict[str, Path]:
    _require("arm-none-eabi-gcc")
    out = tmp_path_factory.mktemp("st")
    images = {}
    for name in ST_BOARDS:
        board = get_board(name)
        result = build(board, [HARNESS_MAIN, *_fake_model_sources(inputs_dir)], out / name / "app.elf",
                       include_dirs=(inputs_dir,))  # fmt: skip
        print(f"{name}: flash {result.flash_bytes:,} B, RAM {result.ram_bytes:,} B")
        for region in board.regions:  # the linker's --print-memory-usage
            used = result.region_usage[region.name]
            print(f"  {region.name:<8} {used:>9,} B of {region.length:>9,} B ({100 * used / region.length:.2f}%)")
        assert 0 < result.flash_bytes < 16 * 1024 and 32 * 1024 <= result.ram_bytes <= board.ram_size
        images[name] = result
    return images


# --- ST boards ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ST_BOARDS)
def test_st_image_links_with_weights_in_flash_and_arena_in_its_ram(name, st_images):
    board, elf = get_board(name), st_images[name].elf
    usage = st_images[name].region_usage
    assert set(usage) == {r.name for r in board.regions}
    image = read_elf(elf)
    assert usage["FLASH"] > 0
    if name == "nucleo-h743zi":
        assert usage["AXISRAM"] == INPUT_BYTES  # only the arena: the fake model's activations
        assert 32 * 1024 <= usage["DTCM"] < 128 * 1024  # stack, .data, .bss
    sections = {s.name: s for s in image.sections}
    assert board.region("FLASH").contains(sections[".mnv3c_weights"].addr)
    assert board.region(board.placement["ARENA"]).contains(sections[".mnv3c_arena"].addr)
    # Reset vectors at the start of flash (the STM32 boot address): initial SP, then Reset_Handler.
    text = sections[".text"]
    assert text.addr == 0x08000000
    raw = elf.read_bytes()
    vectors = np.frombuffer(raw, dtype="<u4", count=2, offset=_file_offset(elf, text.addr))
    assert vectors[0] == image.symbols["__stack_top"]
    assert vectors[1] == image.functions["Reset_Handler"] | 1


def _file_offset(elf: Path, addr: int) -> int:
    out = subprocess.run(["arm-none-eabi-objdump", "-h", str(elf)], capture_output=True, text=True, check=True).stdout
    m = re.search(r"\.text\s+\w+\s+(\w+)\s+\w+\s+(\w+)", out)
    return int(m.group(2), 16) + addr - int(m.group(1), 16)


def _disassembly(elf: Path) -> str:
    _require("arm-none-eabi-objdump")
    return subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("name", ST_BOARDS)
def test_no_semihosting_in_real_board_image(name, st_images):
    """A BKPT without a debugger attached locks the core up: real images must not contain one."""
    asm = _disassembly(st_images[name].elf)
    assert "Reset_Handler" in asm and "mnv3c_console_init" in asm
    assert re.search(r"\sbkpt\b", asm) is None


def test_the_bkpt_check_would_catch_semihosting(inputs_dir, tmp_path):
    """Control for the test above: the QEMU Cortex-M7 image does semihost, and objdump shows it."""
    _require("arm-none-eabi-gcc")
    image = build(get_board("mps2-an500"), [HARNESS_MAIN, *_fake_model_sources(inputs_dir)], tmp_path / "q.elf",
                  include_dirs=(inputs_dir,))  # fmt: skip
    assert re.search(r"\sbkpt\s+0x00ab", _disassembly(image.elf))


@pytest.mark.parametrize("name, brr", [("nucleo-h743zi", 556), ("stm32f746g-disco", 139)])
def test_startup_programs_caches_cycle_counter_and_uart(name, brr, st_images):
    asm = _disassembly(st_images[name].elf)
    for word in ("e0001000", "c5acce55"):  # DWT_CTRL base, CoreSight unlock key
        assert word in asm
    for offset in ("0xf50", "0xf60", "0xd14", "0xd80", "0xd84", "0xdfc"):  # ICIALLU DCISW CCR CCSIDR CSSELR DEMCR
        assert f"#{int(offset, 16)}]" in asm or offset in asm
    console = asm[asm.index("<mnv3c_console_init>:"):]
    console = console[: console.index("\n\n")]
    assert f"#{brr}" in console  # 115200 baud from 64 MHz (H7 PCLK1) / 16 MHz (F7 PCLK2)


def test_real_boards_are_build_only(st_images):
    with pytest.raises(MnvError, match="real hardware.*mnv3c flash"):
        run_elf(get_board("nucleo-h743zi"), st_images["nucleo-h743zi"].elf)
    with pytest.raises(MnvError, match="built by ESP-IDF"):
        build(get_board("esp32s3"), [], Path("unused.elf"))


# --- ESP-IDF -------------------------------------------------------------------------------------
ESP_SHIM = """\
/* TEST ONLY: stands in for ESP-IDF's esp_cpu.h so main.c compiles with the host gcc. */
#include <stdint.h>
typedef uint32_t esp_cpu_cycle_count_t;
static inline esp_cpu_cycle_count_t esp_cpu_get_cycle_count(void)
{
    static uint32_t fake_cycles;
    return fake_cycles += 1000u;
}
"""
ESP_SHIM_MAIN = "void app_main(void);\nint main(void)\n{\n    app_main();\n    return 0;\n}\n"


@pytest.mark.parametrize("name", ESP_BOARDS)
def test_esp_idf_project_layout(name, inputs_dir, tmp_path):
    project = tmp_path / "esp-idf"
    written = write_esp_idf_project(project, _fake_model_sources(inputs_dir), [inputs_dir / "input_data.h"], name)
    comp = project / "components" / "mnv3c_model"
    for path in (comp / "src" / "fake_model.c", comp / "src" / "input_data.c", comp / "include" / "input_data.h",
                 project / "README.md", comp / "idf_component.yml"):  # fmt: skip
        assert path in written and path.exists()
    cmake = (comp / "CMakeLists.txt").read_text()
    assert re.search(r'idf_component_register\(SRCS "src/fake_model.c" "src/input_data.c"\s+INCLUDE_DIRS "include"'
                     r'\s+LDFRAGMENTS "linker.lf"\)', cmake)  # fmt: skip
    assert "mnv3c_weights -> flash_rodata" in (comp / "linker.lf").read_text()
    assert "archive: libmnv3c_model.a" in (comp / "linker.lf").read_text()
    assert 'idf: ">=5.0"' in (comp / "idf_component.yml").read_text()
    main_cmake = (project / "main" / "CMakeLists.txt").read_text()
    assert 'idf_component_register(SRCS "main.c"' in main_cmake and "PRIV_REQUIRES mnv3c_model" in main_cmake
    top = (project / "CMakeLists.txt").read_text()
    assert "include($ENV{IDF_PATH}/tools/cmake/project.cmake)" in top and "project(mnv3c_app)" in top
    defaults = (project / "sdkconfig.defaults").read_text()
    chip = get_board(name).idf_target
    assert f'CONFIG_IDF_TARGET="{chip}"' in defaults and "CONFIG_ESP_MAIN_TASK_STACK_SIZE=32768" in defaults
    psram = name.endswith("-psram")  # the arena goes to the module's PSRAM, as static .bss
    assert ("mnv3c_arena -> extern_ram" if psram else "mnv3c_arena -> dram0_bss") in (comp / "linker.lf").read_text()
    assert ("CONFIG_SPIRAM_ALLOW_BSS_SEG_EXTERNAL_MEMORY=y" in defaults) == psram
    assert ("CONFIG_SPIRAM_MODE_OCT=y" in defaults) == (name == "esp32s3-psram")  # the N8R8's octal PSRAM
    assert defaults.endswith("=y\n")
    assert f"idf.py set-target {chip} && idf.py build flash monitor" in (project / "README.md").read_text()
    assert "esp_cpu_get_cycle_count()" in (project / "main" / "main.c").read_text()


def test_esp_idf_project_host_compiles_and_prints_the_harness_protocol(inputs_dir, tmp_path):
    """main.c + the component's C, with a shim for esp_cpu.h, under host gcc -std=c99 -Werror; its output
    equals the QEMU harness's (host build of harness_main.c with the same fake model)."""
    _require("gcc")
    project = tmp_path / "esp-idf"
    write_esp_idf_project(project, _fake_model_sources(inputs_dir), [inputs_dir / "input_data.h"], "esp32s3")
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "esp_cpu.h").write_text(ESP_SHIM)
    (shim / "shim_main.c").write_text(ESP_SHIM_MAIN)
    comp = project / "components" / "mnv3c_model"
    exe = tmp_path / "esp_app"
    cmd = ["gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", f"-I{shim}", f"-I{comp / 'include'}",
           str(project / "main" / "main.c"), *map(str, sorted((comp / "src").glob("*.c"))), str(shim / "shim_main.c"),
           "-o", str(exe)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=10).stdout.splitlines()
    assert [ln for ln in lines if ln.startswith("CYCLES")] == ["CYCLES 1000"] * SAMPLES
    esp_out = parse_outputs(lines, SAMPLES, OUTPUT_BYTES)

    host = get_board("host")
    image = build(host, [HARNESS_MAIN, SELFTEST / "fake_model.c"], tmp_path / "host_app", include_dirs=(inputs_dir,))
    host_run = run_elf(host, image.elf, input_bytes=_inputs().tobytes())  # the host streams its samples
    np.testing.assert_array_equal(esp_out, parse_outputs(host_run.stdout_lines, SAMPLES, OUTPUT_BYTES))


# ESP-IDF 5.x compiles C with -std=gnu17, -mlongcalls on Xtensa, -ffunction-sections -fdata-sections
# -Wall -Wextra (tools/cmake/build.cmake); here every warning is an error, and the warnings ESP-IDF
# turns off (-Wno-unused-parameter, -Wno-sign-compare) stay on.
XTENSA_IDF_FLAGS = ["-std=gnu17", "-O2", "-mlongcalls", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra",
                    "-Werror"]  # fmt: skip
PICOLIBC_SPECS = Path("/usr/lib/xtensa-lx106-elf/picolibc.specs")  # Debian's picolibc-xtensa-lx106-elf


@pytest.fixture(scope="module")
def bundled_esp32_project(tmp_path_factory) -> Path:
    """The bundled model's ESP-IDF project for the ESP32 (OUTDIR/esp-idf), as `compile` + `build` write it."""
    from mnv3c.compiler import build_project, quantize_model, resolve_board, write_project
    from mnv3c.zoo.mnist import load_split

    model = Path(__file__).resolve().parents[1] / "mnv3c" / "data" / "mnv3_small_mnist.onnx"
    q = quantize_model(str(model), None, load_split("calib")[0][:8], progress=False)
    outdir = tmp_path_factory.mktemp("esp32") / "out"
    write_project(q.qgraph, "esp32", resolve_board("esp32", None), outdir, force=False, html=False)
    return build_project(outdir)[1]


def test_esp_idf_project_compiles_for_xtensa_with_werror(bundled_esp32_project, tmp_path):
    """Every C file of the generated ESP-IDF project (the model component and main.c, with the
    esp_cpu.h shim) compiles for the ESP32's windowed-ABI Xtensa class (the project's own
    xtensa-esp32-elf GCC 12, scripts/build-xtensa-esp32.sh: ESP-IDF and Espressif's compiler cannot
    be installed here) under ESP-IDF's flags with -Werror, MAC16 kernels included; picolibc's
    headers stand in for ESP-IDF's newlib."""
    gcc = compiler_name(get_board("sim-de233"))
    if shutil.which(gcc) is None:
        pytest.skip(f"xtensa-esp32-elf-gcc is not built on this machine: run {XTENSA_ESP32_SCRIPT}")
    if not PICOLIBC_SPECS.exists():
        pytest.skip("picolibc-xtensa-lx106-elf is not installed")
    comp = bundled_esp32_project / "components" / "mnv3c_model"
    sources = [bundled_esp32_project / "main" / "main.c", *sorted((comp / "src").glob("*.c"))]
    assert len(sources) > 5 and (comp / "src" / "mnv3c_weights.c").exists()
    assert (comp / "src" / "conv1x1_s8_xtensa_mac16.c").exists()  # the rules' ESP32 kernels ship
    (tmp_path / "esp_cpu.h").write_text(ESP_SHIM)
    for source in sources:
        obj = tmp_path / f"{source.stem}.o"
        proc = subprocess.run([gcc, *XTENSA_IDF_FLAGS, f"--specs={PICOLIBC_SPECS}", f"-I{tmp_path}",
                               f"-I{comp / 'include'}", "-c", str(source), "-o", str(obj)],
                              capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 0 and proc.stderr == "", f"{source.name}: {proc.stderr}"
        assert read_elf(obj).sections  # an Xtensa object, not an empty file
    weights = read_elf(tmp_path / "mnv3c_weights.o")
    assert any(s.name == ".rodata.mnv3c_weights" and s.size > 0 for s in weights.sections)


def test_esp_idf_project_rejects_other_boards_and_missing_input_header(inputs_dir, tmp_path):
    with pytest.raises(MnvError, match="not an ESP-IDF board"):
        write_esp_idf_project(tmp_path, [], [inputs_dir / "input_data.h"], "nucleo-h743zi")
    with pytest.raises(MnvError, match="input_data.h"):
        write_esp_idf_project(tmp_path, _fake_model_sources(inputs_dir), [], "esp32")


# --- flash ---------------------------------------------------------------------------------------
@pytest.fixture
def tools(tmp_path, monkeypatch):
    """Control which flash tools exist: each is absent unless install(name) puts a fake one in place.
    A fake tool records its arguments in <tmp>/<name>.args."""
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    for name in FLASH_TOOLS:
        monkeypatch.setenv("MNV3C_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper(), str(bin_dir / f"absent-{name}"))
    monkeypatch.delenv("ESPPORT", raising=False)

    def install(name: str) -> Path:
        exe = bin_dir / name
        exe.write_text(f'#!/bin/sh\necho "$@" > "{bin_dir / name}.args"\n')
        exe.chmod(0o755)
        monkeypatch.setenv("MNV3C_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper(), str(exe))
        return exe

    return install


def test_flash_st_boards_openocd_first_then_pyocd(tools, tmp_path):
    elf = tmp_path.resolve() / "app.elf"
    h7, f7 = get_board("nucleo-h743zi"), get_board("stm32f746g-disco")
    expected_h7 = [["openocd", "-f", "board/st_nucleo_h743zi.cfg", "-c", f"program {elf} verify reset exit"]]
    assert flash_commands(tmp_path, h7) == expected_h7  # neither installed: the primary command
    tools("pyocd")
    assert flash_commands(tmp_path, h7) == [["pyocd", "flash", "-t", "stm32h743zitx", str(elf)]]
    tools("openocd")
    assert flash_commands(tmp_path, h7) == expected_h7
    assert flash_commands(tmp_path, f7)[0][:3] == ["openocd", "-f", "board/stm32f746g-disco.cfg"]


def test_flash_esp_uses_idf_py_or_esptool_with_flash_args(tools, tmp_path, monkeypatch):
    project = tmp_path.resolve() / "esp-idf"
    board = get_board("esp32s3")
    assert flash_commands(tmp_path, board) == [["idf.py", "-C", str(project), "flash"]]
    monkeypatch.setenv("ESPPORT", "/dev/ttyACM0")
    assert flash_commands(tmp_path, board) == [["idf.py", "-C", str(project), "-p", "/dev/ttyACM0", "flash"]]
    (project / "build").mkdir(parents=True)
    (project / "build" / "flash_args").write_text(
        "--flash_mode dio --flash_freq 80m --flash_size 4MB\n0x0 bootloader/bootloader.bin\n0x10000 mnv3c_app.bin\n"
    )
    tools("esptool.py")  # ESP-IDF absent, project built elsewhere
    assert flash_commands(tmp_path, board) == [[
        "esptool.py", "--chip", "esp32s3", "-p", "/dev/ttyACM0", "write_flash",
        "--flash_mode", "dio", "--flash_freq", "80m", "--flash_size", "4MB",
        "0x0", str(project / "build" / "bootloader" / "bootloader.bin"),
        "0x10000", str(project / "build" / "mnv3c_app.bin"),
    ]]  # fmt: skip
    tools("idf.py")
    assert flash_commands(tmp_path, board)[0][0] == "idf.py"


@pytest.mark.parametrize("name", ["mps2-an500", "virt", "host"])
def test_flash_refuses_emulated_boards(name, tmp_path):
    with pytest.raises(MnvError, match="nothing to flash; run the model with `mnv3c run`"):
        flash_commands(tmp_path, get_board(name))


def test_flash_dry_run_prints_commands_and_reads_board_from_report(tools, tmp_path, capsys):
    (tmp_path / "report.json").write_text('{"board": "stm32f746g-disco", "target": "cortex-m7"}')
    result = flash(tmp_path, None, dry_run=True)
    elf = tmp_path.resolve() / "app.elf"
    line = f"openocd -f board/stm32f746g-disco.cfg -c 'program {elf} verify reset exit'"
    assert result == {"board": "stm32f746g-disco", "dry_run": True, "commands": [line]}
    assert cli_main(["flash", str(tmp_path), "--dry-run"]) == 0  # the command prints them, once
    assert capsys.readouterr().out == line + "\n"
    assert cli_main(["flash", str(tmp_path), "--board", "esp32c3", "--dry-run"]) == 0
    assert capsys.readouterr().out == f"idf.py -C {tmp_path.resolve() / 'esp-idf'} flash\n"
    (tmp_path / "report.json").write_text("{}")
    with pytest.raises(MnvError, match="no --board given"):
        flash(tmp_path, None, dry_run=True)


def test_flash_runs_the_tool_or_says_how_to_install_it(tools, tmp_path):
    board = get_board("nucleo-h743zi")
    with pytest.raises(MnvError, match="app.elf does not exist; build it first"):
        run_flash(tmp_path, board, dry_run=False)
    (tmp_path / "app.elf").write_bytes(b"\x7fELF")
    with pytest.raises(MnvError, match=r"openocd not found \(needed to flash nucleo-h743zi\); apt-get install openocd"):
        run_flash(tmp_path, board, dry_run=False)
    with pytest.raises(MnvError, match="idf.py not found.*install ESP-IDF"):
        run_flash(tmp_path, get_board("esp32"), dry_run=False)
    fake = tools("openocd")
    run_flash(tmp_path, board, dry_run=False)
    recorded = Path(f"{fake}.args").read_text().strip()
    assert recorded == f"-f board/st_nucleo_h743zi.cfg -c program {(tmp_path / 'app.elf').resolve()} verify reset exit"


# --- memory fit ----------------------------------------------------------------------------------
def test_fit_check_names_the_numbers_and_what_to_change():
    h7, f7 = get_board("nucleo-h743zi"), get_board("stm32f746g-disco")
    check_fit(h7, arena_bytes=500_000, scratch_bytes=20_000, stack_bytes=32_768, weights_bytes=1_500_000,
              code_bytes_estimate=100_000)  # fmt: skip
    with pytest.raises(MnvError) as e:
        check_fit(h7, 580_000, 0, 32_768, 1_000_000, 50_000)
    assert str(e.value) == (
        "model does not fit nucleo-h743zi: needs 580,000 B RAM (arena 580,000) but AXISRAM has 524,288 B; "
        "use a smaller input resolution or width multiplier, or a board with more RAM"
    )
    assert e.value.exit_code == 2 and "\n" not in str(e.value)
    with pytest.raises(MnvError, match=r"needs 172,032 B RAM \(stack 172,032\) but DTCM has 131,072 B"):
        check_fit(h7, 1000, 0, 168 * 1024, 1000, 1000)
    # F746: arena, scratch and stack share the one SRAM region.
    with pytest.raises(MnvError, match=r"needs 342,768 B RAM \(arena 300,000 \+ scratch 10,000 \+ stack 32,768\) "
                                       r"but SRAM has 327,680 B"):  # fmt: skip
        check_fit(f7, 300_000, 10_000, 32_768, 1000, 1000)
    with pytest.raises(MnvError) as e:
        check_fit(f7, 1000, 0, 32_768, 1_000_000, 60_000)
    assert str(e.value) == (
        "model does not fit stm32f746g-disco: needs 1,060,000 B flash (weights 1,000,000 + code 60,000) "
        "but FLASH has 1,048,576 B; use a smaller width multiplier (fewer weights), or a board with more flash"
    )
    check_fit(get_board("host"), 10**9, 10**9, 10**9, 10**9, 10**9)  # the host has no limits
    # ESP32: 160 KiB of static DRAM (ESP-IDF's limit) for arena and stack; on the WROVER the arena is in PSRAM
    with pytest.raises(MnvError, match=r"needs 230,304 B RAM \(arena 200,000 \+ stack 30,304\) but DRAM has 163,840 B"):
        check_fit(get_board("esp32"), 200_000, 0, 30_304, 1000, 1000)
    check_fit(get_board("esp32-psram"), 4 * 1024 * 1024, 0, 30_304, 1000, 1000)
    with pytest.raises(MnvError, match=r"but PSRAM has 4,194,304 B"):
        check_fit(get_board("esp32-psram"), 4 * 1024 * 1024 + 1, 0, 30_304, 1000, 1000)
    with pytest.raises(MnvError, match=r"but DRAM has 341,760 B"):  # ESP-IDF's dram0_0_seg on the S3
        check_fit(get_board("esp32s3"), 400_000, 0, 32_768, 1000, 1000)


def test_registry_real_boards_and_defaults():
    from mnv3c.boards import default_board

    assert default_board("esp32").name == "esp32" and default_board("esp32s3").name == "esp32s3"
    assert default_board("riscv32").name == "virt" and default_board("cortex-m7").name == "mps2-an500"
    c3 = get_board("esp32c3")
    assert c3.target == "riscv32" and c3.idf_target == "esp32c3" and c3.hardware
    h7 = get_board("nucleo-h743zi")
    assert h7.cpu_flags == ("-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard") and h7.hardware
    assert get_board("stm32f746g-disco").cpu_flags[1] == "-mfpu=fpv5-sp-d16"
    assert [(r.name, r.origin, r.length) for r in h7.regions] == [
        ("FLASH", 0x08000000, 2 << 20), ("DTCM", 0x20000000, 128 << 10), ("AXISRAM", 0x24000000, 512 << 10)]
    assert "cortexm.c" not in h7.sources and "markers.c" not in h7.sources  # no semihosting, no QEMU markers
