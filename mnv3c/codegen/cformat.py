"""Text of C literals, arrays and comments, formatted the same way on every run and platform."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

INT32_MIN = -(1 << 31)
_VALUES_PER_LINE = {"int8_t": 16, "int16_t": 12, "int32_t": 8, "int64_t": 4}
_RANGE = {f"int{b}_t": (-(1 << (b - 1)), (1 << (b - 1)) - 1) for b in (8, 16, 32, 64)}


@dataclass(frozen=True)
class CArray:
    """One const array of the weights file."""

    name: str
    ctype: str  # int8_t, int16_t, int32_t or int64_t
    values: np.ndarray
    comment: str

    @property
    def nbytes(self) -> int:
        return int(self.values.size) * np.dtype(self.ctype[:-2]).itemsize

    @property
    def length(self) -> int:
        return int(self.values.size)

    def body(self, indent: str = "    ") -> str:
        """The initializer lines, without braces."""
        flat = np.asarray(self.values, dtype=np.int64).reshape(-1)
        lo, hi = _RANGE[self.ctype]
        if flat.size and (flat.min() < lo or flat.max() > hi):
            raise ValueError(f"{self.name}: values outside {self.ctype}")
        text = [int_literal(v) for v in flat.tolist()]
        per = _VALUES_PER_LINE[self.ctype]
        return "\n".join(indent + ", ".join(text[i : i + per]) + "," for i in range(0, len(text), per))


def int_literal(v: int) -> str:
    """INT32_MIN has no literal of type int in C; spell it as an expression."""
    return "(-2147483647 - 1)" if v == INT32_MIN else str(v)


def signed_macro(v: int) -> str:
    return f"({v})" if v < 0 else str(v)


def float_literal(v: float) -> str:
    """Shortest text that reads back as the same float32, as a C float constant."""
    return np.format_float_scientific(np.float32(v), unique=True) + "f"


def float_text(v: float) -> str:
    """For comments and reports: the float32 value, shortest round-trip form."""
    return np.format_float_positional(np.float32(v), unique=True, trim="-")


MAX_COMMENT = 200  # a comment line stays readable whatever the model's names are


def comment_text(s: str) -> str:
    """Arbitrary text (e.g. ONNX names) made safe inside a /* */ comment under -Werror: printable
    ASCII only, no comment delimiters or trigraphs, at most MAX_COMMENT characters."""
    s = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in s)
    if len(s) > MAX_COMMENT:
        s = f"{s[:MAX_COMMENT - 60]}...{s[-57:]}"
    s = s.replace("*/", "* /").replace("/*", "/ *")
    return re.sub(r"\?(?=\?)", "?_", s)  # no trigraphs
