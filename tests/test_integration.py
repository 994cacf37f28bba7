"""The integration recipes of docs/INTEGRATION.md, checked with what exists here (none of ESP-IDF,
Zephyr or the Arduino IDE can be installed): ESP-IDF's component CMake and the example's run by
CMake with idf_component_register recording its arguments; the Zephyr module read as Zephyr reads
it (module.yml, its Kconfig through kconfiglib, Zephyr's own Kconfig parser, and its CMake with
the zephyr_* functions recording); the Arduino library laid out as the recipe says and compiled
as an Arduino core for a Cortex-M4 would (the sketch as C++ after Arduino.h). The example apps
are compiled with the host gcc behind small shims of the vendor headers and run: they must
print the class the integer simulator predicts. The CMake cross build is tests/test_library.py."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from mnv3c.codegen.generate import generate
from mnv3c.codegen.host import STRICT_FLAGS, host_cc
from mnv3c.ir.graph import Graph
from mnv3c.quant.quantize import quantize
from mnv3c.quant.simulate import simulate
from quant_graphs import calib_inputs, tiny_mobilenet

DOCS = Path(__file__).resolve().parents[1] / "docs" / "integration"
ARDUINO_CATEGORIES = {"Display", "Communication", "Signal Input/Output", "Sensors", "Device Control", "Timing",
                      "Data Storage", "Data Processing", "Other"}  # fmt: skip

# Records what a vendor CMake function was called with, one "NAME ARG;ARG" line per call on stderr.
RECORDER = """
foreach(fn idf_component_register zephyr_library_named zephyr_library_sources zephyr_include_directories)
    cmake_language(EVAL CODE "function(${fn})\\n message(\\"${fn} \\${ARGN}\\")\\nendfunction()")
