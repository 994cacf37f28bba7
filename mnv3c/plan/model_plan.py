"""The three planning decisions for one quantized graph, made in order and kept side by side:
schedule, then kernels, then memory (the planner needs the kernels' in-place and scratch needs)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mnv3c.ir.graph import Graph
from mnv3c.plan.kernels import Kernel, choose_kernels
from mnv3c.plan.memory import MemoryPlan, plan_memory
from mnv3c.plan.schedule import Schedule, buffers, schedule


@dataclass
class ModelPlan:
    schedule: Schedule
    kernels: list[Kernel]  # indexed like schedule.steps
    scratch: dict[int, int]  # step -> scratch bytes (steps needing none are absent)
    memory: MemoryPlan

    def offset(self, tensor: str) -> int:
        """Arena offset of a tensor stored in the arena (views share their root's offset)."""
        return self.memory.offsets[self.schedule.root[tensor]]


def sample_bytes(graph: Graph, tensor: str) -> int:
    """Bytes of one sample (batch axis dropped): the C code runs one image at a time."""
    shape = graph.tensors[tensor].shape
    return int(np.prod(shape[1:], dtype=np.int64)) * np.dtype(graph.tensors[tensor].dtype).itemsize


def plan_model(graph: Graph, target: str = "host") -> ModelPlan:
    sched = schedule(graph)
    kernels = choose_kernels(graph, sched, target)
    scratch = {s.index: k.scratch(graph.node(s.node), graph) for s, k in zip(sched.steps, kernels)}
    scratch = {i: n for i, n in scratch.items() if n > 0}
    nbytes = {t: sample_bytes(graph, t) for t in sched.root}
    bufs = buffers(sched, nbytes, [k.inplace_operands for k in kernels])
    return ModelPlan(sched, kernels, scratch, plan_memory(bufs, scratch))
