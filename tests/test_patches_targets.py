"""Issue 14's acceptance: every zoo family (MobileNetV3-Small, V3-Large, V2, V1) runs bit-exact with
the layer-by-layer integer simulator on the host and the five QEMU targets, at the default schedule
and at three --ram-budgets (the smallest reachable, halfway to layer by layer, just below layer by
layer), and a budget below the smallest reachable is refused; and layer by layer with in-place
depthwise layers where they lower the peak (MobileNetV2).

Lean: 64x64 inputs, 10 classes, width 0.35 but for V3-Small (small weights build fast, the early
layers still dominate RAM). Each family is quantized once per module; per target only the stage search, the
code generation, the build and the run repeat, once per budget.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.compiler import build_project, quantize_model, resolve_board, run_project, write_project
from mnv3c.ir.graph import Graph
from mnv3c.plan.memory import ALIGNMENT
from mnv3c.plan.model_plan import planner
from mnv3c.plan.patch_search import RamBudgetError, choose_stages
from mnv3c.plan.patches import make_stage
from mnv3c.quant.simulate import quantize_input, simulate
from mnv3c.quant.simulate_patched import simulate_patched

pytestmark = [pytest.mark.slow, pytest.mark.qemu]

FAMILIES = ("mobilenet_v3_small", "mobilenet_v3_large", "mobilenet_v2", "mobilenet_v1")
TARGETS = ("host", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55", "riscv32")
RESOLUTION, CLASSES = 64, 10
# V3-Small at 0.35 has one schedule for every budget (its 8-channel stem leaves the search no choice)
WIDTH = {"mobilenet_v3_small": 1.0, "mobilenet_v3_large": 0.35, "mobilenet_v2": 0.35, "mobilenet_v1": 0.35}


@dataclass
class Family:
    name: str
    qgraph: Graph
    x_int8: np.ndarray  # one quantized input sample, NCHW
    sim: np.ndarray  # the layer-by-layer simulator's output, [1, classes]


@pytest.fixture(scope="module", params=FAMILIES)
def family(request, zoo_model) -> Family:
    width = WIDTH[request.param]
    path = zoo_model(request.param, "legacy17", resolution=RESOLUTION, width=width, num_classes=CLASSES)
    rng = np.random.default_rng(0)
    shape = (3, RESOLUTION, RESOLUTION)
    q = quantize_model(str(path), None, rng.standard_normal((4, *shape)).astype(np.float32), progress=False)
    x = quantize_input(q.qgraph, rng.standard_normal((1, *shape)).astype(np.float32))
    return Family(request.param, q.qgraph, x, simulate(q.qgraph, x).reshape(1, -1))


def _budgets(qg: Graph, target: str) -> list[int | None]:
    """The default (None) and three budgets; a budget below the smallest reachable is refused."""
    p = planner(qg, target)
    layer_by_layer = p.memory([])[1].arena_bytes
    with pytest.raises(RamBudgetError) as refused:
        choose_stages(p, ALIGNMENT)
    smallest = refused.value.smallest
    assert smallest < layer_by_layer
    with pytest.raises(RamBudgetError, match=f"--ram-budget {smallest - ALIGNMENT:,} B.*{smallest:,} B"):
        choose_stages(p, smallest - ALIGNMENT)
    return [None, smallest, (smallest + layer_by_layer) // 2, layer_by_layer - ALIGNMENT]


@pytest.mark.parametrize("target", TARGETS)
def test_every_family_bit_exact_at_the_default_and_three_budgets_on(target: str, family: Family, tmp_path) -> None:
    qg, board, x_c = family.qgraph, resolve_board(target, None), nchw_to_nhwc(family.x_int8)
    schedules = set()
    for i, budget in enumerate(_budgets(qg, target)):
        out = tmp_path / f"b{i}"
        report = write_project(qg, target, board, out, force=False, inputs_int8=x_c, html=False, ram_budget=budget)
        sched = report["schedule"]
        assert sched["kind"] == "patched"
        assert report["tensor_ram_bytes"] <= (budget or sched["layer_by_layer_tensor_ram_bytes"] - ALIGNMENT)
        schedules.add(tuple((st["first_step"], st["last_step"], st["band_rows"]) for st in sched["stages"]))
        if target == "host":  # the simulator's own patched run, as the C runs it
            p = planner(qg, target)
            stages = [make_stage(qg, p.schedule, tuple(range(st["first_step"], st["last_step"] + 1)), st["band_rows"],
                                 st["halo"] == "kept") for st in sched["stages"]]
            assert np.array_equal(simulate_patched(qg, family.x_int8, p.schedule, stages).reshape(1, -1), family.sim)
        _, image = build_project(out)
        got = run_project(out, image, x_c).outputs
        assert np.array_equal(got.reshape(family.sim.shape), family.sim), (family.name, target, budget)
    assert len(schedules) >= 2  # the budgets did pick different schedules (sliding stages cost no MACs, so
    # the cheapest schedule within a budget is often the smallest one)
    # layer by layer with in-place depthwise layers (MobileNetV2: its first stride-2 depthwise is the peak)
    inplace = choose_stages(planner(qg, target), None, inplace=True, patches=False)
    assert bool(inplace) == (family.name == "mobilenet_v2")
    if inplace:
        out = tmp_path / "inplace"
        report = write_project(qg, target, board, out, force=False, inputs_int8=x_c, html=False, patches=False)
        assert [st["first_step"] == st["last_step"] for st in report["schedule"]["stages"]] == [True] * len(inplace)
        assert report["tensor_ram_bytes"] < report["schedule"]["layer_by_layer_tensor_ram_bytes"]
        _, image = build_project(out)
        got = run_project(out, image, x_c).outputs
        assert np.array_equal(got.reshape(family.sim.shape), family.sim), (family.name, target, "in place")
