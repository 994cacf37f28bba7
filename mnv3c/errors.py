"""Errors the command line turns into one line on stderr and an exit code (see ../shared/SPEC.md),
and `shown`, which makes a user-supplied name safe to put in such a line."""

from __future__ import annotations

import os
import unicodedata
from typing import Iterable

NAME_LIMIT = 80  # characters of a name kept in a message; the rest is elided in the middle
PATH_LIMIT = 240  # the same for a file or folder path
MESSAGE_LIMIT = 1000  # characters of a whole message line


class MnvError(Exception):
    """Bad input: unreadable or unsupported model, bad flags, model does not fit. Exit code 2."""

    exit_code = 2


class UnsupportedModelError(MnvError):
    """The model uses an op, attribute or shape the compiler cannot handle."""


def ops_summary(nodes: Iterable[tuple[str, str]]) -> tuple[int, str]:
    """(number of op classes, "A (2 nodes, first 'n1'), B (1 node, first 'n2')") from (op class,
    node name) pairs: what stands between a model and the compiler, all at once."""
    first: dict[str, tuple[str, int]] = {}
    for op, name in nodes:
        seen, count = first.get(op, (name, 0))
        first[op] = (seen, count + 1)
    listed = ", ".join(f"{op} ({count} node{'s' * (count > 1)}, first {shown(name)})"
                       for op, (name, count) in sorted(first.items()))
    return len(first), listed


class ToolTimeout(MnvError):
    """A compiler or another tool did not finish in its time and was killed: an mnv3c bug (the
    generated code or the build is pathological), so exit code 3, with what was running."""

    exit_code = 3


class CheckFailed(Exception):
    """The run worked but a check failed (e.g. device output differs from the simulator). Exit code 1.

    ``result``/``human``: what the command produced anyway, printed before the failure line.
    """

    exit_code = 1

    def __init__(self, message: str, result: dict | None = None, human: str = "") -> None:
        super().__init__(message)
        self.result = result
        self.human = human


def escape_controls(text: str) -> str:
    """``text`` with control and format characters (newlines, ANSI escapes, bidi overrides)
    written as Python escapes, so it stays one line and cannot drive the terminal."""
    if text.isprintable():
        return text
    out = []
    for c in text:
        if c == " " or unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp"):
            out.append(c)
        else:
            out.append(repr(c)[1:-1] if c in "\n\r\t" else f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
    return "".join(out)


def elide(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping its start and end."""
    if len(text) <= limit:
        return text
    keep = max(limit - 24, 2)
    return f"{text[:keep // 2]}...({len(text):,} chars)...{text[len(text) - keep // 2:]}"


def shown(name: object, limit: int = NAME_LIMIT) -> str:
    """A user-supplied name (node, tensor, file) quoted for a one-line message: control characters
    escaped, very long names shortened in the middle."""
    return f"'{elide(escape_controls(str(name)), limit)}'"


def shown_path(path: str | os.PathLike) -> str:
    """`shown` for a file or folder path (longer: paths are legitimately long)."""
    return shown(os.fspath(path), PATH_LIMIT)


def one_line(message: str) -> str:
    """The last line of defence for any message: one line, no control characters, bounded length."""
    return elide(escape_controls(message), MESSAGE_LIMIT)
