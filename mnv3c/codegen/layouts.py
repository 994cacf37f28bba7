"""Offline weight re-layouts for the target kernel variants (runtime_c/<variant>/), and their
per-channel output-stage tables (OUT_STAGES).

Each layout takes the weights in the portable kernel's layout (mnv3c_kernels.h: conv OHWI, dense
[out][in]) and returns the int8 array the variant reads, done once at compile time so the
kernel's inner loop needs no shuffling. Padding bytes are zeros; the extra flash they cost is in
report.json's weights_bytes like any other array.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def _pad_to(a: np.ndarray, axis: int, multiple: int) -> np.ndarray:
    extra = -a.shape[axis] % multiple
    if not extra:
        return a
    widths = [(0, 0)] * a.ndim
    widths[axis] = (0, extra)
    return np.pad(a, widths)


def pointwise_dsp(w: np.ndarray) -> np.ndarray:
    """[out][in] (or OHWI with 1x1) -> blocks of 4 output channels x groups of 4 input channels, each
    group four words A, B, C, D with byte order [o0c0 o1c0 o0c2 o1c2], [o2c0 o3c0 o2c2 o3c2],
    [o0c1 o1c1 o0c3 o1c3], [o2c1 o3c1 o2c3 o3c3] (arm_dsp/conv1x1_s8_arm_dsp.c)."""
    m = _pad_to(_pad_to(w.reshape(w.shape[0], -1), 0, 4), 1, 4)
    ob, cg = m.shape[0] // 4, m.shape[1] // 4
    # o = 4*ob + 2*ohalf + olo, c = 4*cg + 2*chi + cpar -> [ob][cg][cpar][ohalf][chi][olo]
    six = m.reshape(ob, 2, 2, cg, 2, 2).transpose(0, 3, 5, 1, 4, 2)
    return np.ascontiguousarray(six).reshape(-1)


def pointwise_dsp16(w: np.ndarray) -> np.ndarray:
    """[out][in] (or OHWI) -> int16, out padded to a multiple of 4 and K to 4 with zeros, then per block of
    4 output channels and group of 4 values c0..c3 the pairs (o0: c0, c2) .. (o3: c0, c2), (o0: c1, c3) ..
    (o3: c1, c3), as the little-endian bytes of the int16 values (arm_dsp/conv2d_s8_arm_dsp16.c)."""
    m = _pad_to(_pad_to(w.reshape(w.shape[0], -1), 0, 4), 1, 4)
    ob, cg = m.shape[0] // 4, m.shape[1] // 4
    # o = 4*ob + oi, c = 4*cg + 2*chi + cpar -> [ob][cg][cpar][oi][chi]
    five = m.reshape(ob, 4, cg, 2, 2).transpose(0, 2, 4, 1, 3)
    return np.ascontiguousarray(five.astype("<i2")).view(np.int8).reshape(-1)


def depthwise_dsp(w: np.ndarray) -> np.ndarray:
    """HWC [kh][kw][C] -> int16, per group of 4 channels and per tap [w c0, w c2, w c1, w c3], as the
    little-endian bytes of the int16 values (arm_dsp/depthwise_conv2d_s8_arm_dsp.c)."""
    taps = _pad_to(w.reshape(-1, w.shape[-1]), 1, 4)  # [T][C4]
    groups = taps.reshape(taps.shape[0], -1, 4)[:, :, [0, 2, 1, 3]].transpose(1, 0, 2)  # [G][T][4]
    return np.ascontiguousarray(groups.astype("<i2")).view(np.int8).reshape(-1)


def pointwise_rv(w: np.ndarray) -> np.ndarray:
    """[out][in] (or OHWI with 1x1) -> out padded to a multiple of 4, then per block of four output
    channels [in][4] (riscv/conv1x1_s8_riscv.c)."""
    m = _pad_to(w.reshape(w.shape[0], -1), 0, 4)
    return np.ascontiguousarray(m.reshape(-1, 4, m.shape[1]).transpose(0, 2, 1)).reshape(-1)


def dense_rv(w: np.ndarray) -> np.ndarray:
    """[out][in] -> out padded to a multiple of 8, then per block of eight outputs [in][8]
    (riscv/dense_s8_riscv.c)."""
    m = _pad_to(w.reshape(w.shape[0], -1), 0, 8)
    return np.ascontiguousarray(m.reshape(-1, 8, m.shape[1]).transpose(0, 2, 1)).reshape(-1)


def depthwise_rv(w: np.ndarray) -> np.ndarray:
    """HWC [kh][kw][C] (C a multiple of 4) -> per block of four channels [kh * kw][4]
    (riscv/depthwise_conv2d_s8_riscv.c)."""
    taps = w.reshape(-1, w.shape[-1])  # [T][C]
    return np.ascontiguousarray(taps.reshape(taps.shape[0], -1, 4).transpose(1, 0, 2)).reshape(-1)


def rows_mve(w: np.ndarray) -> np.ndarray:
    """OHWI (or [out][in]) -> out padded to a multiple of 4 with zero rows, each row of K values padded
    with zeros to a multiple of 16 (arm_mve/conv2d_s8_arm_mve.c: whole vectors, no predication)."""
    return np.ascontiguousarray(_pad_to(_pad_to(w.reshape(w.shape[0], -1), 0, 4), 1, 16)).reshape(-1)


def pointwise_mve(w: np.ndarray) -> np.ndarray:
    """[out][in] (or OHWI with 1x1) -> out padded to a multiple of 4 and K to 16 with zeros, then per
    block of four output channels and chunk of 16 values the four rows' 16 bytes, o0 .. o3: one pointer
    walks a block (arm_mve/conv1x1_s8_arm_mve.c)."""
    m = _pad_to(_pad_to(w.reshape(w.shape[0], -1), 0, 4), 1, 16)
    return np.ascontiguousarray(m.reshape(-1, 4, m.shape[1] // 16, 16).transpose(0, 2, 1, 3)).reshape(-1)


def _offset128(a: np.ndarray) -> np.ndarray:
    """Each int8 w as the byte of w + 128 (w ^ 0x80, read as uint8): the Xtensa variants load it with
    L8UI, no sign extension, and subtract 128 * sum x (xtensa/mnv3c_xt_gemm.h)."""
    return (np.asarray(a, np.int8).view(np.uint8) ^ 0x80).view(np.int8)


def pointwise_xt(w: np.ndarray) -> np.ndarray:
    """pointwise_rv's order, each byte offset by 128 (xtensa/conv1x1_s8_xtensa.c)."""
    return _offset128(pointwise_rv(w))


