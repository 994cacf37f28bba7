"""The graph input's int8 grid fitted to the values the input takes.

A model's input is usually normalized pixels: ``(p / 255 - mean) / std`` takes a few hundred
distinct values per channel, far apart from each other compared with the int8 step. A range from
the histogram estimators puts the 256 codes wherever the range ends, and each distinct value then
rounds with its own error. A slightly different scale (and zero point) lands many more of them near
codes: searched here by the exact rounding error over the distinct calibration values, counted as
often as they occur, which also prices what the candidate clips.

Measured (benchmarks/README, issue 10): the input's SQNR on held-out images, estimator -> fitted,
PP-OCRv3 recogniser 49.1 -> 53.8 dB, MobileNetV2 47.7 -> 48.5 dB; inputs with more than MAX_DISTINCT
distinct values (continuous data, synthetic noise) keep the estimator's grid.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mnv3c.quant.intops import round_half_away
from mnv3c.quant.ranges import QMAX, QMIN

QP = tuple[float, int]  # (scale, zero point); not qdq_import's, which imports onnx (the CLI's fast errors load none)

MAX_DISTINCT = 4096  # more distinct values: not pixel levels (256 per channel of 8-bit, 1024 of 10-bit
# data) but continuous ones, where the fit only overfits the few samples (a tiny SSDLite on 4 calibration
# inputs of N(0, 1) noise, 49,152 distinct values: output correlation 0.95 -> 0.88)
SCALE_SPAN = 0.10  # candidates within ±10 % of the estimator's scale ...
SCALE_STEPS = 201  # ... in 0.1 % steps
ZERO_POINT_SPAN = 2  # and zero points within ±2 of the estimator's


def input_params(x: np.ndarray, estimate: QP) -> tuple[QP, dict[str, Any] | None]:
    """(scale, zero point) of the graph input for calibration inputs ``x``: the candidate near
    ``estimate`` (the range estimator's) with the least squared rounding and clipping error over
    ``x``'s values, and what it found for the report ({"distinct_values", "sqnr_db_estimate",
    "sqnr_db"}: the input's SQNR on ``x`` at ``estimate`` and at the chosen grid); ``estimate`` and
    None when ``x`` has more than MAX_DISTINCT distinct values."""
    values, counts = np.unique(np.asarray(x, np.float32), return_counts=True)
    if len(values) > MAX_DISTINCT:
        return estimate, None
    v, c = values.astype(np.float64), counts.astype(np.float64)
    signal = float((c * v * v).sum())
    s0, z0 = float(estimate[0]), int(estimate[1])
    zps = np.arange(max(QMIN, z0 - ZERO_POINT_SPAN), min(QMAX, z0 + ZERO_POINT_SPAN) + 1)
    estimate_err = float(_error(v, c, s0, np.array([z0]))[0])
    best = (estimate_err, s0, z0)
    for factor in np.linspace(1 - SCALE_SPAN, 1 + SCALE_SPAN, SCALE_STEPS):
        scale = float(np.float32(s0 * factor))  # as the generated C stores it
        err = _error(v, c, scale, zps)
        i = int(np.argmin(err))
        if err[i] < best[0]:
            best = (float(err[i]), scale, int(zps[i]))
    return (best[1], best[2]), {"distinct_values": int(len(v)), "sqnr_db_estimate": _db(signal, estimate_err),
                                "sqnr_db": _db(signal, best[0])}


def _error(v: np.ndarray, c: np.ndarray, scale: float, zps: np.ndarray) -> np.ndarray:
    """Count-weighted squared error of quantizing ``v`` at ``scale`` with each zero point of ``zps``
    as `simulate.quantize_tensor` does (round half away, saturate) and dequantizing."""
    q = round_half_away(v[None, :] / scale) + zps[:, None]
    r = (np.clip(q, QMIN, QMAX) - zps[:, None]) * scale
    return ((r - v[None, :]) ** 2 * c[None, :]).sum(axis=1)


def _db(signal: float, noise: float) -> float | None:
    return None if noise <= 0 else float(10 * np.log10(signal / noise))
