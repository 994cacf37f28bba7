"""Proof that a model plan's placement is sound, independent of how the planner reasoned.

The memory planner (plan/memory.py) works from lifetimes in schedule steps, in-place chains and a
patched stage's output lead; the integer simulator (quant/simulate_patched.py) keeps every tensor
in its own array, so neither would notice two live byte ranges placed over each other. This check
replays the kernel calls in the order the generated C makes them, with the C's pointers (whole
tensors at their offsets, a stage's bands addressed by `patches.band_operands`, a sliding stage's
moves of kept rows by `patches.band_moves`), over an arena of
tags: a call writes (tensor, byte position) tags into its output range and a scratch tag into its
scratch, and every read must find exactly the tags of the bytes it expects. A read that finds
anything else means a live byte was overwritten before its last reader (two simultaneously live
ranges overlapped, a scratch ran over an operand, or a stage's output caught up with input rows a
later band still reads). A call's output may meet its inputs only where its kernel overwrites that
operand in place, starting at the same byte.
"""

from __future__ import annotations

import numpy as np

from mnv3c.errors import MnvError
from mnv3c.ir.graph import Graph
from mnv3c.plan.patches import STAGE_INPUT, STAGE_OUTPUT, band_moves, band_operands, row_bytes

_SCRATCH = -2
_UNWRITTEN = -1


class PlanError(MnvError):
    """A plan whose calls would read bytes another tensor (or a scratch) overwrote."""


def check_plan(graph: Graph, plan) -> None:
    """Raise PlanError unless every call of ``plan`` (model_plan.ModelPlan) reads what its producers
    wrote, and the graph output survives to the end."""
    _Arena(graph, plan).run()


class _Arena:
    def __init__(self, graph: Graph, plan) -> None:
        from mnv3c.plan.model_plan import sample_bytes

        self.g, self.plan, self.sched = graph, plan, plan.schedule
        self.size = plan.memory.arena_bytes
        self.tags = np.full(self.size, _UNWRITTEN, np.int64)
        self.ids = {r: k for k, r in enumerate(sorted(set(self.sched.root.values())))}
        self.names = {k: r for r, k in self.ids.items()}
        self.nbytes = {t: sample_bytes(graph, t) for t in self.sched.root}

    def run(self) -> None:
        sched = self.sched
        x = sched.graph_input
        self._write(-1, x, self.plan.offset(x), 0, self.nbytes[x], ())  # the application fills it first
        done: set[int] = set()
        for step in sched.steps:
            if step.index in done:
                continue
            stage = self.plan.stage_of(step.index)
            if stage is None:
                ranges = [(t, self.plan.offset(t), 0, self.nbytes[t]) for t in step.inputs]
                self._call(step.index, ranges, (step.output, self.plan.offset(step.output), 0, self.nbytes[step.output]))
            else:
                self._stage(stage)
                done.update(stage.steps)
        y = sched.graph_output
        self._read(len(sched.steps), y, self.plan.offset(y), 0, self.nbytes[y])  # the application reads it last

    def _stage(self, st) -> None:
        sched, g = self.sched, self.g
        steps = [sched.steps[i] for i in st.steps]
        x, y = steps[0].inputs[0], steps[-1].output
        rows = [row_bytes(g, s.output) for s in steps]
        tensor = {STAGE_INPUT: x, STAGE_OUTPUT: y, **{p: s.output for p, s in enumerate(steps[:-1])}}
        base = {STAGE_INPUT: self.plan.offset(x), STAGE_OUTPUT: self.plan.offset(y),
                **{p: self.plan.offset(s.output) for p, s in enumerate(steps[:-1])}}
        row_of = {STAGE_INPUT: row_bytes(g, x), STAGE_OUTPUT: row_bytes(g, y), **dict(enumerate(rows[:-1]))}
        for b, band in enumerate(st.bands):
            for i, layer in enumerate(band):
                move = band_moves(st, b, i)
                if move is not None:  # the kept rows to the buffer's front (a forward copy)
                    rb, (lo, hi) = rows[i], (layer.window[0], layer.window[0] + move[1])
                    self._read(layer.step, tensor[i], base[i] + move[0] * rb, lo * rb, hi * rb)
                    self.tags[base[i]:base[i] + (hi - lo) * rb] = self._expected(tensor[i], lo * rb, hi * rb)
                if not layer.computes:
                    continue
                operands = band_operands(st, band, i, rows, row_of[STAGE_INPUT], row_of[STAGE_OUTPUT])
                spans = [layer.in_rows] * len(st.reads[i]) + [layer.out_rows]
                ranges = []
                for (buf, offset), (lo, hi) in zip(operands, spans):
                    rb = row_of[buf]
                    ranges.append((tensor[buf], base[buf] + offset, lo * rb, hi * rb))
                self._call(layer.step, ranges[:-1], ranges[-1])

    def _call(self, step: int, inputs: list[tuple[str, int, int, int]], output: tuple[str, int, int, int]) -> None:
        """One kernel call: its scratch is written, its inputs read, then its output written.
        A range is (tensor, arena offset of its first byte, first and end byte position in the tensor)."""
        scratch = self.plan.scratch.get(step, 0)
        if scratch:
            at = self.plan.memory.scratch_offsets[step]
            self._bounds(step, "scratch", at, scratch)
            self.tags[at:at + scratch] = _SCRATCH
        for t, at, lo, hi in inputs:
            self._read(step, t, at, lo, hi)
        self._write(step, *output, inputs)

    def _read(self, step: int, t: str, at: int, lo: int, hi: int) -> None:
        self._bounds(step, t, at, hi - lo)
        want = self._expected(t, lo, hi)
        got = self.tags[at:at + hi - lo]
        if not np.array_equal(got, want):
            k = int(np.flatnonzero(got != want)[0])
            raise PlanError(f"plan check: step {step} reads {t!r} bytes {lo}..{hi - 1} at arena +{at}, but arena "
                            f"+{at + k} holds {self._describe(int(got[k]))} instead of its byte {lo + k}")

    def _write(self, step: int, t: str, at: int, lo: int, hi: int, inputs) -> None:
        self._bounds(step, t, at, hi - lo)
        allowed = self.plan.kernels[step].inplace_operands if step >= 0 else ()
        for pos, (src, src_at, src_lo, src_hi) in enumerate(inputs):
            meets = at < src_at + (src_hi - src_lo) and src_at < at + (hi - lo)
            if meets and not (pos in allowed and src_at == at):
                raise PlanError(f"plan check: step {step} writes {t!r} at arena +{at}..+{at + hi - lo - 1} over "
                                f"its own input {src!r} at +{src_at}..+{src_at + src_hi - src_lo - 1}")
        self.tags[at:at + hi - lo] = self._expected(t, lo, hi)

    def _expected(self, t: str, lo: int, hi: int) -> np.ndarray:
        return (np.int64(self.ids[self.sched.root[t]]) << 32) + np.arange(lo, hi, dtype=np.int64)

    def _describe(self, tag: int) -> str:
        if tag == _UNWRITTEN:
            return "nothing written"
        if tag == _SCRATCH:
            return "a kernel's scratch"
        return f"byte {tag & 0xFFFFFFFF} of {self.names[tag >> 32]!r}"

    def _bounds(self, step: int, what: str, at: int, n: int) -> None:
        if at < 0 or at + n > self.size:
            raise PlanError(f"plan check: step {step}: {what!r} at arena +{at}, {n} bytes, is outside the "
                            f"{self.size}-byte arena")
