"""Which early layers run patched (plan/patches.py), and in bands of how many rows.

Stages never overlap and a step outside every stage keeps its layer-by-layer live bytes (a stage's
band buffers live inside it), so the tensor RAM of a set of stages is, up to placement, the
largest of each stage's own peak and the uncovered steps' layer-by-layer peaks. Every candidate
(a sub-run of a chain that can form a stage, in every band height, recomputing or sliding) is priced
once: its peak (the bytes live at once during it), its extra MACs (the recomputed halo rows) and its
overhead (`_overhead`: the extra kernel calls, a sliding stage's moves).
For a RAM target T, a dynamic program along each chain then picks the non-overlapping stages with
the fewest extra MACs that keep every step within T (then the lowest peaks, then the least overhead). With a RAM budget, T is the budget (lowered
to the next reachable figure when the whole plan's placement comes out above it); by default T
is the smallest figure whose schedule stays within DEFAULT_EXTRA of the model's MACs (or a larger
one whose whole plan places as small, for fewer MACs).
"""

from __future__ import annotations

from dataclasses import dataclass

from mnv3c.analysis import layer_stats
from mnv3c.errors import MnvError
from mnv3c.plan.memory import Buffer, live_peak, union_bytes
from mnv3c.plan.patches import Stage, chains, extra_macs, inplace_op, make_stage, patched_buffers, stage_reads

DEFAULT_EXTRA = 0.05  # extra MACs (halo recomputation) the default schedule may spend, share of the model's
CALL_MACS = 256  # an extra kernel call in MACs, for `_overhead`: its setup (params, output-stage tables, loop
# heads) is a few hundred instructions in the arm_dsp kernels, where a MAC costs about one
BAND_ROWS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)
MAX_STAGE_STEPS = 12  # longer stages reach layers too small for bands to pay (and slow the search)
INPLACE_BAND_ROWS = 1  # an in-place depthwise (a one-layer stage): the smallest lead, one call per output row


class RamBudgetError(MnvError):
    """No schedule fits --ram-budget: says the budget and the smallest tensor RAM reachable."""

    def __init__(self, budget: int, smallest: int, layer_by_layer: int) -> None:
        super().__init__(f"no schedule fits --ram-budget {budget:,} B: the smallest tensor RAM found is "
                         f"{smallest:,} B (layer by layer {layer_by_layer:,} B)")
        self.smallest = smallest


@dataclass(frozen=True)
class _Candidate:
    stage: Stage
    peak: int  # bytes live at once during the stage
    extra_macs: int
    overhead: int  # `_overhead`


