"""JSON as RFC 8259 defines it, for --json and report.json: Python's json module would print NaN
and Infinity tokens, which strict parsers reject; a non-finite number becomes null instead."""

from __future__ import annotations

import json
import math
from typing import Any


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(value: Any, indent: int | None = None) -> str:
    """``value`` as strict JSON text (non-finite floats as null)."""
    return json.dumps(_finite(value), indent=indent, allow_nan=False)
