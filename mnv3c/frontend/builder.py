"""Graph construction for the importer: names, constants, and folding of constant-only nodes.

Every IR node goes through `GraphBuilder.emit`, which infers the output shape and, when all inputs
are constants, evaluates the node with the float reference instead of adding it. That is what
folds shape subgraphs (Shape -> Gather -> Concat -> Reshape) into static attributes.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from mnv3c.errors import UnsupportedModelError, shown
from mnv3c.frontend import shapes
from mnv3c.ir.graph import Graph, Node, Tensor
from mnv3c.reference.float_exec import run_node


class GraphBuilder:
    def __init__(self, graph: Graph, reserved_names: Iterable[str]) -> None:
        self.graph = graph
        self._reserved = set(reserved_names)  # every ONNX tensor name, so generated names never clash
        self._node_names: set[str] = set()

    # --- names --------------------------------------------------------------------------------
    def tensor_name(self, base: str) -> str:
        name, i = base, 1
        while name in self._reserved or name in self.graph.tensors:
            name, i = f"{base}_{i}", i + 1
        self._reserved.add(name)
        return name

    def node_name(self, base: str) -> str:
        name, i = base, 1
        while name in self._node_names:
            name, i = f"{base}_{i}", i + 1
        self._node_names.add(name)
        return name

    # --- tensors ------------------------------------------------------------------------------
    def tensor(self, name: str) -> Tensor:
        return self.graph.tensors[name]

    def shape(self, name: str) -> tuple[int, ...]:
        return self.graph.tensors[name].shape

    def value(self, name: str) -> np.ndarray | None:
        """The constant value of a tensor, or None for runtime tensors and absent optional inputs."""
        return self.graph.const(name) if name else None

    def const(self, data: Any, name: str | None = None, base: str = "const") -> str:
        name = name or self.tensor_name(base)
        self.graph.add_const(name, np.asarray(data))
        return name

    # --- nodes --------------------------------------------------------------------------------
    def emit(self, op: str, inputs: list[str], attrs: dict[str, Any], out: str | None = None, name: str = "") -> str:
        """Add one IR node (or fold it to a constant) and return the name of its output tensor."""
        out = out or self.tensor_name(f"{name or op}_out")
        ins = [self.graph.tensors[i] for i in inputs]
        try:
            shape, dtype = shapes.infer(op, ins, attrs)
        except (ValueError, IndexError, KeyError, TypeError, ArithmeticError) as e:
            raise UnsupportedModelError(f"node {shown(name or op)}: cannot infer the output shape of {op}: {e}") from None
        if any(d < 0 for d in shape):
            raise UnsupportedModelError(f"node {shown(name or op)}: {op} gives the impossible output shape {list(shape)}")
        node = Node(self.node_name(name or f"{op}_{len(self.graph.nodes)}"), op, list(inputs), [out], dict(attrs))
        if ins and all(t.is_const for t in ins):
            self._fold(node, ins, shape)
        else:
            self.graph.add_tensor(Tensor(out, shape, dtype))
            self.graph.add_node(node)
        return out

    def _fold(self, node: Node, ins: list[Tensor], shape: tuple[int, ...]) -> None:
        (result,) = run_node(node, self.graph, [t.data for t in ins])
        result = np.asarray(result)
        if tuple(result.shape) != shape:
            raise UnsupportedModelError(
                f"node {shown(node.name)}: folding {node.op} gave shape {tuple(result.shape)}, expected {shape}"
            )
        self._node_names.discard(node.name)
        self.graph.add_const(node.outputs[0], result)
