"""The activation functions of the IR, in one place so the executor and the passes agree exactly.

Each works on float32 arrays and returns float32; ``params`` follows the ``act_params``
convention of `mnv3c.ir.ops` (clip: {"min", "max"}, hard_sigmoid: {"alpha", "beta"}, gelu:
{"approximate"}).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import numpy as np

from mnv3c.errors import UnsupportedModelError, shown


def relu(x: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    return np.maximum(x, np.zeros((), x.dtype))


def clip(x: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    # -inf/inf bounds are allowed; cast them to x's dtype so float32 stays float32.
    lo = np.asarray(params.get("min", -np.inf), x.dtype)
    hi = np.asarray(params.get("max", np.inf), x.dtype)
    return np.minimum(np.maximum(x, lo), hi)


def hard_swish(x: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    return x * np.clip(x + x.dtype.type(3), 0, 6) / x.dtype.type(6)


def hard_sigmoid(x: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    # Defaults are ONNX's HardSigmoid defaults.
    alpha = x.dtype.type(params.get("alpha", 0.2))
    beta = x.dtype.type(params.get("beta", 0.5))
    return np.clip(alpha * x + beta, 0, 1)


def sigmoid(x: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    # exp(-|x|) never overflows, and e/(1+e) keeps relative precision for very negative x.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


_ERF = np.vectorize(math.erf, otypes=[np.float64])


def erf(x: np.ndarray) -> np.ndarray:
    """The error function in double precision, returned in x's dtype (numpy has none)."""
    return _ERF(x).astype(x.dtype, copy=False) if x.size else x.copy()


def gelu(x: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """x * 0.5 * (1 + erf(x / sqrt 2)), or ONNX's tanh approximation (params["approximate"] ==
    "tanh"), evaluated in double and returned in x's dtype."""
    x64 = x.astype(np.float64)
    if params.get("approximate", "none") == "tanh":
        inner = np.tanh(math.sqrt(2.0 / math.pi) * (x64 + 0.044715 * x64 ** 3))
    else:
        inner = _ERF(x64 / math.sqrt(2.0)) if x.size else x64
    return (x64 * 0.5 * (1.0 + inner)).astype(x.dtype)


ACTIVATION_FNS: dict[str, Callable[[np.ndarray, Mapping[str, Any]], np.ndarray]] = {
    "relu": relu,
    "clip": clip,
    "hard_swish": hard_swish,
    "hard_sigmoid": hard_sigmoid,
    "sigmoid": sigmoid,
    "gelu": gelu,
}


def apply_activation(x: np.ndarray, act: str | None, params: Mapping[str, Any] | None = None) -> np.ndarray:
    """``act`` applied to ``x``; None or "none" is the identity."""
    if act is None or act == "none":
        return x
    fn = ACTIVATION_FNS.get(act)
    if fn is None:
        raise UnsupportedModelError(f"unknown activation {shown(act)}")
    return fn(x, params or {})


def varying_interval(act: str | None, params: Mapping[str, Any] | None = None) -> tuple[float, float]:
    """[a, b] outside which ``act`` is constant (f(x) = f(a) for x < a, f(b) for x > b).

    Clipping an activation's input to this interval changes no output, so a quantizer can spend
    all its codes inside it: h-swish is flat (0) below -3, h-sigmoid outside (-beta/alpha, (1 - beta)/alpha).
    """
    p = params or {}
    if act == "hard_swish":
        return -3.0, float("inf")
    if act == "hard_sigmoid":
        alpha, beta = float(p.get("alpha", 0.2)), float(p.get("beta", 0.5))
        if alpha == 0:
            return 0.0, 0.0
        ends = sorted(((0.0 - beta) / alpha, (1.0 - beta) / alpha))
        return ends[0], ends[1]
    if act == "relu":
        return 0.0, float("inf")
    if act == "clip":
        return float(p.get("min", -np.inf)), float(p.get("max", np.inf))
    return float("-inf"), float("inf")
