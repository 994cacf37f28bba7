"""Patch-based execution of the early stages: a chain of row-local layers run band by band.

At high resolution the first layers' feature maps dominate RAM (MobileNetV3-Small at 224: the
150,528 B input beside the stem's 200,704 B output). A *stage* is a run of consecutive steps
(convolutions, depthwise convolutions, standalone activations, residual adds) that read only the
stage's input and each other's outputs, and whose outputs but the last are read inside the stage
only; it runs in horizontal bands of its last layer's output rows, each band computing, layer by
layer backwards, just the rows it needs (the overlapping halo rows are recomputed, MCUNetV2-style).
A tensor read by two layers of the band (the skip of an inverted residual block: the expand
convolution needs halo rows, the add only the band's own) is computed once for the hull of both
row ranges, and each reader starts at its own row. A *sliding* stage (`Stage.slides`, Halide's sliding
window) recomputes nothing instead: each band computes only the rows no earlier band made, and the
halo rows it shares with the previous band are moved to the front of the layer's band buffer first
(`BandLayer.kept`), which then lives through the whole stage. Only the stage's input and output exist whole;
every intermediate holds one band, and only from its layer to its last reader in the band (the
bands run the layers in the same order, so band buffers of disjoint layers may share bytes). A
squeeze-excite needs its whole input, so it is never inside a stage.

When the stage's input dies with the stage and the output rows written so far never reach the
input rows later bands still read, the output is planned over the input itself (`Stage.shares_input`),
starting `Stage.output_lead` bytes before it where the first bands would otherwise overtake their halo.

A stage of one depthwise convolution is the in-place depthwise of TinyEngine, by rows instead of
channels: its bands recompute nothing, and its output is written over its dying input, each band
wholly before the input rows it reads (so no kernel call reads bytes it writes, and every depthwise
variant runs unchanged), starting a few rows before the input (the lead: band + halo rows, the
counterpart of TinyEngine's one-channel temporary). The layer's input and output then take about
one tensor's bytes instead of two.

This module only describes the bands and rewrites the memory planner's requests; which kernels
run and where buffers land stay with plan/kernels.py and plan/memory.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.plan.kernels import LUT_OPS
from mnv3c.plan.memory import ALIGNMENT, Buffer
from mnv3c.plan.schedule import Schedule

PATCH_OPS = ("conv2d", "depthwise_conv2d", "add", *LUT_OPS)
MIN_STAGE_STEPS = 2
INPLACE_OPS = ("depthwise_conv2d",)  # may form a stage alone: in place over its input, nothing recomputed
STAGE_INPUT = -1  # in Stage.reads: the input is the stage's input, stored whole


@dataclass(frozen=True)
class BandLayer:
    """One layer's share of one band: rows of its whole input and output, and the padding rows
    the band sees (the image's own border only where the band touches it)."""

    step: int
    node: str
    in_rows: tuple[int, int]  # [start, stop) of the layer's input rows read (every input: the same rows)
    out_rows: tuple[int, int]  # [start, stop) of its output rows written
    pad_top: int
    pad_bottom: int
    kept: int = 0  # rows carried over from the previous band (a sliding stage): the buffer holds `window`

    @property
    def window(self) -> tuple[int, int]:
        """[start, stop) of the rows the layer's band buffer holds: the kept rows, then the ones it computes."""
        return self.out_rows[0] - self.kept, self.out_rows[1]

    @property
    def computes(self) -> bool:
        """Whether the band calls the layer's kernel (a sliding band may already hold every row it needs)."""
        return self.out_rows[1] > self.out_rows[0]


@dataclass(frozen=True)
class Stage:
    steps: tuple[int, ...]  # consecutive schedule steps, each reading the previous one's output
    band_rows: int  # output rows of the last layer per band (the last band may have fewer)
    bands: tuple[tuple[BandLayer, ...], ...]  # per band, one entry per step in order
    reads: tuple[tuple[int, ...], ...] = ()  # per step, per runtime input: position of its producer, or STAGE_INPUT
    shares_input: bool = False  # the output is planned over the (dying) input
    output_lead: int = 0  # ... starting this many bytes before it (a multiple of ALIGNMENT)
    slides: bool = False  # halo rows are kept from band to band, not recomputed

    def moved_bytes(self, graph: Graph, sched: Schedule) -> int:
        """Bytes the bands of a sliding stage move to the front of band buffers, per inference."""
        return sum(layer.kept * row_bytes(graph, sched.steps[layer.step].output)
                   for band in self.bands for layer in band)

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


def _rows_needed(geometry: tuple[int, int, int, int], out_rows: tuple[int, int]) -> tuple[tuple[int, int], int, int]:
    """Input rows (clipped to the tensor) and the band's top/bottom padding for ``out_rows`` of a
    layer of `_geometry` ``geometry``."""
    k, s, pt, h = geometry
    lo = out_rows[0] * s - pt
    hi = (out_rows[1] - 1) * s - pt + k
    return (max(lo, 0), min(hi, h)), max(0, -lo), max(0, hi - h)


def _patchable(graph: Graph, node: Node) -> bool:
    if node.op not in PATCH_OPS:
        return False
    y = graph.tensors[node.outputs[0]]
    xs = [graph.tensors[i] for i in node.inputs if i and not graph.tensors[i].is_const]
    if node.op == "add" and not (len(xs) == 2 and all(x.shape == y.shape for x in xs)):
        return False
    return len(y.shape) == 4 and y.dtype == "int8" and all(len(x.shape) == 4 and x.dtype == "int8" for x in xs)


def chains(graph: Graph, sched: Schedule) -> list[tuple[int, ...]]:
    """Maximal runs of consecutive patchable steps reading tensors' own storage (a view as input
    would give other rows than the tensor's own); stages are the sub-runs `stage_reads` accepts."""
    runs: list[tuple[int, ...]] = []
    run: list[int] = []
    for s in sched.steps:
        if _patchable(graph, graph.node(s.node)) and all(sched.root[t] == t for t in s.inputs):
            run.append(s.index)
            continue
        runs.append(tuple(run))
        run = []
    runs.append(tuple(run))
    return [r for r in runs if len(r) >= MIN_STAGE_STEPS or (r and inplace_op(sched, r[0]))]


def inplace_op(sched: Schedule, step: int) -> bool:
    """Whether ``step`` may form a stage alone (in place over its input, `INPLACE_OPS`)."""
    return sched.steps[step].op in INPLACE_OPS


def stage_reads(sched: Schedule, steps: tuple[int, ...]) -> tuple[tuple[int, ...], ...] | None:
    """Where each step of ``steps`` reads its inputs (`Stage.reads`), or None when the steps cannot
    form a stage: the first step reads one tensor, the others only it and each other's outputs, and
    every output but the last is read inside the stage only (and is not the model's output)."""
    first = sched.steps[steps[0]]
    if len(first.inputs) != 1:
        return None
    x = first.inputs[0]
    position = {sched.steps[i].output: p for p, i in enumerate(steps)}
    reads = []
    for p, i in enumerate(steps):
        ins = sched.steps[i].inputs
        if not all(t == x or position.get(t, p) < p for t in ins):
            return None
        reads.append(tuple(STAGE_INPUT if t == x else position[t] for t in ins))
    inside, readers = set(steps), _readers(sched)
    for i in steps[:-1]:
        out = sched.steps[i].output
        if out == sched.graph_output or not readers.get(out) or not set(readers[out]) <= inside:
            return None
    return tuple(reads)


def _readers(sched: Schedule) -> dict[str, list[int]]:
    readers: dict[str, list[int]] = {}
    for s in sched.steps:
        for t in s.inputs:
            readers.setdefault(sched.root[t], []).append(s.index)
    return readers


def make_stage(graph: Graph, sched: Schedule, steps: tuple[int, ...], band_rows: int, slides: bool = False) -> Stage:
    """The bands of ``steps`` (a sub-run of one of `chains` that `stage_reads` accepts) for
    ``band_rows`` output rows each: backwards from the last layer, each layer computes the hull of
    the rows its readers in the band need; with ``slides``, only those of them that its window in
    the previous band did not hold (the rows it shares with that window are kept)."""
    reads = stage_reads(sched, steps)
    if reads is None:
        raise ValueError(f"steps {steps} cannot form a patched stage")
    nodes = [graph.node(sched.steps[i].node) for i in steps]
    geometry = [_geometry(n, graph) for n in nodes]
    out_h = int(graph.tensors[nodes[-1].outputs[0]].shape[2])
    if band_rows < 1:
        raise ValueError("band_rows must be at least 1")
    bands = []
    windows: dict[int, tuple[int, int]] = {}  # per position, its window in the previous band
    for start in range(0, out_h, band_rows):
        needed: dict[int, tuple[int, int]] = {len(steps) - 1: (start, min(start + band_rows, out_h))}
        layers: list[BandLayer] = []
        for p in reversed(range(len(steps))):
            before = windows.get(p)
            lo, hi = needed.get(p, before or (0, 0))  # no reader computes this band: the window stays
            kept = 0
            if slides and p < len(steps) - 1 and before is not None and before[0] <= lo < before[1]:
                kept = min(before[1], hi) - lo
            rows = (lo + kept, hi)
            if rows[1] > rows[0]:
                in_rows, pt, pb = _rows_needed(geometry[p], rows)
            else:  # every row it needs is kept: no call, nothing read
                in_rows, pt, pb = (0, 0), 0, 0
            layers.append(BandLayer(steps[p], nodes[p].name, in_rows, rows, pt, pb, kept))
            windows[p] = (lo, hi)
            for src in reads[p]:
                if src != STAGE_INPUT and rows[1] > rows[0]:
                    lo_s, hi_s = needed.get(src, in_rows)
                    needed[src] = (min(lo_s, in_rows[0]), max(hi_s, in_rows[1]))
        bands.append(tuple(reversed(layers)))
    stage = Stage(tuple(steps), band_rows, tuple(bands), reads,
                  slides=slides and any(layer.kept for band in bands for layer in band))
    lead = _output_lead(graph, sched, stage)
    return replace(stage, shares_input=lead is not None, output_lead=lead or 0)


STAGE_OUTPUT = -2  # in band_operands: the stage's output, stored whole


def band_operands(st: Stage, band: tuple[BandLayer, ...], i: int, rows: list[int], in_row: int, out_row: int
                  ) -> list[tuple[int, int]]:
    """Where layer ``i`` of ``band`` reads each input and writes its output, as the generated C
    addresses them: (buffer, bytes into it), inputs first, then the output. The buffer is
    STAGE_INPUT or STAGE_OUTPUT (the stage's whole input and output, ``in_row``/``out_row`` bytes a
    row) or the position of the layer whose band buffer it is (``rows[p]`` bytes a row, its band's
    first row of its window at its start: `BandLayer.window`); an input read from a band starts at the
    reader's first row in it, an output written to one after the rows it keeps."""
    layer = band[i]
    out = [(STAGE_INPUT, layer.in_rows[0] * in_row) if src == STAGE_INPUT
           else (src, (layer.in_rows[0] - band[src].window[0]) * rows[src]) for src in st.reads[i]]
    out.append((STAGE_OUTPUT, layer.out_rows[0] * out_row) if i == len(band) - 1 else (i, layer.kept * rows[i]))
    return out


def band_moves(st: Stage, b: int, i: int) -> tuple[int, int] | None:
    """Before layer ``i`` runs in band ``b`` of a sliding stage: (rows into its buffer the kept rows
    start at, how many) to move to its front, or None where nothing moves (no kept rows, or they
    already start the buffer). The move goes to lower addresses: a forward copy is safe even where
    the two ranges overlap."""
    layer = st.bands[b][i]
    start = layer.window[0] - st.bands[b - 1][i].window[0] if layer.kept else 0
    return (start, layer.kept) if start else None


def row_bytes(graph: Graph, tensor: str) -> int:
    """Bytes of one NHWC row (W x C) of a 4-D tensor."""
    t = graph.tensors[tensor]
    _, c, _, w = (int(d) for d in t.shape)
    return c * w * np.dtype(t.dtype).itemsize


def _output_lead(graph: Graph, sched: Schedule, stage: Stage) -> int | None:
    """How many bytes before the input's first byte the output may start (None: it may not share
    the input's bytes): the input dies with the stage, and after each band the output rows written
    end before the first input row the next band reads. A residual add reading the input as the
    last layer writes in place (no lead) or wholly behind the rows it reads (a lead of a band at
    least); any other layer reading it (a one-layer stage) writes each band wholly before the rows
    that band reads. Sharing must save bytes: the lead stays below the output's size."""
    first, last = sched.steps[stage.first], sched.steps[stage.last]
    x_root = sched.root[first.inputs[0]]
    if sched.lifetimes()[x_root][1] > stage.last or x_root == sched.root[sched.graph_output]:
        return None
    if sched.root[last.output] == sched.root[sched.graph_output]:
        return None
    add_reads_input = STAGE_INPUT in stage.reads[-1] and last.op == "add"
    in_row, out_row = row_bytes(graph, first.inputs[0]), row_bytes(graph, last.output)
    readers = [p for p, srcs in enumerate(stage.reads) if STAGE_INPUT in srcs]
    lead = max([0] + [band[-1].out_rows[1] * out_row - min(nxt[p].in_rows[0] for p in readers if nxt[p].computes) * in_row
                      for band, nxt in zip(stage.bands, stage.bands[1:]) if any(nxt[p].computes for p in readers)])
    if lead and add_reads_input:
        lead = max(lead, max(b[-1].out_rows[1] - b[-1].out_rows[0] for b in stage.bands) * out_row)
    elif STAGE_INPUT in stage.reads[-1] and not add_reads_input:  # no call may overwrite what it reads
        lead = max([lead] + [b[-1].out_rows[1] * out_row - b[-1].in_rows[0] * in_row for b in stage.bands])
    lead = -(-lead // ALIGNMENT) * ALIGNMENT
    return lead if lead < int(graph.tensors[last.output].shape[2]) * out_row else None


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
    """The planner's requests under ``stages``: each intermediate holds its largest band from its
    layer to its last reader in the band; the stage's input and output live through the whole
    stage (or the output joins the input's block, `Stage.shares_input`)."""
    by_root = {b.name: b for b in buffers}
    for st in stages:
        first, last = sched.steps[st.first], sched.steps[st.last]
        x_root, y_root = sched.root[first.inputs[0]], sched.root[last.output]
        for i, step in enumerate(st.steps[:-1]):
            out = sched.steps[step].output
            rows = max(band[i].window[1] - band[i].window[0] for band in st.bands)
            last_reader = max(st.steps[p] for p, srcs in enumerate(st.reads) if i in srcs)
            if any(band[i].kept for band in st.bands):  # its kept rows wait through the next band's earlier layers
                step, last_reader = st.first, st.last
            by_root[out] = replace(by_root[out], size=rows * row_bytes(graph, out), first_step=step,
                                   last_step=last_reader, inplace_with=None)
        x = by_root[x_root]
        by_root[x_root] = replace(x, last_step=max(x.last_step, st.last))
        y = by_root[y_root]
        by_root[y_root] = (replace(y, first_step=st.last, inplace_with=x_root, inplace_lead=st.output_lead,
                                   lead_first_step=st.first)
                           if st.shares_input else replace(y, first_step=st.first, inplace_with=None, inplace_lead=0))
    return [by_root[b.name] for b in buffers]
