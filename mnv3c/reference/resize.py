"""ONNX Resize geometry along one axis: where each output pixel samples the input.

Shared by the float reference (which interpolates with these taps) and the quantizer (which turns
them into the index tables of the int8 kernels), so both read the same pixels. Coordinates are
computed in float32, as onnxruntime does, so a nearest-neighbour tie rounds the same way.
"""

from __future__ import annotations

import numpy as np

COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "simple")


def source_coords(out_len: int, in_len: int, scale: float, mode: str) -> np.ndarray:
    """The input coordinate (float32, unclamped) of every output index along one axis."""
    x = np.arange(out_len, dtype=np.float32)
    s, half = np.float32(scale), np.float32(0.5)
    if mode == "half_pixel":
        return (x + half) / s - half
    if mode == "half_pixel_symmetric":
        adjustment = np.float32(out_len) / (s * np.float32(in_len))
        offset = np.float32(in_len) / np.float32(2) * (np.float32(1) - adjustment)
        return offset + (x + half) / s - half
    if mode == "pytorch_half_pixel":
        return (x + half) / s - half if out_len > 1 else np.zeros(out_len, np.float32)
    if mode == "align_corners":  # ONNX divides by the unrounded resized length in_len·scale
        resized = np.float32(in_len) * s
        if out_len == 1 or resized == 1:
            return np.zeros(out_len, np.float32)
        return x * np.float32(in_len - 1) / (resized - np.float32(1))
    if mode == "asymmetric":
        # in float64 with the unrounded out/in of a sizes input, as onnxruntime's index is
        return (x.astype(np.float64) / float(scale)).astype(np.float32)
    raise ValueError(f"coordinate_transformation_mode '{mode}' is not supported")


def nearest_indices(out_len: int, in_len: int, scale: float, mode: str, nearest_mode: str) -> np.ndarray:
    """The input index (int64, clamped to the axis) each output index copies."""
    c = source_coords(out_len, in_len, scale, mode)
    if nearest_mode == "round_prefer_floor":
        idx = np.where(c - np.floor(c) == 0.5, np.floor(c), np.round(c))
    elif nearest_mode == "round_prefer_ceil":
        idx = np.where(c - np.floor(c) == 0.5, np.ceil(c), np.round(c))
    elif nearest_mode == "floor":
        idx = np.floor(c)
    elif nearest_mode == "ceil":
        idx = np.ceil(c)
    elif nearest_mode == "simple":  # opset 10 and Upsample: ceil when downsampling, else truncate
        idx = np.ceil(c) if scale < 1 else np.trunc(c)
    else:
        raise ValueError(f"nearest_mode '{nearest_mode}' is not supported")
    return np.clip(idx, 0, in_len - 1).astype(np.int64)


def linear_taps(out_len: int, in_len: int, scale: float, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i0, i1, w1) per output index: y = (1 - w1)·x[i0] + w1·x[i1], the coordinate clamped to
    [0, in_len - 1] like onnxruntime."""
    c = np.clip(source_coords(out_len, in_len, scale, mode), 0, in_len - 1)
    i0 = np.floor(c).astype(np.int64)
    i1 = np.minimum(i0 + 1, in_len - 1)
    return i0, i1, (c - i0.astype(np.float32)).astype(np.float32)
