"""The integer simulator on a patched schedule (plan/patches.py): each stage runs band by band,
every layer on the rows its band needs with the band's own border padding, each input read from
the stage's whole input or from its producer's band at the reader's own first row, and in a
sliding stage the kept rows moved to the front of each band buffer first, exactly as the
generated C calls its kernels. Equal bytes to `simulate` are the proof that patching is exact."""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.plan.patches import STAGE_INPUT, BandLayer, Stage, band_moves
from mnv3c.plan.schedule import Schedule
from mnv3c.quant.simulate import run_node


def simulate_patched(qg: Graph, x: np.ndarray, sched: Schedule, stages: Sequence[Stage]) -> np.ndarray:
    """Run ``qg`` on int8 input ``x`` [N, ...] with ``stages`` patched; the int8 output."""
    starts = {sched.steps[st.first].node: st for st in stages}
    inside = {sched.steps[i].node for st in stages for i in st.steps}
    env: dict[str, np.ndarray] = {qg.inputs[0]: np.asarray(x)}
    for n in qg.nodes:
        if n.name in starts:
            st = starts[n.name]
            env[sched.steps[st.last].output] = _run_stage(qg, sched, st, env[n.inputs[0]])
        elif n.name not in inside:
            env[n.outputs[0]] = run_node(qg, n, env)
    return env[qg.outputs[0]]


def _run_stage(qg: Graph, sched: Schedule, st: Stage, x: np.ndarray) -> np.ndarray:
    last = qg.node(st.bands[0][-1].node)
    y = np.empty((len(x), *qg.tensors[last.outputs[0]].shape[1:]), qg.tensors[last.outputs[0]].dtype)
    made: list[np.ndarray] = []  # per layer, the rows of its window (the previous band's while it runs)
    for b, band in enumerate(st.bands):
        for i, (layer, srcs) in enumerate(zip(band, st.reads)):
            move = band_moves(st, b, i)
            start = move[0] if move else 0
            kept = made[i][:, :, start:start + layer.kept] if b else None
            if layer.computes:
                lo, hi = layer.in_rows
                env = {}
                for t, src in zip(sched.steps[layer.step].inputs, srcs):
                    first = 0 if src == STAGE_INPUT else band[src].window[0]
                    env[t] = (x if src == STAGE_INPUT else made[src])[:, :, lo - first:hi - first]
                rows = run_node(qg, _band_node(qg.node(layer.node), layer), env)
                window = rows if kept is None else np.concatenate([kept, rows], axis=2)
            else:
                window = kept
            if b:
                made[i] = window
            else:
                made.append(window)
        y[:, :, band[-1].out_rows[0]:band[-1].out_rows[1]] = made[-1]
    return y


def _band_node(node: Node, layer: BandLayer) -> Node:
    """``node`` with the band's top and bottom padding (the left and right stay)."""
    if "pads" not in node.attrs:
        return node
    t, left, b, r = node.attrs["pads"]
    return replace(node, attrs={**node.attrs, "pads": (layer.pad_top, left, layer.pad_bottom, r)})
