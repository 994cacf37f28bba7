"""Patched early stages (plan/patches.py, plan/patch_search.py): the band geometry, the simulator's
patched run against its layer-by-layer run, the memory plan with band buffers, the --ram-budget
search, and the generated C at several budgets on the host (tests/test_targets.py runs the default
schedule under QEMU on every target)."""

from __future__ import annotations

import numpy as np
import pytest

from mnv3c import cli
from mnv3c.codegen.host import nchw_to_nhwc
from mnv3c.compiler import build_project, quantize_model, resolve_board, run_project, write_project
from mnv3c.plan.model_plan import planner
from mnv3c.plan.patch_search import RamBudgetError, choose_stages
from mnv3c.plan.patches import STAGE_INPUT, band_moves, chains, extra_macs, make_stage, row_bytes
from mnv3c.quant.quantize import quantize
from mnv3c.quant.simulate import quantize_input, simulate
from mnv3c.quant.simulate_patched import simulate_patched
from quant_graphs import calib_inputs, tiny_mobilenet
from test_memory_plan import _assert_valid

RESOLUTION = 96  # the zoo export tests/test_targets.py uses too


@pytest.fixture(scope="module")
def v3(zoo_model):
    """MobileNetV3-Small 1.0, 1000 classes, 96x96: (int8 graph, two quantized input samples)."""
    path = zoo_model("mobilenet_v3_small", "legacy17", resolution=RESOLUTION)
    rng = np.random.default_rng(0)
    q = quantize_model(str(path), None, rng.standard_normal((4, 3, RESOLUTION, RESOLUTION)).astype(np.float32),
                       progress=False)
    x = quantize_input(q.qgraph, rng.standard_normal((2, 3, RESOLUTION, RESOLUTION)).astype(np.float32))
    return q.qgraph, x


def test_bands_cover_every_row_with_the_halo_each_needs() -> None:
    qg = quantize(tiny_mobilenet(seed=1), calib_inputs(4), method="minmax", progress=False)
    p = planner(qg)
    chain = chains(qg, p.schedule)[0][1:]  # conv1x1 -> depthwise 3x3 (the stem output is a later skip)
    st = make_stage(qg, p.schedule, chain, 3)
    out_h = int(qg.tensors[p.schedule.steps[chain[-1]].output].shape[2])
    assert [b[-1].out_rows for b in st.bands] == [(r, min(r + 3, out_h)) for r in range(0, out_h, 3)]
    for band in st.bands:
        for inner, outer in zip(band, band[1:]):
            assert inner.out_rows == outer.in_rows  # each layer makes exactly the rows the next one reads
        dw = band[-1]  # 3x3, stride 1, pad 1: one halo row each side, the image border as padding
        assert dw.in_rows == (max(dw.out_rows[0] - 1, 0), min(dw.out_rows[1] + 1, out_h))
        assert (dw.pad_top, dw.pad_bottom) == (int(dw.out_rows[0] == 0), int(dw.out_rows[1] == out_h))


def test_a_sliding_stage_computes_every_row_once_and_keeps_the_halo() -> None:
    qg = quantize(tiny_mobilenet(seed=1), calib_inputs(4), method="minmax", progress=False)
    p = planner(qg)
    chain = chains(qg, p.schedule)[0][1:]  # conv1x1 -> depthwise 3x3 stride 1
    recomputing = make_stage(qg, p.schedule, chain, 2)
    st = make_stage(qg, p.schedule, chain, 2, slides=True)
    assert st.slides and not recomputing.slides
    assert [b[-1].out_rows for b in st.bands] == [b[-1].out_rows for b in recomputing.bands]
    h = int(qg.tensors[p.schedule.steps[chain[0]].output].shape[2])
    made = [r for band in st.bands for r in range(*band[0].out_rows)]
    assert made == list(range(h))  # each row of the conv1x1 once, in order
    for b, (band, plain) in enumerate(zip(st.bands, recomputing.bands)):
        conv, dw = band
        assert conv.window == plain[0].out_rows  # it holds what the recomputing band makes ...
        assert dw.in_rows == plain[1].in_rows and dw.kept == 0
        if b:  # ... keeping the previous window's rows it shares (the depthwise's halo)
            before = st.bands[b - 1][0].window
            assert conv.kept == before[1] - conv.window[0] > 0
            assert band_moves(st, b, 0) == (conv.window[0] - before[0], conv.kept)
    assert extra_macs(qg, p.schedule, st, {n.name: 1 for n in qg.nodes}) == 0 < st.moved_bytes(qg, p.schedule)
    x = quantize_input(qg, calib_inputs(2))
    assert np.array_equal(simulate_patched(qg, x, p.schedule, [st]), simulate(qg, x))


