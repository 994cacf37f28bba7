"""The mnv3c IR: a small typed graph of static-shape tensors and nodes from a closed op set.

Tensors are named and owned by the graph; nodes refer to tensors by name. A tensor with ``data``
is a constant (weights, folded shapes). Every stage of the compiler is a function from Graph to
Graph; `Graph.copy` makes that cheap to do without mutating the caller's graph.
"""

from __future__ import annotations

import copy as _copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mnv3c.errors import MnvError
from mnv3c.ir.ops import OPS


class GraphError(MnvError):
    """The graph is structurally invalid (dangling tensor, cycle, shape mismatch)."""


@dataclass
class QuantParams:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per ``axis``."""

    scale: np.ndarray  # float32, shape () per tensor or (C,) per channel
    zero_point: np.ndarray  # int32, same shape as scale
    axis: int | None = None

    @staticmethod
    def per_tensor(scale: float, zero_point: int) -> "QuantParams":
        return QuantParams(np.float32(scale), np.int32(zero_point))


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    data: np.ndarray | None = None
    quant: QuantParams | None = None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize


@dataclass
class Node:
    name: str
    op: str
    inputs: list[str]
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)
    fused: list[str] = field(default_factory=list)  # what passes folded into this node, for reports


class Graph:
    """Tensors by name, nodes in execution order, graph inputs and outputs by tensor name."""

    def __init__(self, name: str = "model") -> None:
        self.name = name
        self.tensors: dict[str, Tensor] = {}
        self.nodes: list[Node] = []
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.meta: dict[str, Any] = {}

    # --- construction -----------------------------------------------------------------------
    def add_tensor(self, tensor: Tensor) -> Tensor:
        if tensor.name in self.tensors:
            raise GraphError(f"tensor '{tensor.name}' defined twice")
        self.tensors[tensor.name] = tensor
        return tensor

    def add_const(self, name: str, data: np.ndarray) -> Tensor:
        data = np.asarray(data)
        return self.add_tensor(Tensor(name, tuple(int(d) for d in data.shape), str(data.dtype), data))

    def add_node(self, node: Node) -> Node:
        self.nodes.append(node)
        return node

    def unique_name(self, base: str) -> str:
        """A tensor/node name not yet used, derived from ``base``."""
        used = set(self.tensors) | {n.name for n in self.nodes}
        if base not in used:
            return base
        i = 1
        while f"{base}_{i}" in used:
            i += 1
        return f"{base}_{i}"

    def copy(self) -> "Graph":
        """A deep copy, built field by field: every pass copies its input graph, and a generic
        deepcopy of thousands of small objects dominated the compile and inspect times."""
        new = object.__new__(type(self))
        new.__dict__ = {k: _copy.deepcopy(v) for k, v in self.__dict__.items() if k not in ("tensors", "nodes")}
        new.tensors = {name: _copy_tensor(t) for name, t in self.tensors.items()}
        new.nodes = [_copy_node(n) for n in self.nodes]
        return new

    # --- queries ----------------------------------------------------------------------------
    def tensor(self, name: str) -> Tensor:
        try:
            return self.tensors[name]
        except KeyError:
            raise GraphError(f"unknown tensor '{name}'") from None

    def const(self, name: str) -> np.ndarray | None:
        t = self.tensors.get(name)
        return None if t is None else t.data

    def producers(self) -> dict[str, Node]:
        return {o: n for n in self.nodes for o in n.outputs}

    def consumers(self) -> dict[str, list[Node]]:
        out: dict[str, list[Node]] = {name: [] for name in self.tensors}
        for n in self.nodes:
            for i in n.inputs:
                if i:
                    out.setdefault(i, []).append(n)
        return out

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise GraphError(f"unknown node '{name}'")

    # --- maintenance ------------------------------------------------------------------------
    def replace_uses(self, old: str, new: str) -> None:
        """Make every consumer (and the graph outputs) read ``new`` instead of ``old``."""
        for n in self.nodes:
            n.inputs = [new if i == old else i for i in n.inputs]
        self.outputs = [new if o == old else o for o in self.outputs]

    def remove_unused_tensors(self) -> None:
        used = set(self.inputs) | set(self.outputs)
        for n in self.nodes:
            used.update(i for i in n.inputs if i)
            used.update(n.outputs)
        self.tensors = {k: v for k, v in self.tensors.items() if k in used}

    def toposort(self) -> None:
        """Order nodes so each runs after the producers of its inputs (stable); raise on cycles."""
        produced_by = self.producers()
        order: list[Node] = []
        state: dict[int, int] = {}  # id(node) -> 1 visiting, 2 done
        for root in self.nodes:
            stack: list[tuple[Node, int]] = [(root, 0)]
            while stack:
                node, i = stack.pop()
                if i == 0:
                    s = state.get(id(node))
                    if s == 2:
                        continue
                    if s == 1:
                        raise GraphError(f"graph has a cycle through node '{node.name}'")
                    state[id(node)] = 1
                deps = [produced_by[x] for x in node.inputs if x in produced_by]
                if i < len(deps):
                    stack.append((node, i + 1))
                    dep = deps[i]
                    if state.get(id(dep)) == 1:
                        raise GraphError(f"graph has a cycle through node '{dep.name}'")
                    if state.get(id(dep)) != 2:
                        stack.append((dep, 0))
                else:
                    state[id(node)] = 2
                    order.append(node)
        self.nodes = order

    def validate(self) -> None:
        """Raise GraphError unless the graph is well formed: known ops, every tensor defined once,
        every input available before use, outputs produced, no cycles."""
        available = set(self.inputs) | {n for n, t in self.tensors.items() if t.is_const}
        for name in list(self.inputs) + list(self.outputs):
            if name not in self.tensors:
                raise GraphError(f"graph input/output '{name}' has no tensor")
        produced: set[str] = set()
        for n in self.nodes:
            if n.op not in OPS:
                raise GraphError(f"node '{n.name}' has unknown op '{n.op}'")
            for i in n.inputs:
                if not i:
                    continue
                if i not in self.tensors:
                    raise GraphError(f"node '{n.name}' reads undefined tensor '{i}'")
                if i not in available:
                    raise GraphError(f"node '{n.name}' reads '{i}' before it is produced (cycle or bad order)")
            for o in n.outputs:
                if o not in self.tensors:
                    raise GraphError(f"node '{n.name}' writes undeclared tensor '{o}'")
                if o in produced or o in self.inputs or self.tensors[o].is_const:
                    raise GraphError(f"tensor '{o}' is produced more than once")
                produced.add(o)
                available.add(o)
        for o in self.outputs:
            if o not in available:
                raise GraphError(f"graph output '{o}' is never produced")

    # --- display ----------------------------------------------------------------------------
    def dump(self) -> str:
        """A readable text form: one line per node with shapes, attributes and fused ops."""
        lines = [f"graph {self.name}"]
        for name in self.inputs:
            t = self.tensors[name]
            lines.append(f"  input  {name}: {t.dtype}{list(t.shape)}")
        for n in self.nodes:
            ins = ", ".join(_tensor_ref(self, i) for i in n.inputs if i)
            outs = ", ".join(f"{o}: {self.tensors[o].dtype}{list(self.tensors[o].shape)}" for o in n.outputs)
            attrs = ", ".join(f"{k}={_short(v)}" for k, v in sorted(n.attrs.items()))
            fused = f"  fused={n.fused}" if n.fused else ""
            lines.append(f"  {n.name} = {n.op}({ins}){' {' + attrs + '}' if attrs else ''} -> {outs}{fused}")
        for name in self.outputs:
            t = self.tensors[name]
            lines.append(f"  output {name}: {t.dtype}{list(t.shape)}")
        return "\n".join(lines)


def _tensor_ref(g: Graph, name: str) -> str:
    t = g.tensors.get(name)
    if t is not None and t.is_const:
        return f"const {name}{list(t.shape)}"
    return name


def _short(v: Any) -> str:
    if isinstance(v, np.ndarray):
        return f"array{list(v.shape)}" if v.size > 8 else np.array2string(v, separator=",")
    if isinstance(v, float):
        return f"{v:.6g}"
    return repr(v)


def _copy_tensor(t: Tensor) -> Tensor:
    new = object.__new__(type(t))
    new.__dict__.update(t.__dict__)
    if isinstance(t.data, np.ndarray):
        new.data = t.data.copy(order="K")
    elif t.data is not None:
        new.data = _copy.deepcopy(t.data)
    if t.quant is not None:
        new.quant = _copy.deepcopy(t.quant)
    return new


def _copy_node(n: Node) -> Node:
    new = object.__new__(type(n))
    new.__dict__.update(n.__dict__)
    new.inputs, new.outputs, new.fused = list(n.inputs), list(n.outputs), list(n.fused)
    new.attrs = {k: v if _immutable(v) else _copy.deepcopy(v) for k, v in n.attrs.items()}
    return new


def _immutable(v: Any) -> bool:
    return isinstance(v, (int, float, str, type(None))) or (type(v) is tuple and all(_immutable(x) for x in v))
