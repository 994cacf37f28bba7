"""The planning decisions for one quantized graph, made in order and kept side by side: schedule,
kernels, the patched stages (plan/patches.py, searched by plan/patch_search.py), then memory
(the planner needs the kernels' in-place and scratch needs and the stages' band buffers)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from mnv3c.ir.graph import Graph
from mnv3c.plan.kernels import Kernel, choose_kernels
from mnv3c.plan.memory import Buffer, MemoryPlan, plan_memory
from mnv3c.plan.patches import Stage, patched_buffers
from mnv3c.plan.schedule import Schedule, buffers, schedule


@dataclass
class ModelPlan:
    schedule: Schedule
    kernels: list[Kernel]  # indexed like schedule.steps
    scratch: dict[int, int]  # step -> scratch bytes (steps needing none are absent)
    memory: MemoryPlan
    buffers: list[Buffer] = field(default_factory=list)  # what the planner placed (sizes, lifetimes)
    stages: list[Stage] = field(default_factory=list)  # patched stages, in schedule order
    layer_by_layer_bytes: int = 0  # the arena without patched stages, for reports

    def offset(self, tensor: str) -> int:
        """Arena offset of a tensor stored in the arena (views share their root's offset)."""
        return self.memory.offsets[self.schedule.root[tensor]]

    def stage_of(self, step: int) -> Stage | None:
        return next((st for st in self.stages if st.first <= step <= st.last), None)


def sample_bytes(graph: Graph, tensor: str) -> int:
    """Bytes of one sample (batch axis dropped): the C code runs one image at a time."""
    shape = graph.tensors[tensor].shape
    return int(np.prod(shape[1:], dtype=np.int64)) * np.dtype(graph.tensors[tensor].dtype).itemsize


@dataclass
class Planner:
    """Everything fixed before the stages are chosen, so a search can try many stage sets cheaply."""

    graph: Graph
    schedule: Schedule
    kernels: list[Kernel]
    scratch: dict[int, int]
    buffers: list[Buffer]

    def memory(self, stages: list[Stage], refine: bool = False) -> tuple[list[Buffer], MemoryPlan]:
        """The band buffers and their placement (``refine``: `plan_memory`'s slower search); a stage
        whose output the planner did not put over its input (the in-place hint was not legal after
        all) is planned again without sharing."""
        bufs = patched_buffers(self.graph, self.schedule, self.buffers, stages)
        memory = plan_memory(bufs, self.scratch, refine=refine)
        sched = self.schedule
        unshared = [st for st in stages if st.shares_input and memory.offsets[sched.root[sched.steps[st.last].output]]
                    != memory.offsets[sched.root[sched.steps[st.first].inputs[0]]] - st.output_lead]
        if unshared:
            return self.memory([replace(st, shares_input=False, output_lead=0) if st in unshared else st
                                for st in stages], refine)
        return bufs, memory

    def plan(self, stages: list[Stage]) -> ModelPlan:
        bufs, memory = self.memory(stages, refine=True)
        base = memory if not stages else self.memory([], refine=True)[1]
        return ModelPlan(self.schedule, self.kernels, self.scratch, memory, bufs, list(stages), base.arena_bytes)


def planner(graph: Graph, target: str = "host") -> Planner:
    sched = schedule(graph)
    kernels = choose_kernels(graph, sched, target)
    scratch = {s.index: k.scratch(graph.node(s.node), graph) for s, k in zip(sched.steps, kernels)}
    scratch = {i: n for i, n in scratch.items() if n > 0}
    nbytes = {t: sample_bytes(graph, t) for t in sched.root}
    return Planner(graph, sched, kernels, scratch, buffers(sched, nbytes, [k.inplace_operands for k in kernels]))


def plan_model(graph: Graph, target: str = "host", ram_budget: int | None = None,
               patches: bool = True, inplace: bool = True) -> ModelPlan:
    """The plan of ``graph`` with the stages `patch_search.choose_stages` picks (for ``ram_budget``
    bytes, or its default): layer by layer when ``patches`` is False (with in-place depthwise
    layers where they save bytes, unless ``inplace`` is False too), checked by `validate.check_plan`."""
    from mnv3c.plan.patch_search import choose_stages
    from mnv3c.plan.validate import check_plan

    p = planner(graph, target)
    plan = p.plan(choose_stages(p, ram_budget, inplace, patches) if patches or inplace else [])
    check_plan(graph, plan)  # every plan the code is generated from is proven sound first
    return plan
