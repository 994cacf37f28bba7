"""The integer simulator on a patched schedule (plan/patches.py): each stage runs band by band,
every layer on the rows its band needs with the band's own border padding, exactly as the
generated C calls its kernels. Equal bytes to `simulate` are the proof that patching is exact."""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from mnv3c.ir.graph import Graph, Node
from mnv3c.plan.patches import BandLayer, Stage
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
            env[sched.steps[st.last].output] = _run_stage(qg, st, env[n.inputs[0]])
        elif n.name not in inside:
            env[n.outputs[0]] = run_node(qg, n, env)
    return env[qg.outputs[0]]


def _run_stage(qg: Graph, st: Stage, x: np.ndarray) -> np.ndarray:
    last = qg.node(st.bands[0][-1].node)
    y = np.empty((len(x), *qg.tensors[last.outputs[0]].shape[1:]), qg.tensors[last.outputs[0]].dtype)
    for band in st.bands:
        rows = x[:, :, band[0].in_rows[0]:band[0].in_rows[1]]
        for layer in band:
            node = _band_node(qg.node(layer.node), layer)
            rows = run_node(qg, node, {node.inputs[0]: rows})
        y[:, :, band[-1].out_rows[0]:band[-1].out_rows[1]] = rows
    return y


def _band_node(node: Node, layer: BandLayer) -> Node:
    """``node`` with the band's top and bottom padding (the left and right stay)."""
    if "pads" not in node.attrs:
        return node
    t, left, b, r = node.attrs["pads"]
    return replace(node, attrs={**node.attrs, "pads": (layer.pad_top, left, layer.pad_bottom, r)})
