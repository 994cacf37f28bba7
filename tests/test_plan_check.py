"""plan/validate.py: the tagged-arena replay of a plan's kernel calls accepts every plan the search
makes (plan_model runs it on every plan it returns) and rejects a plan with two live ranges over
each other, a stage output lead that is too short, a scratch over an operand, or a sliding stage
whose kept rows are not moved."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from mnv3c.compiler import quantize_model
from mnv3c.plan.memory import ALIGNMENT
from mnv3c.plan.model_plan import ModelPlan, planner
from mnv3c.plan.patch_search import RamBudgetError, choose_stages
from mnv3c.plan.validate import PlanError, check_plan
from mnv3c.quant.quantize import quantize
from quant_graphs import calib_inputs, tiny_mobilenet


@pytest.fixture(scope="module")
def v2(zoo_model):
    """MobileNetV2 64x64 width 0.35 (its first stride-2 depthwise runs in place; stages through adds)."""
    path = zoo_model("mobilenet_v2", "legacy17", resolution=64, width=0.35, num_classes=10)
    rng = np.random.default_rng(0)
    return quantize_model(str(path), None, rng.standard_normal((4, 3, 64, 64)).astype(np.float32),
                          progress=False).qgraph


def _moved(plan: ModelPlan, name: str, offset: int) -> ModelPlan:
    return replace(plan, memory=replace(plan.memory, offsets={**plan.memory.offsets, name: offset}))


def _plans(qg, target: str) -> list[ModelPlan]:
    """Layer by layer, in place only, the default, and the smallest reachable budget."""
    p = planner(qg, target)
    with pytest.raises(RamBudgetError) as refused:
        choose_stages(p, ALIGNMENT)
    stage_sets = [[], choose_stages(p, None, patches=False), choose_stages(p), choose_stages(p, refused.value.smallest)]
    return [p.plan(stages) for stages in stage_sets]


@pytest.mark.parametrize("target", ["host", "cortex-m7", "riscv32"])
def test_every_searched_plan_passes(v2, target) -> None:
    plans = _plans(v2, target)
    assert plans[1].stages and all(st.shares_input for st in plans[1].stages)  # in-place depthwise
    assert any(len(st.steps) > 1 and st.shares_input for st in plans[2].stages)  # a stage over its input
    for plan in plans:
        check_plan(v2, plan)


def test_two_live_buffers_over_each_other_are_caught() -> None:
    qg = quantize(tiny_mobilenet(seed=1), calib_inputs(4), method="minmax", progress=False)
    plan = planner(qg).plan([])
    check_plan(qg, plan)
    sched = plan.schedule
    step = next(s for s in sched.steps if len(s.inputs) == 2)  # the residual add: its skip lives across the branch
    skip, branch = (sched.root[t] for t in step.inputs)
    assert plan.offset(skip) != plan.offset(branch)
    with pytest.raises(PlanError, match="plan check: step"):
        check_plan(qg, _moved(plan, branch, plan.offset(skip)))


def test_a_stage_lead_too_short_is_caught(v2) -> None:
    p = planner(v2)
    plan = p.plan(choose_stages(p, None, patches=False))
    st = plan.stages[0]
    x, y = p.schedule.steps[st.first].inputs[0], p.schedule.steps[st.last].output
    assert plan.offset(x) - plan.offset(y) == st.output_lead > ALIGNMENT
    with pytest.raises(PlanError, match="over its own input"):  # each band wholly before the rows it reads: no longer
        check_plan(v2, _moved(plan, y, plan.offset(y) + ALIGNMENT))


def test_a_scratch_over_an_operand_is_caught() -> None:
    qg = quantize(tiny_mobilenet(seed=1), calib_inputs(4), method="minmax", progress=False)
    p = planner(qg)
    plan = p.plan(choose_stages(p))
    check_plan(qg, plan)
    step = next(s for s in p.schedule.steps if s.index in plan.scratch)  # the squeeze-excite's vectors
    bad = replace(plan, memory=replace(plan.memory, scratch_offsets={**plan.memory.scratch_offsets,
                                                                     step.index: plan.offset(step.inputs[0])}))
    with pytest.raises(PlanError, match="holds a kernel's scratch"):
        check_plan(qg, bad)


def test_a_sliding_stage_without_its_moves_is_caught(monkeypatch) -> None:
    from mnv3c.plan import validate
    from mnv3c.plan.patches import chains, make_stage

    qg = quantize(tiny_mobilenet(seed=1), calib_inputs(4), method="minmax", progress=False)
    p = planner(qg)
    st = make_stage(qg, p.schedule, chains(qg, p.schedule)[0][1:], 2, slides=True)  # conv1x1 -> depthwise 3x3
    assert st.slides
    plan = p.plan([st])
    check_plan(qg, plan)
    monkeypatch.setattr(validate, "band_moves", lambda st, b, i: None)  # the kept rows stay where they were
    with pytest.raises(PlanError, match="plan check: step"):
        check_plan(qg, plan)