endforeach()
include(${FILE})
"""


def _require(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="module")
def qgraph() -> Graph:
    return quantize(tiny_mobilenet(seed=4), calib_inputs(4), method="minmax", progress=False)


@pytest.fixture(scope="module")
def library(qgraph: Graph, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("integration") / "out"
    generate(qgraph, out, "host")  # portable kernels: the examples run on the host, the Arduino build is Cortex-M4
    return out / "mnv3c"


def _expected_class(qgraph: Graph) -> int:
    """What the examples print: the argmax for an all-zero input buffer."""
    return int(np.argmax(simulate(qgraph, np.zeros((1, 3, 16, 16), np.int8)).reshape(-1)))


def _cmake_calls(file: Path, cwd: Path, **variables: str) -> dict[str, list[list[str]]]:
    """Run ``file`` under `cmake -P` in ``cwd`` with the recorder; {function: [args of each call]}."""
    _require("cmake")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "record.cmake"
        script.write_text(RECORDER)
        defines = [f"-D{k}={v}" for k, v in {"FILE": str(file), **variables}.items()]
        proc = subprocess.run(["cmake", *defines, "-P", str(script)], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    calls: dict[str, list[list[str]]] = {}
    for line in proc.stderr.splitlines():
        fn, _, args = line.partition(" ")
        calls.setdefault(fn, []).append(args.split(";"))
    return calls


def _run_host_app(tmp_path: Path, sources: list[Path], includes: list[Path], shim: dict[str, str]) -> str:
    shims = tmp_path / "shim"
    for name, text in shim.items():
        (shims / name).parent.mkdir(parents=True, exist_ok=True)
        (shims / name).write_text(text)
    exe = tmp_path / "app"
    cmd = [host_cc(), *STRICT_FLAGS, f"-I{shims}", *(f"-I{d}" for d in includes), *map(str, sources),
           *map(str, sorted(shims.glob("*.c"))), "-o", str(exe)]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=20).stdout


def test_esp_idf_component_and_example(library: Path, qgraph: Graph, tmp_path: Path) -> None:
    component = _cmake_calls(library / "CMakeLists.txt", library, ESP_PLATFORM="1")["idf_component_register"]
    args = component[0]
    srcs, incs = args[args.index("SRCS") + 1:args.index("INCLUDE_DIRS")], args[args.index("INCLUDE_DIRS") + 1:]
    assert len(component) == 1 and incs == ["."] and (library / "mnv3c_model.h").exists()
    assert sorted(srcs) == sorted(p.name for p in library.glob("*.c"))
    main = _cmake_calls(DOCS / "esp-idf" / "main" / "CMakeLists.txt", tmp_path)["idf_component_register"][0]
    assert main[main.index("PRIV_REQUIRES") + 1:] == [library.name]  # the component folder's name
    assert "include($ENV{IDF_PATH}/tools/cmake/project.cmake)" in (DOCS / "esp-idf" / "CMakeLists.txt").read_text()
    out = _run_host_app(tmp_path, [DOCS / "esp-idf" / "main" / "main.c", *sorted(library.glob("*.c"))], [library],
                        {"shim_main.c": "void app_main(void);\nint main(void) { app_main(); return 0; }\n"})
    assert out == f"class {_expected_class(qgraph)}\n"


def test_zephyr_module(library: Path, qgraph: Graph, tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    kconfiglib = pytest.importorskip("kconfiglib")
    module = yaml.safe_load((library / "zephyr" / "module.yml").read_text())
    assert module["name"] == "mnv3c" and set(module["build"]) == {"cmake", "kconfig"}
    assert (library / module["build"]["cmake"] / "CMakeLists.txt").exists()
    kconf = kconfiglib.Kconfig(str(library / module["build"]["kconfig"]), warn_to_stderr=False)
    symbol = kconf.syms["MNV3C_MODEL"]
    assert symbol.type == kconfiglib.BOOL and symbol.str_value == "n"
    kconf.load_config(str(DOCS / "zephyr" / "prj.conf"))
    assert symbol.str_value == "y"

    cmake = library / module["build"]["cmake"] / "CMakeLists.txt"
    assert _cmake_calls(cmake, tmp_path, ZEPHYR_CURRENT_MODULE_DIR=str(library)) == {}  # off unless enabled
    calls = _cmake_calls(cmake, tmp_path, ZEPHYR_CURRENT_MODULE_DIR=str(library), CONFIG_MNV3C_MODEL="y")
    assert calls["zephyr_library_named"] == [["mnv3c_model"]]
    assert calls["zephyr_include_directories"] == [[str(library)]]
    assert sorted(Path(s).name for (s,) in calls["zephyr_library_sources"]) == sorted(p.name for p in library.glob("*.c"))
    assert all(Path(s).exists() for (s,) in calls["zephyr_library_sources"])

    printk = "#include <stdio.h>\n#define printk printf\n"
    out = _run_host_app(tmp_path, [DOCS / "zephyr" / "src" / "main.c", *sorted(library.glob("*.c"))], [library],
                        {"zephyr/sys/printk.h": printk})
    assert out == f"class {_expected_class(qgraph)}\n"


ARDUINO_H = """\
#include <stdint.h>
struct SerialPort {
    void begin(long) {}
    void println(const char *) {}
    void println(unsigned) {}
};
extern SerialPort Serial;
void delay(unsigned long);
"""
ARDUINO_CORE = """\
#include "Arduino.h"
SerialPort Serial;
void delay(unsigned long) {}
void setup();
void loop();
int main() { setup(); loop(); return 0; }
"""


def test_arduino_library(library: Path, tmp_path: Path) -> None:
    """The recipe: library.properties and the sources into libraries/mnv3c/src, then a Cortex-M4
    build of the example sketch against it, the way the Arduino builder compiles (.ino as C++)."""
    _require("arm-none-eabi-gcc", "arm-none-eabi-g++")
    arduino = tmp_path / "Arduino" / "libraries" / library.name
    (arduino / "src").mkdir(parents=True)
    shutil.copy(library / "library.properties", arduino)
    for f in [*library.glob("*.c"), *library.glob("*.h")]:
        shutil.copy(f, arduino / "src")
    props = dict(line.split("=", 1) for line in (arduino / "library.properties").read_text().splitlines() if line)
    assert {"name", "version", "author", "maintainer", "sentence", "paragraph", "category", "architectures"} <= set(props)
    assert props["name"] == library.name and props["category"] in ARDUINO_CATEGORIES
    assert (arduino / "src" / props["includes"]).exists()

    core = tmp_path / "core"
    core.mkdir()
    (core / "Arduino.h").write_text(ARDUINO_H)
    (core / "core.cpp").write_text(ARDUINO_CORE)
    mcu = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-Os", "-ffunction-sections",
           "-fdata-sections"]  # fmt: skip
    objs = []
    for i, src in enumerate(sorted((arduino / "src").glob("*.c"))):
        objs.append(tmp_path / f"lib{i}.o")
        subprocess.run(["arm-none-eabi-gcc", *mcu, "-std=gnu11", "-Wall", "-Werror", f"-I{arduino / 'src'}", "-c",
                        str(src), "-o", str(objs[-1])], check=True)  # fmt: skip
    cxx = ["arm-none-eabi-g++", *mcu, "-std=gnu++17", "-fno-exceptions", "-fno-rtti", "-Wall", "-Werror", f"-I{core}",
           f"-I{arduino / 'src'}"]  # fmt: skip
    sketch = DOCS / "arduino" / "mnv3c_example" / "mnv3c_example.ino"
    subprocess.run([*cxx, "-include", "Arduino.h", "-x", "c++", "-c", str(sketch), "-o", str(tmp_path / "sketch.o")],
                   check=True)  # fmt: skip
    subprocess.run([*cxx, "-c", str(core / "core.cpp"), "-o", str(tmp_path / "core.o")], check=True)
    link = subprocess.run(["arm-none-eabi-gcc", *mcu, "-nostdlib", f"-T{DOCS / 'cmake' / 'stock.ld'}",
                           "-Wl,--gc-sections", str(DOCS / "cmake" / "startup.c"), *map(str, objs),
                           str(tmp_path / "sketch.o"), str(tmp_path / "core.o"), "-lgcc", "-o", str(tmp_path / "sketch.elf")],
                          capture_output=True, text=True)  # fmt: skip
    assert link.returncode == 0, link.stderr
