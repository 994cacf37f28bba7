"""`load_onnx`: read an ONNX model and import it into a validated, fully static IR graph."""

from __future__ import annotations

import heapq
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import onnx
from onnx import external_data_helper, numpy_helper

from mnv3c.errors import MnvError, UnsupportedModelError, ops_summary, shown, shown_path
from mnv3c.frontend.builder import GraphBuilder
from mnv3c.frontend.dtypes import numpy_dtype
from mnv3c.frontend.op_import import IMPORTERS, OnnxNode
from mnv3c.frontend.validate import MAX_TENSOR_ELEMENTS, ModelReadError, check_graph, check_model, one_line, read_model
from mnv3c.ir.graph import Graph, GraphError, Node, Tensor


def load_onnx(
    model: str | os.PathLike | onnx.ModelProto,
    input_shape: tuple[int, ...] | None = None,
    require_image_input: bool = True,
    source: str | None = None,
) -> Graph:
    """Import ``model`` into the IR. ``input_shape`` (N,C,H,W) fixes symbolic input dimensions;
    ``require_image_input`` rejects models whose input is not a rank-4 image (what the compiler needs);
    ``source``: the file a ModelProto was read from (`read_model`), for the graph's name."""
    if isinstance(model, onnx.ModelProto):
        proto, source = model, source or "<ModelProto>"
    else:
        proto, source = read_model(model), str(model)
    opset = check_model(proto)
    g = proto.graph
    graph = Graph(g.name or Path(source).stem or "model")
    graph.meta = {"opset": opset, "producer": proto.producer_name, "source": source}
    b = GraphBuilder(graph, _all_tensor_names(g))

    for init in g.initializer:
        if init.name in graph.tensors:
            raise UnsupportedModelError(f"initializer {shown(init.name)} is defined twice")
        numpy_dtype(init.data_type, f"initializer '{init.name}'")
        if external_data_helper.uses_external_data(init):  # read_model resolves it; a bare proto must too
            raise ModelReadError(f"initializer '{init.name}': external data is not loaded")
        try:
            b.const(numpy_helper.to_array(init), name=init.name)
        except (OSError, ValueError, TypeError) as e:
            raise ModelReadError(f"cannot read initializer {shown(init.name)}: {one_line(e)}") from None

    runtime_inputs = [vi for vi in g.input if vi.name not in graph.tensors]
    for k, vi in enumerate(runtime_inputs):
        shape, dtype = _input_tensor_type(vi, input_shape if k == 0 else None, require_image_input)
        graph.add_tensor(Tensor(vi.name, shape, dtype))
        graph.inputs.append(vi.name)

    _reject_unsupported_ops(g.node)
    used = frozenset({i for n in g.node for i in n.input} | {o.name for o in g.output})
    for index in _topological_order(g.node, set(graph.tensors)):
        proto_node = g.node[index]
        _import_node(b, proto_node, proto_node.name or f"{proto_node.op_type}_{index}", opset, used)

    for o in g.output:
        _bind_output(b, o.name)
    graph.remove_unused_tensors()
    try:
        graph.validate()
    except GraphError as e:
        raise UnsupportedModelError(f"imported graph is invalid: {e}") from None
    check_graph(graph, allow_empty=not require_image_input)
    return graph


def _all_tensor_names(g: onnx.GraphProto) -> set[str]:
    names = {i.name for i in g.initializer} | {i.name for i in g.input} | {o.name for o in g.output}
    for n in g.node:
        names.update(n.input)
        names.update(n.output)
    return names - {""}


# --- graph inputs ------------------------------------------------------------------------------
def _input_tensor_type(
    vi: onnx.ValueInfoProto, input_shape: Sequence[int] | None, require_image: bool
) -> tuple[tuple[int, ...], str]:
    """Static shape of a graph input: symbolic batch -> 1, other symbolic dims need ``input_shape``."""
    if vi.type.WhichOneof("value") != "tensor_type":
        raise UnsupportedModelError(f"graph input {shown(vi.name)} is not a tensor ({vi.type.WhichOneof('value')})")
    tt = vi.type.tensor_type
    dtype = numpy_dtype(tt.elem_type, f"graph input {shown(vi.name)}")
    # older Paddle2ONNX exports store a dynamic dim as dim_value -1: negative means symbolic (0 stays a
    # real, empty dimension, which the ONNX spec allows and its backend tests use)
    dims = ([None if not d.HasField("dim_value") or d.dim_value < 0 else d.dim_value for d in tt.shape.dim]
            if tt.HasField("shape") else None)
    declared = [d.dim_value if d.HasField("dim_value") else d.dim_param or "?" for d in tt.shape.dim]
    if input_shape is not None:
        input_shape = tuple(int(d) for d in input_shape)
        if dims is not None and (
            len(dims) != len(input_shape) or any(d is not None and d != s for d, s in zip(dims, input_shape))
        ):
            raise UnsupportedModelError(
                f"input shape {list(input_shape)} does not match model input {shown(vi.name)} of shape {declared}"
            )
        shape = input_shape
    elif dims is None:
        raise UnsupportedModelError(f"graph input {shown(vi.name)} has an unknown rank; pass --input-shape N,C,H,W")
    else:
        if dims and dims[0] is None:
            dims[0] = 1
        if None in dims:
            raise UnsupportedModelError(
                f"graph input {shown(vi.name)} has symbolic dimensions {declared}; pass --input-shape N,C,H,W"
            )
        shape = tuple(dims)  # type: ignore[arg-type]
    if any(d < (1 if require_image else 0) for d in shape) or int(np.prod(shape, dtype=object)) > MAX_TENSOR_ELEMENTS:
        raise UnsupportedModelError(f"graph input {shown(vi.name)} has shape {list(shape)}: dimensions must be positive "
                                    f"and at most {MAX_TENSOR_ELEMENTS:,} elements in all")
    if require_image and len(shape) != 4:
        raise UnsupportedModelError(
            f"model input {shown(vi.name)} has rank {len(shape)} (shape {list(shape)}); an image input N,C,H,W is required"
        )
    return shape, dtype


