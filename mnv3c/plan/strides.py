"""Element offsets in the C storage order, and the strided boxes the data-movement kernels read.

The C layout stores 4-D tensors NHWC and every other rank row-major (`codegen.layers.storage_dims`). A
transpose, or a reshape that is not a view, maps each output element to one input element; when
that map, walked in the output's storage order, is a box of at most four dims with one input
stride each, transpose_s8 moves it (`gather_box`). Attention kernels address operands through the
storage strides of their logical axes (`axis_strides`).
"""

from __future__ import annotations

import numpy as np

from mnv3c.ir.graph import Graph, Node

MAX_DIMS = 4


def storage_offsets(shape: tuple[int, ...]) -> np.ndarray:
    """An array of per-sample logical ``shape`` (batch 1) holding each element's offset in C storage."""
    per = tuple(int(d) for d in shape[1:])
    if len(shape) == 4:
        c, h, w = per
        return np.arange(h * w * c, dtype=np.int64).reshape(h, w, c).transpose(2, 0, 1)[None]
    return np.arange(int(np.prod(per, dtype=np.int64)), dtype=np.int64).reshape((1,) + per)


def axis_strides(shape: tuple[int, ...]) -> list[int]:
    """The storage stride (elements) of every logical axis after the batch axis."""
    off = storage_offsets(shape)
    strides = []
    for axis in range(1, len(shape)):
        unit = [0] * len(shape)
        if shape[axis] > 1:
            unit[axis] = 1
            strides.append(int(off[tuple(unit)]))
        else:
            strides.append(0)
    return strides


def gather_map(node: Node, graph: Graph) -> np.ndarray:
    """For each output element in output storage order, the input storage offset it copies."""
    x, y = graph.tensors[node.inputs[0]].shape, graph.tensors[node.outputs[0]].shape
    src = storage_offsets(x)
    if node.op == "transpose":
        moved = src.transpose(tuple(int(p) for p in node.attrs["perm"]))
    else:
        moved = src.reshape((1,) + tuple(int(d) for d in y[1:]))
    flat = np.empty(moved.size, np.int64)
    flat[storage_offsets(y).ravel()] = moved.ravel()
    return flat


def gather_box(node: Node, graph: Graph) -> tuple[list[int], list[int]] | None:
    """(dims, input strides), outermost first, padded to four, of the node's element map; None
    when the map is not such a box (or moves the batch axis)."""
    if node.op == "transpose" and int(node.attrs["perm"][0]) != 0:
        return None
    x, y = graph.tensors[node.inputs[0]].shape, graph.tensors[node.outputs[0]].shape
    if len(x) > 4 or len(y) > 4:
        return None
    f = gather_map(node, graph)
    n, block = f.size, 1
    dims: list[int] = []
    strides: list[int] = []
    while block < n:  # innermost first: the longest run repeating the block at one stride
        s = int(f[block] - f[0])
        k = 1
        while (k + 1) * block <= n and np.array_equal(f[k * block:(k + 1) * block], f[:block] + k * s):
            k += 1
        while (n // block) % k:
            k -= 1
        dims.append(k)
        strides.append(s)
        block *= k
    if len(dims) > MAX_DIMS:
        return None
    dims, strides = [1] * (MAX_DIMS - len(dims)) + dims[::-1], [0] * (MAX_DIMS - len(strides)) + strides[::-1]
    grid = np.zeros(1, np.int64)
    for d, s in zip(dims, strides):
        grid = (grid[:, None] + s * np.arange(d)).ravel()
    return (dims, strides) if np.array_equal(grid, f) else None
