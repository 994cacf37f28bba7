"""Patch-based execution of the early stages: a chain of row-local layers run band by band.

At high resolution the first layers' feature maps dominate RAM (MobileNetV3-Small at 224: the
150,528 B input beside the stem's 200,704 B output). A *stage* is a run of consecutive steps
(convolutions, depthwise convolutions, standalone activations) where each step reads only the
previous one's output; it runs in horizontal bands of its last layer's output rows, each band
computing, layer by layer backwards, just the rows it needs (the overlapping halo rows are
recomputed, MCUNetV2-style). Only the stage's input and output exist whole; every intermediate
holds one band. A squeeze-excite needs its whole input, so it is never inside a stage.

When the stage's input dies with the stage and the output rows written so far never reach the
input rows later bands still read, the output is planned over the input itself (`Stage.shares_input`).

This module only describes the bands and rewrites the memory planner's requests; which kernels
run and where buffers land stay with plan/kernels.py and plan/memory.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.plan.kernels import LUT_OPS
from mnv3c.plan.memory import Buffer
from mnv3c.plan.schedule import Schedule

PATCH_OPS = ("conv2d", "depthwise_conv2d", *LUT_OPS)
MIN_STAGE_STEPS = 2


@dataclass(frozen=True)
class BandLayer:
    """One layer's share of one band: rows of its whole input and output, and the padding rows
    the band sees (the image's own border only where the band touches it)."""

    step: int
    node: str
    in_rows: tuple[int, int]  # [start, stop) of the layer's input rows read
    out_rows: tuple[int, int]  # [start, stop) of its output rows written
    pad_top: int
    pad_bottom: int


@dataclass(frozen=True)
class Stage:
    steps: tuple[int, ...]  # consecutive schedule steps, each reading the previous one's output
    band_rows: int  # output rows of the last layer per band (the last band may have fewer)
    bands: tuple[tuple[BandLayer, ...], ...]  # per band, one entry per step in order
    shares_input: bool = False  # the output is planned over the (dying) input

    @property
    def first(self) -> int:
        return self.steps[0]

    @property
    def last(self) -> int:
        return self.steps[-1]


def _geometry(node: Node, graph: Graph) -> tuple[int, int, int, int]:
    """(effective kernel rows, stride, pad top, input rows) of a row-local layer."""
    h = int(graph.tensors[node.inputs[0]].shape[2])
    if node.op not in ("conv2d", "depthwise_conv2d"):
        return 1, 1, 0, h
    a = node.attrs
    kh = int(graph.tensors[node.inputs[1]].shape[2])
    dh = int((a.get("dilations") or (1, 1))[0])
    return (kh - 1) * dh + 1, int((a.get("strides") or (1, 1))[0]), int((a.get("pads") or (0,))[0]), h


def _rows_needed(node: Node, graph: Graph, out_rows: tuple[int, int]) -> tuple[tuple[int, int], int, int]:
    """Input rows (clipped to the tensor) and the band's top/bottom padding for ``out_rows``."""
    k, s, pt, h = _geometry(node, graph)
    lo = out_rows[0] * s - pt
    hi = (out_rows[1] - 1) * s - pt + k
    return (max(lo, 0), min(hi, h)), max(0, -lo), max(0, hi - h)


def _patchable(graph: Graph, node: Node) -> bool:
    if node.op not in PATCH_OPS:
        return False
    x, y = graph.tensors[node.inputs[0]], graph.tensors[node.outputs[0]]
    return len(x.shape) == 4 and len(y.shape) == 4 and x.dtype == "int8" and y.dtype == "int8"


def chains(graph: Graph, sched: Schedule) -> list[tuple[int, ...]]:
    """Maximal runs of steps that can form stages: patchable ops, one runtime input each, every
    step but the last read by the next step only (so its storage can shrink to one band)."""
    readers: dict[str, list[int]] = {}
    for s in sched.steps:
        for t in s.inputs:
            readers.setdefault(sched.root[t], []).append(s.index)
    out_root = sched.root[sched.graph_output]
    runs: list[tuple[int, ...]] = []
    run: list[int] = []
    for s in sched.steps:
        # a view as input would give other rows than the tensor's own
        if not (_patchable(graph, graph.node(s.node)) and len(s.inputs) == 1 and sched.root[s.inputs[0]] == s.inputs[0]):
            runs.append(tuple(run))
            run = []
            continue
        if run:
            prev = sched.steps[run[-1]]
            prev_root = sched.root[prev.output]
            if not (sched.root[s.inputs[0]] == prev_root == prev.output and readers[prev_root] == [s.index]
                    and prev_root != out_root):
                runs.append(tuple(run))
                run = []
        run.append(s.index)
    runs.append(tuple(run))
    return [r for r in runs if len(r) >= MIN_STAGE_STEPS]


def make_stage(graph: Graph, sched: Schedule, steps: tuple[int, ...], band_rows: int) -> Stage:
    """The bands of ``steps`` (a sub-run of one of `chains`) for ``band_rows`` output rows each."""
    nodes = [graph.node(sched.steps[i].node) for i in steps]
    out_h = int(graph.tensors[nodes[-1].outputs[0]].shape[2])
    if band_rows < 1:
        raise ValueError("band_rows must be at least 1")
    bands = []
    for start in range(0, out_h, band_rows):
        rows = (start, min(start + band_rows, out_h))
        layers: list[BandLayer] = []
        for step, node in zip(reversed(steps), reversed(nodes)):
            in_rows, pt, pb = _rows_needed(node, graph, rows)
            layers.append(BandLayer(step, node.name, in_rows, rows, pt, pb))
            rows = in_rows
        bands.append(tuple(reversed(layers)))
    stage = Stage(tuple(steps), band_rows, tuple(bands))
    return replace(stage, shares_input=_can_share_input(graph, sched, stage))


def row_bytes(graph: Graph, tensor: str) -> int:
    """Bytes of one NHWC row (W x C) of a 4-D tensor."""
    t = graph.tensors[tensor]
    _, c, _, w = (int(d) for d in t.shape)
    return c * w * np.dtype(t.dtype).itemsize


def _can_share_input(graph: Graph, sched: Schedule, stage: Stage) -> bool:
    """The output may start at the input's first byte: the input dies with the stage, and after
    each band the output rows written end before the first input row the next band reads."""
    first, last = sched.steps[stage.first], sched.steps[stage.last]
    x_root = sched.root[first.inputs[0]]
    if sched.lifetimes()[x_root][1] != stage.first or x_root == sched.root[sched.graph_output]:
        return False
    if sched.root[last.output] == sched.root[sched.graph_output]:
        return False
    in_row, out_row = row_bytes(graph, first.inputs[0]), row_bytes(graph, last.output)
    return all(band[-1].out_rows[1] * out_row <= nxt[0].in_rows[0] * in_row
               for band, nxt in zip(stage.bands, stage.bands[1:]))


def extra_macs(graph: Graph, sched: Schedule, stage: Stage, macs: dict[str, int]) -> int:
    """MACs the bands spend beyond layer-by-layer execution: the recomputed halo rows."""
    extra = 0
    for i, step in enumerate(stage.steps):
        node = graph.node(sched.steps[step].node)
        out_h = int(graph.tensors[node.outputs[0]].shape[2])
        rows = sum(band[i].out_rows[1] - band[i].out_rows[0] for band in stage.bands)
        extra += macs[node.name] * (rows - out_h) // out_h
    return extra


def patched_buffers(graph: Graph, sched: Schedule, buffers: list[Buffer], stages: list[Stage]) -> list[Buffer]:
    """The planner's requests under ``stages``: each intermediate holds its largest band and lives
    through the whole stage, as do the stage's input and output (or the output joins the input's
    block, `Stage.shares_input`)."""
    by_root = {b.name: b for b in buffers}
    for st in stages:
        first, last = sched.steps[st.first], sched.steps[st.last]
        x_root, y_root = sched.root[first.inputs[0]], sched.root[last.output]
        for i, step in enumerate(st.steps[:-1]):
            out = sched.steps[step].output
            rows = max(band[i].out_rows[1] - band[i].out_rows[0] for band in st.bands)
            by_root[out] = replace(by_root[out], size=rows * row_bytes(graph, out), first_step=st.first,
                                   last_step=st.last, inplace_with=None)
        x = by_root[x_root]
        by_root[x_root] = replace(x, last_step=max(x.last_step, st.last))
        y = by_root[y_root]
        by_root[y_root] = (replace(y, first_step=st.last, inplace_with=x_root) if st.shares_input
                           else replace(y, first_step=st.first, inplace_with=None))
    return [by_root[b.name] for b in buffers]
