"""Whole networks on every emulated target: the device is bit-exact with the integer simulator,
the instruction count is exact and repeatable, and the memory report is complete.

Each model is quantized once per module and only `write_project` / `build_project` run per
target (building dominates: a few seconds per target). The built image is then run a second time
with `run_elf` to prove the count does not depend on the run. A model that cannot fit its board
must fail early (exit 2, one line naming the need and the capacity) and leave nothing behind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from test_kernel_variants import assert_variants_cover

from mnv3c import cli
from mnv3c.boards.qemu import run_elf
from mnv3c.boards.registry import get_board
from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.compiler import Quantized, build_project, quantize_model, resolve_board, run_project, write_project
from mnv3c.profile import layer_profile
from mnv3c.quant.simulate import quantize_input, simulate
from mnv3c.zoo.mnist import load_split

pytestmark = [pytest.mark.slow, pytest.mark.qemu]

TARGETS = ("cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "riscv32")
# The Xtensa cores (QEMU's lx106 for esp8266, de233_fpu for esp32: board sim-de233) emulate several
# times slower: the bundled model, MobileNetV3-Small and the int16 network run on them, the exporter
# variants (same kernels) only on TARGETS.
ALL_TARGETS = (*TARGETS, "esp8266", "esp32")
BUNDLED = Path(__file__).resolve().parents[1] / "mnv3c" / "data" / "mnv3_small_mnist.onnx"
V3_RESOLUTION = 96


@dataclass
class Case:
    q: Quantized
    x_int8: np.ndarray  # graph layout (NCHW), quantized input samples
    sim: np.ndarray  # integer simulator output, [N, classes]


def _case(model: Path, calib: np.ndarray, x: np.ndarray, **options: object) -> Case:
    q = quantize_model(str(model), None, calib, progress=False, options=options)
    x_q = quantize_input(q.qgraph, x)
    return Case(q, x_q, simulate(q.qgraph, x_q).reshape(len(x), -1))


@pytest.fixture(scope="module")
def v3_small(zoo_model) -> Case:
    """MobileNetV3-Small 1.0, 1000 classes, 96x96, seeded init; 4 seeded calibration images."""
    path = zoo_model("mobilenet_v3_small", "legacy17", resolution=V3_RESOLUTION)
    shape = (3, V3_RESOLUTION, V3_RESOLUTION)
    calib = np.random.default_rng(0).standard_normal((4, *shape)).astype(np.float32)
    x = np.random.default_rng(1).standard_normal((1, *shape)).astype(np.float32)
    return _case(path, calib, x)


@pytest.fixture(scope="module")
def bundled() -> Case:
    """The bundled MNIST model with its shipped calibration split and two test digits."""
    return _case(BUNDLED, load_split("calib")[0], load_split("test")[0][:2])


@pytest.fixture(scope="module")
def narrow_int16() -> Case:
    """The trained x0.35 network with PaddleClas' HardSigmoid(0.2) SE gate, every layer 16x8: every
    int16 kernel the network has, both int8/int16 converters (host tests place them everywhere)."""
    model = Path(__file__).resolve().parents[1] / "mnv3c" / "data" / "narrow" / "mnv3_small_x035_hsig02_mnist.onnx"
    return _case(model, load_split("calib")[0][:32], load_split("test")[0][:2], precision="int16")


# Other exporters' graphs of the same network: h-swish decomposed (legacy13), dynamo's opset-18
# ReduceMean/Reshape with external data, and the rewritten decompositions (Clip/Div h-swish, Paddle
# h-sigmoid, Reshape+Add bias, MaxPool, Softmax). 100 classes keep each build quick.
VARIANTS = ("legacy13", "dynamo", "rewritten")
VARIANT_CLASSES = 100


@pytest.fixture(scope="module", params=VARIANTS)
def v3_small_variant(request, zoo_model) -> Case:
    path = zoo_model("mobilenet_v3_small", request.param, resolution=V3_RESOLUTION, num_classes=VARIANT_CLASSES)
    shape = (3, V3_RESOLUTION, V3_RESOLUTION)
    calib = np.random.default_rng(2).standard_normal((4, *shape)).astype(np.float32)
    x = np.random.default_rng(3).standard_normal((1, *shape)).astype(np.float32)
    return _case(path, calib, x)


def _check_target(case: Case, target: str, outdir: Path, classes: int, ram_budget: int | None = None) -> None:
    board = resolve_board(target, None, run=True)  # esp32: its emulated board
    x_c = nchw_to_nhwc(case.x_int8)
    written = write_project(case.q.qgraph, target, board, outdir, force=False, inputs_int8=x_c, ram_budget=ram_budget)
    assert written["tensor_ram_bytes"] <= (ram_budget or written["schedule"]["layer_by_layer_tensor_ram_bytes"])
    report, image = build_project(outdir)
    assert report["output"]["c_shape"] == [1, classes]  # a flat logits vector: C and graph order agree
    assert_variants_cover(report, target)  # the target's kernel variants, no silent portable fallback

    ran = run_project(outdir, image, x_c)
    instructions = ran.instructions
    np.testing.assert_array_equal(ran.outputs.reshape(case.sim.shape), case.sim)  # bit-exact, every sample
    assert isinstance(instructions, int) and instructions > 0

    again = run_elf(board, image, timeout_s=120, input_bytes=x_c.tobytes())  # same image, second emulator run
    assert again.instructions == instructions
    # the per-layer profile: one row per layer (+ the call overhead), exact sum, identical on a second run
    assert [row["layer"] for row in ran.profile[:-1]] == [layer["name"] for layer in report["layers"]]
    assert all(row["instructions"] > 0 for row in ran.profile[:-1])
    assert sum(row["instructions"] for row in ran.profile) == instructions
    assert layer_profile(report["layers"], again.marks_per_sample[0], again.instructions,
                         report["schedule"]["calls"]) == ran.profile
    assert len(again.instructions_per_sample) == len(case.x_int8)

    on_disk = json.loads((outdir / "report.json").read_text())
    for key in ("arena_bytes", "flash_bytes", "ram_bytes", "weights_bytes"):
        assert isinstance(on_disk[key], int) and on_disk[key] > 0, key
    assert on_disk["ram_bytes"] >= on_disk["arena_bytes"]  # the arena is linked into RAM
    assert on_disk["flash_bytes"] >= on_disk["weights_bytes"]  # and the weights into flash


@pytest.mark.parametrize("target", ALL_TARGETS)
def test_v3_small_1000_classes_bit_exact_on(target: str, v3_small: Case, tmp_path: Path) -> None:
    _check_target(v3_small, target, tmp_path / "out", classes=1000)


@pytest.mark.parametrize("target", ("cortex-m7", "cortex-m55", "riscv32", "esp32"))  # arm_dsp, arm_mve, riscv, MAC16
def test_v3_small_at_a_tight_ram_budget_bit_exact_on(target: str, v3_small: Case, tmp_path: Path) -> None:
    """A budget the default schedule does not pick (issue 14): other stages and band heights, same bytes."""
    _check_target(v3_small, target, tmp_path / "out", classes=1000, ram_budget=40_000)


@pytest.mark.parametrize("target", TARGETS)
def test_v3_small_exporter_variants_bit_exact_on(target: str, v3_small_variant: Case, tmp_path: Path) -> None:
    _check_target(v3_small_variant, target, tmp_path / "out", classes=VARIANT_CLASSES)


@pytest.mark.parametrize("target", ALL_TARGETS)
def test_bundled_model_bit_exact_on(target: str, bundled: Case, tmp_path: Path) -> None:
    _check_target(bundled, target, tmp_path / "out", classes=10)


@pytest.mark.parametrize("target", ALL_TARGETS)
def test_int16_narrow_model_bit_exact_on(target: str, narrow_int16: Case, tmp_path: Path) -> None:
    assert {t.dtype for t in narrow_int16.q.qgraph.tensors.values() if not t.is_const} == {"int8", "int16"}
    _check_target(narrow_int16, target, tmp_path / "out", classes=10)


def test_model_too_large_for_board_is_exit_2_and_leaves_nothing(zoo_model, tmp_path: Path, capsys) -> None:
    """V3-Small's ~2.6 MB of int8 weights cannot fit the STM32F746's 1 MiB flash: the CLI says
    so in one line with both numbers, before writing anything."""
    path = zoo_model("mobilenet_v3_small", "legacy17", resolution=V3_RESOLUTION)
    calib = tmp_path / "calib.npy"
    np.save(calib, np.random.default_rng(0).standard_normal((2, 3, V3_RESOLUTION, V3_RESOLUTION)).astype(np.float32))
    work = tmp_path / "work"
    work.mkdir()
    out = work / "out"
    code = cli.main(["compile", str(path), "--target", "cortex-m7", "--board", "stm32f746g-disco",
                     "--calib", str(calib), "-o", str(out)])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and "Traceback" not in err[0]
    flash = get_board("stm32f746g-disco").region("FLASH").length
    assert f"but FLASH has {flash:,} B" in err[0]
    need = int(err[0].split("needs ", 1)[1].split(" B flash", 1)[0].replace(",", ""))
    assert need > flash
    assert list(work.iterdir()) == []  # no OUTDIR, no hidden staging folder