def dense_xt(w: np.ndarray) -> np.ndarray:
    """dense_rv's order, each byte offset by 128 (xtensa/dense_s8_xtensa.c)."""
    return _offset128(dense_rv(w))


def pointwise_mac16(w: np.ndarray) -> np.ndarray:
    """[out][in] (or OHWI with 1x1) -> int16 rows, each padded with zeros to a multiple of 4, then two
    zero values the MAC16 loop reads ahead past the last row; the little-endian bytes
    (xtensa_mac16/conv1x1_s8_xtensa_mac16.c: its loads take two int16 values per word)."""
    m = _pad_to(w.reshape(w.shape[0], -1), 1, 4).astype("<i2").reshape(-1)
    return np.concatenate([m, np.zeros(2, "<i2")]).view(np.int8)


def depthwise_xt(w: np.ndarray) -> np.ndarray:
    """depthwise_rv's order as int16, the little-endian bytes of each value
    (xtensa/depthwise_conv2d_s8_xtensa.c: one L16SI per weight, no sign extension)."""
    return np.ascontiguousarray(depthwise_rv(w).astype("<i2")).view(np.int8).reshape(-1)


def dsp_out_table(bias: np.ndarray, mult: np.ndarray, shift: np.ndarray, zp: int) -> np.ndarray:
    """The short output stage's table (arm_dsp/mnv3c_dsp_requant.h), the _short kernels' out_mult:
    out_c padded to a multiple of 4, then per block of four channels their folded biases and, per
    channel, mx = 2M - 2^32, k = 2^(r-1) + zp * 2^r and r = -shift (plan/kernels.py
    short_requant_exact proves the layer fits it). Padding channels: bias 0, M = 2^30, r = 1."""
    n = len(bias)
    pad = -n % 4
    b = np.concatenate([np.asarray(bias, np.int64), np.zeros(pad, np.int64)])
    m = np.concatenate([np.broadcast_to(np.asarray(mult, np.int64).reshape(-1), (n,)), np.full(pad, 1 << 30, np.int64)])
    r = np.concatenate([np.broadcast_to(-np.asarray(shift, np.int64).reshape(-1), (n,)), np.ones(pad, np.int64)])
    per_channel = np.stack([2 * m - (1 << 32), (1 << (r - 1)) + int(zp) * (1 << r), r], axis=1)  # [C4][3]
    blocks = np.concatenate([b.reshape(-1, 4), per_channel.reshape(-1, 12)], axis=1)  # [C4 / 4][16]
    assert blocks.min() >= -(1 << 31) and blocks.max() < 1 << 31
    return blocks.reshape(-1).astype(np.int32)


