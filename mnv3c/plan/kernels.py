"""Kernel choice: which C function of `mnv3c/runtime_c/` runs each step.

A table, not code paths: each op lists candidate kernels with the condition under which each
applies; the first match wins. Target-specific variants (SMLAD on Cortex-M4/M7, Helium on M55) are
added as `TARGET_RULES[target][op]` entries in front of the portable ones, without touching the
schedule or the memory plan, which only see a kernel's in-place permission and scratch size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from mnv3c.errors import UnsupportedModelError, shown
from mnv3c.ir.graph import Graph, Node
from mnv3c.plan.schedule import Schedule

LUT_OPS = ("relu", "clip", "hard_swish", "hard_sigmoid", "sigmoid")


@dataclass(frozen=True)
class Kernel:
    name: str  # C function is mnv3c_<name>, its scratch query mnv3c_<name>_scratch_bytes
    params_type: str  # the C params struct it takes
    sources: tuple[str, ...]  # runtime_c files it needs (itself and the kernels it calls)
    inplace_operands: tuple[int, ...] = ()  # input positions it may overwrite with its output
    scratch: Callable[[Node, Graph], int] = lambda node, graph: 0  # mirrors the C query
    input_array: bool = False  # inputs passed as one array of pointers (concat), not one argument each

    @property
    def function(self) -> str:
        return f"mnv3c_{self.name}"


def _se_scratch(node: Node, graph: Graph) -> int:
    """squeeze_excite_s8: the pooled/gate vector (C bytes) and the hidden vector (R bytes)."""
    reduced, channels = graph.tensors[node.inputs[1]].shape
    return int(channels) + int(reduced)


def _conv_transpose_scratch(node: Node, graph: Graph) -> int:
    """conv_transpose_s8: one int32 accumulator per output channel."""
    return 4 * int(graph.tensors[node.outputs[0]].shape[1])


KERNELS: dict[str, Kernel] = {
    k.name: k
    for k in (
        Kernel("conv2d_s8", "mnv3c_conv2d_params", ("conv2d_s8.c",)),
        Kernel("conv1x1_s8", "mnv3c_conv2d_params", ("conv1x1_s8.c",)),
        Kernel("depthwise_conv2d_s8", "mnv3c_depthwise_conv2d_params", ("depthwise_conv2d_s8.c",)),
        Kernel("dense_s8", "mnv3c_dense_params", ("dense_s8.c",)),
        Kernel("add_s8", "mnv3c_add_params", ("add_s8.c",), inplace_operands=(0, 1)),
        Kernel("global_avg_pool_s8", "mnv3c_global_avg_pool_params", ("global_avg_pool_s8.c",)),
        Kernel("avg_pool_s8", "mnv3c_avg_pool_params", ("avg_pool_s8.c",)),
        Kernel("max_pool_s8", "mnv3c_max_pool_params", ("max_pool_s8.c",)),
        Kernel("lut_s8", "mnv3c_lut_params", ("lut_s8.c",), inplace_operands=(0,)),
        Kernel("mul_s8", "mnv3c_mul_params", ("mul_s8.c",), inplace_operands=(0,)),
        Kernel("conv_transpose_s8", "mnv3c_conv_transpose_params", ("conv_transpose_s8.c",),
               scratch=_conv_transpose_scratch),
        Kernel("resize_nearest_s8", "mnv3c_resize_nearest_params", ("resize_nearest_s8.c",)),
        Kernel("resize_bilinear_s8", "mnv3c_resize_bilinear_params", ("resize_bilinear_s8.c",)),
        Kernel("concat_s8", "mnv3c_concat_params", ("concat_s8.c",), input_array=True),
        Kernel("slice_s8", "mnv3c_slice_params", ("slice_s8.c",)),
        Kernel(
            "squeeze_excite_s8",
            "mnv3c_squeeze_excite_params",
            ("squeeze_excite_s8.c", "global_avg_pool_s8.c", "dense_s8.c", "mul_s8.c"),
            inplace_operands=(0,),
            scratch=_se_scratch,
        ),
    )
}

Rule = tuple[Callable[[Node, Graph], bool], str]  # (applies to this node?, kernel name)


def _always(node: Node, graph: Graph) -> bool:
    return True


def _is_pointwise(node: Node, graph: Graph) -> bool:
    """1x1 kernel, stride 1, no padding: a plain matrix product over pixels."""
    w = graph.tensors[node.inputs[1]].shape
    a = node.attrs
    return (
        tuple(w[2:]) == (1, 1)
        and tuple(a.get("strides") or (1, 1)) == (1, 1)
        and not any(a.get("pads") or ())
        and int(a.get("group", 1)) == 1
    )


def _same_shapes(node: Node, graph: Graph) -> bool:
    """add_s8 has no broadcasting."""
    shapes = {graph.tensors[t].shape for t in (*node.inputs, node.outputs[0])}
    return len(shapes) == 1


def _is_nearest(node: Node, graph: Graph) -> bool:
    return node.attrs.get("mode") == "nearest"


def _is_linear(node: Node, graph: Graph) -> bool:
    return node.attrs.get("mode") == "linear"


def _not_on_batch(node: Node, graph: Graph) -> bool:
    """concat/slice kernels work on one sample: the batch axis stays whole."""
    axes = node.attrs.get("axes", (node.attrs.get("axis"),))
    return 0 not in axes and len(graph.tensors[node.inputs[0]].shape) <= 4


def _unit_steps(node: Node, graph: Graph) -> bool:
    return _not_on_batch(node, graph) and all(int(s) == 1 for s in node.attrs.get("steps", ()))


PORTABLE_RULES: dict[str, list[Rule]] = {
    "conv2d": [(_is_pointwise, "conv1x1_s8"), (_always, "conv2d_s8")],
    "depthwise_conv2d": [(_always, "depthwise_conv2d_s8")],
    "dense": [(_always, "dense_s8")],
    "add": [(_same_shapes, "add_s8")],
    "mul": [(_always, "mul_s8")],
    "squeeze_excite": [(_always, "squeeze_excite_s8")],
    "global_avg_pool": [(_always, "global_avg_pool_s8")],
    "avg_pool": [(_always, "avg_pool_s8")],
    "max_pool": [(_always, "max_pool_s8")],
    "conv_transpose": [(_always, "conv_transpose_s8")],
    "resize": [(_is_nearest, "resize_nearest_s8"), (_is_linear, "resize_bilinear_s8")],
    "concat": [(_not_on_batch, "concat_s8")],
    "slice": [(_unit_steps, "slice_s8")],
    **{op: [(_always, "lut_s8")] for op in LUT_OPS},
}

_NO_KERNEL_HINTS = {
    "reshape": "that reorders data in the C layout (NHWC), e.g. flattening a feature map with H*W > 1",
    "add": "with broadcasting (add_s8 needs equal shapes)",
    "slice": "with a step other than 1 or on the batch axis",
    "concat": "on the batch axis",
}

# Per-target rules tried before the portable ones (none yet: every target runs the portable C).
TARGET_RULES: dict[str, dict[str, list[Rule]]] = {}


def choose_kernel(node: Node, graph: Graph, target: str = "host") -> Kernel:
    rules = TARGET_RULES.get(target, {}).get(node.op, []) + PORTABLE_RULES.get(node.op, [])
    for applies, name in rules:
        if applies(node, graph):
            return KERNELS[name]
    hint = _NO_KERNEL_HINTS.get(node.op, "with these shapes and attributes")
    raise UnsupportedModelError(f"node {shown(node.name)}: no C kernel for op {shown(node.op)} {hint}")


def choose_kernels(graph: Graph, sched: Schedule, target: str = "host") -> list[Kernel]:
    """The kernel of every step, indexed like ``sched.steps``."""
    return [choose_kernel(graph.node(s.node), graph, target) for s in sched.steps]
