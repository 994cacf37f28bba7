"""The static memory planner (hand cases, random lifetimes) and the schedule and kernel choice feeding it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mnv3c.ir.graph import Graph
from mnv3c.plan.memory import ALIGNMENT, Buffer, MemoryPlan, plan_memory
from mnv3c.plan.model_plan import ModelPlan, plan_model, sample_bytes
from mnv3c.quant.quantize import quantize
from quant_graphs import calib_inputs, tiny_mobilenet


def _assert_valid(buffers: list[Buffer], plan: MemoryPlan, scratch: dict[int, int] | None = None) -> None:
    """No two buffers live at the same step share a byte; everything fits; offsets are aligned."""
    by_name = {b.name: b for b in buffers}
    regions = [(b.name, plan.offsets[b.name], b.size, b.first_step, b.last_step) for b in buffers]
    regions += [(f"scratch{s}", plan.scratch_offsets[s], n, s, s) for s, n in (scratch or {}).items() if n]
    shared = _shared_pairs(buffers, plan)
    for i, (na, oa, sa, fa, la) in enumerate(regions):
        assert oa % ALIGNMENT == 0
        assert oa + sa <= plan.arena_bytes
        for nb, ob, sb, fb, lb in regions[i + 1 :]:
            if (na, nb) in shared or (nb, na) in shared:
                continue
            if fa <= lb and fb <= la and sa and sb:
                assert oa + sa <= ob or ob + sb <= oa, f"{na} and {nb} collide"
    assert plan.arena_bytes >= plan.lower_bound_bytes
    assert set(plan.offsets) == set(by_name)


def _shared_pairs(buffers: list[Buffer], plan: MemoryPlan) -> set[tuple[str, str]]:
    """(input, output) pairs placed together through a legal in-place hint."""
    by_name = {b.name: b for b in buffers}
    pairs = set()
    for b in buffers:
        src = by_name.get(b.inplace_with or "")
        if (src is not None and plan.offsets[src.name] - b.inplace_lead == plan.offsets[b.name]
                and src.last_step == b.first_step):
            pairs.add((src.name, b.name))
    return pairs


def test_chain_ping_pongs_between_two_slots() -> None:
    # a -> b -> c -> d: each step reads one buffer and writes the next.
    bufs = [Buffer("a", 100, 0, 1), Buffer("b", 100, 1, 2), Buffer("c", 100, 2, 3), Buffer("d", 100, 3, 3)]
    plan = plan_memory(bufs)
    _assert_valid(bufs, plan)
    assert plan.lower_bound_bytes == 200
    assert plan.arena_bytes == 224  # two 100-byte slots, the second aligned to 112
    assert plan.offsets["a"] == plan.offsets["c"]
    assert plan.offsets["b"] == plan.offsets["d"]


def test_residual_keeps_the_skip_branch_alive() -> None:
    # x -> conv1 -> t -> conv2 -> u; y = add(x, u): x stays live across the branch.
    bufs = [Buffer("x", 64, 0, 3), Buffer("t", 128, 1, 2), Buffer("u", 64, 2, 3), Buffer("y", 64, 3, 4)]
    plan = plan_memory(bufs)
    _assert_valid(bufs, plan)
    assert plan.lower_bound_bytes == 256  # step 2: x + t + u
    assert plan.arena_bytes == 256


def test_inplace_shares_the_dying_input() -> None:
    # conv -> hard_swish LUT in place -> mul in place: one block for the whole chain.
    bufs = [
        Buffer("x", 48, 0, 1),
        Buffer("conv", 96, 1, 2),
        Buffer("act", 96, 2, 3, inplace_with="conv"),
        Buffer("scaled", 96, 3, 4, inplace_with="act"),
    ]
    plan = plan_memory(bufs)
    _assert_valid(bufs, plan)
    assert plan.offsets["conv"] == plan.offsets["act"] == plan.offsets["scaled"]
    assert plan.lower_bound_bytes == 144  # step 1: x + conv; in-place steps count once
    assert plan.arena_bytes == 144


def test_inplace_hint_ignored_while_the_input_is_still_needed() -> None:
    # 'a' is read again at step 3, so 'b' (written at step 2) must not overwrite it.
    bufs = [Buffer("a", 32, 0, 3), Buffer("b", 32, 2, 3, inplace_with="a")]
    plan = plan_memory(bufs)
    _assert_valid(bufs, plan)
    assert plan.offsets["a"] != plan.offsets["b"]


def test_inplace_hint_ignored_when_a_sibling_already_took_the_block() -> None:
    # b overwrote a in place; c also names a, but a's bytes now hold b, which is read at step 1.
    bufs = [Buffer("a", 32, 0, 1), Buffer("b", 32, 1, 2, inplace_with="a"), Buffer("c", 32, 1, 2, inplace_with="a")]
    plan = plan_memory(bufs)
    _assert_valid(bufs, plan)
    assert plan.offsets["b"] != plan.offsets["c"]


def test_scratch_counts_at_its_step() -> None:
    bufs = [Buffer("a", 100, 0, 1), Buffer("b", 100, 1, 1)]
    plan = plan_memory(bufs, scratch={1: 40})
    _assert_valid(bufs, plan, {1: 40})
    assert plan.lower_bound_bytes == 240
    assert plan.arena_bytes == 272  # 112 + 112 + 48 after 16-byte alignment


def test_empty() -> None:
    plan = plan_memory([])
    assert (plan.arena_bytes, plan.lower_bound_bytes, plan.offsets) == (0, 0, {})


@st.composite
def _buffers(draw: st.DrawFn) -> tuple[list[Buffer], dict[int, int]]:
    n = draw(st.integers(1, 14))
    bufs: list[Buffer] = []
    for i in range(n):
        first = draw(st.integers(0, 12))
        last = first + draw(st.integers(0, 6))
        hint = draw(st.sampled_from([None] + [b.name for b in bufs])) if bufs else None
        bufs.append(Buffer(f"t{i}", draw(st.integers(0, 300)), first, last, hint))
    scratch = draw(st.dictionaries(st.integers(0, 18), st.integers(0, 64), max_size=4))
    return bufs, scratch


@settings(max_examples=300, deadline=None)
@given(_buffers())
def test_random_lifetimes_never_collide(case: tuple[list[Buffer], dict[int, int]]) -> None:
    bufs, scratch = case
    plan = plan_memory(bufs, scratch)
    _assert_valid(bufs, plan, scratch)


# --- the planner fed by a real schedule and kernel choice ---------------------------------------


def _tiny_plan() -> tuple[Graph, ModelPlan]:
    qg = quantize(tiny_mobilenet(seed=1), calib_inputs(4), method="minmax", progress=False)
    return qg, plan_model(qg)


def test_schedule_views_io_and_inplace() -> None:
    qg, plan = _tiny_plan()
    sched = plan.schedule
    ops = [s.op for s in sched.steps]
    assert "reshape" not in ops  # a view: no step, same storage as its input
    (view,) = [n for n in qg.nodes if n.op == "reshape"]
    assert sched.root[view.outputs[0]] == sched.root[view.inputs[0]]
    # the input and output are arena buffers: the input lives until its last reader, then its bytes
    # are free; the output from its producer to the end
    spans = sched.lifetimes()
    x, y = sched.root[qg.inputs[0]], sched.root[qg.outputs[0]]
    first_reader = next(s.index for s in sched.steps if x in (sched.root[i] for i in s.inputs))
    last_reader = max(s.index for s in sched.steps if x in (sched.root[i] for i in s.inputs))
    assert spans[x] == (0, last_reader) and first_reader == 0 and spans[y][1] == len(sched.steps) - 1
    ox, nx = plan.memory.offsets[x], sample_bytes(qg, x)
    reused = [r for r, (first, _) in spans.items()
              if first > last_reader and plan.memory.offsets[r] < ox + nx and ox < plan.memory.offsets[r] + sample_bytes(qg, r)]
    assert reused, "no later buffer reuses the dead input's bytes"
    # squeeze-excite and the residual add overwrite a dying operand in place
    for op in ("squeeze_excite", "add"):
        step = sched.steps[ops.index(op)]
        assert any(plan.offset(step.output) == plan.offset(i) for i in step.inputs), op
    se = ops.index("squeeze_excite")
    assert plan.scratch[se] > 0 and se in plan.memory.scratch_offsets


def test_kernel_table_picks_pointwise_kernel() -> None:
    qg, plan = _tiny_plan()
    for step, kernel in zip(plan.schedule.steps, plan.kernels):
        node = qg.node(step.node)
        if node.op == "conv2d":
            pointwise = qg.tensors[node.inputs[1]].shape[2:] == (1, 1) and tuple(node.attrs["strides"]) == (1, 1)
            assert kernel.name == ("conv1x1_s8" if pointwise else "conv2d_s8")


def test_refine_fills_the_hole_a_stage_lead_leaves_before_the_stage() -> None:
    # x -> (stage of steps 5..6) -> y, written from 320 B before x and from step 5 on; b1 and b2 live
    # beside x at steps 3-4, c beside y at 8-9. Every greedy order puts the x+y chain first, and
    # neither b1 nor b2 fits in the 320 B below x; one of them placed first, under the lead, does.
    bufs = [Buffer("x", 1600, 0, 6), Buffer("b1", 480, 3, 4), Buffer("b2", 400, 3, 4),
            Buffer("y", 960, 6, 9, inplace_with="x", inplace_lead=320, lead_first_step=5), Buffer("c", 1440, 8, 9)]
    greedy, refined = plan_memory(bufs), plan_memory(bufs, refine=True)
    for plan in (greedy, refined):
        _assert_valid(bufs, plan)
        assert plan.offsets["x"] - 320 == plan.offsets["y"]
    assert greedy.lower_bound_bytes == refined.lower_bound_bytes == 2480  # x + b1 + b2 at step 3
    assert refined.arena_bytes < greedy.arena_bytes and refined.order.endswith("+promoted")

    def under_lead(plan: MemoryPlan) -> list[str]:
        lo, hi = plan.offsets["y"], plan.offsets["x"]
        return [n for n in ("b1", "b2") if plan.offsets[n] < hi and plan.offsets[n] + by_size[n] > lo]

    by_size = {b.name: b.size for b in bufs}
    assert under_lead(refined)  # the lead bytes are taken from step 5, the stage's first, only
    from_x = plan_memory([replace(b, lead_first_step=None) for b in bufs], refine=True)
    assert not under_lead(from_x)  # taken for x's whole lifetime: b1 and b2 stay clear


@pytest.mark.parametrize("shape,perm,view", [
    ((1, 1, 20, 12), (0, 3, 1, 2), True),   # PP-OCR recogniser: (1, 1, T, C) -> (1, C, 1, T), same NHWC bytes
    ((1, 12, 1, 20), (0, 1, 3, 2), True),   # a row becomes a column: NHWC order kept
    ((1, 12, 1, 20), (0, 3, 2, 1), False),  # channels and width swap: the bytes move
])
def test_transpose_that_keeps_the_nhwc_bytes_runs_no_code(shape: tuple, perm: tuple, view: bool, tmp_path) -> None:
    """A transpose is a view exactly when the C layout's byte order survives it; the C still
    matches the simulator either way."""
    from onnx import TensorProto, helper

    from mnv3c.codegen import host
    from mnv3c.codegen.generate import generate
    from mnv3c.frontend import load_onnx
    from mnv3c.passes import optimize
    from mnv3c.quant.simulate import quantize_input, simulate

    rng = np.random.default_rng(3)
    c = shape[1]
    w = rng.standard_normal((c, c, 1, 1)).astype(np.float32)
    out_shape = tuple(shape[p] for p in perm)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("Transpose", ["c"], ["t"], perm=list(perm)),
         helper.make_node("Relu", ["t"], ["y"])],
        "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        [helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.ravel())])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    g = optimize(load_onnx(model, require_image_input=False))
    x = rng.standard_normal((4, *shape[1:])).astype(np.float32)
    qg = quantize(g, x, progress=False)
    sched = plan_model(qg).schedule
    assert any(s.op in ("transpose", "reshape") for s in sched.steps) != view
    xq = quantize_input(qg, x[:1])
    report = generate(qg, tmp_path / "c")
    assert len(report["layers"]) == len(sched.steps) == (2 if view else 3)
    np.testing.assert_array_equal(host.build_and_run(tmp_path / "c", xq), simulate(qg, xq))
