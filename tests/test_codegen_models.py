"""Whole networks: generated C is bit-exact with the integer simulator on the host.

Zoo exports at small resolutions and widths keep it fast; every zoo model also runs under
AddressSanitizer + UBSan. MobileNetV3-Small
is compiled twice to prove the output is byte-identical, and its memory
plan must stay within 10 % of the lower bound (live bytes at the busiest step).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mnv3c.codegen import host
from mnv3c.codegen.generate import generate
from mnv3c.frontend import load_onnx
from mnv3c.ir.graph import Graph
from mnv3c.passes import optimize
from mnv3c.plan.model_plan import plan_model
from mnv3c.quant.quantize import quantize
from mnv3c.quant.simulate import quantize_input, simulate
from mnv3c.zoo.mnist import load_split

pytestmark = pytest.mark.slow

BUNDLED = Path(__file__).resolve().parent.parent / "mnv3c" / "data" / "mnv3_small_mnist.onnx"
ZOO = {  # id -> (family, export variant, resolution, width)
    "v3_small": ("mobilenet_v3_small", "legacy17", 96, 1.0),
    "v3_large": ("mobilenet_v3_large", "legacy17", 64, 0.75),
    "v2": ("mobilenet_v2", "legacy17", 64, 0.5),
    "v1": ("mobilenet_v1", "legacy17", 64, 0.5),
    "v3_small_rewritten": ("mobilenet_v3_small", "rewritten", 64, 0.5),  # + max_pool stem, softmax head
}
ARENA_SLACK = 1.1


def quantized(path: Path, calib: np.ndarray | None = None, tests: np.ndarray | None = None) -> tuple[Graph, np.ndarray]:
    """The int8 graph of an ONNX file and int8 test inputs: calibrated on ``calib`` (default: four
    random images), tested on two of ``tests`` (default: the calibration images) and two random
    int8 tensors covering the whole range."""
    g = optimize(load_onnx(str(path)))
    shape = g.tensors[g.inputs[0]].shape[1:]
    rng = np.random.default_rng(0)
    calib = rng.standard_normal((4, *shape)).astype(np.float32) if calib is None else calib
    tests = calib if tests is None else tests
    qg = quantize(g, calib, progress=False)
    x = np.concatenate([quantize_input(qg, tests[:2]), rng.integers(-128, 128, (2, *shape), dtype=np.int8)])
    return qg, x


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory):
    """id -> (int8 graph, int8 inputs), exported and quantized once per module."""
    from mnv3c.zoo.export import export

    cache: dict[str, tuple[Graph, np.ndarray]] = {}

    def get(key: str) -> tuple[Graph, np.ndarray]:
        if key not in cache:
            family, variant, resolution, width = ZOO[key]
            try:
                path = export(family, variant, tmp_path_factory.mktemp(key) / f"{key}.onnx", resolution, width,
                              num_classes=100)
            except NotImplementedError:
                pytest.skip(f"the zoo cannot export the {variant!r} variant yet")
            cache[key] = quantized(path)
        return cache[key]

    return get


def assert_bit_exact(qg: Graph, x: np.ndarray, outdir: Path, sanitize: bool = False) -> dict:
    report = generate(qg, outdir)
    np.testing.assert_array_equal(host.build_and_run(outdir, x, sanitize=sanitize), simulate(qg, x))
    return report


@pytest.mark.parametrize("key", sorted(ZOO))
def test_zoo_model_bit_exact(zoo, key: str, tmp_path: Path) -> None:
    """Strict -O2 build and an AddressSanitizer + UBSan build of the same C, both bit-exact."""
    qg, x = zoo(key)
    report = assert_bit_exact(qg, x, tmp_path)
    assert report["arena_bytes"] >= report["arena_lower_bound_bytes"]
    assert report["macs"] > 0 and report["weights_bytes"] > report["params"]  # int32 biases, tables
    np.testing.assert_array_equal(host.build_and_run(tmp_path, x, sanitize=True), simulate(qg, x))


def test_bundled_model_bit_exact(tmp_path: Path) -> None:
    if not BUNDLED.exists():
        pytest.skip(f"{BUNDLED.name} is not built yet")
    qg, x = quantized(BUNDLED, load_split("calib")[0][:32], load_split("test")[0])
    assert_bit_exact(qg, x, tmp_path)


def test_v3_small_compiles_byte_identically(zoo, tmp_path: Path) -> None:
    qg, _ = zoo("v3_small")
    generate(qg, tmp_path / "a")
    generate(qg.copy(), tmp_path / "b")
    first, second = ({str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}
                     for d in (tmp_path / "a", tmp_path / "b"))
    assert sorted(first) == sorted(second) and "mnv3c/mnv3c_weights.c" in first
    assert first == second


def test_v3_small_arena_close_to_lower_bound(zoo) -> None:
    qg, _ = zoo("v3_small")
    memory = plan_model(qg).memory
    assert memory.lower_bound_bytes <= memory.arena_bytes <= ARENA_SLACK * memory.lower_bound_bytes