def choose_stages(planner, ram_budget: int | None = None, inplace: bool = True, patches: bool = True
                  ) -> list[Stage]:
    """The stages for ``planner`` (model_plan.Planner): the default, or the cheapest fitting
    ``ram_budget`` bytes of tensor RAM (RamBudgetError if none does). ``inplace``: in-place
    depthwise layers may be chosen; ``patches``: stages of several layers may (without them,
    every layer runs whole)."""
    g, sched = planner.graph, planner.schedule
    macs = {r["name"]: int(r["macs"]) for r in layer_stats(g)}
    total = max(sum(macs.values()), 1)
    bufs, memory = planner.memory([])
    layer_by_layer = memory.arena_bytes
    occupied = [_occupied(bufs, memory.offsets, s.index) for s in sched.steps]
    runs = chains(g, sched)
    candidates = [c for run in runs for c in _candidates(planner, run, macs, inplace)
                  if patches or len(c.stage.steps) == 1]
    peaks = {_key(c.stage): c.peak for c in candidates}
    outside = max((occupied[s.index] for s in sched.steps if not any(r[0] <= s.index <= r[-1] for r in runs)),
                  default=0)
    targets = sorted({t for t in (*occupied, *(c.peak for c in candidates), layer_by_layer) if t >= outside})

    def plan_for(target: int) -> tuple[list[Stage], int] | None:
        """The cheapest stages keeping every step within ``target`` (None: impossible), and their MACs."""
        stages, extra = [], 0
        for run in runs:
            found = _cheapest_cover(run, [c for c in candidates if c.stage.first in run], occupied, target)
            if found is None:
                return None
            stages += found[0]
            extra += found[1]
        return _without_idle_inplace(sorted(stages, key=lambda st: st.first), peaks, occupied, len(sched.steps)), extra

    def arena(stages: list[Stage], refine: bool = False) -> int:
        return planner.memory(stages, refine)[1].arena_bytes

    def first_target(ok) -> int | None:
        """The index of the smallest target passing ``ok`` (monotone: a larger target allows more), or None."""
        lo, hi = 0, len(targets)
        while lo < hi:
            mid = (lo + hi) // 2
            if ok(plan_for(targets[mid])):
                hi = mid
            else:
                lo = mid + 1
        return lo if lo < len(targets) else None

    smallest = first_target(lambda found: found is not None)
    if ram_budget is None:
        i = first_target(lambda found: found is not None and found[1] <= DEFAULT_EXTRA * total)
        if i is None:
            return []
        # the whole plan's placement may come out above the target: every larger target up to the
        # best arena placed so far is tried too (fewer extra MACs, maybe no more bytes)
        best = None
        for t in targets[i:]:
            if best is not None and t > best[0]:
                break
            stages, extra = plan_for(t)
            best = min(best or (arena(stages), extra, stages), (arena(stages), extra, stages), key=lambda b: b[:2])
        return _pruned(best[2], lambda stages: arena(stages) <= best[0], candidates) if best[2] and best[0] < layer_by_layer else []
    if layer_by_layer <= ram_budget:
        return []
    if smallest is not None:
        top = max((i for i, t in enumerate(targets) if t <= ram_budget), default=-1)
        for i in range(top, smallest - 1, -1):  # the cheapest first, lower while the placement overshoots
            stages = plan_for(targets[i])[0]
            if arena(stages) <= ram_budget:
                return _pruned(stages, lambda st: arena(st) <= ram_budget, candidates)
        if top >= smallest and arena(stages, refine=True) <= ram_budget:  # the final plan's slower placement
            return stages
    reachable = (layer_by_layer if smallest is None
                 else min(arena(plan_for(targets[smallest])[0], refine=True), layer_by_layer))
    raise RamBudgetError(ram_budget, reachable, layer_by_layer)


def _pruned(stages: list[Stage], fits, candidates: list[_Candidate]) -> list[Stage]:
    """``stages`` without each stage (the dearest first: extra MACs, then overhead) whose removal the
    placement still ``fits``: the search lowers every step it can at no extra MACs, which helps the
    placement meet its target, but a stage that does not is only calls and moves."""
    price = {_key(c.stage): (c.extra_macs, c.overhead) for c in candidates}
    for st in sorted(stages, key=lambda st: price[_key(st)], reverse=True):
        if price[_key(st)] == (0, 0):
            break
        without = [s for s in stages if s is not st]
        if fits(without):
            stages = without
    return stages


def _candidates(planner, run: tuple[int, ...], macs: dict[str, int], inplace: bool = True) -> list[_Candidate]:
    """Every sub-run of ``run`` (at most MAX_STAGE_STEPS) that can form a stage, in every band height
    below its output's rows, both recomputing and sliding (its halo kept: no extra MACs, but band
    buffers that live through the whole stage), priced; with ``inplace``, every in-place depthwise too."""
    g, sched = planner.graph, planner.schedule
    found = [c for i in run if inplace and inplace_op(sched, i) for c in [_inplace_candidate(planner, i, macs)] if c]
    for a in range(len(run)):
        for b in range(a + 1, min(len(run), a + MAX_STAGE_STEPS)):
            steps = run[a:b + 1]
            if stage_reads(sched, steps) is None:
                continue
            out_rows = int(g.tensors[sched.steps[steps[-1]].output].shape[2])
            for h in BAND_ROWS:
                if h < out_rows:
                    recomputing = make_stage(g, sched, steps, h)
                    sliding = make_stage(g, sched, steps, h, slides=True)
                    found += [_candidate(planner, st, macs) for st in (recomputing, sliding)[:1 + sliding.slides]]
    return found