def _mve_table(bias: np.ndarray, mult: np.ndarray, shift: np.ndarray, zp: int, lanes: list[int]) -> np.ndarray:
    """Channels in groups of len(lanes) (padded like dsp_out_table), each group's channels in the order
    `lanes`, per vector of four: the biases, M, k = 2^(r-1) + zp * 2^r, -r (arm_mve/mnv3c_mve_requant.h)."""
    n, g = len(bias), len(lanes)
    pad = -n % g
    b = np.concatenate([np.asarray(bias, np.int64), np.zeros(pad, np.int64)])
    m = np.concatenate([np.broadcast_to(np.asarray(mult, np.int64).reshape(-1), (n,)), np.full(pad, 1 << 30, np.int64)])
    r = np.concatenate([np.broadcast_to(-np.asarray(shift, np.int64).reshape(-1), (n,)), np.ones(pad, np.int64)])
    k = (1 << (r - 1)) + int(zp) * (1 << r)
    order = (np.arange(0, n + pad, g)[:, None] + np.asarray(lanes)[None, :]).reshape(-1, 4)  # [vectors][4 lanes]
    table = np.stack([b[order], m[order], k[order], -r[order]], axis=1)  # [vectors][4 fields][4 lanes]
    assert table.min() >= -(1 << 31) and table.max() < 1 << 31
    return table.reshape(-1).astype(np.int32)


def mve_out_table(bias: np.ndarray, mult: np.ndarray, shift: np.ndarray, zp: int) -> np.ndarray:
    """The short stage's table of the arm_mve pointwise and dense kernels: blocks of four channels."""
    return _mve_table(bias, mult, shift, zp, [0, 1, 2, 3])


def mve_dw_out_table(bias: np.ndarray, mult: np.ndarray, shift: np.ndarray, zp: int) -> np.ndarray:
    """The same for the arm_mve depthwise kernel: groups of 16 channels as its four sum vectors hold
    them, the even and odd channels of c .. c + 7, then of c + 8 .. c + 15."""
    return _mve_table(bias, mult, shift, zp, [0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15])


OUT_STAGES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]] = {
    "dsp_out_table": dsp_out_table,
    "mve_out_table": mve_out_table,
    "mve_dw_out_table": mve_dw_out_table,
}


LAYOUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "pointwise_dsp": pointwise_dsp,
    "pointwise_dsp16": pointwise_dsp16,
    "depthwise_dsp": depthwise_dsp,
    "pointwise_rv": pointwise_rv,
    "depthwise_rv": depthwise_rv,
    "dense_rv": dense_rv,
    "rows_mve": rows_mve,
    "pointwise_mve": pointwise_mve,
    "pointwise_xt": pointwise_xt,
    "dense_xt": dense_xt,
    "depthwise_xt": depthwise_xt,
    "pointwise_mac16": pointwise_mac16,
}
