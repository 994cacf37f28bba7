"""ESP-IDF project output for the ESP32 boards (esp32, esp32s3: Xtensa; esp32c3: RISC-V).

No Xtensa toolchain exists on the build machines, so mnv3c does not build these images: it writes
a complete ESP-IDF project that the user builds and flashes with their own ESP-IDF (>= 5.0):

    PROJECT/CMakeLists.txt                      include($ENV{IDF_PATH}/tools/cmake/project.cmake)
    PROJECT/sdkconfig.defaults                  target, max CPU clock, big main stack, -O2, custom partitions
    PROJECT/partitions.csv                      one factory app partition filling 4 MiB flash (weights are big)
    PROJECT/main/{CMakeLists.txt,main.c}        app_main: runs every embedded sample, prints CYCLES/OUT/DONE
    PROJECT/components/mnv3c_model/...          the model's C files (src/), headers (include/),
                                                idf_component.yml and linker.lf (places the sections)

The model comes in as a list of C files and headers (anything defining `mnv3c_harness_run`, plus
input_data.c/.h from mnv3c.boards.harness.write_input_data), so generated code plugs in unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2

from mnv3c.boards.registry import APP_PARTITION_BYTES, get_board
from mnv3c.errors import MnvError

COMPONENT = "mnv3c_model"

TEMPLATES = Path(__file__).resolve().parent / "templates" / "esp_idf"  # the project tree, one .j2 per file

# idf_target -> (chip, maximum CPU clock in MHz).
_CHIPS = {"esp32": ("ESP32 (Xtensa LX6)", 240), "esp32s3": ("ESP32-S3 (Xtensa LX7)", 240),
          "esp32c3": ("ESP32-C3 (RISC-V)", 160)}  # fmt: skip


def write_esp_idf_project(outdir: Path, c_files: list[Path], headers: list[Path], board_name: str) -> list[Path]:
    """Write an ESP-IDF project for `board_name` (esp32, esp32-psram, esp32s3, esp32s3-psram, esp32c3) into `outdir`.

    c_files / headers: the model's sources and headers (plus input_data.c / input_data.h), copied
    into the mnv3c_model component. Returns the paths written.
    """
    board = get_board(board_name)
    if board.idf_target is None:
        raise MnvError(f"board {board.name} is not an ESP-IDF board; ESP-IDF boards: esp32, esp32-psram, esp32s3, "
                       "esp32s3-psram, esp32c3")
    names = [Path(f).name for f in [*c_files, *headers]]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise MnvError(f"ESP-IDF component: two files are both named {clash[0]}")
    if "input_data.h" not in names:
        raise MnvError("ESP-IDF project: the headers must include input_data.h (mnv3c.boards.harness.write_input_data)")

    root = Path(outdir)
    comp = root / "components" / COMPONENT
    written: list[Path] = []

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="ascii", newline="\n")
        written.append(path)

    def copy(src: Path, dst_dir: Path) -> None:
        dst_dir.mkdir(parents=True, exist_ok=True)
        written.append(Path(shutil.copyfile(src, dst_dir / Path(src).name)))

    for f in c_files:
        copy(f, comp / "src")
    for h in headers:
        copy(h, comp / "include")
    chip, mhz = _CHIPS[board.idf_target]
    context = {"chip": chip, "mhz": mhz, "idf_target": board.idf_target, "component": COMPONENT,
               "sources": [Path(f).name for f in c_files], "app_partition_bytes": APP_PARTITION_BYTES,
               "psram": board.placement["ARENA"] == "PSRAM"}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, autoescape=False)
    for template in sorted(TEMPLATES.rglob("*.j2")):
        relative = template.relative_to(TEMPLATES).with_suffix("")
        write(root / relative, env.get_template(template.relative_to(TEMPLATES).as_posix()).render(context))
    return written
