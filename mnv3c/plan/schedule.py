"""The schedule: the order layers run in, and how long each tensor's bytes must survive.

One step per graph node, in graph order, except views: a reshape or transpose that does not move
bytes (in the C layout, NHWC for 4-D tensors) runs no code, its output simply names its input's storage. Storage
is identified by a *root* tensor, and every root gets an arena buffer from the memory planner,
the graph input and output included: the input is live from before the first step until its last
reader (then its bytes are reused), the output from its producer until after the last step.

The schedule knows nothing about kernels or offsets; `buffers` takes the kernel choice's in-place
permissions as an argument so either side can change alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from mnv3c.errors import UnsupportedModelError, shown
from mnv3c.ir.graph import Graph
from mnv3c.plan.memory import Buffer

VIEW_OPS = ("reshape", "channels_last_reshape", "transpose")


@dataclass(frozen=True)
class Step:
    index: int
    node: str
    op: str
    inputs: tuple[str, ...]  # runtime tensors read, in the node's input order (constants left out)
    output: str


@dataclass
class Schedule:
    steps: list[Step]
    root: dict[str, str]  # runtime tensor -> the tensor whose storage holds its bytes
    graph_input: str
    graph_output: str
    _spans: dict[str, tuple[int, int]] | None = field(default=None, init=False, repr=False, compare=False)

    def lifetimes(self) -> dict[str, tuple[int, int]]:
        """Arena root -> (step that writes it, last step that reads any of its views); the graph
        input is written before step 0, the graph output must survive the last step. Computed
        once (the stage search asks for every candidate); do not modify the result."""
        if self._spans is None:
            self._spans = self._lifetimes()
        return self._spans

    def _lifetimes(self) -> dict[str, tuple[int, int]]:
        span: dict[str, tuple[int, int]] = {self.root[self.graph_input]: (0, 0)}
        for s in self.steps:
            for t in (s.output, *s.inputs):
                r = self.root[t]
                first, _ = span.get(r, (s.index, s.index))
                span[r] = (first, s.index)
        out = self.root[self.graph_output]
        span[out] = (span[out][0], len(self.steps) - 1)
        return span


def schedule(graph: Graph) -> Schedule:
    """Steps and storage roots of a quantized graph with one input and one output."""
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise UnsupportedModelError(
            f"code generation needs exactly one graph input and one output, got {len(graph.inputs)} and "
            f"{len(graph.outputs)}"
        )
    root = {graph.inputs[0]: graph.inputs[0]}
    steps: list[Step] = []
    for node in graph.nodes:
        if len(node.outputs) != 1:
            raise UnsupportedModelError(f"node {shown(node.name)} ({node.op}) has {len(node.outputs)} outputs")
        inputs = tuple(i for i in node.inputs if i and not graph.tensors[i].is_const)
        (out,) = node.outputs
        if node.op in VIEW_OPS and len(inputs) == 1 and _is_view(graph, inputs[0], out):
            root[out] = root[inputs[0]]
            continue
        root[out] = out
        steps.append(Step(len(steps), node.name, node.op, inputs, out))
    sched = Schedule(steps, root, graph.inputs[0], graph.outputs[0])
    if root[sched.graph_output] == root[sched.graph_input]:
        raise UnsupportedModelError("the graph output is a view of the graph input; there is nothing to compute")
    return sched


def buffers(sched: Schedule, nbytes: Mapping[str, int], inplace_operands: Sequence[tuple[int, ...]]) -> list[Buffer]:
    """Planner requests for every arena root.

    ``nbytes`` gives each tensor's size; ``inplace_operands[step]`` lists the positions in
    ``Step.inputs`` the step's kernel may overwrite with its output. The hint names the first of
    them whose storage is last read at this step (the planner re-checks that); the graph output is
    never overwritten.
    """
    spans = sched.lifetimes()
    hints: dict[str, str] = {}
    for s in sched.steps:
        for pos in inplace_operands[s.index]:
            r = sched.root[s.inputs[pos]]
            if r != sched.root[sched.graph_output] and spans[r][1] == s.index:
                hints[s.output] = r
                break
    return [
        Buffer(r, _root_bytes(sched, nbytes, r), first, last, hints.get(r))
        for r, (first, last) in sorted(spans.items(), key=lambda kv: (kv[1], kv[0]))
    ]


def _root_bytes(sched: Schedule, nbytes: Mapping[str, int], r: str) -> int:
    return max(nbytes[t] for t, root in sched.root.items() if root == r)


def _is_view(graph: Graph, x: str, y: str) -> bool:
    """A reshape, transpose or channels_last_reshape is free when ``y``'s bytes in the C layout (NHWC
    for 4-D tensors, row-major otherwise) are ``x``'s bytes in the same order. Checked by pushing an
    index array through the node, so any layout case is decided the same way (e.g. the PP-OCR
    recogniser's (1, 1, T, C) -> (1, C, 1, T) transpose, a no-op in NHWC)."""
    producer = next(n for n in graph.nodes if y in n.outputs)
    x_shape, y_shape = graph.tensors[x].shape, graph.tensors[y].shape
    labels = np.arange(int(np.prod(x_shape)), dtype=np.int64).reshape(x_shape)
    if producer.op == "transpose":
        moved = labels.transpose(tuple(int(p) for p in producer.attrs.get("perm", range(len(x_shape) - 1, -1, -1))))
    elif producer.op == "channels_last_reshape":
        moved = labels.transpose(0, 2, 3, 1).reshape(y_shape) if len(x_shape) == 4 else labels.reshape(y_shape)
    else:
        moved = labels.reshape(y_shape)
    return moved.shape == tuple(y_shape) and bool(np.array_equal(_stored(moved), _stored(labels)))


def _stored(a: np.ndarray) -> np.ndarray:
    """The elements of ``a`` in the order the C code stores them: NHWC for 4-D tensors."""
    return (a.transpose(0, 2, 3, 1) if a.ndim == 4 else a).ravel()