# --- nodes -------------------------------------------------------------------------------------
def _topological_order(nodes: Sequence[onnx.NodeProto], available: set[str]) -> list[int]:
    """Node indices in a valid execution order (file order when already sorted)."""
    producer: dict[str, int] = {}
    for i, n in enumerate(nodes):
        for o in n.output:
            if o and (o in producer or o in available):
                raise UnsupportedModelError(f"tensor {shown(o)} is produced more than once (node {shown(n.name or n.op_type)})")
            if o:
                producer[o] = i
    waiting: list[int] = []
    consumers: dict[int, list[int]] = {i: [] for i in range(len(nodes))}
    for i, n in enumerate(nodes):
        deps = set()
        for x in n.input:
            if not x or x in available:
                continue
            if x not in producer:
                raise UnsupportedModelError(
                    f"node {shown(n.name or n.op_type)} ({n.op_type}) reads undefined tensor {shown(x)} "
                    "(missing initializer or graph input)"
                )
            deps.add(producer[x])
        waiting.append(len(deps))
        for d in deps:
            consumers[d].append(i)
    ready = [i for i, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for c in consumers[i]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, c)
    if len(order) != len(nodes):
        stuck = next(nodes[i] for i in range(len(nodes)) if waiting[i])
        raise UnsupportedModelError(f"graph has a cycle through node {shown(stuck.name or stuck.op_type)} ({stuck.op_type})")
    return order


def _op_name(proto: onnx.NodeProto) -> str:
    return f"{proto.domain}::{proto.op_type}" if proto.domain not in ("", "ai.onnx") else proto.op_type


def _reject_unsupported_ops(nodes: Sequence[onnx.NodeProto]) -> None:
    """One error naming every unsupported op class, so a user sees at once all that stands between
    the model and the compiler, not one op per attempt."""
    count, listed = ops_summary((_op_name(p), p.name or f"{p.op_type}_{i}") for i, p in enumerate(nodes)
                                if p.domain not in ("", "ai.onnx") or p.op_type not in IMPORTERS)
    if count:
        label = "op" if count == 1 else f"{count} ops"
        raise UnsupportedModelError(f"unsupported {label}: {listed}; supported ONNX ops: {', '.join(sorted(IMPORTERS))}")


def _import_node(b: GraphBuilder, proto: onnx.NodeProto, name: str, opset: int, used: frozenset[str]) -> None:
    node = OnnxNode.from_proto(proto, name, opset, used)
    try:
        IMPORTERS[proto.op_type](b, node)
    except MnvError:
        raise
    except (KeyError, ValueError, IndexError, TypeError, ArithmeticError) as e:
        raise UnsupportedModelError(f"node {shown(name)} ({proto.op_type}): cannot import: {one_line(e)}") from None
    for o in proto.output:
        if o and o in used and o not in b.graph.tensors:
            raise UnsupportedModelError(f"node {shown(name)} ({proto.op_type}): output {shown(o)} is not supported")


def _bind_output(b: GraphBuilder, name: str) -> None:
    """Graph outputs are always written by a node: a folded (constant) output gets an identity."""
    graph = b.graph
    if name not in graph.tensors:
        raise UnsupportedModelError(f"graph output {shown(name)} is never produced")
    t = graph.tensors[name]
    if t.is_const:
        const_name = b.tensor_name(f"{name}_const")
        graph.tensors[const_name] = Tensor(const_name, t.shape, t.dtype, t.data)
        graph.tensors[name] = Tensor(name, t.shape, t.dtype)
        graph.replace_uses(name, const_name)
        graph.add_node(Node(b.node_name(f"{name}/identity"), "identity", [const_name], [name]))
    graph.outputs.append(name)