def _inplace_candidate(planner, step: int, macs: dict[str, int]) -> _Candidate | None:
    """Step ``step`` alone, its output over its input (None where the input outlives it)."""
    g, sched = planner.graph, planner.schedule
    st = make_stage(g, sched, (step,), INPLACE_BAND_ROWS)
    return _candidate(planner, st, macs) if st.shares_input else None


def _candidate(planner, st: Stage, macs: dict[str, int]) -> _Candidate:
    g, sched = planner.graph, planner.schedule
    return _Candidate(st, _stage_peak(planner, st), extra_macs(g, sched, st, macs), _overhead(g, sched, st))


def _overhead(g, sched, st: Stage) -> int:
    """What ``st`` spends besides recomputed MACs, in MACs: CALL_MACS per extra kernel call, one per
    word a sliding stage moves."""
    calls = sum(layer.computes for band in st.bands for layer in band) - len(st.steps)
    return CALL_MACS * calls + st.moved_bytes(g, sched) // 4


def _stage_peak(planner, st: Stage) -> int:
    """The most bytes live at one step of ``st`` (its steps' scratch included): the planner's lower
    bound, which its placement meets or nearly meets."""
    inside = [b for b in patched_buffers(planner.graph, planner.schedule, planner.buffers, [st])
              if b.first_step <= st.last and b.last_step >= st.first]
    scratch = {s: n for s, n in planner.scratch.items() if st.first <= s <= st.last}
    return live_peak(inside, scratch, range(st.first, st.last + 1))


def _cheapest_cover(run: tuple[int, ...], candidates: list[_Candidate], occupied: list[int], target: int
                    ) -> tuple[list[Stage], int] | None:
    """Non-overlapping stages over ``run`` with the fewest extra MACs such that every stage's peak and
    every step outside them stay within ``target``; None if there are none."""
    ending: dict[int, list[_Candidate]] = {}
    for c in candidates:
        if c.peak <= target:
            ending.setdefault(c.stage.last, []).append(c)
    # best[i]: the cheapest cover of run[:i] as (extra MACs, its highest peak, the sum of its steps'
    # peaks, its overhead, stages): at equal MACs the lower peaks win (a stage recomputing nothing is
    # taken where it lowers steps, even below the highest), then the fewer calls and moves
    best: list[tuple[int, int, int, int, list[Stage]] | None] = [(0, 0, 0, 0, [])] + [None] * len(run)
    for i, step in enumerate(run):
        options = []
        if best[i] is not None and occupied[step] <= target:
            e, top, total, over, stages = best[i]
            options.append((e, max(top, occupied[step]), total + occupied[step], over, stages))
        for c in ending.get(step, []):
            before = best[run.index(c.stage.first)]
            if before is not None:
                e, top, total, over, stages = before
                options.append((e + c.extra_macs, max(top, c.peak), total + c.peak * len(c.stage.steps),
                                over + c.overhead, [*stages, c.stage]))
        best[i + 1] = min(options, key=lambda o: o[:4]) if options else None
    return None if best[-1] is None else (best[-1][4], best[-1][0])


def _without_idle_inplace(stages: list[Stage], peaks: dict[tuple[int, int, int, bool], int], occupied: list[int],
                          n_steps: int) -> list[Stage]:
    """``stages`` without the in-place layers that do not lower the plan's highest step (each
    costs a kernel call per output row): without one, its step's layer-by-layer bytes are back,
    and they stay within that highest step."""
    covered = {i for st in stages for i in st.steps}
    top = max([peaks[_key(st)] for st in stages] + [occupied[i] for i in range(n_steps) if i not in covered],
              default=0)
    return [st for st in stages if len(st.steps) > 1 or occupied[st.first] > top]


def _key(st: Stage) -> tuple[int, int, int, bool]:
    return st.first, st.last, st.band_rows, st.slides


def _occupied(bufs: list[Buffer], offsets: dict[str, int], step: int) -> int:
    """Arena bytes in use at ``step`` (buffers sharing bytes in place counted once)."""
    return union_bytes((offsets[b.name], offsets[b.name] + b.size) for b in bufs if b.first_step <= step <= b.last_step)
