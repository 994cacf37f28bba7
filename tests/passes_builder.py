"""Hand-built IR graphs and equivalence checks for the pass tests (tests/test_passes_*.py).

`Builder` adds nodes one at a time and gets each output's shape by evaluating the node with the
float reference on a sample input, so tests need not spell shapes out and do not depend on the
frontend.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import numpy as np

from mnv3c.ir import Graph, Node, Tensor
from mnv3c.reference.float_exec import run_float, run_node


class Builder:
    def __init__(self, *input_shape: int, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.g = Graph("test")
        self.g.add_tensor(Tensor("x", tuple(input_shape)))
        self.g.inputs.append("x")
        self.values: dict[str, np.ndarray] = {"x": self.rand(*input_shape)}

    def rand(self, *shape: int, positive: bool = False) -> np.ndarray:
        v = self.rng.standard_normal(shape).astype(np.float32)
        return np.abs(v) + np.float32(0.5) if positive else v

    def const(self, value: Any, name: str | None = None) -> str:
        value = np.asarray(value, dtype=np.float32)
        name = name or self.g.unique_name("c")
        self.g.add_const(name, value)
        self.values[name] = value
        return name

    def op(self, op: str, *inputs: str | np.ndarray | float, name: str | None = None, **attrs: Any) -> str:
        """Add one node (non-string inputs become constants); returns its output tensor's name."""
        names = [i if isinstance(i, str) else self.const(i) for i in inputs]
        node = Node(name or self.g.unique_name(op), op, names, [], attrs)
        (value,) = run_node(node, self.g, [self.values[i] if i else None for i in names])
        out = self.g.unique_name(f"{node.name}_out")
        self.g.add_tensor(Tensor(out, tuple(value.shape), str(value.dtype)))
        node.outputs.append(out)
        self.g.add_node(node)
        self.values[out] = value
        return out

    def conv(self, x: str, cout: int, k: int = 1, *, group: int = 1, bias: bool = True, name: str | None = None,
             **attrs: Any) -> str:
        cin = self.g.tensors[x].shape[1]
        w = self.rand(cout, cin // group, k, k)
        ins: list[str | np.ndarray] = [x, w] + ([self.rand(cout)] if bias else [])
        p = k // 2
        attrs = {"strides": (1, 1), "pads": (p, p, p, p), "dilations": (1, 1), **attrs}
        if group == cin and group > 1:
            return self.op("depthwise_conv2d", *ins, name=name, **attrs)
        return self.op("conv2d", *ins, name=name, group=group, **attrs)

    def dense(self, x: str, m: int, *, bias: bool = True, name: str | None = None) -> str:
        k = self.g.tensors[x].shape[1]
        ins: list[str | np.ndarray] = [x, self.rand(m, k)] + ([self.rand(m)] if bias else [])
        return self.op("dense", *ins, name=name)

    def batch_norm(self, x: str, name: str | None = None) -> str:
        c = self.g.tensors[x].shape[1]
        return self.op("batch_norm", x, self.rand(c), self.rand(c), self.rand(c), self.rand(c, positive=True),
                       name=name, epsilon=1e-3)

    def finish(self, *outputs: str) -> Graph:
        self.g.outputs = list(outputs)
        self.g.validate()
        return self.g


def fingerprint(g: Graph) -> tuple:
    """Everything about a graph, constants' bytes included, to prove a pass did not mutate it."""
    consts = {k: (t.shape, t.data.tobytes()) for k, t in g.tensors.items() if t.data is not None}
    return g.dump(), repr([(n.attrs, n.fused) for n in g.nodes]), consts


def op_counts(g: Graph) -> Counter:
    return Counter(n.op for n in g.nodes)


def rel_error(got: np.ndarray, want: np.ndarray) -> float:
    """Max absolute difference relative to the largest finite reference magnitude (equal infinities agree)."""
    diff = np.where(got == want, 0.0, np.abs(got.astype(np.float64) - want))
    finite = np.abs(want[np.isfinite(want)])
    return float(np.max(diff) / max(float(np.max(finite, initial=0.0)), 1e-12))


def assert_equivalent(before: Graph, after: Graph, samples: int = 3, tol: float = 1e-4, seed: int = 1) -> None:
    """``after`` computes what ``before`` does, on random inputs (scaled so activations see both sides)."""
    after.validate()
    assert after.outputs == before.outputs
    rng = np.random.default_rng(seed)
    for _ in range(samples):
        feeds = {i: (3 * rng.standard_normal(before.tensors[i].shape)).astype(np.float32) for i in before.inputs}
        want, got = run_float(before, feeds), run_float(after, feeds)
        for name in before.outputs:
            assert got[name].shape == want[name].shape, name
            err = rel_error(got[name], want[name])
            assert err <= tol, f"output {name}: relative error {err:.3g}"


def rewrite(pass_fn: Callable[[Graph], Graph], g: Graph) -> Graph:
    """Run one pass; check it left its input alone and kept the computation."""
    snapshot = fingerprint(g)
    out = pass_fn(g)
    assert fingerprint(g) == snapshot, "pass mutated its input"
    assert_equivalent(g, out)
    return out
