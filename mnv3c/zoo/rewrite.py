"""Rewrite a legacy-exporter ONNX graph into the spellings other exporters (Paddle2ONNX, tf2onnx) use.

Same math, different nodes, so the frontend's pattern matching meets them before users do:
  HardSwish(x)            -> Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)
  HardSigmoid(x; a, b)    -> Div(Clip(Add(x, b/a), 0, 1/a), 1/a), except the first one, kept as HardSigmoid
                             (for a = 1/6 that is Relu6(x + 3) / 6)
  Conv(x, W, B)           -> Add(Conv(x, W), Reshape(B, Constant [1, -1, 1, 1]))
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper, shape_inference


class _Emitter:
    """Collects replacement nodes and deduplicated scalar initializers."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.scalars: dict[float, str] = {}
        self.initializers: list[onnx.TensorProto] = []
        self.taken = {i.name for i in graph.initializer} | {v for n in graph.node for v in n.output}

    def scalar(self, value: float) -> str:
        """Name of a float32 scalar initializer holding `value` (created once)."""
        value = float(np.float32(value))
        if value not in self.scalars:
            name = self.fresh(f"rw_const_{value:g}")
            self.initializers.append(numpy_helper.from_array(np.array(value, np.float32), name))
            self.scalars[value] = name
        return self.scalars[value]

    def node(self, op: str, inputs: list[str], name: str, output: str | None = None, **attrs: object) -> str:
        """Append a node named `name`; returns its (fresh unless given) output name."""
        output = output or self.fresh(name)
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def fresh(self, base: str) -> str:
        """`base`, suffixed if needed to be unique among tensor names."""
        name, i = base, 0
        while name in self.taken:
            i += 1
            name = f"{base}_{i}"
        self.taken.add(name)
        return name


def _attr(node: onnx.NodeProto, name: str, default: float) -> float:
    return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)


def _hard_swish(e: _Emitter, node: onnx.NodeProto) -> None:
    x, n = node.input[0], node.name
    clipped = e.node("Clip", [e.node("Add", [x, e.scalar(3.0)], f"{n}/add3"), e.scalar(0.0), e.scalar(6.0)], f"{n}/relu6")
    e.node("Div", [e.node("Mul", [x, clipped], f"{n}/mul"), e.scalar(6.0)], f"{n}/div6", node.output[0])


def _hard_sigmoid(e: _Emitter, node: onnx.NodeProto) -> None:
    alpha, beta = _attr(node, "alpha", 0.2), _attr(node, "beta", 0.5)
    x, n, top = node.input[0], node.name, 1.0 / alpha
    shifted = e.node("Add", [x, e.scalar(beta / alpha)], f"{n}/add")
    clipped = e.node("Clip", [shifted, e.scalar(0.0), e.scalar(top)], f"{n}/clip")
    e.node("Div", [clipped, e.scalar(top)], f"{n}/div", node.output[0])


def _conv_bias_add(e: _Emitter, node: onnx.NodeProto) -> None:
    n = node.name
    conv = helper.make_node("Conv", list(node.input[:2]), [e.fresh(f"{n}/nobias")], name=n)
    conv.attribute.extend(node.attribute)
    e.nodes.append(conv)
    shape = e.node("Constant", [], f"{n}/bias_shape", value=numpy_helper.from_array(np.array([1, -1, 1, 1], np.int64)))
    bias = e.node("Reshape", [node.input[2], shape], f"{n}/bias_reshape")
    e.node("Add", [conv.output[0], bias], f"{n}/bias_add", node.output[0])


def other_exporters(model: onnx.ModelProto) -> onnx.ModelProto:
    """A rewritten copy of `model` (a constant-folded legacy export, opset >= 11); see the module docstring."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    e = _Emitter(graph)
    kept_hard_sigmoid = False
    for node in graph.node:
        if node.op_type == "HardSwish":
            _hard_swish(e, node)
        elif node.op_type == "HardSigmoid" and kept_hard_sigmoid:
            _hard_sigmoid(e, node)
        elif node.op_type == "Conv" and len(node.input) == 3 and node.input[2]:
            _conv_bias_add(e, node)
        else:
            kept_hard_sigmoid |= node.op_type == "HardSigmoid"
            e.nodes.append(node)
    del graph.node[:]
    graph.node.extend(e.nodes)
    graph.initializer.extend(e.initializers)
    del graph.value_info[:]
    model = shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    onnx.checker.check_model(model, full_check=True)
    return model