@pytest.mark.slow
def test_patched_simulation_equals_layer_by_layer_for_every_chain_and_band_height(v3) -> None:
    qg, x = v3
    p = planner(qg)
    ref = simulate(qg, x)
    runs = chains(qg, p.schedule)
    # stem + depthwise before the first SE; blocks 2 and 3 up to block 4's expand + depthwise (its SE)
    assert runs[0] == (0, 1) and runs[1] == (3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
    for chain in (runs[0], runs[1][:4], runs[1][1:8]):  # block 3's residual add ends the third
        for rows in (1, 2, 5):
            for slides in (False, True):
                st = make_stage(qg, p.schedule, chain, rows, slides)
                assert np.array_equal(simulate_patched(qg, x, p.schedule, [st]), ref), (chain, rows, slides)
    both = [make_stage(qg, p.schedule, runs[0], 4), make_stage(qg, p.schedule, runs[1][1:4], 3)]
    assert np.array_equal(simulate_patched(qg, x, p.schedule, both), ref)


@pytest.mark.slow
def test_ram_budget_search_meets_the_goal_and_every_budget(v3) -> None:
    qg, _ = v3
    p = planner(qg)
    layer_by_layer = p.memory([])[1].arena_bytes
    default = p.plan(choose_stages(p))
    assert default.memory.arena_bytes <= 48 * 1024 < layer_by_layer  # issue 14's goal at 96x96, input included
    _assert_valid(default.buffers, default.memory, default.scratch)
    stem = default.stages[0]  # the stem and the first depthwise: the stem's halo rows kept, none recomputed
    assert stem.steps == (0, 1) and stem.slides and extra_macs(qg, p.schedule, stem, {n.name: 1 for n in qg.nodes}) == 0
    shared = [st for st in default.stages if st.shares_input]
    assert shared
    for st in shared:  # the output over the input: written rows never reach rows a later band reads
        first, last = p.schedule.steps[st.first], p.schedule.steps[st.last]
        assert default.offset(first.inputs[0]) - st.output_lead == default.offset(last.output)
        readers = [i for i, srcs in enumerate(st.reads) if STAGE_INPUT in srcs]
        for band, nxt in zip(st.bands, st.bands[1:]):
            written = band[-1].out_rows[1] * row_bytes(qg, last.output) - st.output_lead
            assert written <= min(nxt[i].in_rows[0] for i in readers) * row_bytes(qg, first.inputs[0])
    smallest = default.memory.arena_bytes
    with pytest.raises(RamBudgetError, match=f"--ram-budget {smallest - 16:,} B.*{smallest:,} B"):
        choose_stages(p, smallest - 16)
    budgets = [smallest, (smallest + layer_by_layer) // 2, layer_by_layer]
    plans = [p.plan(choose_stages(p, b)) for b in budgets]
    for budget, plan in zip(budgets, plans):
        assert plan.memory.arena_bytes <= budget
        _assert_valid(plan.buffers, plan.memory, plan.scratch)
    assert plans[-1].stages == []  # the layer-by-layer plan fits: nothing is recomputed


@pytest.mark.slow
def test_generated_c_is_bit_exact_on_the_host_at_several_budgets(v3, tmp_path) -> None:
    qg, x = v3
    board = resolve_board("host", None)
    ref = simulate(qg, x).reshape(len(x), -1)
    p = planner(qg)
    layer_by_layer = p.memory([])[1].arena_bytes
    smallest = p.plan(choose_stages(p)).memory.arena_bytes
    seen = set()
    for i, budget in enumerate((smallest, smallest + 4096, (smallest + 3 * layer_by_layer) // 4, None)):
        out = tmp_path / f"b{i}"
        report = write_project(qg, "host", board, out, force=False, inputs_int8=nchw_to_nhwc(x)[:1], html=False,
                               ram_budget=budget, patches=budget is not None)
        schedule = report["schedule"]
        assert report["tensor_ram_bytes"] == schedule["tensor_ram_bytes"] <= (budget or layer_by_layer)
        stages = [make_stage(qg, p.schedule, tuple(range(st["first_step"], st["last_step"] + 1)), st["band_rows"],
                             st["halo"] == "kept") for st in schedule["stages"]]
        staged = {layer.step for st in stages for layer in st.bands[0]}
        assert len(schedule["calls"]) == len(report["layers"]) - len(staged) + sum(
            layer.computes for st in stages for band in st.bands for layer in band)
        seen.add(tuple((st["first_step"], st["last_step"], st["band_rows"]) for st in schedule["stages"]))
        _, image = build_project(out)
        got = run_project(out, image, nchw_to_nhwc(x)).outputs
        assert np.array_equal(got.reshape(len(x), -1), ref), budget
    assert len(seen) >= 3  # the budgets did pick different schedules


def test_ram_budget_below_the_minimum_is_exit_2_with_both_numbers(tmp_path, capsys) -> None:
    from test_cli import _tiny_model

    model = _tiny_model(tmp_path / "tiny.onnx")
    code = cli.main(["compile", str(model), "--target", "cortex-m7", "-o", str(tmp_path / "out"), "--ram-budget", "64"])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and "no schedule fits --ram-budget 64 B: the smallest tensor RAM found is" in err
    assert not (tmp_path / "out").exists()
    code = cli.main(["compile", str(model), "--target", "host", "-o", str(tmp_path / "out"), "--ram-budget", "-5"])
    assert code == 2 and "--ram-budget must be a positive whole number of bytes" in capsys.readouterr().err


@pytest.mark.slow
def test_inplace_depthwise_halves_its_layer_and_is_bit_exact_on_the_host(zoo_model, tmp_path) -> None:
    """MobileNetV2's layer-by-layer peak is the first stride-2 depthwise (its 6x expanded input beside
    its output): in place, each band is written wholly before the input rows it reads."""
    path = zoo_model("mobilenet_v2", "legacy17", resolution=64, width=0.35, num_classes=10)
    rng = np.random.default_rng(0)
    q = quantize_model(str(path), None, rng.standard_normal((4, 3, 64, 64)).astype(np.float32), progress=False)
    qg, x = q.qgraph, quantize_input(q.qgraph, rng.standard_normal((1, 3, 64, 64)).astype(np.float32))
    p = planner(qg)
    whole = p.memory([])[1]
    stages = choose_stages(p, None, inplace=True, patches=False)
    assert stages and all(len(st.steps) == 1 and st.shares_input for st in stages)
    plan = p.plan(stages)
    _assert_valid(plan.buffers, plan.memory, plan.scratch)
    for st in stages:
        step = p.schedule.steps[st.first]
        assert step.op == "depthwise_conv2d"
        x_at, y_at = plan.offset(step.inputs[0]), plan.offset(step.output)
        assert x_at - y_at == st.output_lead > 0
        in_row, out_row = row_bytes(qg, step.inputs[0]), row_bytes(qg, step.output)
        for (layer,) in st.bands:  # no call reads a byte it writes
            assert y_at + layer.out_rows[1] * out_row <= x_at + layer.in_rows[0] * in_row
        # the layer's input and output take one input and the lead, not both tensors
        assert plan.memory.arena_bytes < whole.arena_bytes
    assert choose_stages(p, None, inplace=False, patches=False) == []
    assert np.array_equal(simulate_patched(qg, x, p.schedule, stages), simulate(qg, x))
    out = tmp_path / "inplace"
    report = write_project(qg, "host", resolve_board("host", None), out, force=False, inputs_int8=nchw_to_nhwc(x),
                           html=False, patches=False)
    assert report["tensor_ram_bytes"] == plan.memory.arena_bytes
    assert [(s["first_step"], s["last_step"]) for s in report["schedule"]["stages"]] == [(st.first, st.last)
                                                                                       for st in stages]
    _, image = build_project(out)
    assert np.array_equal(run_project(out, image, nchw_to_nhwc(x)).outputs.reshape(1, -1),
                          simulate(qg, x).reshape(1, -1))
